"""Where a sim run's time goes: cProfile's top entries, and the time split by area of the code.

    python benchmarks/profile_sim.py f03 --cases 10000
    python benchmarks/profile_sim.py mm2 --seconds 6000
    python benchmarks/profile_sim.py district --days 30

The workloads are the benchmark's own (`workloads.py`). cProfile slows every Python call by
about the same amount, so it overstates code that makes many small calls; read the shares as
where to look, and time the change with `run.py`.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

AREAS = (
    ("simpy", "SimPy event loop and resources"),
    ("hdrh", "HdrHistogram"),
    ("govstream/metrics", "latency recorders"),
    ("govstream/pipeline/book", "latency book"),
    ("govstream/calendar", "calendar and working days"),
    ("govstream/pipeline/series", "time series"),
    ("govstream/pipeline/ledger", "the ledger"),
    ("govstream/pipeline/exchange", "transport draws"),
    ("govstream/engines/sim", "sim engine"),
    ("producers", "trigger data"),
    ("processors", "flows and orchestrator"),
    ("random.py", "random draws"),
    ("govstream", "other govstream"),
)


def area_of(filename: str) -> str:
    for fragment, name in AREAS:
        if fragment in filename:
            return name
    return "other (builtins, stdlib)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=("f03", "mm2", "tandem", "district"))
    parser.add_argument("--cases", type=int, default=10_000, help="F03 arrivals")
    parser.add_argument("--seconds", type=float, default=6_000, help="queue business seconds")
    parser.add_argument("--days", type=float, default=30, help="district business days")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--save", type=Path, help="write the raw profile here")
    args = parser.parse_args(argv)

    import workloads

    run, params = {
        "f03": (workloads.govstream_f03, {"cases": args.cases}),
        "mm2": (workloads.govstream_mm2, {"seconds": args.seconds}),
        "tandem": (workloads.govstream_tandem, {"seconds": args.seconds}),
        "district": (workloads.govstream_district, {"days": args.days}),
    }[args.workload]
    workloads._govstream_imports()
    profile = cProfile.Profile()
    profile.enable()
    measured = run(**params)
    profile.disable()
    if args.save:
        profile.dump_stats(str(args.save))
    stats = pstats.Stats(profile)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    print(f"{measured.workload}: {measured.cases:,} cases, {total:.2f} s profiled")
    print("\nshare of the time by area (own time of each function):")
    by_area: dict[str, float] = defaultdict(float)
    for (filename, _, _), row in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area_of(filename)] += row[2]
    for name, seconds in sorted(by_area.items(), key=lambda item: -item[1]):
        print(f"  {seconds / total:6.1%}  {name}")
    print()
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
