"""The one result model behind every report: what a run measured, and how to reproduce it.

Both engines fill it; console, Markdown and comparisons only ever read it. It holds no wall-clock
timestamps, so the same scenario and seed on the sim engine give a byte-identical result.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

SCHEMA_ID = "govstream.result/2"

Summary = dict[str, Any]
"""A LatencySummary as data: count, mean, p50, p90, p99, p99.9, max, clamped; open (values
still open at the end, counted at their age) and, when some are, open_min and upper."""

Verdict = Literal["met", "missed", "undecided", "no data"]


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
    steps_cancelled: int = 0
    """Steps that did not run because a step before them was rejected."""
    lost: int
    duplicates: int = 0
    refused: int = Field(default=0, validation_alias=AliasChoices("refused", "unexpected"))
    """Answers the orchestrator refused: from an agency that does not own the step, or to a
    request it never sent (`unexpected` in results before it said why)."""
    dead_lettered: int = 0
    deadlines_withdrawn: int = 0
    """Deadlines answered at once because the step they were for started first
    (`Step.until`): answers recorded that set no mark and no latency."""
    signals_received: int = 0
    """A scoring flow's signals its scorer counted."""
    crossings: int = 0
    """Signals that took an entity's score to the threshold, each starting a case."""
    signals_unscored: int = 0
    """Signals sent that no scorer had counted at the cut-off."""


class BooksCheck(Frozen):
    """One identity the ledger states between its counters (`pipeline.ledger`), as it stood at
    the end of the run."""

    identity: str
    left: int
    right: int
    holds: bool


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
    of: Literal["delivered", "acted", "case", "span", "rate", "exposures", "count"]
    step: str
    """The step the verdict is on, `case`, or the span's name; for exposures, the subscriber
    (or all); for a count, the count's name."""
    stat: str
    """The statistic of a latency; `rate` for a rate, `count` for exposures and counts."""
    within: str
    """A latency's limit as the scenario gave it (`5s`, `3wd`); for a rate, exposures and
    counts, the bound (`≥ 100%`, `≤ 0`, `≥ 2000 by 2021-12-31`)."""
    unit: Literal["s", "wd", "share", "count"]
    """Seconds, working days, for a rate a share of cases from 0 to 1, or a number of events."""
    limit: float
    observed: float | None
    met: bool | None
    source: Literal["plan", "author"]
    measure: str | None = None
    quote: str | None = None
    note: str = ""
    verdict: Verdict | None = None
    """met / missed / undecided (open cases could still land either side) / no data."""
    working_days: Literal["legal", "office"] | None = None
    """For a limit in working days: counted as a legal deadline, or as office time."""
    open: int = 0
    """Values still open at the end, counted at their age in `observed`."""
    at_least: bool = False
    """`observed` is a lower bound: open values reach it."""
    upper: float | None = None
    """The statistic if no open value ever finished; None when unbounded."""
    interval: list[float] | None = None
    """Over replications: the 95 % confidence interval of the statistic [low, high]."""
    reason: str | None = None
    """Why a verdict is undecided when the run could not resolve it (Kafka, at its speedup)."""
    due: int | None = None
    """For a rate: the cases the step fell due in (done, failed and open)."""


class StepInfo(Frozen):
    id: str
    title: str
    agency: str
    after: list[str] = Field(default_factory=list)
    wait: bool = False
    per_item: str | None = None
    """For a step done once per item: what an item is ("bank"); its latencies are kept per
    item as well, `F19/acted:bank-freeze@102`."""


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


class Window(Frozen):
    """An interval of business time since the scenario's start, e.g. an outage."""

    start: float
    end: float
    label: str = ""


class TimeSeries(Frozen):
    """A run over time in fixed bins (see `govstream.pipeline.series`), for charts.

    `levels` are time-weighted means per bin (`queue:bank`, `busy:bank`) or, for open cases
    (`F03/open`), the value at the end of each bin; `counts` are events per bin
    (`F03/arrivals`, `F03/completions`); `windows` are each pool's outages.
    """

    start: str
    """Business time 0 on the calendar (ISO 8601)."""
    bin_seconds: float
    bins: int
    levels: dict[str, list[float]] = Field(default_factory=dict)
    counts: dict[str, list[int]] = Field(default_factory=dict)
    windows: dict[str, list[Window]] = Field(default_factory=dict)


class Curves(Frozen):
    """Latency distributions as values at fixed percentiles, for percentile plots."""

    percentiles: list[float]
    latency: dict[str, list[float]] = Field(default_factory=dict)
    """Business seconds, by metric name."""
    working_days: dict[str, list[float]] = Field(default_factory=dict)


