"""The engines, discovered: every subpackage of `govstream.engines` that exposes `ENGINE`.

An engine runs a scenario's step graphs and returns the shared `RunResult`. Each subpackage's
`__init__` stays light (the kafka engine's imports faust only when it runs), so listing the
engines for `--engine` costs nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from govstream.progress import ProgressCallback
from govstream.result import RunResult
from govstream.scenario.model import Scenario

DEFAULT_ENGINE = "sim"


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What a run needs besides the scenario; speedup, workers and seed live in the scenario
    (the CLI turns their flags into overrides), so a worker reads the same values."""

    scenario_file: str = "<scenario>"
    overrides: tuple[str, ...] = ()
    progress: ProgressCallback | None = None
    bootstrap: str | None = None
    work_dir: Path | None = None


class Engine(Protocol):
    name: str
    summary: str

    def run(self, scenario: Scenario, settings: RunSettings) -> RunResult: ...


def engine_problem(scenario: Scenario, engine_name: str) -> str | None:
    """Why `engine_name` cannot run this scenario, or None (bad input, not a failed run)."""
    if scenario.transport.measured and engine_name != "kafka":
        return (
            "transport: measured judges a real network, which only the kafka engine has; give "
            f"the exchange's model (transport.latency) to run on the {engine_name} engine"
        )
    external = external_problem(scenario, engine_name)
    if external:
        return external
    if engine_name == "kafka":
        for flow_id in scenario.scoring_flows():
            if scenario.window(flow_id).kind == "sliding":
                return (
                    f"flows.{flow_id}.window.kind: sliding is not kept by the kafka engine, whose "
                    "scores are a faust windowed table and faust's tables keep tumbling and "
                    "hopping windows only; use tumbling or hopping, or run on the sim engine"
                )
    return None


def external_problem(scenario: Scenario, engine_name: str) -> str | None:
    """Why the scenario's external agencies cannot run on `engine_name`, or None.

    An external agency is a real system answering on Kafka, which no simulation has; and it
    answers requests only: a published record (F12) is kept in a table by govstream's own
    subscriber agent, and a scoring flow's platform is govstream's."""
    from processors import FLOWS

    external = [name for name, agency in scenario.agencies.items() if agency.external]
    if not external:
        return None
    if engine_name != "kafka":
        return (
            f"agencies.{external[0]}.external: an external agency is a system outside "
            f"govstream answering on Kafka, so it needs the kafka engine (--engine kafka); "
            f"the {engine_name} engine has no system to ask"
        )
    for name in external:
        for flow_id in scenario.flows:
            flow = FLOWS[flow_id]
            if any(step.published is not None for step in flow.steps_of(name)):
                return (
                    f"agencies.{name}.external: {name} subscribes to {flow_id}'s publication, "
                    "which govstream's own subscriber keeps; an external agency answers requests "
                    "only"
                )
            if flow.scoring is not None and flow.scoring.agency == name:
                return (
                    f"agencies.{name}.external: {name} scores {flow_id}'s signals on the "
                    "platform; an external agency answers requests only"
                )
    return None


def engine_names() -> list[str]:
    """Every engine package here, the default first."""
    names = [info.name for info in pkgutil.iter_modules(__path__) if info.ispkg]
    return sorted(names, key=lambda name: (name != DEFAULT_ENGINE, name))


def engine(name: str) -> Engine:
    if name not in engine_names():
        raise ValueError(f"unknown engine {name!r}; allowed: {', '.join(engine_names())}")
    module = importlib.import_module(f"{__name__}.{name}")
    found: Engine = module.ENGINE
    return found
