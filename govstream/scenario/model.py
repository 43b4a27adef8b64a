"""The scenario file's shape, validated on load so a typo fails before any simulation runs.

Every model forbids unknown keys: a misspelt field is an error naming the allowed ones, never a
silently ignored setting that makes a study answer a different question than it asked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    field_validator,
    model_validator,
)

from govstream.calendar.days_file import CalendarFileError, read_calendar_days
from govstream.calendar.working import CalendarDays, OfficeHours, cn_package_years, missing_years
from govstream.distributions import Constant, DistributionSpec
from govstream.durations import (
    ClockDuration,
    Duration,
    DurationField,
    RateField,
    parse_duration,
)
from govstream.pipeline.windows import WindowSpec
from govstream.plan.rates import rate_problem
from govstream.plan.targets import plan_problem
from govstream.replay import ReplayError, read_replay
from govstream.scenario import runnable
from processors import FLOWS
from processors.flow import AtLeast, ItemJoin

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
STATS = ("mean", "p50", "p90", "p99", "p99.9", "max")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Burst(Strict):
    """Extra Poisson arrivals on top of the base process, e.g. a month-end rush."""

    start: ClockDuration
    duration: ClockDuration
    rate: RateField

    @field_validator("rate")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("a burst's rate must be more than 0, e.g. 120/d")
        return value


_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _finite_weights(weights: list[float]) -> None:
    """Weights are relative: each must be a finite number, and so must their sum, or the
    profile has no average to scale by (an infinite weight leaves every moment NaN)."""
    if not all(math.isfinite(w) for w in weights) or not math.isfinite(sum(weights)):
        raise ValueError(f"weights must be finite numbers with a finite sum (got {weights})")


class Profile(Strict):
    """How arrivals vary over the week and the day, as relative weights (a non-homogeneous
    Poisson process): more on Monday mornings, fewer before closing. The rate stays the
    long-run average; the weights only say when in the week it comes."""

    week: list[Annotated[float, Field(ge=0.0)]] | None = None
    """Seven weights, Monday first."""
    day: dict[str, Annotated[float, Field(ge=0.0)]] | None = None
    """`"HH:MM": weight` from that time until the next one listed (and round past midnight)."""

    @field_validator("week")
    @classmethod
    def _seven(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (len(value) != 7 or not any(value)):
            raise ValueError(
                f"give seven weights, Monday first, not all zero (got {len(value)} weights)"
            )
        if value is not None:
            _finite_weights(value)
        return value

    @field_validator("day")
    @classmethod
    def _times(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        if not value or not any(value.values()):
            raise ValueError("give at least one time of day with a weight above zero")
        for key in value:
            match = _CLOCK_RE.match(str(key))
            if match is None or int(match[1]) > 23 or int(match[2]) > 59:
                raise ValueError(f"{key!r} is not a time of day: write HH:MM, e.g. '09:00'")
        _finite_weights(list(value.values()))
        return value

    def day_steps(self) -> list[tuple[int, float]]:
        """(seconds after midnight, weight) sorted by time; empty when no daily profile."""
        if not self.day:
            return []
        steps = []
        for key, weight in self.day.items():
            hours, minutes = key.split(":")
            steps.append((int(hours) * 3600 + int(minutes) * 60, float(weight)))
        return sorted(steps)


class Arrivals(Strict):
    process: Literal["poisson", "constant", "bursts", "replay"] = "poisson"
    rate: RateField | None = None
    """Events per unit of time; required except for `replay`."""
    hours: Literal["always", "office"] = "always"
    """`office`: the rate's arrivals come during office hours on working days only (a counter);
    `always`: around the clock (online applications)."""
    profile: Profile | None = None
    """Weekly and daily weights on a Poisson process (see `Profile`)."""
    file: str | None = None
    """`replay`: a CSV file of timestamps, relative to the scenario file."""
    column: str | int = 0
    """`replay`: the column holding the timestamps, by header name or number (first: 0)."""
    bursts: list[Burst] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Arrivals:
        if self.process == "bursts" and not self.bursts:
            raise ValueError("process 'bursts' needs at least one entry under 'bursts'")
        if self.process == "replay":
            if not self.file:
                raise ValueError("process 'replay' needs 'file', a CSV file of timestamps")
            if self.rate:
                raise ValueError("process 'replay' takes its times from 'file': leave 'rate' out")
            if self.hours != "always" or self.profile is not None:
                raise ValueError("a replay keeps the file's times: leave 'hours' and 'profile' out")
        else:
            if self.rate is None:
                raise ValueError(f"rate: required for process {self.process!r}, e.g. 40/d")
            if self.file is not None:
                raise ValueError("'file' belongs to process 'replay'")
            if self.process != "bursts" and self.rate <= 0:
                raise ValueError(
                    f"rate must be more than 0 for process {self.process!r}, e.g. 40/d; for "
                    "arrivals only in bursts use process: bursts (its rate may be 0)"
                )
        if self.profile is not None and self.process != "poisson":
            raise ValueError(
                f"a 'profile' shapes a Poisson process; process {self.process!r} has none "
                "(use process: poisson)"
            )
        return self

    @property
    def base_rate(self) -> float:
        return float(self.rate or 0.0)


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


class Desk(Strict):
    """A flow's own clerks (or system) at an agency that otherwise serves every flow from one
    pool: its own number of servers and, if it keeps other hours, its own calendar."""

    servers: Annotated[int, Field(ge=1, le=10_000)] = 1
    calendar: Literal["always", "office"] | None = None
    """Default: the agency's."""


