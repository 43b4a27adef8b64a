"""Every benchmark of the sim engine in one run, each goal a ratio to a baseline timed beside it.

    python benchmarks/run.py            # the full set (about 15 minutes on 2 busy cores)
    python benchmarks/run.py --quick    # smaller sizes, about 2 minutes

It writes `benchmarks/results.json` (every measurement, every repeat) and
`benchmarks/RESULTS.md` (every ratio with its goal, and the command that made it), and prints
the same tables. Three parts:

- throughput: govstream against Ciw on the same M/M/2 queue and the same tandem of two,
  against the same F03 and district models written by hand in plain SimPy, and against a bare
  SimPy queue (the floor). Goal: at least half of each peer's cases per wall second.
- memory: the F03 scenario run for 1× and 10× the business time, each in a fresh process;
  goal: peak RSS grows by less than 20 %.
- cores: `govstream run --replications` and `govstream sweep` on 1 and on 2 processes
  (`--jobs`); the speed-up, the parallel share it implies (Amdahl) and what that projects on
  more cores.

A busy machine slows everything, but not evenly: run it on an idle machine for figures to
quote, and read `spread` (how far repeats disagreed) before trusting a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness import (  # noqa: E402
    Measurement,
    Ratio,
    amdahl,
    best,
    growth,
    markdown_table,
    parallel_fraction,
    spread,
    throughput_ratio,
)
from workloads import in_child  # noqa: E402

GOAL_PEER = 0.5
"""govstream's cases per wall second at least half of Ciw's and of the hand-written model's."""
GOAL_MEMORY_GROWTH = 0.20
"""Peak RSS for 10× the business time at most 20 % above 1×."""
PROJECTED_CORES = (4, 8, 16)


@dataclass(frozen=True)
class Sizes:
    """How much each workload simulates."""

    queue_seconds: float
    """Business seconds of arrivals at the M/M/2 queue and the tandem (1.6 a second)."""
    f03_cases: int
    district_days: float
    bare_arrivals: int
    memory_days: float
    """The 1× run's business days; the long run is ten times this."""
    replications: int
    sweep_points: int
    parallel_days: float
    """Business days of each replication (the bank-outage scenario)."""


FULL = Sizes(
    queue_seconds=30_000,
    f03_cases=50_000,
    district_days=365,
    bare_arrivals=50_000,
    memory_days=150,
    replications=8,
    sweep_points=4,
    parallel_days=60,
)
QUICK = Sizes(
    queue_seconds=6_000,
    f03_cases=10_000,
    district_days=30,
    bare_arrivals=10_000,
    memory_days=20,
    replications=4,
    sweep_points=2,
    parallel_days=15,
)


def measure(name: str, repeats: int, **params: Any) -> list[Measurement]:
    runs = []
    for _ in range(repeats):
        runs.append(in_child(name, **params))
        print(f"  {runs[-1].workload}: {runs[-1].cases_per_second:,.0f} cases/s", flush=True)
    return runs


def throughput(sizes: Sizes, repeats: int) -> tuple[dict[str, list[Measurement]], list[Ratio]]:
    """Each pair side by side: the peer right after govstream, so both see the same load."""
    runs: dict[str, list[Measurement]] = {}
    pairs = [
        ("govstream-mm2", "ciw-mm2", {"seconds": sizes.queue_seconds}),
        ("govstream-tandem", "ciw-tandem", {"seconds": sizes.queue_seconds}),
        ("govstream-f03", "handwritten-f03", {"cases": sizes.f03_cases}),
        ("govstream-district", "handwritten-district", {"days": sizes.district_days}),
    ]
    for ours, theirs, params in pairs:
        runs[ours] = measure(ours, repeats, **params)
        runs[theirs] = measure(theirs, repeats, **params)
    runs["bare"] = measure("bare", repeats, arrivals=sizes.bare_arrivals)
    b = {name: best(each) for name, each in runs.items()}
    ratios = [
        throughput_ratio(
            "M/M/2 queue: govstream / Ciw", b["govstream-mm2"], b["ciw-mm2"], GOAL_PEER
        ),
        throughput_ratio(
            "tandem of two queues: govstream / Ciw",
            b["govstream-tandem"],
            b["ciw-tandem"],
            GOAL_PEER,
        ),
        throughput_ratio(
            "F03: govstream / hand-written SimPy",
            b["govstream-f03"],
            b["handwritten-f03"],
            GOAL_PEER,
        ),
        throughput_ratio(
            "district: govstream / hand-written SimPy",
            b["govstream-district"],
            b["handwritten-district"],
            GOAL_PEER,
        ),
        throughput_ratio(
            "F03: govstream / bare SimPy queue (floor)", b["govstream-f03"], b["bare"], None
        ),
        throughput_ratio(
            "F03: hand-written / bare SimPy queue (floor)", b["handwritten-f03"], b["bare"], None
        ),
    ]
    return runs, ratios


