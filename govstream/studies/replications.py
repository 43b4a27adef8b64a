"""Replications: one scenario run with N independent seeds, merged into one result.

One run is one sample of a random process: its p99 moves with the seed. Replications show how
far. Each runs on the sim engine with seed `seed + i` (so replication 0 is the plain run, and
any one can be rerun alone with `--seed`), in parallel across the machine's cores or on a Dask
cluster (`executors`), and merged here whichever ran them. Their
histograms are merged (HdrHistograms add exactly) for the pooled statistics, and each
statistic's mean and 95 % confidence interval across replications decides the verdicts:
met when the whole interval holds, missed when none of it does, undecided otherwise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

import structlog

from govstream.engines.results import (
    calendar_info,
    not_checkable_info,
    office_day,
    package_versions,
    unchecked_info,
)
from govstream.engines.stopped import INTERRUPTED, RunStopped, mark_incomplete
from govstream.metrics import STAT_NAMES, LatencySummary, RecorderSet
from govstream.pipeline.breakdown import Tails
from govstream.pipeline.why import latency_breakdowns, target_breakdowns
from govstream.result import (
    AgencyLoad,
    Counts,
    EngineInfo,
    Exposures,
    Interval,
    Replication,
    RunResult,
    TallyCount,
)
from govstream.scenario.model import Scenario
from govstream.sla import SCALES, Beside, evaluate_targets
from govstream.studies.executors import ExecutorChoice, study_executor, tell_progress
from govstream.studies.runs import ReplicationRun as ReplicationRun
from govstream.studies.runs import RunTask
from govstream.studies.runs import default_workers as default_workers
from govstream.studies.runs import replicate as replicate
from govstream.studies.runs import warm_workers as warm_workers

log = structlog.get_logger(__name__)

T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
"""Student's t, 97.5th percentile, for 1 to 30 degrees of freedom."""


def t_quantile(degrees: int) -> float:
    """The two-sided 95 % critical value of Student's t."""
    if degrees < 1:
        raise ValueError("a confidence interval needs at least two replications")
    if degrees <= len(T_975):
        return T_975[degrees - 1]
    for limit, value in ((40, 2.021), (60, 2.000), (120, 1.980)):
        if degrees <= limit:
            return value
    return 1.960