class Agency(Strict):
    """One agency, whichever flows reach it: its clerks are one pool unless a flow has a desk."""

    servers: Annotated[int, Field(ge=1, le=10_000)] = 1
    service_time: DistributionSpec | None = None
    """The default for every step this agency acts on; a flow's step may set its own."""
    calendar: Literal["always", "office"] = "always"
    outages: list[Outage] = Field(default_factory=list)
    reject_probability: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    desks: dict[str, Desk] = Field(default_factory=dict)
    """Flow id -> that flow's own clerks here; flows without a desk share `servers`."""
    external: bool = False
    """A system outside govstream answers this agency's requests (kafka engine only): the
    run starts no endpoint for it and checks every answer against the contract, the requests
    it was sent and the targets (`pipeline.conformance`). Its clerks, calendar and service
    time then describe nothing the run uses."""


class Platform(Strict):
    """The stage that runs the fan-out processor (the 一网通 platform)."""

    servers: Annotated[int, Field(ge=1, le=10_000)] = 8
    service_time: DistributionSpec = Field(default_factory=_zero)


class Transport(Strict):
    """The government data exchange between agencies and the platform, as a model of its
    delay (`latency`), or `measured`: the kafka engine's real network alone, for a run on the
    real exchange (written `transport: measured`)."""

    latency: DistributionSpec = Field(default_factory=_zero)
    measured: bool = False

    @model_validator(mode="before")
    @classmethod
    def _measured(cls, data: Any) -> Any:
        if data == "measured":
            return {"measured": True}
        if isinstance(data, str):
            raise ValueError(
                f"{data!r} is not a transport; write `transport: measured` or "
                "`transport: {latency: {dist: ..., ...}}`"
            )
        return data

    @model_validator(mode="after")
    def _one_or_other(self) -> Transport:
        if self.measured and "latency" in self.model_fields_set:
            raise ValueError("measured takes no latency: the real network is measured, not drawn")
        return self


class Calendar(Strict):
    holidays: Literal["cn", "none"] = "cn"
    office_hours: list[str] = Field(default_factory=lambda: ["09:00-12:00", "13:30-17:30"])
    days_file: str | None = None
    """Holidays and make-up working days of years the holiday package does not cover (or
    corrections to it): a YAML file, relative to the scenario file (read by
    `govstream.calendar.days_file`)."""
    _days: CalendarDays | None = PrivateAttr(default=None)
    _sha256: str | None = PrivateAttr(default=None)

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, value: list[str]) -> list[str]:
        """Checked with the field, so a scenario's other mistakes are reported beside it."""
        OfficeHours.from_strings(value)  # a CalendarError is a ValueError, naming the span
        return value

    @model_validator(mode="after")
    def _read_days(self) -> Calendar:
        if self.days_file is not None:
            try:
                self._days, self._sha256 = read_calendar_days(self.days_file)
            except CalendarFileError as error:
                raise ValueError(f"days_file: {error}") from None
        return self

    def extra_days(self) -> CalendarDays | None:
        return self._days

    @property
    def days_sha256(self) -> str | None:
        return self._sha256


class AtLeastJoin(Strict):
    """`join: {at_least: 2}`: a step done per item finishes once two of its items are done."""

    at_least: Annotated[int, Field(ge=1)]


class StepSettings(Strict):
    """Per-step settings of a flow: an agency step's own service time, a wait's duration, and
    for a step done per item, when it has finished."""

    service_time: DistributionSpec | None = None
    duration: DistributionSpec | None = None
    """How long a wait outside any agency lasts: required, except for a wait whose length each
    case's data gives (F12's repair), where a duration given replaces the data's."""
    reject_probability: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    join: Literal["all", "first"] | AtLeastJoin | None = None
    """For a step done per item: all its items done, the first, or at least k; None keeps the
    flow's own."""

    def item_join(self) -> ItemJoin | None:
        if isinstance(self.join, AtLeastJoin):
            return AtLeast(self.join.at_least)
        return self.join


class SignalSettings(Strict):
    """One source of a scoring flow (F13): when its signals are reported."""

    arrivals: Arrivals


