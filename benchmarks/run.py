"""Every benchmark of the sim engine in one run, each goal a ratio to a baseline timed beside it.

    python benchmarks/run.py            # the full set (about 7 minutes on 2 idle cores)
    python benchmarks/run.py --quick    # smaller sizes, about 2 minutes
    python benchmarks/run.py --only kafka   # one part (repeatable)

It writes `benchmarks/results.json` (every measurement, every repeat) and
`benchmarks/RESULTS.md` (every ratio with its goal, and the command that made it), and prints
the same tables. Five parts:

- throughput: govstream against Ciw on the same M/M/2 queue and the same tandem of two,
  against the same F03 and district models written by hand in plain SimPy, and against a bare
  SimPy queue (the floor). Goal: at least half of each peer's cases per wall second.
- memory: the F03 scenario run for 1× and 10× the business time, each in a fresh process;
  goal: peak RSS grows by less than 20 %.
- cores: `govstream run --replications` and `govstream sweep` on 1 and on 2 processes
  (`--jobs`): the wall speed-up, and the serial share of the same work by CPU seconds, from
  which Amdahl's law projects the speed-up on more cores.
- executors: the same two commands on the process pool (1 and 2 processes) and on a Dask
  `LocalCluster` of 1 and 2 workers (`--executor dask --jobs N`), each a speed-up over the
  command on 1 process timed in the same turns; with the serial share and a local cluster's
  start-up, Amdahl's projection to more cores.
- kafka: F03 on a temporary single-node cluster the benchmark starts, rate by rate against a
  bare kafka-python relay timed alongside (`kafka_throughput.py`, which says what each
  measures); goals: the highest rate govstream sustains (p99 < 100 ms, no growing backlog) at
  least half the relay's, and its p50 at the lowest rate at most twice the relay's. Then
  govstream again at the highest rate on 2 worker processes: the scale-out.

A busy machine slows everything, but not evenly: run it on an idle machine for figures to
quote, and read `spread` (how far repeats disagreed) before trusting a ratio.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import handwritten  # noqa: E402
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
from workloads import district_left_out, in_child  # noqa: E402

DISTRICT_SCOPE = (
    f"both sides run {', '.join(handwritten.DISTRICT_FLOWS)}; the hand-written model leaves "
    f"out {', '.join(district_left_out())}, so neither side runs them"
)

GOAL_PEER = 0.5
"""govstream's cases per wall second at least half of Ciw's and of the hand-written model's."""
GOAL_KAFKA_RATE = 0.5
"""The highest rate govstream sustains on Kafka at least half a bare relay's."""
GOAL_KAFKA_P50 = 2.0
"""govstream's p50 at the lowest rate at most twice the relay's."""
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
    parallel_scenario: str
    parallel_days: float
    """Business days of each replication."""
    sweep_setting: str
    """What the sweep varies (from 4 up, one a point)."""
    kafka_rates: tuple[float, ...]
    """Triggers per wall second, each a step of `kafka_seconds`."""
    kafka_seconds: float
    kafka_warmup: float
    """Seconds of each step left out of its steady-state percentiles."""


FULL = Sizes(
    queue_seconds=30_000,
    f03_cases=50_000,
    district_days=365,
    bare_arrivals=50_000,
    memory_days=150,
    replications=4,
    sweep_points=2,
    parallel_scenario="scenarios/district-2021.yaml",
    parallel_days=30,
    sweep_setting="agencies.police.servers",
    kafka_rates=(50, 100, 200, 400),
    kafka_seconds=10,
    kafka_warmup=3,
)
QUICK = replace(
    FULL,
    queue_seconds=6_000,
    f03_cases=10_000,
    district_days=30,
    bare_arrivals=10_000,
    memory_days=20,
    parallel_scenario="scenarios/deregistration-bank-outage.yaml",
    parallel_days=40,
    kafka_rates=(50, 200),
    kafka_seconds=6,
    kafka_warmup=2,
)


def measure(name: str, **params: Any) -> Measurement:
    measured = in_child(name, **params)
    print(
        f"  {measured.workload}: {measured.cases_per_second:,.0f} cases/s "
        f"({measured.cases_per_cpu_second:,.0f} per CPU second)",
        flush=True,
    )
    return measured


