"""The workloads the benchmarks time, each run alone in a fresh interpreter:

    python benchmarks/workloads.py NAME '{"param": value, ...}'

prints one JSON line, a `harness.Measurement`. A fresh interpreter per run keeps peak memory and
warm caches its own; only the simulation is timed, not the imports or the set-up.

govstream's side runs the sim engine as a user does (`SimEngine(scenario).run()`, result and
all); the baselines are the peers and floors it is held against: Ciw on the same queues, the
same models written by hand in plain SimPy (`handwritten.py`), and a bare SimPy queue.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness import Measurement, Stopwatch, peak_rss_mib  # noqa: E402

F03 = ROOT / "scenarios" / "deregistration-fanout.yaml"
DISTRICT = ROOT / "scenarios" / "district-2021.yaml"
F03_DAYS = 250
F03_RATE_PER_DAY = 40
"""The F03 scenario's own load; a benchmark raises it and scales the clerks alike."""

QUEUE_RATE = 1.6
"""Arrivals per second at the single queue and the tandem: M/M/2 at utilisation 0.8."""
QUEUE_SERVERS = 2
QUEUE_MEAN_SERVICE = 1.0

BARE_SERVERS = 3
BARE_UTILISATION = 0.7


def f03_scale(cases: int) -> tuple[float, int]:
    """The arrival rate per day that brings `cases` deregistrations in the scenario's days,
    and the factor every agency's clerks are multiplied by so the load per clerk stays."""
    rate = cases / F03_DAYS
    return rate, max(1, -(-int(rate) // F03_RATE_PER_DAY))


# -- govstream ---------------------------------------------------------------------------------


def _queue_scenario(flow: str, seconds: float, seed: int) -> dict[str, Any]:
    """A flow turned into a plain queueing network: no transport or platform time, clerks
    always at work, exponential service, Poisson arrivals."""
    service = {"dist": "exponential", "mean": f"{QUEUE_MEAN_SERVICE}s"}
    data: dict[str, Any] = {
        "name": f"bench-{flow.lower()}-queue",
        "flow": flow,
        "seed": seed,
        "start": "2021-06-01T09:00:00+08:00",
        "duration": f"{seconds}s",
        "drain": "1d",
        "arrivals": {"process": "poisson", "rate": f"{QUEUE_RATE}/s"},
        "transport": {"latency": {"dist": "constant", "value": 0}},
        "platform": {"servers": 10_000, "service_time": {"dist": "constant", "value": 0}},
        "calendar": {"holidays": "none"},
    }
    if flow == "F03":
        # Police is the only queue: no company holds a bank or housing-fund account.
        data["population"] = {"bank_account_weights": [1.0], "housing_fund_probability": 0.0}
        data["agencies"] = {
            name: {"servers": QUEUE_SERVERS, "service_time": service}
            for name in ("police", "bank", "housing-fund")
        }
    elif flow == "F09":
        # The tax certificate, then the registration: two queues in tandem.
        data["agencies"] = {
            name: {"servers": QUEUE_SERVERS, "service_time": service}
            for name in ("tax", "real-estate")
        }
    else:
        raise ValueError(f"no queue scenario for {flow}")
    return data


def _run_engine(scenario: Any, workload: str, after_imports: float) -> Measurement:
    from govstream.engines.sim.engine import SimEngine

    engine = SimEngine(scenario)
    with Stopwatch() as clock:
        result = engine.run()
    counts = result.counts
    if counts.lost or counts.cases_open:
        raise RuntimeError(f"{workload} did not finish cleanly: {counts}")
    # Mean case latency over every flow, each flow's mean weighted by its cases.
    cases = {f: result.latency[f"{f}/case"]["count"] for f in result.flow_counts}
    mean = sum(result.latency[f"{f}/case"]["mean"] * n for f, n in cases.items()) / max(
        1, sum(cases.values())
    )
    return Measurement(
        workload=workload,
        cases=counts.cases_completed,
        wall_seconds=clock.wall,
        cpu_seconds=clock.cpu,
        simpy_events=_processed(engine.env),
        peak_rss_mib=peak_rss_mib(),
        rss_after_imports_mib=after_imports,
        mean_latency=mean,
        extra={"business_seconds": result.business_seconds},
    )


def _govstream_imports() -> float:
    from govstream.engines.sim.engine import SimEngine  # noqa: F401
    from govstream.logs import configure_logging

    configure_logging("warning")
    return peak_rss_mib()


def govstream_mm2(seconds: float, seed: int = 1) -> Measurement:
    from govstream.scenario.model import Scenario

    after = _govstream_imports()
    scenario = Scenario.model_validate(_queue_scenario("F03", seconds, seed))
    return _run_engine(scenario, "govstream M/M/2", after)


def govstream_tandem(seconds: float, seed: int = 1) -> Measurement:
    from govstream.scenario.model import Scenario

    after = _govstream_imports()
    scenario = Scenario.model_validate(_queue_scenario("F09", seconds, seed))
    return _run_engine(scenario, "govstream tandem", after)


def govstream_f03(cases: int, seed: int = 1) -> Measurement:
    from govstream.scenario.loader import load_scenario

    after = _govstream_imports()
    rate, factor = f03_scale(cases)
    overrides = [f"arrivals.rate={rate}/d", f"duration={F03_DAYS}d", f"seed={seed}"]
    overrides += [
        f"agencies.{name}.servers={n * factor}"
        for name, n in (("police", 3), ("bank", 6), ("housing-fund", 3))
    ]
    return _run_engine(load_scenario(F03, overrides), "govstream F03", after)


def district_left_out() -> list[str]:
    """The district's flows the hand-written model leaves out: neither side runs them."""
    import handwritten

    flows = yaml.safe_load(DISTRICT.read_text(encoding="utf-8"))["flows"]
    return [flow_id for flow_id in flows if flow_id not in handwritten.DISTRICT_FLOWS]


def govstream_district(days: float, seed: int = 1) -> Measurement:
    """The district as shipped, cut to the flows the hand-written model has, so both sides
    run the same cases over the same agencies."""
    import handwritten

    from govstream.scenario.loader import parse_scenario
    from processors import FLOWS

    after = _govstream_imports()
    data = yaml.safe_load(DISTRICT.read_text(encoding="utf-8"))
    kept = set(handwritten.DISTRICT_FLOWS)
    data["flows"] = {k: v for k, v in data["flows"].items() if k in kept}
    data["targets"] = [t for t in data.get("targets", []) if t.get("flow") in kept]
    acting = {agency for flow_id in kept for agency in FLOWS[flow_id].agencies}
    data["agencies"] = {k: v for k, v in data["agencies"].items() if k in acting}
    for agency in data["agencies"].values():
        desks = agency.get("desks") or {}
        agency["desks"] = {k: v for k, v in desks.items() if k in kept}
    overrides = [f"duration={days}d", f"seed={seed}"]
    scenario = parse_scenario(yaml.safe_dump(data), str(DISTRICT), overrides, base=DISTRICT.parent)
    return _run_engine(scenario, "govstream district", after)


def govstream_run_length(days: float, seed: int = 1) -> Measurement:
    """The F03 scenario as shipped, for `days` of business time: for memory against length."""
    from govstream.scenario.loader import load_scenario

    after = _govstream_imports()
    scenario = load_scenario(F03, [f"duration={days}d", f"seed={seed}"])
    return _run_engine(scenario, f"govstream F03 {days:g} days", after)


def replication_parts(scenario: str, days: float, replications: int) -> Measurement:
    """`govstream run --replications N` taken apart, in this one process, by CPU seconds: what
    only the parent can do (start, read the scenario, merge, write the report) against what
    the workers share (each replication's run and the encoding of its histograms). The split
    is Amdahl's serial fraction, measured rather than inferred from a speed-up, so a busy
    machine does not bend it."""
    started = time.process_time()  # the interpreter's start and the imports so far
    from govstream.cli import build_parser  # noqa: F401  (what `govstream run` imports)
    from govstream.report.console import print_report, report_console
    from govstream.runner import write_outputs
    from govstream.scenario.loader import load_scenario
    from govstream.studies.replications import merge_replications, replicate, replication_seeds

    overrides = [f"duration={days}d"]
    loaded = load_scenario(ROOT / scenario, overrides)
    serial = time.process_time()
    runs = [
        replicate(loaded, seed, scenario, overrides)
        for seed in replication_seeds(loaded, replications)
    ]
    parallel = time.process_time() - serial
    with Stopwatch() as merging:
        result = merge_replications(loaded, runs, scenario, overrides)
        import tempfile

        with tempfile.TemporaryDirectory() as out:
            write_outputs(result, Path(out))
        console = report_console()
        with console.capture():
            print_report(result, console)
    serial_cpu = serial + merging.cpu
    return Measurement(
        workload=f"replications of {scenario}",
        cases=result.counts.cases_completed,
        wall_seconds=serial_cpu + parallel,
        cpu_seconds=serial_cpu + parallel,
        extra={"serial_cpu": serial_cpu, "parallel_cpu": parallel, "start_cpu": started},
    )


def sweep_parts(scenario: str, days: float, vary: str, replications: int) -> Measurement:
    """`govstream sweep` taken apart like `replication_parts`: loading every point, merging
    each point's replications and saving the sweep after each are the parent's; the
    replications are the workers'."""
    import tempfile

    started = time.process_time()
    from govstream.cli import build_parser  # noqa: F401  (what `govstream sweep` imports)
    from govstream.scenario.loader import load_scenario
    from govstream.studies.replications import merge_replications, replicate, replication_seeds
    from govstream.studies.sweep import SweepState, grid, parse_vary, point_folder, sweep_settings

    overrides = [f"duration={days}d"]
    varies = [parse_vary(vary)]
    points = grid(varies)
    scenarios = {p: load_scenario(ROOT / scenario, [*overrides, *p]) for p in points}
    serial = time.process_time()
    parallel = 0.0
    cases = 0
    with tempfile.TemporaryDirectory() as out:
        state = SweepState(
            Path(out), sweep_settings(scenario, overrides, varies, replications), True
        )
        for index, point in enumerate(points):
            with Stopwatch() as running:
                runs = [
                    replicate(scenarios[point], seed, scenario, [*overrides, *point])
                    for seed in replication_seeds(scenarios[point], replications)
                ]
            parallel += running.cpu
            with Stopwatch() as saving:
                result = (
                    runs[0].result
                    if replications == 1
                    else merge_replications(scenarios[point], runs, scenario, [*overrides, *point])
                )
                state.add(point, result, point_folder(index, point))
                state.save(points, varies, "bench")
            serial += saving.cpu
            cases += result.counts.cases_completed
    return Measurement(
        workload=f"sweep of {scenario}",
        cases=cases,
        wall_seconds=serial + parallel,
        cpu_seconds=serial + parallel,
        extra={"serial_cpu": serial, "parallel_cpu": parallel, "start_cpu": started},
    )


def dask_cluster_start(workers: int) -> Measurement:
    """A `LocalCluster` as `--executor dask` without `--scheduler` starts one for a study: its
    worker processes spawned, readied (`LocalWorkerSetup`) and closed again. Its wall seconds
    are a fixed cost of each study on a local cluster that no number of runs shares out; a
    cluster started once with `dask scheduler` and `dask worker` does not pay it per study."""
    from govstream.studies.dask_executor import DaskExecutor
    from govstream.studies.executors import ExecutorChoice

    with Stopwatch() as clock:
        executor = DaskExecutor.start(ExecutorChoice("dask"), workers)
        executor.client.wait_for_workers(workers)
        executor.close()
    return Measurement(
        workload=f"LocalCluster of {workers} worker(s)",
        cases=0,
        wall_seconds=clock.wall,
        cpu_seconds=clock.cpu,
    )


# -- baselines ---------------------------------------------------------------------------------


def handwritten_f03(cases: int, seed: int = 1) -> Measurement:
    import handwritten

    rate, factor = f03_scale(cases)
    return _handwritten(
        "hand-written F03", lambda: handwritten.run_f03(F03, F03_DAYS, rate, factor, seed)
    )


def handwritten_district(days: float, seed: int = 1) -> Measurement:
    import handwritten

    return _handwritten(
        "hand-written district", lambda: handwritten.run_district(DISTRICT, days, seed)
    )


def _handwritten(workload: str, run: Callable[[], tuple[int, int, float]]) -> Measurement:
    """A hand-written model's run, timed: it returns cases done, SimPy events and mean latency."""
    after = peak_rss_mib()
    with Stopwatch() as clock:
        done, events, mean = run()
    return Measurement(
        workload=workload,
        cases=done,
        wall_seconds=clock.wall,
        cpu_seconds=clock.cpu,
        simpy_events=events,
        peak_rss_mib=peak_rss_mib(),
        rss_after_imports_mib=after,
        mean_latency=mean,
    )


def _ciw(seconds: float, seed: int, tandem: bool) -> Measurement:
    import ciw

    after = peak_rss_mib()
    ciw.seed(seed)
    service = ciw.dists.Exponential(1.0 / QUEUE_MEAN_SERVICE)
    if tandem:
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(QUEUE_RATE), None],
            service_distributions=[service, ciw.dists.Exponential(1.0 / QUEUE_MEAN_SERVICE)],
            routing=[[0.0, 1.0], [0.0, 0.0]],
            number_of_servers=[QUEUE_SERVERS, QUEUE_SERVERS],
        )
    else:
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(QUEUE_RATE)],
            service_distributions=[service],
            number_of_servers=[QUEUE_SERVERS],
        )
    with Stopwatch() as clock:
        simulation = ciw.Simulation(network)
        simulation.simulate_until_max_time(seconds)
        records = simulation.get_all_records()
    last = 2 if tandem else 1
    finished = [r for r in records if r.node == last]
    # A customer's time in the network: from arrival at the first node to exit from the last.
    arrived = {r.id_number: r.arrival_date for r in records if r.node == 1}
    sojourn = [r.exit_date - arrived[r.id_number] for r in finished]
    return Measurement(
        workload="Ciw tandem" if tandem else "Ciw M/M/2",
        cases=len(finished),
        wall_seconds=clock.wall,
        cpu_seconds=clock.cpu,
        peak_rss_mib=peak_rss_mib(),
        rss_after_imports_mib=after,
        mean_latency=sum(sojourn) / len(sojourn) if sojourn else 0.0,
    )