class WindowSettings(Strict):
    """The window a scoring flow sums its signals over: `tumbling` (one window after another,
    `size` long), `hopping` (windows `size` long starting every `step`) or `sliding` (the
    `size` up to each signal). Whole seconds, as faust counts them."""

    kind: Literal["tumbling", "hopping", "sliding"]
    size: ClockDuration
    step: ClockDuration | None = None

    @model_validator(mode="after")
    def _window(self) -> WindowSettings:
        self.spec()  # a ValueError here names what is wrong with the window
        return self

    def spec(self) -> WindowSpec:
        step = None if self.step is None else self.step.clock_seconds()
        return WindowSpec(self.kind, self.size.clock_seconds(), step)


class FlowSettings(Strict):
    """One flow of the scenario: its load, its data mix and its steps' settings.

    A flow another flow of the scenario hands over to (F03 after F16's deregistration) runs
    its cases from those hand-overs, and from arrivals of its own if it has them. A scoring
    flow (F13) has no arrivals: its cases start where its signals' scores reach the threshold,
    and each source of signals has arrivals of its own (`signals`)."""

    arrivals: Arrivals | None = None
    population: dict[str, int | float | list[int | float]] = Field(default_factory=dict)
    steps: dict[str, StepSettings] = Field(default_factory=dict)
    checks: dict[str, Arrivals] = Field(default_factory=dict)
    """For a flow that publishes records: how often each subscriber checks entities against
    its table in its own work (`flows.F12.checks.bank`); a subscriber left out checks none."""
    tallies: dict[str, Arrivals] = Field(default_factory=dict)
    """For a flow with a count the plan sets: the arrivals of the events counted."""
    signals: dict[str, SignalSettings] = Field(default_factory=dict)
    """A scoring flow's sources, by kind of signal, and their arrivals."""
    window: WindowSettings | None = None
    """A scoring flow's window; None keeps the flow's own."""
    threshold: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """The score at which a scoring flow's case starts; None keeps the flow's own."""


TargetOf = Literal["delivered", "acted", "case", "span", "rate", "exposures", "count"]
LATENCY_TARGETS = ("delivered", "acted", "case", "span")
TARGET_SETTINGS: dict[str, set[str]] = {
    "rate": {"at_least"},
    "exposures": {"at_most"},
    "count": {"count", "at_least"},
}
"""What each kind of target that is not a latency needs; a latency needs `within`."""
_SHARE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _share(value: Any) -> float:
    """`100%`, `99.5%`, or a fraction from 0 to 1."""
    if isinstance(value, str):
        match = _SHARE_RE.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a share: write a percentage, e.g. 100% or 99.5%")
        share = float(match[1]) / 100
    elif isinstance(value, int | float) and not isinstance(value, bool):
        share = float(value)
    else:
        raise ValueError(f"{value!r} is not a share: write a percentage, e.g. 100%")
    if not (math.isfinite(share) and 0.0 < share <= 1.0):
        raise ValueError(f"a share is more than 0 % and at most 100 %, not {value!r}")
    return share


ShareField = Annotated[
    float,
    PlainValidator(_share, json_schema_input_type=str | float),
    PlainSerializer(lambda share: f"{share * 100:g}%", return_type=str),
]
"""A share of cases, written `100%` or `99.5%` (or a fraction from 0 to 1)."""


