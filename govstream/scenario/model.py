"""The scenario file's shape, validated on load so a typo fails before any simulation runs.

Every model forbids unknown keys: a misspelt field is an error naming the allowed ones, never a
silently ignored setting that makes a study answer a different question than it asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from govstream.distributions import Constant, DistributionSpec
from govstream.durations import ClockDuration, DurationField, RateField, parse_duration
from processors import FLOWS
from producers import SOURCES

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
STATS = ("mean", "p50", "p90", "p99", "p99.9", "max")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Burst(Strict):
    """Extra Poisson arrivals on top of the base process, e.g. a month-end rush."""

    start: ClockDuration
    duration: ClockDuration
    rate: RateField


class Arrivals(Strict):
    process: Literal["poisson", "constant", "bursts"] = "poisson"
    rate: RateField
    bursts: list[Burst] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bursts_need_windows(self) -> Arrivals:
        if self.process == "bursts" and not self.bursts:
            raise ValueError("process 'bursts' needs at least one entry under 'bursts'")
        return self


class Outage(Strict):
    """A window in which the agency starts no new work: its queue grows, then drains."""

    start: ClockDuration
    end: ClockDuration
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Outage:
        if self.end.seconds <= self.start.seconds:
            raise ValueError(f"outage end ({self.end}) must be after its start ({self.start})")
        return self


def _zero() -> Constant:
    return Constant(dist="constant", value=parse_duration(0))


class Agency(Strict):
    servers: Annotated[int, Field(ge=1, le=10_000)] = 1
    service_time: DistributionSpec
    calendar: Literal["always", "office"] = "always"
    outages: list[Outage] = Field(default_factory=list)
    reject_probability: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


class Platform(Strict):
    """The stage that runs the fan-out processor (the 一网通 platform)."""

    servers: Annotated[int, Field(ge=1, le=10_000)] = 8
    service_time: DistributionSpec = Field(default_factory=_zero)


class Transport(Strict):
    latency: DistributionSpec = Field(default_factory=_zero)


class Calendar(Strict):
    holidays: Literal["cn", "none"] = "cn"
    office_hours: list[str] = Field(default_factory=lambda: ["09:00-12:00", "13:30-17:30"])


class Target(Strict):
    """An SLA target; `source` says whether the plan set it or the scenario's author did."""

    id: str
    of: Literal["delivered", "acted", "case"]
    recipient: str = "all"
    stat: Literal["mean", "p50", "p90", "p99", "p99.9", "max"] = "p90"
    within: DurationField
    source: Literal["plan", "author"]
    measure: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _case_targets_cover_all(self) -> Target:
        # Whether a 'plan' target names a measure is checked by the Scenario, which knows the
        # flow and so can list the measures allowed.
        if self.of == "case" and self.recipient != "all":
            raise ValueError("a 'case' target covers the whole case: leave 'recipient' out")
        return self


class KafkaOptions(Strict):
    """How the kafka engine scales business time so a day of service fits in seconds."""

    speedup: Annotated[float, Field(gt=0)] = 1000.0
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    corrupt_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Share of triggers sent as broken bytes, to study the dead-letter path under load."""


class Scenario(Strict):
    name: str
    description: str = ""
    flow: str
    seed: int = 1
    start: datetime = datetime(2021, 6, 1, 9, 0, tzinfo=CHINA_STANDARD_TIME)
    duration: ClockDuration
    drain: ClockDuration = Field(default_factory=lambda: parse_duration("30d"))
    arrivals: Arrivals
    population: dict[str, float | list[float]] = Field(default_factory=dict)
    transport: Transport = Field(default_factory=Transport)
    platform: Platform = Field(default_factory=Platform)
    agencies: dict[str, Agency]
    calendar: Calendar = Field(default_factory=Calendar)
    targets: list[Target] = Field(default_factory=list)
    kafka: KafkaOptions = Field(default_factory=KafkaOptions)

    @field_validator("flow")
    @classmethod
    def _known_flow(cls, value: str) -> str:
        flow_id = value.upper()
        if flow_id not in FLOWS:
            raise ValueError(f"{value!r} is not an implemented flow; allowed: {', '.join(FLOWS)}")
        return flow_id

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=CHINA_STANDARD_TIME)

    @model_validator(mode="after")
    def _agencies_match_flow(self) -> Scenario:
        recipients = FLOWS[self.flow].recipients
        unknown = [name for name in self.agencies if name not in recipients]
        if unknown:
            raise ValueError(
                f"agencies: {', '.join(map(repr, unknown))} not a recipient of {self.flow}; "
                f"allowed: {', '.join(recipients)}"
            )
        missing = [name for name in recipients if name not in self.agencies]
        if missing:
            raise ValueError(f"agencies: {self.flow} needs settings for {', '.join(missing)}")
        allowed_population = SOURCES[self.flow].mix_fields()
        for knob in self.population:
            if knob not in allowed_population:
                raise ValueError(
                    f"population.{knob}: not a population setting of {self.flow}; "
                    f"allowed: {', '.join(allowed_population)}"
                )
        measures = FLOWS[self.flow].measures
        for index, target in enumerate(self.targets):
            if target.source == "plan" and not target.measure:
                raise ValueError(
                    f"targets[{index}].measure: required when source is 'plan' (target "
                    f"{target.id!r} must cite the plan measure it checks); allowed: "
                    f"{', '.join(measures)}"
                )
            if target.recipient not in ("all", *recipients):
                raise ValueError(
                    f"targets[{target.id}].recipient: {target.recipient!r} is not a recipient "
                    f"of {self.flow}; allowed: all, {', '.join(recipients)}"
                )
            if target.source == "plan" and target.measure not in FLOWS[self.flow].measures:
                raise ValueError(
                    f"targets[{target.id}].measure: {target.measure!r} is not a measure of "
                    f"{self.flow}; allowed: {', '.join(FLOWS[self.flow].measures)}"
                )
        return self

    def to_data(self) -> dict[str, Any]:
        """Plain data for result.json and worker files: durations in their written form."""
        return self.model_dump(mode="json")