def throughput(sizes: Sizes, repeats: int) -> tuple[dict[str, list[Measurement]], list[Ratio]]:
    """Each pair side by side, the peer right after govstream so both see the same load, and
    the repeats taken in turns (all pairs once, then again) so a busy spell hits them alike."""
    pairs = [
        ("govstream-mm2", "ciw-mm2", {"seconds": sizes.queue_seconds}),
        ("govstream-tandem", "ciw-tandem", {"seconds": sizes.queue_seconds}),
        ("govstream-f03", "handwritten-f03", {"cases": sizes.f03_cases}),
        ("govstream-district", "handwritten-district", {"days": sizes.district_days}),
        ("bare", None, {"arrivals": sizes.bare_arrivals}),
    ]
    runs: dict[str, list[Measurement]] = {}
    for _ in range(repeats):
        for ours, theirs, params in pairs:
            for name in (ours, theirs):
                if name is not None:
                    runs.setdefault(name, []).append(measure(name, **params))
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
        replace(
            district := throughput_ratio(
                "district: govstream / hand-written SimPy",
                b["govstream-district"],
                b["handwritten-district"],
                GOAL_PEER,
            ),
            note=f"{district.note}; {DISTRICT_SCOPE}",
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


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds of a command, and the CPU seconds it and its worker processes used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stderr[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def study_commands(sizes: Sizes) -> tuple[dict[str, list[str]], dict[str, int], str, int]:
    """`govstream run --replications` and `govstream sweep` as a user types them, without
    where they run (`--jobs`, `--executor`): the same study for every executor. Also the
    runs each makes, the sweep's `--vary` and its replications per point."""
    scenario = sizes.parallel_scenario
    days = ["--set", f"duration={sizes.parallel_days}d"]
    out = Path(tempfile.mkdtemp(prefix="govstream-bench-"))
    govstream = [sys.executable, "-m", "govstream"]
    points = sizes.sweep_points
    per_point = max(1, sizes.replications // points)
    vary = f"{sizes.sweep_setting}={','.join(str(4 + i) for i in range(points))}"
    commands = {
        "replications": [
            *govstream, "run", scenario, *days, "--quiet",
            "--replications", str(sizes.replications), "--out", str(out / "run"),
        ],
        "sweep": [
            *govstream, "sweep", scenario, *days, "--fresh", "--out", str(out / "sweep"),
            "--vary", vary, "--replications", str(per_point),
        ],
    }  # fmt: skip
    tasks = {"replications": sizes.replications, "sweep": points * per_point}
    return commands, tasks, vary, per_point


@functools.cache
def serial_parts(sizes: Sizes) -> dict[str, Measurement]:
    """Each study taken apart by CPU seconds in one process (`replication_parts`,
    `sweep_parts`): the parent's serial share, the same whichever executor runs the runs.
    Measured once for the parts that project from it."""
    _, _, vary, per_point = study_commands(sizes)
    scenario = sizes.parallel_scenario
    return {
        "replications": in_child(
            "replication-parts",
            scenario=scenario,
            days=sizes.parallel_days,
            replications=sizes.replications,
        ),
        "sweep": in_child(
            "sweep-parts",
            scenario=scenario,
            days=sizes.parallel_days,
            vary=vary,
            replications=per_point,
        ),
    }


def serial_share(part: Measurement, fixed: float = 0.0) -> float:
    """The serial share of a study from its parts, with `fixed` seconds more of serial work
    (a local cluster's start-up)."""
    serial = part.extra["serial_cpu"] + fixed
    return serial / (serial + part.extra["parallel_cpu"])


def cores(sizes: Sizes, repeats: int) -> tuple[dict[str, Any], list[Ratio]]:
    """Wall time of whole commands, as a user waits for them, on 1 and on 2 processes; and
    the serial share of the same work by CPU seconds, from which Amdahl's law projects.

    On two cores that other work also uses, the measured speed-up says more about the other
    work than about govstream, so the projection comes from the serial share measured by CPU
    time (`replication_parts`, `sweep_parts`); the wall speed-up is shown beside it."""
    commands, tasks, _, _ = study_commands(sizes)
    parts = serial_parts(sizes)
    data: dict[str, Any] = {}
    ratios = []
    for name, command in commands.items():
        timed: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        loads: dict[int, list[list[float]]] = {1: [], 2: []}
        # In turns (1, 2, 1, 2) so a busy spell does not fall on one side only; two rounds at
        # most, since the projection does not rest on these wall times.
        for _ in range(min(repeats, 2)):
            for jobs in (1, 2):
                loads[jobs].append(load_average())
                timed[jobs].append(_timed([*command, "--jobs", str(jobs)]))
                wall, cpu = timed[jobs][-1]
                print(f"  {name} on {jobs} process(es): {wall:.1f} s ({cpu:.1f} CPU s)", flush=True)
        walls = {jobs: min(wall for wall, _ in runs) for jobs, runs in timed.items()}
        cpus = {jobs: min(cpu for _, cpu in runs) for jobs, runs in timed.items()}
        speedup = walls[1] / walls[2]
        split = parts[name].extra
        serial = serial_share(parts[name])
        projected = {n: amdahl(1.0 - serial, n, tasks[name]) for n in (2, *PROJECTED_CORES)}
        data[name] = {
            "command": shlex.join(command),
            "tasks": tasks[name],
            "wall_seconds": walls,
            "cpu_seconds": cpus,
            "runs": timed,
            "load_average": loads,
            "speedup": speedup,
            "parallel_fraction_from_speedup": parallel_fraction(speedup, 2),
            "serial_cpu_seconds": split["serial_cpu"],
            "parallel_cpu_seconds": split["parallel_cpu"],
            "serial_fraction": serial,
            "amdahl_limit": 1.0 / serial,
            "projected_speedup": projected,
        }
        ratios.append(
            Ratio(
                f"{name}: wall speed-up from 1 to 2 processes",
                speedup,
                None,
                numerator="--jobs 2",
                denominator="--jobs 1",
                note=f"serial share by CPU time {serial:.2f}, so Amdahl gives ×{projected[2]:.2f} "
                "on 2 idle cores, "
                + ", ".join(f"×{projected[n]:.2f} on {n}" for n in PROJECTED_CORES)
                + f" ({tasks[name]} runs); with runs to spare, ×{1 / serial:.1f} at most",
            )
        )
    return data, ratios


EXECUTOR_SETUPS = {
    "1 process": ["--jobs", "1"],
    "2 processes": ["--jobs", "2"],
    "LocalCluster, 1 worker": ["--executor", "dask", "--jobs", "1"],
    "LocalCluster, 2 workers": ["--executor", "dask", "--jobs", "2"],
}
"""Where a study's runs go, as the command line says it; the first is the baseline."""
BASELINE_SETUP = "1 process"


def executors(sizes: Sizes, repeats: int) -> tuple[dict[str, Any], list[Ratio]]:
    """Each study on the process pool and on a `LocalCluster` of 1 and 2 workers, timed as
    whole commands in turns (every setup once, then again), each as a speed-up over the same
    study on 1 process measured in the same turns. The projection to more cores is Amdahl's
    law from the serial share by CPU seconds (`serial_parts`), with a local cluster's
    start-up, measured here too, counted as serial work of its own."""
    commands, tasks, _, _ = study_commands(sizes)
    parts = serial_parts(sizes)
    starts = {n: in_child("dask-cluster-start", workers=n) for n in (1, 2)}
    for n, started in starts.items():
        print(f"  LocalCluster of {n}: started and closed in {started.wall_seconds:.1f} s")
    data: dict[str, Any] = {
        "cluster_start_seconds": {n: m.wall_seconds for n, m in starts.items()},
    }
    ratios = []
    for name, command in commands.items():
        timed: dict[str, list[tuple[float, float]]] = {setup: [] for setup in EXECUTOR_SETUPS}
        for _ in range(min(repeats, 2)):
            for setup, where in EXECUTOR_SETUPS.items():
                timed[setup].append(_timed([*command, *where]))
                wall, cpu = timed[setup][-1]
                print(f"  {name} on {setup}: {wall:.1f} s ({cpu:.1f} CPU s)", flush=True)
        walls = {setup: min(wall for wall, _ in runs) for setup, runs in timed.items()}
        speedups = {setup: walls[BASELINE_SETUP] / wall for setup, wall in walls.items()}
        serial = serial_share(parts[name])
        start = starts[2].wall_seconds
        local = serial_share(parts[name], start)
        projected = {n: amdahl(1.0 - serial, n, tasks[name]) for n in (2, *PROJECTED_CORES)}
        data[name] = {
            "command": shlex.join(command),
            "tasks": tasks[name],
            "setups": EXECUTOR_SETUPS,
            "wall_seconds": walls,
            "runs": timed,
            "speedup_over_1_process": speedups,
            "serial_fraction": serial,
            "serial_fraction_with_local_cluster_start": local,
            "projected_speedup": projected,
            "amdahl_limit": 1.0 / serial,
        }
        scaling = walls["LocalCluster, 1 worker"] / walls["LocalCluster, 2 workers"]
        for setup in EXECUTOR_SETUPS:
            if setup == BASELINE_SETUP:
                continue
            note = ""
            if setup == "LocalCluster, 2 workers":
                note = (
                    f"×{scaling:.2f} over the LocalCluster of 1 worker; serial share by CPU "
                    f"time {serial:.3f}, so Amdahl gives "
                    + ", ".join(f"×{projected[n]:.2f} on {n}" for n in (2, *PROJECTED_CORES))
                    + f" ({tasks[name]} runs), ×{1 / serial:.1f} at most with runs to spare; "
                    f"a LocalCluster started per study adds {start:.1f} s of start-up "
                    f"(serial share {local:.2f})"
                )
            ratios.append(
                Ratio(
                    f"{name} on {setup}: speed-up over 1 process",
                    speedups[setup],
                    None,
                    numerator=f"{setup} {walls[setup]:.1f} s",
                    denominator=f"1 process {walls[BASELINE_SETUP]:.1f} s",
                    note=note,
                )
            )
    return data, ratios


def executor_table(data: dict[str, Any]) -> list[str]:
    """The executors' section of RESULTS.md."""
    setups = list(EXECUTOR_SETUPS)
    starts = data["cluster_start_seconds"]
    studies = {name: d for name, d in data.items() if name != "cluster_start_seconds"}
    return [
        "## Studies on the process pool and on Dask",
        "",
        "| command | runs | "
        + " | ".join(f"{setup} s" for setup in setups)
        + " | "
        + " | ".join(f"{setup} ×" for setup in setups[1:])
        + " | serial share (CPU) | "
        + " | ".join(f"{n} cores" for n in (2, *PROJECTED_CORES))
        + " |",
        "|---|---:|" + "---:|" * (2 * len(setups) - 1) + "---:|" * (2 + len(PROJECTED_CORES)),
        *(
            f"| {name} | {d['tasks']} | "
            + " | ".join(f"{d['wall_seconds'][setup]:.1f}" for setup in setups)
            + " | "
            + " | ".join(f"{d['speedup_over_1_process'][setup]:.2f}" for setup in setups[1:])
            + f" | {d['serial_fraction']:.3f} | "
            + " | ".join(f"×{d['projected_speedup'][n]:.2f}" for n in (2, *PROJECTED_CORES))
            + " |"
            for name, d in studies.items()
        ),
        "",
        "Each × is the wall speed-up over the same command on 1 process, timed in the same "
        "turns. A LocalCluster is started and closed by each command: "
        + ", ".join(f"{s:.1f} s for {n} worker(s)" for n, s in starts.items())
        + " here, a fixed cost no number of runs shares out (a cluster started once with "
        "`dask scheduler` and `dask worker` does not pay it per study). The projection is "
        "Amdahl's law from the serial share by CPU seconds (start-up, reading the scenario, "
        "merging, writing), never more workers than runs.",
        "",
    ]


def kafka(sizes: Sizes) -> tuple[dict[str, Any], list[Ratio], str]:
    """Each rate once, govstream then the relay (see `kafka_throughput.run_all`); then
    govstream on 2 workers at the highest rate. Returns the steps, the ratios and the report."""
    import kafka_throughput as kt

    from govstream.logs import configure_logging

    configure_logging("warning")
    payload = kt.trigger_bytes()
    args = argparse.Namespace(
        rates=sorted(sizes.kafka_rates),
        seconds=sizes.kafka_seconds,
        grace=1.0,
        drain=10.0,
        warmup=sizes.kafka_warmup,
    )
    load_start = os.getloadavg()
    with kt.cluster(None) as bootstrap:
        pairs = kt.run_all(bootstrap, args, payload)
        one = pairs[-1][0]
        two = kt.run_govstream(
            bootstrap, one.rate, args.seconds, args.grace, args.drain, args.warmup, workers=2
        )
        kt.progress(two)
        header = kt.context_lines(bootstrap, False, payload, args)
    report = kt.report(pairs, header, (load_start, os.getloadavg()), args.warmup)
    report += "\n\nScale-out at the highest rate\n" + kt.govstream_table([one, two])
    ours = [gs for gs, _ in pairs]
    relay = [r for _, r in pairs]
    top = max(args.rates)
    a = kt.highest(ours, lambda s: s.sustainable_steady)
    b = kt.highest(relay, lambda s: s.sustainable_steady)

    def shown(rate: float | None) -> str:
        if rate is None:
            return "none of the rates tried"
        return f"{rate:g}/s" + (" or more" if rate == top else "")

    bound = " (the relay sustained the highest rate tried: an upper bound)" if b == top else ""
    low_ours, low_relay = pairs[0]
    ratios = [
        Ratio(
            "Kafka F03: highest sustainable rate, govstream / relay",
            (a or 0.0) / b if b else float("nan"),
            GOAL_KAFKA_RATE,
            numerator=f"govstream {shown(a)}",
            denominator=f"relay {shown(b)}",
            note=f"p99 < {kt.P99_LIMIT_MS:g} ms and backlog <= {kt.BACKLOG_LIMIT:.0%}, cases "
            f"after the first {args.warmup:g} s of each {args.seconds:g} s step{bound}",
        ),
        Ratio(
            f"Kafka F03 at {low_ours.rate:g}/s: p50, govstream / relay",
            low_ours.steady.p50_ms / low_relay.steady.p50_ms,
            GOAL_KAFKA_P50,
            "at most",
            numerator=f"govstream {low_ours.steady.p50_ms:.1f} ms",
            denominator=f"relay {low_relay.steady.p50_ms:.1f} ms",
            note="the relay crosses Kafka twice, a govstream case four times",
        ),
        Ratio(
            f"Kafka F03 at {one.rate:g}/s: cases done per second, 2 workers / 1",
            two.window.done_rate / one.window.done_rate if one.window.done_rate else float("nan"),
            None,
            numerator="2 worker processes",
            denominator="1 worker process",
            note=f"p99 {two.p99_ms:.0f} ms against {one.p99_ms:.0f} ms; backlog "
            f"{two.window.backlog_share:.0%} against {one.window.backlog_share:.0%}",
        ),
    ]
    steps = {f"{step.workload} {step.rate:g}/s": asdict(step) for step in [*ours, *relay, two]}
    return steps, ratios, report


def workload_table(runs: dict[str, list[Measurement]]) -> str:
    lines = [
        "| workload | cases | wall s | cases / s | spread | cases / CPU s | SimPy events "
        "| mean latency s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for each in runs.values():
        m = best(each)
        events = f"{m.simpy_events:,}" if m.simpy_events else "-"
        lines.append(
            f"| {m.workload} | {m.cases:,} | {m.wall_seconds:.2f} | {m.cases_per_second:,.0f} | "
            f"{spread(each):.0%} | {m.cases_per_cpu_second:,.0f} | {events} | "
            f"{m.mean_latency:,.2f} | {m.peak_rss_mib:.1f} |"
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
        choices=("throughput", "memory", "cores", "executors", "kafka"),
        action="append",
        help="run only these parts (repeatable; default all)",
    )
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeats = args.repeat or (1 if args.quick else 3)
    parts = args.only or ["throughput", "memory", "cores", "executors", "kafka"]
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
            "| command | runs | 1 process s | 2 processes s | CPU s, 1 / 2 | wall speed-up "
            "| serial share (CPU) | "
            + " | ".join(f"{n} cores" for n in (2, *PROJECTED_CORES))
            + " |",
            "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * (1 + len(PROJECTED_CORES)),
            *(
                f"| {name} | {d['tasks']} | {d['wall_seconds'][1]:.1f} | "
                f"{d['wall_seconds'][2]:.1f} | {d['cpu_seconds'][1]:.1f} / "
                f"{d['cpu_seconds'][2]:.1f} | {d['speedup']:.2f} | "
                f"{d['serial_fraction']:.2f} | "
                + " | ".join(f"×{d['projected_speedup'][n]:.2f}" for n in (2, *PROJECTED_CORES))
                + " |"
                for name, d in data.items()
            ),
            "",
            "The projection is Amdahl's law from the serial share of the same work measured "
            "by CPU seconds in one process (start-up, reading the scenario, merging and "
            "writing are the parent's; the replications are shared out), never more processes "
            "than runs. The wall speed-up is what this machine gave while it was also running "
            "other work; the load average before each run is in results.json.",
            "",
        ]
    if "executors" in parts:
        print("executors", flush=True)
        data, found = executors(sizes, repeats)
        ratios += found
        results["executors"] = data
        sections += executor_table(data)
    if "kafka" in parts:
        print("kafka", flush=True)
        steps, found, report = kafka(sizes)
        ratios += found
        results["kafka"] = steps
        sections += ["## Kafka engine against a bare relay", "", "```", report, "```", ""]
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