class Target(Strict):
    """An SLA target; `source` says whether the plan set it or the scenario's author did.

    `of: span` measures between two marks of a case: a flow's named span (`span: ...`) or any
    two marks (`from: invoice.acted`, `to: payment.acted`). Three targets are not latencies
    and have no `within` or `stat`: `of: rate` is a share of the cases a step fell due in that
    it was acted on (`step: lead`, `at_least: 100%`), rejected and cancelled counting against
    it (on a step done per item, the share of its items: F18's enterprises a policy reached);
    `of: exposures` limits the checks that found a record after its retraction (`at_most`, on
    one `subscriber` or all); and `of: count` sets a least number of distinct
    values counted (`count`, `at_least`) by a day (`by`, else the run's end).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str
    flow: str | None = None
    """Which flow the target is on; may be left out when the scenario runs one flow."""
    of: TargetOf
    step: str = Field(default="all", validation_alias=AliasChoices("step", "recipient"))
    """A step of the flow (in a fan-out, the recipient agency), or all of them."""
    span: str | None = None
    start_mark: str | None = Field(default=None, alias="from")
    end_mark: str | None = Field(default=None, alias="to")
    stat: Literal["mean", "p50", "p90", "p99", "p99.9", "max"] = "p90"
    within: DurationField | None = None
    """The limit of a latency target (required for those)."""
    at_least: int | ShareField | None = None
    """The least share of a `rate` target (100%), or the least number of a `count` (2000)."""
    subscriber: str = "all"
    """`of: exposures`: the subscriber whose checks count, or all of them."""
    at_most: Annotated[int, Field(ge=0)] | None = None
    """`of: exposures`: the most exposures allowed."""
    count: str | None = None
    """`of: count`: which of the flow's counts."""
    by: date | None = None
    """`of: count`: the day by whose end the number must be reached (the run's end if left
    out); a run that ends before it, short of the number, leaves the verdict undecided."""
    working_days: Literal["legal", "office"] = "legal"
    """How a limit in working days counts: `legal`, a deadline (received on day D, due by the
    close of office on the N-th working day after D); `office`, the office time spent divided
    by one office day (the stricter measure)."""
    source: Literal["plan", "author"]
    measure: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _shape(self) -> Target:
        given = {
            name
            for name in ("within", "at_least", "at_most", "count", "by")
            if getattr(self, name) is not None
        }
        wanted = TARGET_SETTINGS.get(self.of, {"within"})
        allowed = wanted | ({"by"} if self.of == "count" else set())

        def named(names: Iterable[str]) -> str:
            return ", ".join(f"'{name}'" for name in sorted(names))

        if missing := wanted - given:
            raise ValueError(f"{self.of!r} targets need {named(missing)}")
        if extra := given - allowed:
            raise ValueError(f"{self.of!r} targets take {named(allowed)}, not {named(extra)}")
        if self.of not in LATENCY_TARGETS:
            # A scenario written back (to a worker, into result.json) spells the defaults out:
            # only a value other than the default is a latency's setting given by mistake.
            if self.stat != "p90" or self.working_days != "legal":
                raise ValueError(
                    f"an {self.of!r} target counts cases or events, not a latency: "
                    "leave 'stat' and 'working_days' out"
                )
            if (self.step == "all") == (self.of == "rate"):
                raise ValueError(
                    "a 'rate' target is on one step: give 'step'"
                    if self.of == "rate"
                    else f"an {self.of!r} target is not on a step: leave 'step' out"
                )
        if self.of == "rate" and not (isinstance(self.at_least, float) or self.at_least == 1):
            raise ValueError(f"a rate's at_least is a share, e.g. 100%, not {self.at_least}")
        if self.of == "count" and not (isinstance(self.at_least, int) and self.at_least >= 1):
            raise ValueError(
                f"a count's at_least is a whole number of values, e.g. 2000, not {self.at_least}"
            )
        if self.subscriber != "all" and self.of != "exposures":
            raise ValueError("'subscriber' belongs to targets with of: exposures")
        if self.of in ("case", "span") and self.step != "all":
            raise ValueError(f"a {self.of!r} target is not on one step: leave 'step' out")
        if self.of == "span":
            named, marks = self.span is not None, (self.start_mark, self.end_mark)
            if named == any(marks) or (not named and not all(marks)):
                raise ValueError("a 'span' target names either 'span' or both 'from' and 'to'")
        elif self.span or self.start_mark or self.end_mark:
            raise ValueError("'span', 'from' and 'to' belong to targets with of: span")
        return self

    @property
    def span_id(self) -> str:
        """The span's name: the flow's, or `<from>-><to>` for one between two marks."""
        return self.span or f"{self.start_mark}->{self.end_mark}"

    @property
    def limit(self) -> Duration:
        """A latency target's limit (validated present for every kind but `rate`)."""
        assert self.within is not None
        return self.within


EXACTLY_ONCE_REFUSED = (
    "only 'at_least_once' is allowed: faust-streaming's exactly_once commits what a worker "
    "read and what it sent in separate transactions, and when a worker died it left cases "
    "open, requests unanswered and workers crashed on a fenced producer. at_least_once loses "
    "nothing and drops the duplicates (README, Reliability)"
)
"""Why `kafka.guarantee: exactly_once` is bad input (measured: README, Reliability)."""


