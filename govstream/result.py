"""The one result model behind every report: what a run measured, and how to reproduce it.

Both engines fill it; console, Markdown and comparisons only ever read it. It holds no wall-clock
timestamps, so the same scenario and seed on the sim engine give a byte-identical result.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "govstream.result/2"

Summary = dict[str, float | int]
"""A LatencySummary as data: count, mean, p50, p90, p99, p99.9, max, clamped."""


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Counts(Frozen):
    """Conservation figures: every trigger and request is accounted for, none assumed."""

    cases_started: int
    cases_completed: int
    cases_open: int
    cases_rejected: int = 0
    requests_emitted: int
    requests_delivered: int
    requests_acted: int
    requests_in_flight: int
    outcomes_recorded: int
    steps_skipped: int = 0
    """Steps the case's data made unnecessary (no bank account, no housing-fund step)."""
    lost: int
    duplicates: int = 0
    unexpected: int = 0
    dead_lettered: int = 0


class AgencyLoad(Frozen):
    """One pool of clerks: an agency, or one flow's own desk there (`bank@F01`)."""

    agency: str
    servers: int
    max_queue: int
    queue_at_end: int
    outages: list[str] = Field(default_factory=list)
    requests: dict[str, int] = Field(default_factory=dict)
    """Requests taken up, by flow: what each flow asked of this pool."""


class TargetVerdict(Frozen):
    id: str
    flow: str
    of: Literal["delivered", "acted", "case", "span"]
    step: str
    """The step the verdict is on, `case`, or the span's name."""
    stat: str
    within: str
    unit: Literal["s", "wd"]
    limit: float
    observed: float | None
    met: bool | None
    source: Literal["plan", "author"]
    measure: str | None = None
    quote: str | None = None
    note: str = ""


class StepInfo(Frozen):
    id: str
    title: str
    agency: str
    after: list[str] = Field(default_factory=list)
    wait: bool = False


class FlowInfo(Frozen):
    id: str
    title: str
    measures: list[str]
    steps: list[StepInfo]
    spans: list[str] = Field(default_factory=list)

    @property
    def step_ids(self) -> list[str]:
        return [step.id for step in self.steps]


class DeadLetters(Frozen):
    """What reached the dead-letter topic during the run, whoever wrote the message."""

    by_reason: dict[str, int] = Field(default_factory=dict)
    """`dlq_reason` header -> messages (`malformed-body`, `unknown-schema`, ...)."""
    by_source_topic: dict[str, int] = Field(default_factory=dict)
    """The topic each message was read from before it was dead-lettered -> messages."""


class EngineInfo(Frozen):
    name: str
    """A discovered engine's name (`govstream.engines.engine_names()`)."""
    versions: dict[str, str]
    options: dict[str, Any] = Field(default_factory=dict)


class RunResult(Frozen):
    result_schema: str = Field(default=SCHEMA_ID, alias="schema")
    scenario_name: str
    scenario_file: str
    scenario: dict[str, Any]
    overrides: list[str] = Field(default_factory=list)
    seed: int
    flows: list[FlowInfo]
    engine: EngineInfo
    business_seconds: float
    counts: Counts
    flow_counts: dict[str, Counts] = Field(default_factory=dict)
    rules: dict[str, dict[str, dict[str, int]]] = Field(default_factory=dict)
    """Flow -> the plan's rule on case data -> met / not met / not applicable counts."""
    latency: dict[str, Summary]
    working_days: dict[str, Summary] = Field(default_factory=dict)
    platform_ms: dict[str, Summary] = Field(default_factory=dict)
    agencies: dict[str, AgencyLoad]
    targets: list[TargetVerdict] = Field(default_factory=list)
    dead_letters: DeadLetters = Field(default_factory=DeadLetters)
    incomplete: str | None = None
    """Why the run stopped before its scenario's end (interrupted, the broker lost); None for a
    run that ended as its scenario does. An incomplete result holds what was measured until it
    stopped: open cases and requests in flight then, nothing counted lost."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def flow_ids(self) -> list[str]:
        return [flow.id for flow in self.flows]

    @property
    def targets_met(self) -> bool:
        """Every target measured and met: a target without data is not met."""
        return all(verdict.met is True for verdict in self.targets)

    def to_json(self) -> str:
        data = self.model_dump(mode="json", by_alias=True)
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> RunResult:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