def confidence_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95 % interval of the mean; a single value is its own interval."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean, mean
    half = t_quantile(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def replication_seeds(scenario: Scenario, count: int) -> list[int]:
    return [scenario.seed + index for index in range(count)]


def run_replications(
    scenario: Scenario,
    count: int,
    *,
    scenario_file: str = "<scenario>",
    overrides: Iterable[str] = (),
    progress: Callable[[float], None] | None = None,
    workers: int | None = None,
    executor: ExecutorChoice | None = None,
) -> RunResult:
    """`count` replications in parallel on `executor` (default: `workers` processes, one per
    core unless given), merged here; each is deterministic for its seed, so the result does
    not depend on the executor or on `workers`.

    Ctrl-C stops the workers and raises RunStopped with the replications finished by then
    merged (marked incomplete): a long study interrupted keeps what it had measured."""
    seeds = replication_seeds(scenario, count)
    overrides = list(overrides)
    tasks = [RunTask(scenario, seed, scenario_file, tuple(overrides)) for seed in seeds]
    runs: dict[int, ReplicationRun] = {}
    try:
        with study_executor(executor, len(tasks), workers) as running:
            for _, run in running.results(tasks):
                runs[run.seed] = run
                log.info("replication finished", seed=run.seed, done=len(runs), of=count)
                tell_progress(progress, len(runs) / count, running)
    except KeyboardInterrupt:
        raise _interrupted(scenario, runs, count, scenario_file, overrides) from None
    return merge_replications(scenario, [runs[seed] for seed in seeds], scenario_file, overrides)


def _interrupted(
    scenario: Scenario,
    runs: dict[int, ReplicationRun],
    count: int,
    scenario_file: str,
    overrides: list[str],
) -> RunStopped:
    """The replications done when Ctrl-C came, merged as any study of that many is."""
    if not runs:
        return RunStopped(INTERRUPTED, None, interrupted=True)
    done = [runs[seed] for seed in sorted(runs)]
    merged = merge_replications(scenario, done, scenario_file, overrides)
    reason = f"{INTERRUPTED} with {len(done)} of {count} replications finished"
    return RunStopped(INTERRUPTED, mark_incomplete(merged, reason), interrupted=True)


def merge_replications(
    scenario: Scenario,
    runs: Sequence[ReplicationRun],
    scenario_file: str,
    overrides: list[str],
) -> RunResult:
    """One result from several replications: pooled histograms, intervals, every replication."""
    merged = {scale: RecorderSet(integers=scale == "legal_working_days") for scale in SCALES}
    for run in runs:
        for scale in SCALES:
            merged[scale].merge_data(run.histograms[scale])
    pooled = {
        scale: {name: s.to_data() for name, s in merged[scale].summaries().items()}
        for scale in SCALES
    }
    intervals = {
        scale: metric_intervals([getattr(run.result, scale) for run in runs]) for scale in SCALES
    }
    first = runs[0].result
    # A rate over replications is over every case of every replication: counts add up.
    rates = _sum_tallies([run.result.rates for run in runs])
    exposures = _sum_exposures([run.result.exposures for run in runs])
    counted = _least_counts([run.result.tallies for run in runs])
    ended_on = max(
        (scenario.start + timedelta(seconds=run.result.business_seconds)).date().isoformat()
        for run in runs
    )
    tails = Tails()
    for run in runs:
        tails.merge(run.tails)
    targets = evaluate_targets(
        scenario,
        pooled["latency"],
        pooled["working_days"],
        pooled["legal_working_days"],
        intervals=intervals,
        rates=rates,
        beside=Beside(exposures, counted, ended_on),
    )
    return RunResult(
        scenario_name=first.scenario_name,
        scenario_file=scenario_file,
        scenario=scenario.to_data(),
        overrides=overrides,
        seed=scenario.seed,
        flows=first.flows,
        engine=EngineInfo(
            name="sim",
            versions=package_versions("simpy"),
            options={"replications": len(runs), "seeds": [run.seed for run in runs]},
        ),
        business_seconds=max(run.result.business_seconds for run in runs),
        counts=_sum_counts([run.result.counts for run in runs]),
        flow_counts={
            flow_id: _sum_counts([run.result.flow_counts[flow_id] for run in runs])
            for flow_id in first.flow_counts
        },
        rules=_sum_rules([run.result.rules for run in runs]),
        latency=pooled["latency"],
        working_days=pooled["working_days"],
        legal_working_days=pooled["legal_working_days"],
        agencies=_merge_agencies([run.result.agencies for run in runs]),
        targets=targets,
        breakdowns=latency_breakdowns(tails, pooled["latency"]),
        target_breakdowns=target_breakdowns(tails, targets, office_day(scenario)),
        signals=_sum_tallies([run.result.signals for run in runs]),
        rates=rates,
        items_reached=_sum_tallies([run.result.items_reached for run in runs]),
        exposures=exposures,
        tallies=counted,
        unchecked_plan_targets=unchecked_info(scenario),
        not_checkable_plan_targets=not_checkable_info(scenario),
        calendar=calendar_info(scenario),
        replications=[
            Replication(
                seed=run.seed,
                counts=run.result.counts,
                latency=run.result.latency,
                working_days=run.result.working_days,
                legal_working_days=run.result.legal_working_days,
                targets=run.result.targets,
                histograms=run.histograms,
            )
            for run in runs
        ],
        intervals=intervals,
    )


def metric_intervals(
    tables: Sequence[dict[str, dict[str, Any]]],
) -> dict[str, dict[str, Interval]]:
    """Per metric and statistic: the mean and 95 % interval over the replications that
    measured it, and the same interval's high end were open values never to finish."""
    names = sorted({name for table in tables for name in table})
    intervals: dict[str, dict[str, Interval]] = {}
    for name in names:
        summaries = [
            LatencySummary.from_data(dict(table[name]))
            for table in tables
            if name in table and (table[name]["count"] or table[name].get("open"))
        ]
        if not summaries:
            continue
        per_stat: dict[str, Interval] = {}
        for stat in STAT_NAMES:
            mean, low, high = confidence_interval([s.stat(stat) for s in summaries])
            at_least = any(s.at_least(stat) for s in summaries)
            upper_high: float | None = high
            if at_least:
                uppers = [s.upper_of(stat) for s in summaries]
                if any(u is None for u in uppers):
                    upper_high = None
                else:
                    upper_high = confidence_interval([float(u) for u in uppers if u is not None])[2]
            per_stat[stat] = Interval(
                mean=mean, low=low, high=high, at_least=at_least, upper_high=upper_high
            )
        intervals[name] = per_stat
    return intervals


def _sum_counts(counts: Sequence[Counts]) -> Counts:
    fields = Counts.model_fields
    return Counts(**{name: sum(getattr(c, name) for c in counts) for name in fields})


def _sum_tallies(tallies: Sequence[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """Counts by name and outcome (signals by kind, a rate's done, failed and open), summed."""
    total: dict[str, dict[str, int]] = {}
    for run in tallies:
        for name, outcomes in run.items():
            into = total.setdefault(name, {})
            for outcome, n in outcomes.items():
                into[outcome] = into.get(outcome, 0) + n
    return total


def _sum_exposures(
    exposures: Sequence[dict[str, dict[str, Exposures]]],
) -> dict[str, dict[str, Exposures]]:
    """Every replication's checks together: an exposure in any of them is one of the study's."""
    total: dict[str, dict[str, Exposures]] = {}
    for run in exposures:
        for flow_id, by_agency in run.items():
            for agency, e in by_agency.items():
                into = total.setdefault(flow_id, {}).get(agency)
                if into is not None:
                    e = Exposures(
                        **{name: getattr(e, name) + getattr(into, name) for name in e.model_fields}
                    )
                total[flow_id][agency] = e
    return total


def _least_counts(
    tallies: Sequence[dict[str, dict[str, TallyCount]]],
) -> dict[str, dict[str, TallyCount]]:
    """Each count as the replication that had the fewest by each day: a number the plan sets
    is reached by the study only if every replication reaches it."""
    least: dict[str, dict[str, TallyCount]] = {}
    names = {(flow_id, name) for run in tallies for flow_id in run for name in run[flow_id]}
    for flow_id, name in sorted(names):
        counts = [run.get(flow_id, {}).get(name, TallyCount(counted=0)) for run in tallies]
        days = sorted({day for count in counts for day in count.new_by_day})
        fewest = [min(count.by(day) for count in counts) for day in days]
        new = {day: n - before for day, n, before in zip(days, fewest, [0, *fewest], strict=False)}
        least.setdefault(flow_id, {})[name] = TallyCount(
            counted=min(count.counted for count in counts),
            new_by_day={day: n for day, n in new.items() if n},
        )
    return least


def _sum_rules(
    rules: Sequence[dict[str, dict[str, dict[str, int]]]],
) -> dict[str, dict[str, dict[str, int]]]:
    total: dict[str, dict[str, dict[str, int]]] = {}
    for run in rules:
        for flow_id, flow_rules in run.items():
            for rule, outcomes in flow_rules.items():
                into = total.setdefault(flow_id, {}).setdefault(rule, {})
                for outcome, n in outcomes.items():
                    into[outcome] = into.get(outcome, 0) + n
    return {f: {r: dict(sorted(o.items())) for r, o in fr.items()} for f, fr in total.items()}


def _merge_agencies(runs: Sequence[dict[str, AgencyLoad]]) -> dict[str, AgencyLoad]:
    """Requests and queues at the end summed over replications; the deepest queue any saw."""
    merged = {}
    for name, load in runs[0].items():
        loads = [run[name] for run in runs]
        requests: dict[str, int] = {}
        for each in loads:
            for flow_id, n in each.requests.items():
                requests[flow_id] = requests.get(flow_id, 0) + n
        merged[name] = load.model_copy(
            update={
                "max_queue": max(each.max_queue for each in loads),
                "queue_at_end": sum(each.queue_at_end for each in loads),
                "requests": requests,
            }
        )
    return merged
