"""The embedded engine: the plan's flows as SimPy processes in virtual (business) time."""

from __future__ import annotations

from govstream.engines import RunSettings
from govstream.result import RunResult
from govstream.scenario.model import Scenario


class _Sim:
    name = "sim"
    summary = "embedded discrete-event simulation (SimPy), deterministic for a seed"

    def run(self, scenario: Scenario, settings: RunSettings) -> RunResult:
        from govstream.engines.sim.engine import SimEngine

        return SimEngine(
            scenario,
            scenario_file=settings.scenario_file,
            overrides=list(settings.overrides),
            progress=settings.progress,
        ).run()


ENGINE = _Sim()
