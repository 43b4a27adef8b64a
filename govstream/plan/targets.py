"""The plan's time targets as data: each measure's words, and its number where it gives one.

A scenario's target labelled `source: plan` claims the plan's authority, so it is checked
against this table: it must cite a measure listed here, and a limit looser than the plan's
number is refused. A flow that has a number here which no scenario target checks is named in
every report, so a verdict of "all targets met" cannot come from leaving the plan's target out.

Where the plan gives a word rather than a number (实时, 即办即取, 即办即结, 及时) the table says
so: `number` is None and a scenario reading the word must say how in its target's note. Some
words still bound any honest reading (nothing a day late is 实时), so the table gives them the
loosest limit a `source: plan` target may read them as; a limit past it is refused, and such a
word, like a number, is named in every report when no target checks it. The quotes are the
plan's own text (渝中府办〔2021〕16号), verbatim.

Some targets are dates, not times a case takes: M22's go-live dates for the 通办 batches (F07).
A scenario gives them as its source's knobs, so a run shows what each date saves but cannot
check whether it was kept. The table says so (`cannot_check`, the reason), and every report of
a run with such a flow names them as not checked, with that reason, apart from the numbers a
target left out: no scenario target could check them, so they fail no run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from govstream.durations import Duration, format_seconds

DAY = 86400.0

Unit = Literal["wd", "d"]
"""工作日 (working days, counted as the law counts them) or 日 (calendar days)."""
Statistic = Literal["every", "mean"]
"""不超过 / 内 bind every case; 平均 binds the mean."""


class Target(Protocol):
    """What this table reads of a scenario's target (the scenario model's `Target`): the plan
    is checked against a target's shape, never against how a scenario file spells it."""

    @property
    def of(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def span(self) -> str | None: ...
    @property
    def span_id(self) -> str: ...
    @property
    def within(self) -> Duration: ...
    @property
    def source(self) -> str: ...
    @property
    def measure(self) -> str | None: ...
    @property
    def note(self) -> str: ...


class Scenario(Protocol):
    """What this table reads of a scenario: its flows, and the flow each target is on."""

    @property
    def flows(self) -> Mapping[str, object]: ...
    @property
    def targets(self) -> Iterable[Target]: ...
    def target_flow(self, target: Target) -> str: ...


@dataclass(frozen=True, slots=True)
class PlanTimeTarget:
    flow: str
    measure: str
    what: str
    quote: str
    number: float | None = None
    unit: Unit | None = None
    statistic: Statistic | None = None
    word: str | None = None
    """The plan's word where it gives no number."""
    span: str | None = None
    """The flow's span this number times, where the flow is implemented."""
    hedge: str = ""
    """How firmly the plan says it: 原则上 (as a rule), 确保 (ensure)."""
    loosest: float | None = None
    """For a word: the longest limit, in seconds, that can still be called a reading of it."""
    reading: str = ""
    """Why that is the loosest reading."""
    live_by: date | None = None
    """For a go-live date: the day by whose end the plan has the items live."""
    cannot_check: str = ""
    """Why no run can check it (a go-live date is the scenario's input, not its outcome)."""

    @property
    def numeric(self) -> bool:
        return self.number is not None

    @property
    def checkable(self) -> bool:
        """A number, or a word with a loosest reading: a scenario can check it either way."""
        return self.numeric or self.loosest is not None

    def limit_text(self) -> str:
        """`≤ 9 WD`, `mean ≤ 30 WD`, `≤ 20 days`, or the word and that it has no number."""
        if self.live_by is not None:
            return f"{self.word}: live by {self.live_by.isoformat()}, a date, not a latency"
        if self.number is None:
            bound = f", read as ≤ {format_seconds(self.loosest)} at most" if self.loosest else ""
            return f"{self.word}: no number{bound}"
        unit = "WD" if self.unit == "wd" else "days"
        number = f"{self.number:g}"
        head = "mean ≤" if self.statistic == "mean" else "≤"
        return f"{head} {number} {unit}" + (f" ({self.hedge})" if self.hedge else "")

    def within_text(self) -> str:
        """The limit as a scenario target writes it: `9wd`, `20d`."""
        return f"{self.number:g}{'wd' if self.unit == 'wd' else 'd'}"


REAL_TIME = 60.0
REAL_TIME_READING = (
    "an online exchange between systems: a minute is already far past any interface's timeout, "
    "and anything slower is a batch"
)

GO_LIVE_READING = (
    "a go-live date, not a latency: the scenario gives it as the source's knob {knob}, so a run "
    "shows what the date saves (the spans live against in person), never whether it was kept"
)


PLAN_TARGETS: tuple[PlanTimeTarget, ...] = (
    PlanTimeTarget(
        "F01",
        "M2",
        "the bank reserves the account number",
        "推进商业银行实时生成企业账户预约账号",
        word="实时",
        loosest=REAL_TIME,
        reading=REAL_TIME_READING,
    ),
    PlanTimeTarget(
        "F02",
        "M3",
        "e-licence and e-seal issued",
        "企业设立即免费发放电子营业执照和电子印章",
        word="设立即发放",
        span="establishment-to-issued",
        loosest=REAL_TIME,
        reading="issued by the register's e-licence system as it records the establishment "
        "(即, at once): an exchange between systems, where a minute is already far past any "
        "interface's timeout",
    ),
    PlanTimeTarget(
        "F03",
        "M5",
        "deregistration shared with police, banks, housing fund",
        "将企业注销信息实时与公安、银行、公积金等单位共享",
        word="实时",
        loosest=REAL_TIME,
        reading=REAL_TIME_READING,
    ),
    PlanTimeTarget(
        "F04",
        "M6",
        "water connection, whole process",
        "获得用水一般项目用户全流程总用时不超过9个工作日",
        9,
        "wd",
        "every",
        span="water-connection",
    ),
    PlanTimeTarget(
        "F04",
        "M6",
        "low-voltage power connection, whole process",
        "获得用电低压小微用户全流程总用时不超过8个工作日",
        8,
        "wd",
        "every",
        span="power-lv-connection",
    ),
    PlanTimeTarget(
        "F04",
        "M6",
        "digging or green-space filing, site survey included",
        "涉及需要开挖占绿的，备案办理用时不超过2日（含现场踏勘）",
        2,
        "d",
        "every",
        span="power-lv-excavation-filing",
    ),
    PlanTimeTarget(
        "F04",
        "M6",
        "10 kV power connection, whole process",
        "10千伏城镇用户全流程平均用时不超过30个工作日",
        30,
        "wd",
        "mean",
        span="power-10kv-connection",
    ),
    PlanTimeTarget(
        "F04",
        "M6",
        "gas connection, whole process",
        "获得用气用户办理总用时不超过13个工作日",
        13,
        "wd",
        "every",
        span="gas-connection",
    ),
    PlanTimeTarget(
        "F07",
        "M22",
        "跨区县通办 batch 3 live",
        "落实第三批“跨区县通办”事项及高频政务服务事项，2021年12月底实现线上线下融合互认、无差别协同办理",
        word="2021年12月底",
        live_by=date(2021, 12, 31),
        cannot_check=GO_LIVE_READING.format(knob="cross_district_batch3_live_from"),
    ),
    PlanTimeTarget(
        "F07",
        "M22",
        "川渝通办 batch 2 live",
        "加快推动第二批“川渝通办”事项落地见效，今年10月底前实现同一事项在成渝地区双城经济圈同标准受理、"
        "无差别办理、行政审批结果互认",
        word="今年10月底前",
        live_by=date(2021, 10, 31),
        cannot_check=GO_LIVE_READING.format(knob="chuanyu_batch2_live_from"),
    ),
    PlanTimeTarget(
        "F07",
        "M22",
        "74 high-frequency items 跨省通办",
        "74项高频政务服务事项年内实现“跨省通办”",
        word="年内",
        live_by=date(2021, 12, 31),
        cannot_check=GO_LIVE_READING.format(knob="cross_province_74_live_from"),
    ),
    PlanTimeTarget(
        "F08",
        "M25",
        "data shared between approval systems",
        "尽快实现多种业务系统数据实时共享",
        word="实时",
        loosest=REAL_TIME,
        reading=REAL_TIME_READING,
    ),
    PlanTimeTarget(
        "F09",
        "M26",
        "real-estate registration at the counter",
        "深化不动产登记“一窗办理、即办即取”改革",
        word="即办即取",
        span="counter-wait",
        loosest=4 * 3600.0,
        reading="done while the applicant waits at the counter: within one half-day session",
    ),
    PlanTimeTarget(
        "F11",
        "M28",
        "taxes filed and paid: fewer filings, less time",
        "压减税费缴纳次数和时间",
        word="压减",
    ),
    PlanTimeTarget(
        "F11",
        "M30",
        "VAT excess-credit refund handled",
        "压减留抵退税办理时间",
        word="压减",
    ),
    PlanTimeTarget(
        "F12",
        "M32",
        "sharing stops after credit repair",
        "对符合修复条件的，及时终止相关失信信息共享公开",
        word="及时",
    ),
    PlanTimeTarget(
        "F13",
        "M33",
        "supervision data aggregated",
        "实时汇聚司法判决、违法失信、抽查抽检等重点监管领域数据",
        word="实时",
        loosest=REAL_TIME,
        reading=REAL_TIME_READING,
    ),
    PlanTimeTarget(
        "F14",
        "M40",
        "unemployment benefit or subsidy claim decided",
        "失业补助金、失业保险金申领不超过1个工作日",
        1,
        "wd",
        "every",
        span="claim-decided",
    ),
    PlanTimeTarget(
        "F14",
        "M40",
        "insurance relationship transfer and benefit approval",
        "推动失业保险关系接续、失业保险待遇核准支付等就业事项即办即结",
        word="即办即结",
    ),
    PlanTimeTarget(
        "F17",
        "M13",
        "contract signed after the award notice",
        "确保采购单位在中标（成交）通知书发出之日起20日内和中标（成交）供应商签订政府采购合同",
        20,
        "d",
        "every",
        span="award-to-contract",
        hedge="确保",
    ),
    PlanTimeTarget(
        "F17",
        "M14",
        "contract announced and filed",
        "实现政府采购合同公告和备案及时、规范",
        word="及时",
    ),
    PlanTimeTarget(
        "F17",
        "M14",
        "acceptance after completion",
        "合同执行完毕后，采购人或采购代理机构原则上应在7个工作日内组织履约情况验收",
        7,
        "wd",
        "every",
        span="completion-to-acceptance",
        hedge="原则上",
    ),
    PlanTimeTarget(
        "F17",
        "M15",
        "payment after the invoice",
        "对满足合同约定支付条件的，采购单位原则上应在收到发票后5个工作日内按程序办理支付手续",
        5,
        "wd",
        "every",
        span="invoice-to-payment",
        hedge="原则上",
    ),
    PlanTimeTarget(
        "F18",
        "M48",
        "enterprise requests finished and answered",
        "企业诉求在线提交、按时办结、及时反馈",
        word="及时",
        span="request-settled",
    ),
    PlanTimeTarget(
        "F19",
        "M43",
        "asset search and freezing",
        "加快执行查控",
        word="加快",
    ),
)


def plan_target_rows() -> list[tuple[str, str, str, str, str, str]]:
    """The table `govstream flows` prints: every time target of the plan, as data."""
    return [
        (t.flow, t.measure, t.what, t.limit_text(), t.span or "-", t.quote) for t in PLAN_TARGETS
    ]


def targets_of(flow_id: str, measure: str | None = None) -> list[PlanTimeTarget]:
    return [
        t
        for t in PLAN_TARGETS
        if t.flow == flow_id.upper() and (measure is None or t.measure == measure)
    ]


def measures_with_targets(flow_id: str) -> list[str]:
    return list(dict.fromkeys(t.measure for t in targets_of(flow_id)))


def _numeric_match(target: Target, entries: Iterable[PlanTimeTarget]) -> PlanTimeTarget | None:
    """The plan's number a scenario target checks: the same span of the same flow."""
    if target.of != "span" or target.span is None:
        return None
    return next((e for e in entries if e.numeric and e.span == target.span), None)


def looser_than_plan(target: Target, entry: PlanTimeTarget) -> str | None:
    """Why the target's limit does not hold the plan's number, or None when it does.

    Working days against working days compare as numbers (the office-time measure is the
    stricter of the two, so either may check the plan). A clock limit holds a working-day
    number only if it is no longer than that many calendar days, which always end before
    that many working days do; calendar days (日) need a clock limit.
    """
    assert entry.number is not None
    within = target.within
    plan = f"the plan's {entry.measure} «{entry.quote}» ({entry.limit_text()})"
    if entry.unit == "wd":
        if within.is_working_days:
            if float(within.working_days or 0.0) > entry.number:
                return f"within {within} is looser than {plan}"
            return None
        if within.clock_seconds() > entry.number * DAY:
            return (
                f"within {within} is looser than {plan}: a clock limit holds it only up to "
                f"{entry.number:g}d; write the plan's limit as {entry.within_text()}"
            )
        return None
    if within.is_working_days:
        return (
            f"within {within} is in working days, but {plan} counts calendar days (日): "
            f"give a clock limit of at most {entry.within_text()}"
        )
    if within.clock_seconds() > entry.number * DAY:
        return f"within {within} is looser than {plan}"
    return None


def plan_problem(flow_id: str, target: Target) -> str | None:
    """What is wrong with a `source: plan` target, or None. The message names the field."""
    entries = targets_of(flow_id)
    listed = measures_with_targets(flow_id)
    if not target.measure:
        return (
            f"measure: required when source is 'plan' (cite the plan measure it checks); "
            f"allowed: {', '.join(listed) or f'none: the plan sets {flow_id} no time target'}"
        )
    own = [e for e in entries if e.measure == target.measure]
    if not own:
        allowed = ", ".join(listed) or f"none: the plan sets {flow_id} no time target"
        return (
            f"measure: {target.measure!r} sets {flow_id} no time target in the plan; "
            f"measures with one: {allowed} (use source: author for a target of your own)"
        )
    if all(e.cannot_check for e in own):
        dates = "; ".join(f"{e.what} «{e.quote}»: {e.cannot_check}" for e in own)
        return (
            f"measure: {target.measure} sets {flow_id} dates, not times a run can check "
            f"({dates}); use source: author for a target of your own"
        )
    match = _numeric_match(target, own)
    if match is not None:
        reason = looser_than_plan(target, match)
        return f"within: {reason}" if reason else None
    words = [e for e in own if not e.numeric]
    if not words:
        spans = ", ".join(f"span {e.span} ({e.limit_text()})" for e in own)
        return (
            f"measure: {target.measure}'s number in the plan is on {spans}; this target is on "
            f"{_on(target)}: check that span, or use source: author"
        )
    for entry in words:
        reason = _past_reading(target, entry)
        if reason:
            return f"within: {reason}"
    if not target.note.strip():
        said = ", ".join(f"{e.word} «{e.quote}»" for e in words)
        return (
            f"note: required: {target.measure} gives a word, not a number ({said}); say how "
            "the limit reads it"
        )
    return None


def _past_reading(target: Target, entry: PlanTimeTarget) -> str | None:
    """Why the target's limit cannot be a reading of the plan's word, or None when it can."""
    if entry.loosest is None:
        return None
    bound = format_seconds(entry.loosest)
    plan = f"the plan's {entry.measure} says {entry.word} «{entry.quote}»"
    if target.within.is_working_days:
        return (
            f"within {target.within} is in working days, but {plan}, which reads as {bound} "
            f"at most ({entry.reading}); use source: author for a limit of your own"
        )
    if target.within.clock_seconds() > entry.loosest:
        return (
            f"within {target.within} is looser than any reading of {entry.word}: {plan}, which "
            f"reads as {bound} at most ({entry.reading}); use source: author for a limit of "
            "your own"
        )
    return None


def _on(target: Target) -> str:
    if target.of == "case":
        return "the whole case"
    if target.of == "span":
        return f"span {target.span_id}"
    return f"{target.of} {target.step}"


def unchecked(scenario: Scenario) -> list[PlanTimeTarget]:
    """The plan's numbers, and bounded words, for the scenario's flows that no `source: plan`
    target checks."""
    missing = []
    for flow_id in scenario.flows:
        checks = [
            t
            for t in scenario.targets
            if t.source == "plan" and t.of != "rate" and scenario.target_flow(t) == flow_id
        ]
        for entry in targets_of(flow_id):
            if not entry.checkable:
                continue
            if not any(t.measure == entry.measure and _checks(t, entry) for t in checks):
                missing.append(entry)
    return missing


def not_checkable(scenario: Scenario) -> list[PlanTimeTarget]:
    """The plan's targets for the scenario's flows that no run can check (go-live dates): each
    report names them, with the reason, so none is dropped unsaid."""
    return [
        entry for flow_id in scenario.flows for entry in targets_of(flow_id) if entry.cannot_check
    ]


def _checks(target: Target, entry: PlanTimeTarget) -> bool:
    """A number is checked on its span; a word by any target citing its measure."""
    if entry.numeric:
        return _numeric_match(target, [entry]) is entry
    return True
