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
    if engine_name == "kafka":
        for flow_id in scenario.scoring_flows():
            if scenario.window(flow_id).kind == "sliding":
                return (
                    f"flows.{flow_id}.window.kind: sliding is not kept by the kafka engine, whose "
                    "scores are a faust windowed table and faust's tables keep tumbling and "
                    "hopping windows only; use tumbling or hopping, or run on the sim engine"
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
