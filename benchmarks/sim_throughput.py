"""How fast the sim engine simulates, against a bare SimPy queue measured in the same run.

    python benchmarks/sim_throughput.py [--cases 50000] [--repeat 1] [--seed 1]

Workloads, each run in a fresh child process so that its peak memory is its own:

- govstream: the F03 deregistration scenario (office calendars, Chinese holidays, lognormal
  transport and service, fan-out, case tracking, HdrHistogram metrics, synthetic triggers),
  with its arrival rate raised so that `--cases` deregistrations arrive in its 250 days, and
  every agency's clerks scaled by the same factor so the load per clerk stays as written.
- bare: the same number of Poisson arrivals through one `simpy.Resource` (3 servers,
  exponential service, utilisation 0.7) with nothing else: no metrics, no processors, no data.

What is counted:

- cases/s: arrivals carried through to completion per wall-clock second (the same unit in both
  workloads, so its ratio is the engine's cost per case against the bare minimum);
- SimPy events/s: events the SimPy scheduler processed per wall-clock second (timeouts,
  resource requests and releases, process starts and resumptions), read from the scheduler's
  event counter; govstream schedules many more events per case (transport hops, platform,
  station, outcome), so this ratio is about cost per event instead;
- peak RSS: `resource.getrusage` high-water mark of the child, and how much of it came after
  the imports (the workload's own memory).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "deregistration-fanout.yaml"
SCENARIO_DAYS = 250
SCENARIO_RATE_PER_DAY = 40
SCENARIO_SERVERS = {"police": 3, "bank": 6, "housing-fund": 3}

BARE_SERVERS = 3
BARE_UTILISATION = 0.7


@dataclass(frozen=True)
class Measurement:
    workload: str
    cases: int
    requests: int
    simpy_events: int
    wall_seconds: float
    peak_rss_mib: float
    rss_after_imports_mib: float

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.wall_seconds

    @property
    def events_per_second(self) -> float:
        return self.simpy_events / self.wall_seconds


def _rss_mib() -> float:
    """The process's peak resident set size so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def processed_events(env: Any) -> int:
    """Events SimPy has taken off its queue: every scheduled event has an id from `_eid`."""
    scheduled = next(env._eid)
    return scheduled - len(env._queue)


def scenario_overrides(cases: int) -> list[str]:
    """Raise the arrival rate to fit `cases` into the scenario's days; scale clerks alike."""
    rate = cases / SCENARIO_DAYS
    factor = max(1, math.ceil(rate / SCENARIO_RATE_PER_DAY))
    overrides = [f"arrivals.rate={rate}/d", f"duration={SCENARIO_DAYS}d"]
    overrides += [f"agencies.{name}.servers={n * factor}" for name, n in SCENARIO_SERVERS.items()]
    return overrides


def run_govstream(cases: int, seed: int) -> Measurement:
    from govstream.engines.sim.engine import SimEngine
    from govstream.logs import configure_logging
    from govstream.scenario.loader import load_scenario

    configure_logging("warning")
    after_imports = _rss_mib()
    scenario = load_scenario(SCENARIO, [*scenario_overrides(cases), f"seed={seed}"])
    engine = SimEngine(scenario)
    started = time.perf_counter()
    result = engine.run()
    wall = time.perf_counter() - started
    counts = result.counts
    if counts.lost or counts.cases_open:
        raise RuntimeError(f"the benchmark run did not finish cleanly: {counts}")
    return Measurement(
        workload="govstream",
        cases=counts.cases_completed,
        requests=counts.requests_emitted,
        simpy_events=processed_events(engine.env),
        wall_seconds=wall,
        peak_rss_mib=_rss_mib(),
        rss_after_imports_mib=after_imports,
    )