class PlanTargetInfo(Frozen):
    """A number the plan sets for one of the run's flows that no scenario target checked, or
    a target of the plan no run can check (a go-live date), with the reason."""

    flow: str
    measure: str
    what: str
    limit: str
    quote: str
    span: str | None = None
    reason: str = ""
    """Why no run can check it; empty for a number a scenario target could have checked."""


class CalendarInfo(Frozen):
    """Which holiday data the run's working days came from, so a verdict can be traced."""

    holidays: str
    package: str | None = None
    """The holiday package and its version, e.g. `chinese-calendar 1.11.0`."""
    package_years: str | None = None
    days_file: str | None = None
    days_sha256: str | None = None
    days_years: list[int] = Field(default_factory=list)


class Interval(Frozen):
    """One statistic over replications: the mean and its 95 % confidence interval."""

    mean: float
    low: float
    high: float
    at_least: bool = False
    """Some replication's value was only a lower bound (open values reached it)."""
    upper_high: float | None = None
    """The interval's high end if no open value ever finished; None when unbounded."""


class Replication(Frozen):
    """One replication of a run, with its histograms encoded so runs can be merged later."""

    seed: int
    counts: Counts
    latency: dict[str, Summary]
    working_days: dict[str, Summary] = Field(default_factory=dict)
    legal_working_days: dict[str, Summary] = Field(default_factory=dict)
    targets: list[TargetVerdict] = Field(default_factory=list)
    histograms: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Scale (`latency`, `working_days`, `legal_working_days`) -> metric -> encoded recorder."""


class Exposures(Frozen):
    """One subscriber's checks against its table of a flow's published records."""

    checks: int
    found: int
    """Checks that found at least one record about the entity."""
    exposures: int
    """Checks that found a record after the platform had recorded its retraction."""
    retracted_held_at_end: int = 0
    """Records retracted and still in the table when the run ended: later checks could still
    find them, so a limit on exposures is undecided while any is left."""


class TallyCount(Frozen):
    """A count the plan sets (F12's entities using the credit code): the distinct values seen."""

    counted: int
    new_by_day: dict[str, int] = Field(default_factory=dict)
    """Values seen for the first time, by business day (ISO date)."""

    def by(self, day: str) -> int:
        """How many were counted by the end of `day` (ISO date)."""
        return sum(count for seen, count in self.new_by_day.items() if seen <= day)


class Conformance(Frozen):
    """One external agency's answers, judged (`pipeline.conformance`): every request it was
    sent is answered validly or invalidly, or is missing at the end."""

    requests: int
    """Requests govstream sent it."""
    valid: int
    """Answers recorded: valid Avro of the contract, to a request it was sent, with the reply
    fields later steps read, and not a repeat."""
    invalid: dict[str, int] = Field(default_factory=dict)
    """Answers refused or dead-lettered, by reason (`not-the-step-owner`, `unknown-schema`,
    `reply-fields-missing`, `missing-trace-headers`, ...)."""
    missing: int = 0
    """Requests still unanswered (validly) when the run ended."""
    late: int = 0
    """Valid answers beyond the limit of a target on their step's acted latency."""
    late_by_target: dict[str, int] = Field(default_factory=dict)
    duplicated: int = 0
    """Answers repeating one already recorded (dropped)."""

    @property
    def invalid_total(self) -> int:
        return sum(self.invalid.values())

    @property
    def share_valid(self) -> float | None:
        """Valid answers per request sent: 1.0 when every request was answered validly."""
        return self.valid / self.requests if self.requests else None

    @property
    def passed(self) -> bool:
        """No invalid answer and none missing: what `--fail-on-sla` requires of it."""
        return self.invalid_total == 0 and self.missing == 0


class Breakdown(Frozen):
    """Where the time of the cases that decide one statistic of a latency went: for a
    percentile those at or beyond it, for a mean all (`pipeline.breakdown`). Finished cases
    only: a value still open at the end has no end to walk back from."""

    stat: str
    scale: Literal["latency", "working_days", "legal_working_days"]
    """The scale the cases were ranked on: clock seconds, or working days either way."""
    value: float
    """The statistic, on its scale."""
    cases: int
    seconds: float
    """Their mean latency in clock seconds: the sum of `parts`."""
    parts: dict[str, float]
    """Part (`queue:hrss`, `closed:real-estate`, `transport:outcome-return`, `wait:applicant`)
    -> its mean clock seconds in those cases, largest first."""
    earlier: float = 0.0
    """Of `seconds`, the mean time before the request that ended the latency went out:
    waiting on earlier steps (already split among the parts)."""
    complete: bool = True
    """Whether every deciding case was split. A run splits a latency's cases from about its
    85th percentile so far up (all of them for a mean target); where its values fell during
    the run, a tail may reach below a floor held earlier, and the parts are then of the
    deciding cases that were split."""


class Shrink(Frozen):
    """What would have to shrink for a missed target to be met: the cases at the statistic
    must end `needed` sooner (for a mean, every case on average); the part named is the largest
    in them."""

    part: str
    """The largest part in those cases."""
    part_seconds: float
    """Its mean clock seconds in them."""
    needed: float
    unit: Literal["s", "wd"]
    needed_seconds: float | None = None
    """`needed` as clock seconds, at least: for office working days, an office day's open time
    each; None for working days as the law counts them, which a case passes by ending before
    an office's close, however little sooner."""
    cases: int
    """The cases the part's mean is over: those at the statistic, to its band's width (a
    percentile's value within about 2 %, a legal working day), or all of them for a mean."""


class TargetBreakdown(Frozen):
    """One latency verdict's cases, split into parts; for a miss, what would have to shrink."""

    target: str
    flow: str
    step: str
    stat: str
    verdict: Verdict | None
    breakdown: Breakdown
    shrink: Shrink | None = None


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
    exposures: dict[str, dict[str, Exposures]] = Field(default_factory=dict)
    """Flow -> subscriber -> its checks against its table of published records."""
    tallies: dict[str, dict[str, TallyCount]] = Field(default_factory=dict)
    """Flow -> count -> the distinct values counted."""
    signals: dict[str, dict[str, int]] = Field(default_factory=dict)
    """A scoring flow -> its signals counted, by kind."""
    crossed: dict[str, list[str]] = Field(default_factory=dict)
    """A scoring flow -> the cases its crossings started, in id order: each is named after
    the signal that took its entity's score to the threshold (`F13.complaint-0000012`)."""
    rates: dict[str, dict[str, int]] = Field(default_factory=dict)
    items_reached: dict[str, dict[str, int]] = Field(default_factory=dict)
    """For each step done per item (`F06/items:offer`): the completed cases it ran in
    (`cases`) and those in which none of its items was done (`none done`: a demand no bank
    made an offer on, a debtor frozen at no bank)."""
    """`F13/rate:lead` -> the cases the step fell due in: done, failed, open at the cut-off."""
    latency: dict[str, Summary]
    working_days: dict[str, Summary] = Field(default_factory=dict)
    platform_ms: dict[str, Summary] = Field(default_factory=dict)
    agencies: dict[str, AgencyLoad]
    targets: list[TargetVerdict] = Field(default_factory=list)
    series: TimeSeries | None = None
    curves: Curves | None = None
    legal_working_days: dict[str, Summary] = Field(default_factory=dict)
    """Working days as the law counts a deadline: after the day of receipt, to the day done."""
    unchecked_plan_targets: list[PlanTargetInfo] = Field(default_factory=list)
    not_checkable_plan_targets: list[PlanTargetInfo] = Field(default_factory=list)
    """The plan's targets for the run's flows that no run can check (go-live dates), named in
    every report with the reason; they fail no run, since no target could check them."""
    calendar: CalendarInfo | None = None
    replications: list[Replication] = Field(default_factory=list)
    """Every replication when the run had several; the figures above then merge them."""
    intervals: dict[str, dict[str, dict[str, Interval]]] = Field(default_factory=dict)
    """Over replications: scale -> metric -> statistic -> mean and 95 % interval."""
    dead_letters: DeadLetters = Field(default_factory=DeadLetters)
    books: list[BooksCheck] = Field(default_factory=list)
    """Every identity of the run's books, over all flows: each must hold."""
    resolution: dict[str, float] = Field(default_factory=dict)
    """Kafka: by metric, how many business seconds its values may be off at the run's speedup,
    from requests that reached a busy pool out of business order; empty when exact."""
    breakdowns: dict[str, Breakdown] = Field(default_factory=dict)
    """Every latency's slowest tenth (its p90 on the clock and beyond), split into parts."""
    target_breakdowns: list[TargetBreakdown] = Field(default_factory=list)
    """Each latency verdict's deciding cases split into parts, in the order of `targets`."""
    conformance: dict[str, Conformance] = Field(default_factory=dict)
    """Each external agency's answers, judged; empty when every agency is govstream's own."""
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
        """Every target measured and met, every external agency's answers valid and none
        missing, and none of the plan's numbers left unchecked: a target without data, or one
        open cases could still tip, is not met."""
        met = all(verdict.met is True for verdict in self.targets)
        conformant = all(c.passed for c in self.conformance.values())
        return met and conformant and not self.unchecked_plan_targets

    def to_json(self) -> str:
        data = self.model_dump(mode="json", by_alias=True)
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> RunResult:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