def ciw_mm2(seconds: float, seed: int = 1) -> Measurement:
    return _ciw(seconds, seed, tandem=False)


def ciw_tandem(seconds: float, seed: int = 1) -> Measurement:
    return _ciw(seconds, seed, tandem=True)


def bare(arrivals: int, seed: int = 1) -> Measurement:
    """The least any SimPy model of a queue can cost: Poisson arrivals through one Resource
    (3 servers, exponential service, utilisation 0.7), nothing else."""
    import simpy

    after = peak_rss_mib()
    rng = random.Random(seed)
    arrival_rate = BARE_UTILISATION * BARE_SERVERS
    env = simpy.Environment()
    clerks = simpy.Resource(env, capacity=BARE_SERVERS)
    done = 0
    total = 0.0

    def customer() -> Any:
        nonlocal done, total
        arrived = env.now
        with clerks.request() as turn:
            yield turn
            yield env.timeout(rng.expovariate(1.0))
        done += 1
        total += env.now - arrived

    def source() -> Any:
        for _ in range(arrivals):
            yield env.timeout(rng.expovariate(arrival_rate))
            env.process(customer())

    env.process(source())
    with Stopwatch() as clock:
        env.run()
    return Measurement(
        workload="bare SimPy queue",
        cases=done,
        wall_seconds=clock.wall,
        cpu_seconds=clock.cpu,
        simpy_events=_processed(env),
        peak_rss_mib=peak_rss_mib(),
        rss_after_imports_mib=after,
        mean_latency=total / done if done else 0.0,
    )


def _processed(env: Any) -> int:
    """Events SimPy has taken off its queue: every scheduled event has an id from `_eid`."""
    return int(next(env._eid) - len(env._queue))


WORKLOADS: dict[str, Callable[..., Measurement]] = {
    "govstream-mm2": govstream_mm2,
    "govstream-tandem": govstream_tandem,
    "govstream-f03": govstream_f03,
    "govstream-district": govstream_district,
    "govstream-run-length": govstream_run_length,
    "replication-parts": replication_parts,
    "sweep-parts": sweep_parts,
    "dask-cluster-start": dask_cluster_start,
    "handwritten-f03": handwritten_f03,
    "handwritten-district": handwritten_district,
    "ciw-mm2": ciw_mm2,
    "ciw-tandem": ciw_tandem,
    "bare": bare,
}


def in_child(name: str, **params: Any) -> Measurement:
    """One workload in a fresh interpreter."""
    from harness import run_child

    command = [sys.executable, str(Path(__file__)), name, json.dumps(params)]
    return Measurement(**run_child(command, ROOT))


def main(argv: list[str]) -> int:
    name, params = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    print(json.dumps(asdict(WORKLOADS[name](**params))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