class KafkaOptions(Strict):
    """How the kafka engine scales business time so a day of service fits in seconds."""

    speedup: Annotated[float, Field(gt=0)] = 1000.0
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    corrupt_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Share of triggers sent as broken bytes, to study the dead-letter path under load."""
    guarantee: Literal["at_least_once"] = "at_least_once"
    """The workers' processing guarantee: at-least-once, which loses nothing when a worker
    dies and whose duplicates the orchestrator drops. faust's `exactly_once` is refused (see
    `EXACTLY_ONCE_REFUSED`)."""

    @field_validator("guarantee", mode="before")
    @classmethod
    def _not_exactly_once(cls, value: Any) -> Any:
        if value == "exactly_once":
            raise ValueError(EXACTLY_ONCE_REFUSED)
        return value


class Scenario(Strict):
    """A study: one or more flows over the same agencies, calendar and transport.

    A scenario of one flow may write it the short way (`flow:`, `arrivals:`, `population:` at
    the top); it is read as `flows: {F03: {arrivals: ..., population: ...}}`.
    """

    name: str
    description: str = ""
    flows: dict[str, FlowSettings]
    seed: int = 1
    start: datetime = datetime(2021, 6, 1, 9, 0, tzinfo=CHINA_STANDARD_TIME)
    duration: ClockDuration
    drain: ClockDuration = Field(default_factory=lambda: parse_duration("30d"))
    transport: Transport = Field(default_factory=Transport)
    platform: Platform = Field(default_factory=Platform)
    agencies: dict[str, Agency]
    calendar: Calendar = Field(default_factory=Calendar)
    targets: list[Target] = Field(default_factory=list)
    kafka: KafkaOptions = Field(default_factory=KafkaOptions)
    _replays: dict[str, tuple[float, ...]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _one_flow_shorthand(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "flow" not in data:
            return data
        if "flows" in data:
            raise ValueError("write either 'flow' (one flow) or 'flows' (several), not both")
        data = dict(data)
        flow_id = data.pop("flow")
        if not isinstance(flow_id, str):
            raise ValueError(
                f"flow: one implemented flow's id (got {flow_id!r}); allowed: {', '.join(FLOWS)}"
            )
        settings = {
            key: data.pop(key)
            for key in (
                "arrivals",
                "population",
                "steps",
                "checks",
                "tallies",
                "signals",
                "window",
                "threshold",
            )
            if key in data
        }
        data["flows"] = {flow_id.upper(): settings}
        return data

    @field_validator("flows")
    @classmethod
    def _known_flows(cls, value: dict[str, FlowSettings]) -> dict[str, FlowSettings]:
        if not value:
            raise ValueError(f"name at least one flow; implemented: {', '.join(FLOWS)}")
        upper = {flow_id.upper(): settings for flow_id, settings in value.items()}
        unknown = [flow_id for flow_id in upper if flow_id not in FLOWS]
        if unknown:
            raise ValueError(
                f"{', '.join(map(repr, unknown))} not an implemented flow; "
                f"allowed: {', '.join(FLOWS)}"
            )
        return upper

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=CHINA_STANDARD_TIME)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return runnable.check_name(value)

    @field_validator("duration")
    @classmethod
    def _some_duration(cls, value: Duration) -> Duration:
        if value.seconds <= 0:
            raise ValueError("must be more than 0: arrivals come only during 'duration'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        runnable.check_length(self.start, self.end)
        self._check_agencies()
        self._check_calendar()
        for flow_id, settings in self.flows.items():
            self._check_flow(flow_id, settings)
            self._check_scoring(flow_id, settings)
            self._check_arrivals(flow_id, settings.arrivals, f"flows.{flow_id}.arrivals")
            self._check_fed(flow_id, settings)
        for index, target in enumerate(self.targets):
            self._check_target(index, target)
        return self

    @property
    def end(self) -> datetime:
        """The end of the drain: the last moment a run can reach."""
        seconds = self.duration.clock_seconds() + self.drain.clock_seconds()
        return runnable.run_end(self.start, seconds)

    def _check_calendar(self) -> None:
        """The holiday data must cover every day the run can reach, or a run would fail (or
        count a holiday as a working day) once it gets there."""
        extra = self.calendar.extra_days()
        missing = missing_years(self.start.date(), self.end.date(), self.calendar.holidays, extra)
        if not missing:
            return
        first, last = cn_package_years()
        try:
            version = metadata.version("chinese-calendar")
        except metadata.PackageNotFoundError:
            version = "unknown"
        years = ", ".join(map(str, missing))
        raise ValueError(
            f"calendar: the run reaches {self.end.date().isoformat()} (start "
            f"{self.start.date().isoformat()}, then duration and drain), but the holiday data "
            f"covers {first}–{last} only (chinese-calendar {version}); missing: {years}. Add "
            f"them: upgrade chinese-calendar once it has them (pip install -U chinese-calendar), "
            f"or give each year's holidays and make-up working days from the State Council's "
            f"notice in a file (calendar.days_file: my-{missing[0]}.yaml with years: [{years}], "
            "holidays: [...], workdays: [...]), or set calendar.holidays: none (Monday to Friday)"
        )

    def fed_by(self, flow_id: str) -> list[str]:
        """The scenario's flows that hand cases over to `flow_id`."""
        return [
            upstream
            for upstream in self.flows
            if any(h.flow == flow_id for h in FLOWS[upstream].handovers)
        ]

    def joins(self, flow_id: str) -> dict[str, ItemJoin]:
        """The joins this scenario sets on the flow's steps done per item."""
        steps = self.flows[flow_id].steps
        found = {step_id: own.item_join() for step_id, own in steps.items()}
        return {step_id: join for step_id, join in found.items() if join is not None}

    def downstream(self, flow_id: str) -> dict[str, str]:
        """Each flow of the scenario this one hands over to, and its source topic."""
        return {
            h.flow: FLOWS[h.flow].source_topic
            for h in FLOWS[flow_id].handovers
            if h.flow in self.flows
        }

    def _check_scoring(self, flow_id: str, settings: FlowSettings) -> None:
        """A scoring flow's cases start at its crossings, fed by its signals' arrivals; any
        other flow has no signals, window or threshold."""
        scoring = FLOWS[flow_id].scoring
        where = f"flows.{flow_id}"
        if scoring is None:
            # Written back (to a worker), a scenario spells the defaults out: only a value given
            # is a mistake.
            given = {
                "signals": bool(settings.signals),
                "window": settings.window is not None,
                "threshold": settings.threshold is not None,
            }
            for name, said in given.items():
                if said:
                    scoring_flows = [f for f, spec in FLOWS.items() if spec.scoring is not None]
                    raise ValueError(
                        f"{where}.{name}: only a flow whose cases start at a score has "
                        f"{name} ({', '.join(scoring_flows)})"
                    )
            return
        if settings.arrivals is not None:
            raise ValueError(
                f"{where}.arrivals: {flow_id}'s cases start where a score reaches the threshold, "
                f"not at arrivals of their own; give each source's arrivals under "
                f"{where}.signals.<kind>.arrivals ({', '.join(scoring.kinds)})"
            )
        if not settings.signals:
            raise ValueError(
                f"{where}.signals: required: the arrivals of at least one source of signals; "
                f"allowed: {', '.join(scoring.kinds)}"
            )
        for kind, signal in settings.signals.items():
            if kind not in scoring.kinds:
                raise ValueError(
                    f"{where}.signals.{kind}: not a source of {flow_id}'s signals; "
                    f"allowed: {', '.join(scoring.kinds)}"
                )
            self._check_arrivals(
                signal_stream(flow_id, kind), signal.arrivals, f"{where}.signals.{kind}.arrivals"
            )

    def window(self, flow_id: str) -> WindowSpec:
        """A scoring flow's window: the scenario's, or the flow's own."""
        own = self.flows[flow_id].window
        scoring = FLOWS[flow_id].scoring
        assert scoring is not None
        return own.spec() if own is not None else scoring.window

    def threshold(self, flow_id: str) -> float:
        own = self.flows[flow_id].threshold
        scoring = FLOWS[flow_id].scoring
        assert scoring is not None
        return own if own is not None else scoring.threshold

    def scoring_flows(self) -> list[str]:
        return [flow_id for flow_id in self.flows if FLOWS[flow_id].scoring is not None]

    def _check_fed(self, flow_id: str, settings: FlowSettings) -> None:
        if FLOWS[flow_id].scoring is not None:
            return
        if settings.arrivals is None and not self.fed_by(flow_id):
            feeders = [f for f in FLOWS if any(h.flow == flow_id for h in FLOWS[f].handovers)]
            fed = f", or run a flow that hands over to it ({', '.join(feeders)})" if feeders else ""
            raise ValueError(f"flows.{flow_id}.arrivals: required{fed}")

    def _check_arrivals(self, flow_id: str, arrivals: Arrivals | None, where: str) -> None:
        """`flow_id` names the stream: a flow, or one source of a scoring flow's signals
        (`signal_stream`)."""
        if arrivals is None:
            return
        if arrivals.process == "replay":
            assert arrivals.file is not None
            try:
                times = read_replay(arrivals.file, arrivals.column, self.start)
            except ReplayError as error:
                raise ValueError(f"{where}.file: {error}") from None
            window = self.duration.clock_seconds()
            self._replays[flow_id] = tuple(t for t in times if 0.0 <= t < window)
        profile = arrivals.profile
        if profile is not None and profile.day and arrivals.hours == "office":
            hours = OfficeHours.from_strings(self.calendar.office_hours)
            if not _weight_in_office(profile.day_steps(), hours.spans_seconds):
                raise ValueError(
                    f"{where}.profile.day: every weight within office hours ({hours}) is zero, "
                    "so nobody could arrive"
                )

    def replay_times(self, flow_id: str) -> tuple[float, ...]:
        """A replayed flow's (or signal stream's) arrival times, seconds after the start,
        inside the window."""
        return self._replays.get(flow_id, ())

    def _check_agencies(self) -> None:
        needed = list(dict.fromkeys(a for f in self.flows for a in FLOWS[f].agencies))
        unknown = [name for name in self.agencies if name not in needed]
        if unknown:
            raise ValueError(
                f"agencies: {', '.join(map(repr, unknown))} not acting in "
                f"{', '.join(self.flows)}; allowed: {', '.join(needed)}"
            )
        missing = [name for name in needed if name not in self.agencies]
        if missing:
            raise ValueError(
                f"agencies: {', '.join(self.flows)} need settings for {', '.join(missing)}"
            )
        for name, agency in self.agencies.items():
            for flow_id in agency.desks:
                if flow_id.upper() not in self.flows or name not in FLOWS[flow_id.upper()].agencies:
                    raise ValueError(
                        f"agencies.{name}.desks.{flow_id}: not a flow of this scenario that "
                        f"reaches {name}; allowed: "
                        f"{', '.join(f for f in self.flows if name in FLOWS[f].agencies)}"
                    )

    def _check_flow(self, flow_id: str, settings: FlowSettings) -> None:
        flow = FLOWS[flow_id]
        allowed_population = flow.source.mix_fields()
        for knob in settings.population:
            if knob not in allowed_population:
                raise ValueError(
                    f"flows.{flow_id}.population.{knob}: not a population setting of "
                    f"{flow_id}; allowed: {', '.join(allowed_population)}"
                )
        runnable.check_population(flow, settings.population)
        subscribers = [s.agency for s in flow.publication.subscribers] if flow.publication else []
        for agency in settings.checks:
            if agency not in subscribers:
                raise ValueError(
                    f"flows.{flow_id}.checks.{agency}: not a subscriber of {flow_id}'s "
                    f"records; allowed: {', '.join(subscribers) or 'none'}"
                )
        side = {f"checks.{k}": v for k, v in settings.checks.items()}
        side.update({f"tallies.{k}": v for k, v in settings.tallies.items()})
        for where, arrivals in side.items():
            if arrivals.process == "replay":
                raise ValueError(
                    f"flows.{flow_id}.{where}.process: a check or a counted event is drawn, "
                    "not replayed; allowed: poisson, constant, bursts"
                )
        tallies = [tally.id for tally in flow.tallies]
        for tally in settings.tallies:
            if tally not in tallies:
                raise ValueError(
                    f"flows.{flow_id}.tallies.{tally}: not a count {flow_id} keeps; "
                    f"allowed: {', '.join(tallies) or 'none'}"
                )
        step_ids = [step.id for step in flow.steps]
        for step_id, step_settings in settings.steps.items():
            if step_id not in step_ids:
                raise ValueError(
                    f"flows.{flow_id}.steps.{step_id}: not a step of {flow_id}; "
                    f"allowed: {', '.join(step_ids)}"
                )
            step = flow.step(step_id)
            if step.is_wait and step_settings.service_time is not None:
                raise ValueError(
                    f"flows.{flow_id}.steps.{step_id}: a wait has a 'duration', "
                    "not a 'service_time'"
                )
            if not step.is_wait and step_settings.duration is not None:
                raise ValueError(
                    f"flows.{flow_id}.steps.{step_id}: an agency step has a 'service_time', "
                    "not a 'duration'"
                )
            if step_settings.join is not None and step.each is None:
                per_item = [s.id for s in flow.steps if s.each is not None]
                raise ValueError(
                    f"flows.{flow_id}.steps.{step_id}.join: only a step done per item has a "
                    f"join; {flow_id}'s: {', '.join(per_item) or 'none'}"
                )
        for step in flow.steps:
            own = settings.steps.get(step.id)
            if step.is_wait and step.lasts is None and (own is None or own.duration is None):
                raise ValueError(
                    f"flows.{flow_id}.steps.{step.id}.duration: required: how long the wait "
                    f"for {step.actor} ({step.title}) lasts"
                )
            if (
                not step.is_wait
                and (own is None or own.service_time is None)
                and self.agencies[str(step.agency)].service_time is None
            ):
                raise ValueError(
                    f"agencies.{step.agency}.service_time: required, or set "
                    f"flows.{flow_id}.steps.{step.id}.service_time"
                )

    def _check_target(self, index: int, target: Target) -> None:
        where = f"targets[{index}] ({target.id!r})"
        if target.flow is None:
            if len(self.flows) > 1:
                raise ValueError(
                    f"{where}.flow: required when the scenario runs several flows; "
                    f"allowed: {', '.join(self.flows)}"
                )
            flow_id = next(iter(self.flows))
        else:
            flow_id = target.flow.upper()
            if flow_id not in self.flows:
                raise ValueError(
                    f"{where}.flow: {target.flow!r} is not a flow of this scenario; "
                    f"allowed: {', '.join(self.flows)}"
                )
        flow = FLOWS[flow_id]
        steps = [step.id for step in flow.steps]
        if target.step not in ("all", *steps):
            raise ValueError(
                f"{where}.step: {target.step!r} is not a step of {flow_id}; "
                f"allowed: all, {', '.join(steps)}"
            )
        if target.of == "rate":
            if target.source == "plan":
                problem = rate_problem(flow_id, target)
                if problem is not None:
                    raise ValueError(f"{where}.{problem}")
            return
        if target.of not in LATENCY_TARGETS:
            self._check_beside(where, flow_id, target)
            return
        if target.of == "delivered" and target.limit.is_working_days:
            raise ValueError(
                f"{where}.within: a 'delivered' target is on the platform's clock; give a clock "
                f"time (e.g. 5s), or use of: acted for working days"
            )
        waits = [step.id for step in flow.waits]
        if target.of == "delivered" and target.step in waits:
            raise ValueError(
                f"{where}.step: {target.step!r} is a wait outside any agency: nothing is "
                f"delivered; use of: acted"
            )
        if target.span is not None and target.span not in [s.id for s in flow.spans]:
            named = ", ".join(s.id for s in flow.spans) or "none (use 'from' and 'to')"
            raise ValueError(
                f"{where}.span: {target.span!r} is not a span of {flow_id}; allowed: {named}"
            )
        for mark in (target.start_mark, target.end_mark):
            if mark is not None and mark not in flow.marks():
                raise ValueError(
                    f"{where}: mark {mark!r} is not one of {flow_id}'s; "
                    f"allowed: {', '.join(flow.marks())}"
                )
        days = target.limit.working_days
        if target.working_days == "legal" and days is not None and days != int(days):
            raise ValueError(
                f"{where}.within: a deadline counts whole working days (received on day D, due "
                f"by the close of the N-th working day after it), not {target.within}; give a "
                "whole number, or working_days: office to count office time"
            )
        if target.working_days == "office" and not target.limit.is_working_days:
            raise ValueError(
                f"{where}.working_days: 'office' counts a limit in working days (e.g. 1wd); "
                f"within {target.within} is clock time"
            )
        if target.source == "plan":
            problem = plan_problem(flow_id, target)
            if problem is not None:
                raise ValueError(f"{where}.{problem}")

    def _check_beside(self, where: str, flow_id: str, target: Target) -> None:
        """A target on checks or a count names what the flow has, and the scenario feeds it."""
        flow = FLOWS[flow_id]
        if target.of == "exposures":
            subscribers = (
                [s.agency for s in flow.publication.subscribers] if flow.publication else []
            )
            if not subscribers:
                raise ValueError(f"{where}.of: {flow_id} publishes no records to subscribers")
            if target.subscriber not in ("all", *subscribers):
                raise ValueError(
                    f"{where}.subscriber: {target.subscriber!r} does not subscribe to "
                    f"{flow_id}'s records; allowed: all, {', '.join(subscribers)}"
                )
            return
        tallies = [tally.id for tally in flow.tallies]
        if target.count not in tallies:
            raise ValueError(
                f"{where}.count: {target.count!r} is not a count {flow_id} keeps; "
                f"allowed: {', '.join(tallies) or 'none'}"
            )
        if target.count not in self.flows[flow_id].tallies:
            raise ValueError(
                f"{where}.count: flows.{flow_id}.tallies.{target.count} is not set, so "
                "nothing would be counted; give its arrivals"
            )

    def target_flow(self, target: Target) -> str:
        return (target.flow or next(iter(self.flows))).upper()

    def settings_of(self, flow_id: str, step_id: str) -> StepSettings:
        return self.flows[flow_id].steps.get(step_id) or StepSettings()

    def service_time(self, flow_id: str, step_id: str) -> DistributionSpec:
        own = self.settings_of(flow_id, step_id)
        if own.service_time is not None:
            return own.service_time
        agency = FLOWS[flow_id].step(step_id).agency
        spec = self.agencies[str(agency)].service_time
        assert spec is not None  # validated
        return spec

    def to_data(self) -> dict[str, Any]:
        """Plain data for result.json and worker files: durations in their written form."""
        return self.model_dump(mode="json", by_alias=True)