def run_bare(arrivals: int, seed: int) -> Measurement:
    import simpy

    after_imports = _rss_mib()
    rng = random.Random(seed)
    service_rate = 1.0
    arrival_rate = BARE_UTILISATION * BARE_SERVERS * service_rate
    env = simpy.Environment()
    clerks = simpy.Resource(env, capacity=BARE_SERVERS)
    done = 0

    def customer() -> Any:
        nonlocal done
        with clerks.request() as turn:
            yield turn
            yield env.timeout(rng.expovariate(service_rate))
        done += 1

    def source() -> Any:
        for _ in range(arrivals):
            yield env.timeout(rng.expovariate(arrival_rate))
            env.process(customer())

    env.process(source())
    started = time.perf_counter()
    env.run()
    wall = time.perf_counter() - started
    return Measurement(
        workload="bare",
        cases=done,
        requests=done,
        simpy_events=processed_events(env),
        wall_seconds=wall,
        peak_rss_mib=_rss_mib(),
        rss_after_imports_mib=after_imports,
    )


def in_child(workload: str, cases: int, seed: int) -> Measurement:
    """One workload in a fresh interpreter, so peak memory and warm caches are its own."""
    command = [sys.executable, __file__, "--worker", workload, "--cases", str(cases)]
    command += ["--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{workload} worker failed:\n{done.stderr}")
    return Measurement(**json.loads(done.stdout.strip().splitlines()[-1]))


def best(measurements: list[Measurement]) -> Measurement:
    """The fastest repeat: noise from other processes only ever slows a run down."""
    return min(measurements, key=lambda m: m.wall_seconds)


def report(govstream: Measurement, bare: Measurement, requested: int, repeats: int) -> str:
    rows = [
        ("", "govstream", "bare SimPy", "govstream / bare"),
        ("cases", f"{govstream.cases:,}", f"{bare.cases:,}", ""),
        ("requests (fan-out)", f"{govstream.requests:,}", "-", ""),
        ("SimPy events", f"{govstream.simpy_events:,}", f"{bare.simpy_events:,}", ""),
        (
            "events per case",
            f"{govstream.simpy_events / govstream.cases:.1f}",
            f"{bare.simpy_events / bare.cases:.1f}",
            "",
        ),
        ("wall seconds", f"{govstream.wall_seconds:.2f}", f"{bare.wall_seconds:.2f}", ""),
        (
            "cases / s",
            f"{govstream.cases_per_second:,.0f}",
            f"{bare.cases_per_second:,.0f}",
            f"{govstream.cases_per_second / bare.cases_per_second:.3f}",
        ),
        (
            "SimPy events / s",
            f"{govstream.events_per_second:,.0f}",
            f"{bare.events_per_second:,.0f}",
            f"{govstream.events_per_second / bare.events_per_second:.3f}",
        ),
        (
            "peak RSS MiB",
            f"{govstream.peak_rss_mib:.1f}",
            f"{bare.peak_rss_mib:.1f}",
            f"{govstream.peak_rss_mib / bare.peak_rss_mib:.2f}",
        ),
        (
            "  of which after imports",
            f"{govstream.peak_rss_mib - govstream.rss_after_imports_mib:.1f}",
            f"{bare.peak_rss_mib - bare.rss_after_imports_mib:.1f}",
            "",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    ]
    lines.append(
        f"(best of {repeats}; Python {sys.version.split()[0]}; {SCENARIO.name} with "
        f"{' '.join(scenario_overrides(requested))})"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=50_000, help="arrivals (default 50000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each workload; best kept")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", choices=("govstream", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run = run_govstream if args.worker == "govstream" else run_bare
        print(json.dumps(asdict(run(args.cases, args.seed))))
        return 0
    govstream = best([in_child("govstream", args.cases, args.seed) for _ in range(args.repeat)])
    # The bare loop gets exactly as many arrivals as the govstream run carried.
    bare = best([in_child("bare", govstream.cases, args.seed) for _ in range(args.repeat)])
    print(report(govstream, bare, args.cases, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