def memory(sizes: Sizes) -> tuple[dict[str, Measurement], list[Ratio]]:
    short = in_child("govstream-run-length", days=sizes.memory_days)
    long = in_child("govstream-run-length", days=sizes.memory_days * 10)
    for m in (short, long):
        print(f"  {m.workload}: {m.cases:,} cases, peak RSS {m.peak_rss_mib:.1f} MiB", flush=True)
    ratio = Ratio(
        "peak RSS growth, 10× business time over 1×",
        growth(short.peak_rss_mib, long.peak_rss_mib),
        GOAL_MEMORY_GROWTH,
        "at most",
        long.workload,
        short.workload,
        note=(
            f"after imports: {short.peak_rss_mib - short.rss_after_imports_mib:.1f} → "
            f"{long.peak_rss_mib - long.rss_after_imports_mib:.1f} MiB"
        ),
    )
    return {"1x": short, "10x": long}, [ratio]


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stderr[-4000:]}")
    return wall


def cores(sizes: Sizes, repeats: int) -> tuple[dict[str, Any], list[Ratio]]:
    """Wall time of whole commands, as a user waits for them, on 1 and on 2 processes."""
    scenario = "scenarios/deregistration-bank-outage.yaml"
    short = ["--set", f"duration={sizes.parallel_days}d"]
    out = Path(tempfile.mkdtemp(prefix="govstream-bench-"))
    govstream = [sys.executable, "-m", "govstream"]
    commands = {
        "replications": [
            *govstream, "run", scenario, *short, "--quiet",
            "--replications", str(sizes.replications), "--out", str(out / "run"),
        ],
        "sweep": [
            *govstream, "sweep", scenario, *short, "--fresh", "--out", str(out / "sweep"),
            "--vary", f"agencies.bank.servers=6..{5 + sizes.sweep_points}",
            "--replications", str(max(1, sizes.replications // sizes.sweep_points)),
        ],
    }  # fmt: skip
    tasks = {"replications": sizes.replications, "sweep": sizes.replications}
    data: dict[str, Any] = {}
    ratios = []
    for name, command in commands.items():
        walls = {}
        for jobs in (1, 2):
            times = [_timed([*command, "--jobs", str(jobs)]) for _ in range(repeats)]
            walls[jobs] = min(times)
            print(f"  {name} on {jobs} process(es): {walls[jobs]:.1f} s", flush=True)
        speedup = walls[1] / walls[2]
        parallel = parallel_fraction(speedup, 2)
        projected = {n: amdahl(parallel, n, tasks[name]) for n in PROJECTED_CORES}
        data[name] = {
            "command": shlex.join(command),
            "tasks": tasks[name],
            "wall_seconds": walls,
            "speedup": speedup,
            "parallel_fraction": parallel,
            "projected_speedup": projected,
        }
        ratios.append(
            Ratio(
                f"{name}: speed-up from 1 to 2 processes",
                speedup,
                None,
                numerator="--jobs 2",
                denominator="--jobs 1",
                note=f"parallel share {parallel:.2f}; projected "
                + ", ".join(f"{n} cores ×{s:.2f}" for n, s in projected.items())
                + f" ({tasks[name]} runs)",
            )
        )
    return data, ratios


def workload_table(runs: dict[str, list[Measurement]]) -> str:
    lines = [
        "| workload | cases | wall s | cases / s | spread | SimPy events / s | mean latency s "
        "| peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for each in runs.values():
        m = best(each)
        events = f"{m.simpy_events / m.wall_seconds:,.0f}" if m.simpy_events else "-"
        lines.append(
            f"| {m.workload} | {m.cases:,} | {m.wall_seconds:.2f} | {m.cases_per_second:,.0f} | "
            f"{spread(each):.0%} | {events} | {m.mean_latency:,.2f} | {m.peak_rss_mib:.1f} |"
        )
    return "\n".join(lines)


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: about 2 minutes")
    parser.add_argument(
        "--repeat", type=int, help="runs of each workload, fastest kept (default 1 quick, 3 full)"
    )
    parser.add_argument(
        "--only",
        choices=("throughput", "memory", "cores"),
        action="append",
        help="run only these parts (repeatable; default all)",
    )
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeats = args.repeat or (1 if args.quick else 3)
    parts = args.only or ["throughput", "memory", "cores"]
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    started = time.perf_counter()
    load_before = load_average()
    ratios: list[Ratio] = []
    results: dict[str, Any] = {
        "command": command.strip(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "sizes": asdict(sizes),
        "repeats": repeats,
    }
    sections: list[str] = []
    if "throughput" in parts:
        print("throughput", flush=True)
        runs, found = throughput(sizes, repeats)
        ratios += found
        results["throughput"] = {
            name: {
                "best": asdict(best(each)),
                "spread": spread(each),
                "repeats": [asdict(m) for m in each],
            }
            for name, each in runs.items()
        }
        sections += ["## Workloads (fastest repeat)", "", workload_table(runs), ""]
    if "memory" in parts:
        print("memory", flush=True)
        measured, found = memory(sizes)
        ratios += found
        results["memory"] = {name: asdict(m) for name, m in measured.items()}
        sections += [
            "## Memory against run length",
            "",
            "| run | business days | cases | peak RSS MiB | after imports MiB |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {m.workload} | {m.extra['business_seconds'] / 86400:,.0f} | {m.cases:,} | "
                f"{m.peak_rss_mib:.1f} | {m.peak_rss_mib - m.rss_after_imports_mib:.1f} |"
                for m in measured.values()
            ),
            "",
        ]
    if "cores" in parts:
        print("cores", flush=True)
        data, found = cores(sizes, repeats)
        ratios += found
        results["cores"] = data
        sections += [
            "## Replications and sweeps on more processes",
            "",
            "| command | runs | 1 process s | 2 processes s | speed-up | parallel share | "
            + " | ".join(f"{n} cores" for n in PROJECTED_CORES)
            + " |",
            "|---|---:|---:|---:|---:|---:|" + "---:|" * len(PROJECTED_CORES),
            *(
                f"| {name} | {d['tasks']} | {d['wall_seconds'][1]:.1f} | "
                f"{d['wall_seconds'][2]:.1f} | {d['speedup']:.2f} | "
                f"{d['parallel_fraction']:.2f} | "
                + " | ".join(f"×{d['projected_speedup'][n]:.2f}" for n in PROJECTED_CORES)
                + " |"
                for name, d in data.items()
            ),
            "",
            "Projected by Amdahl's law from the parallel share the 1 → 2 speed-up implies, "
            "never more processes than runs.",
            "",
        ]
    results["ratios"] = [r.to_data() for r in ratios]
    results["load_average"] = {"before": load_before, "after": load_average()}
    results["wall_seconds"] = time.perf_counter() - started
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    table = markdown_table(ratios)
    notes = [f"- {r.name}: {r.note}" for r in ratios if r.note]
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Made by `{results['command']}` on {results['date']}: Python "
            f"{results['machine']['python']}, {results['machine']['cpus']} CPUs, load average "
            f"{load_before} before and {results['load_average']['after']} after; "
            f"{repeats} run(s) of each workload, the fastest kept. Every ratio is of two "
            "workloads measured in this run.",
            "",
            "## Ratios",
            "",
            table,
            "",
            *notes,
            "",
            *sections,
        ]
    )
    args.markdown.write_text(text.rstrip() + "\n", "utf-8")
    print()
    print(table)
    print("\n".join(notes))
    print(f"\nwrote {args.json} and {args.markdown} ({results['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