def signal_stream(flow_id: str, kind: str) -> str:
    """The name a scoring flow's source of signals goes by where streams of arrivals are
    named: `F13:complaint`."""
    return f"{flow_id}:{kind}"


def day_weight(steps: list[tuple[int, float]], second: float) -> float:
    """A daily profile's weight at `second` after midnight: the last step begun by then (the
    day's last step holds until the first one of the next day)."""
    weight = steps[-1][1]
    for begins, step_weight in steps:
        if begins > second:
            break
        weight = step_weight
    return weight


def _weight_in_office(steps: list[tuple[int, float]], office: tuple[tuple[int, int], ...]) -> bool:
    """Whether a daily profile puts any weight inside the office's open intervals."""
    points = {a for a, _ in office} | {b for b, _ in steps if any(a <= b < e for a, e in office)}
    return any(day_weight(steps, point) > 0 for point in points)


def resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Files a scenario names (a replay, a calendar) are relative to the scenario file; make
    them absolute so the scenario reads the same from a worker's copy of it."""
    calendar = data.get("calendar")
    if isinstance(calendar, dict) and isinstance(calendar.get("days_file"), str):
        calendar["days_file"] = str((base / calendar["days_file"]).resolve())
    flows = data.get("flows")
    sections = list(flows.values()) if isinstance(flows, dict) else []
    if "flow" in data:
        sections.append(data)
    for section in list(sections):
        signals = section.get("signals") if isinstance(section, dict) else None
        if isinstance(signals, dict):
            sections += [signal for signal in signals.values() if isinstance(signal, dict)]
    for section in sections:
        arrivals = section.get("arrivals") if isinstance(section, dict) else None
        if isinstance(arrivals, dict) and isinstance(arrivals.get("file"), str):
            arrivals["file"] = str((base / arrivals["file"]).resolve())
