"""Turning what an engine counted and recorded into the shared result model."""

from __future__ import annotations

import platform
from importlib import metadata

from govstream.metrics import RecorderSet
from govstream.result import AgencyLoad, Counts, EngineInfo, FlowInfo, RunResult
from govstream.scenario.model import Scenario
from govstream.sla import evaluate_targets
from processors.flow import FlowSpec


def package_versions(*names: str) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("govstream", *names):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_result(
    *,
    scenario: Scenario,
    scenario_file: str,
    overrides: list[str],
    flow: FlowSpec,
    engine: EngineInfo,
    business_seconds: float,
    counts: Counts,
    latency: RecorderSet,
    working_days: RecorderSet,
    agencies: dict[str, AgencyLoad],
    platform_ms: RecorderSet | None = None,
) -> RunResult:
    latency_data = {name: s.to_data() for name, s in latency.summaries().items()}
    wd_data = {name: s.to_data() for name, s in working_days.summaries().items()}
    return RunResult(
        scenario_name=scenario.name,
        scenario_file=scenario_file,
        scenario=scenario.to_data(),
        overrides=overrides,
        seed=scenario.seed,
        flow=FlowInfo(
            id=flow.id,
            title=flow.title,
            measures=list(flow.measures),
            recipients=list(flow.recipients),
        ),
        engine=engine,
        business_seconds=business_seconds,
        counts=counts,
        latency=latency_data,
        working_days=wd_data,
        platform_ms=(
            {n: s.to_data() for n, s in platform_ms.summaries().items()} if platform_ms else {}
        ),
        agencies=agencies,
        targets=evaluate_targets(scenario, flow, latency_data, wd_data),
    )
