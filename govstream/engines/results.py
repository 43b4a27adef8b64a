"""Turning what an engine counted and recorded into the shared result model."""

from __future__ import annotations

import platform
from datetime import timedelta
from importlib import metadata

from govstream.calendar.working import OfficeHours, cn_package_years
from govstream.metrics import CURVE_PERCENTILES, LatencySummary
from govstream.pipeline.ledger import Ledger
from govstream.pipeline.why import latency_breakdowns, target_breakdowns
from govstream.plan.targets import PlanTimeTarget, not_checkable, unchecked
from govstream.result import (
    AgencyLoad,
    BooksCheck,
    CalendarInfo,
    Curves,
    EngineInfo,
    FlowInfo,
    PlanTargetInfo,
    RunResult,
    StepInfo,
    Window,
)
from govstream.scenario.model import Scenario
from govstream.sla import Beside, Resolution, evaluate_targets
from processors import FLOWS
from processors.flow import FlowSpec


def package_versions(*names: str) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("govstream", *names):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def flow_info(flow: FlowSpec) -> FlowInfo:
    return FlowInfo(
        id=flow.id,
        title=flow.title,
        measures=list(flow.measures),
        steps=[
            StepInfo(
                id=step.id,
                title=step.title,
                agency=step.actor,
                after=list(step.after),
                wait=step.is_wait,
                per_item=step.each.kind if step.each is not None else None,
            )
            for step in flow.steps
        ],
        spans=[span.id for span in flow.spans],
    )


def calendar_info(scenario: Scenario) -> CalendarInfo:
    calendar = scenario.calendar
    extra = calendar.extra_days()
    package = first_last = None
    if calendar.holidays == "cn":
        first, last = cn_package_years()
        package = f"chinese-calendar {package_versions('chinese-calendar')['chinese-calendar']}"
        first_last = f"{first}–{last}"
    return CalendarInfo(
        holidays=calendar.holidays,
        package=package,
        package_years=first_last,
        days_file=calendar.days_file,
        days_sha256=calendar.days_sha256,
        days_years=sorted(extra.years) if extra is not None else [],
    )


def _info(entry: PlanTimeTarget) -> PlanTargetInfo:
    return PlanTargetInfo(
        flow=entry.flow,
        measure=entry.measure,
        what=entry.what,
        limit=entry.limit_text(),
        quote=entry.quote,
        span=entry.span,
        reason=entry.cannot_check,
    )


def unchecked_info(scenario: Scenario) -> list[PlanTargetInfo]:
    return [_info(entry) for entry in unchecked(scenario)]


def not_checkable_info(scenario: Scenario) -> list[PlanTargetInfo]:
    """The plan's targets no run can check, for the report to name with their reasons."""
    return [_info(entry) for entry in not_checkable(scenario)]


def build_result(
    *,
    scenario: Scenario,
    scenario_file: str,
    overrides: list[str],
    engine: EngineInfo,
    business_seconds: float,
    ledger: Ledger,
    agencies: dict[str, AgencyLoad],
    speedup: float | None = None,
) -> RunResult:
    """The result of a run from its books, cut off at `business_seconds`; a run that acted
    business time out faster than real time gives its `speedup`."""
    book = ledger.book
    latency_data = {name: s.to_data() for name, s in book.latency.summaries().items()}
    wd_data = {name: s.to_data() for name, s in book.working_days.summaries().items()}
    legal_data = {name: s.to_data() for name, s in book.legal_days.summaries().items()}
    platform_ms = ledger.platform_ms.summaries()
    resolution = ledger.resolution()
    exposures, tallies = ledger.beside.exposures(), ledger.beside.tallies()
    ended_on = (scenario.start + timedelta(seconds=business_seconds)).date().isoformat()
    targets = evaluate_targets(
        scenario,
        latency_data,
        wd_data,
        legal_data,
        resolution=_resolution(scenario, resolution, speedup, platform_ms),
        beside=Beside(exposures, tallies, ended_on),
        rates=ledger.rates(),
    )
    return RunResult(
        scenario_name=scenario.name,
        scenario_file=scenario_file,
        scenario=scenario.to_data(),
        overrides=overrides,
        seed=scenario.seed,
        flows=[flow_info(FLOWS[flow_id]) for flow_id in scenario.flows],
        engine=engine,
        business_seconds=business_seconds,
        counts=ledger.counts(),
        flow_counts={flow_id: ledger.counts(flow_id) for flow_id in scenario.flows},
        rules=ledger.flow_rules(),
        exposures=exposures,
        tallies=tallies,
        latency=latency_data,
        working_days=wd_data,
        platform_ms={name: s.to_data() for name, s in platform_ms.items()},
        agencies=agencies,
        targets=targets,
        signals=ledger.signals(),
        crossed=ledger.crossed(),
        rates=ledger.rates(),
        items_reached=ledger.items_reached(),
        series=ledger.series.data(
            business_seconds,
            start=scenario.start,
            flows=scenario.flows,
            windows=outage_windows(scenario, agencies),
        ),
        curves=Curves(
            percentiles=list(CURVE_PERCENTILES),
            latency=book.latency.curves(),
            working_days=book.working_days.curves(),
        ),
        legal_working_days=legal_data,
        unchecked_plan_targets=unchecked_info(scenario),
        not_checkable_plan_targets=not_checkable_info(scenario),
        calendar=calendar_info(scenario),
        dead_letters=ledger.dead_letters(),
        conformance=ledger.conformances(),
        books=[
            BooksCheck(identity=i.name, left=i.left, right=i.right, holds=i.holds)
            for i in ledger.identities()
        ],
        resolution=resolution,
        breakdowns=latency_breakdowns(ledger.tails, latency_data),
        target_breakdowns=target_breakdowns(ledger.tails, targets, office_day(scenario)),
    )


def office_day(scenario: Scenario) -> float:
    """The open seconds of one office working day: what a working day of office time is."""
    return OfficeHours.from_strings(scenario.calendar.office_hours).open_seconds


def _resolution(
    scenario: Scenario,
    by_metric: dict[str, float],
    speedup: float | None,
    platform: dict[str, LatencySummary],
) -> Resolution | None:
    """How far a run that acted business time out faster than real time may be off."""
    if not speedup:
        return None
    return Resolution(by_metric, speedup, office_day(scenario), platform)


def outage_windows(scenario: Scenario, agencies: dict[str, AgencyLoad]) -> dict[str, list[Window]]:
    """Each pool's outages in business seconds, for shading charts (a desk shares its agency's)."""
    windows = {}
    for pool, load in agencies.items():
        outages = scenario.agencies[load.agency].outages
        if outages:
            windows[pool] = [
                Window(
                    start=outage.start.clock_seconds(),
                    end=outage.end.clock_seconds(),
                    label=outage.reason,
                )
                for outage in outages
            ]
    return windows
