"""F13 — plan measure 33: signals about market entities gathered at the "互联网+监管" platform
in real time, a risk warning when an entity's score reaches the threshold, and a lead pushed to
the enforcement agency, which acts on it.

Plan text (渝中府办〔2021〕16号, measure 33): "加强监管数据归集整合，实时汇聚司法判决、违法失信、
抽查抽检等重点监管领域数据，同步接入社会咨询投诉、互联网等第三方信息。强化对监管数据的分析和运用，
依托监管平台实现风险预警、线索推送等功能……推动实现行业监管事项清单梳理完成率、监管信息归集率、
投诉举报处理率、协同监管响应率100%。"

The windowed-aggregation shape (`Scoring`): four sources report about entities, each on its own
topic, and the supervision platform (`supervision-platform`) keys them by entity (its USCC):

- the court its effective judgments against an entity (司法判决),
- the credit database (drc) its dishonesty listings (违法失信),
- the market regulator (amr) its inspection results, of which only a failed one weighs (抽查抽检),
- the 渝快办 platform (gov-services) the complaints it takes in (社会咨询投诉).

Each signal adds its weight (`producers.supervision.SIGNAL_WEIGHTS`, the author's reading) to
the entity's score over a window; a signal that takes a window's score to the threshold raises
a risk warning, and that warning is the case's trigger, timed at the signal's intended time, so
every latency of the case runs from the event that crossed the threshold. Then:

- `warning` (supervision-platform): the platform issues the warning (风险预警). It learns the
  entity, the window, the score and the signals by kind and id, never who complained.
- `lead` (amr): the lead is pushed to the market regulator's enforcement team (线索推送), which
  acts on it. It learns the entity, the score and why, in kinds of signal.

The plan's 100 % rates: 协同监管响应率 (every lead acted on by the enforcement agency it was
pushed to) is the rate of `lead` acted on; every warning issued is the rate of `warning`. The
others are not cases of this flow: 投诉举报处理率 is a complaint's own handling, which the
complaints here only feed into a score; 监管信息归集率 and 行业监管事项清单梳理完成率 are about the
platform's catalogue of supervision items, not about events (see the scenario's notes).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from govstream.pipeline.windows import WindowSpec
from processors.events import Record
from processors.flow import (
    CaseView,
    Crossed,
    FlowSpec,
    PlanTarget,
    Scoring,
    Signal,
    SignalDraw,
    Source,
    Span,
    Step,
)
from producers.ids import event_id
from producers.market_entities import EntityPopulation
from producers.supervision import (
    COMPLAINT_TOPIC,
    DISHONESTY_TOPIC,
    INSPECTION_TOPIC,
    JUDGMENT_TOPIC,
    SIGNAL_WEIGHTS,
    ComplaintSignalGenerator,
    DishonestySignalGenerator,
    InspectionSignalGenerator,
    JudgmentSignalGenerator,
    SignalMix,
    signal_weight,
)

WARNING = "warning"
LEAD = "lead"
PLATFORM = "supervision-platform"

DAY = 86400.0
WINDOW = WindowSpec("tumbling", 30 * DAY)
"""The author's default: an entity's signals of one calendar month (30 days) count together."""
THRESHOLD = 10.0
"""The author's default: two judgments and a listing as dishonest, or ten complaints."""


def _population(rng: random.Random, mix: SignalMix) -> EntityPopulation:
    return EntityPopulation(rng, mix.population_size, mix.risk_skew)


def _judgments(rng: random.Random, mix: SignalMix, population: EntityPopulation) -> SignalDraw:
    drawn = JudgmentSignalGenerator(rng, mix, population)
    return lambda signal, at: drawn.generate(signal, at.date())


def _listings(rng: random.Random, mix: SignalMix, population: EntityPopulation) -> SignalDraw:
    drawn = DishonestySignalGenerator(rng, mix, population)
    return lambda signal, at: drawn.generate(signal, at.date())


def _inspections(rng: random.Random, mix: SignalMix, population: EntityPopulation) -> SignalDraw:
    drawn = InspectionSignalGenerator(rng, mix, population)
    return lambda signal, at: drawn.generate(signal, at.date())


def _complaints(rng: random.Random, mix: SignalMix, population: EntityPopulation) -> SignalDraw:
    drawn = ComplaintSignalGenerator(rng, mix, population)
    return drawn.generate


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def warning_of(crossed: Crossed, case_id: str, signal: str) -> Record:
    """The trigger: the warning the crossing raises, named after the signal that crossed."""
    start, end = crossed.window
    return {
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"govstream:{case_id}")),
        "case_id": case_id,
        "warning_id": f"YJ-{signal}",
        "uscc": crossed.key,
        "company_name": crossed.company_name,
        "score": crossed.score,
        "threshold": crossed.threshold,
        "window_start": _moment(start),
        "window_end": _moment(end),
        "signals": [{"kind": kind, "event_id": event} for kind, event in crossed.signals],
    }


def entity(trigger: Record) -> dict[str, Any]:
    return {
        "warning_id": trigger["warning_id"],
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
        "score": trigger["score"],
    }


def to_warning(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        **entity(trigger),
        "threshold": trigger["threshold"],
        "window_start": trigger["window_start"],
        "window_end": trigger["window_end"],
        "signals": [dict(signal) for signal in trigger["signals"]],
    }


def reasons(trigger: Record) -> list[str]:
    """Why the entity is referred, by kind of signal: `2 × judgment`."""
    kinds = Counter(str(signal["kind"]) for signal in trigger["signals"])
    return [f"{count} × {kind}" for kind, count in sorted(kinds.items())]


def to_lead(case: CaseView) -> Record:
    return {**entity(case.trigger), "reasons": reasons(case.trigger)}


class DrawnWarning:
    """Draws a warning as a crossing would raise it, without scoring any stream: for the
    walks every flow's declaration is tested by, and the platform's warm-up. A run's warnings
    come from the scores (`Scoring`), never from here."""

    def __init__(self, rng: random.Random, mix: SignalMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else SignalMix()
        self._population = _population(rng, self.mix)
        self._kinds = tuple(kind for kind in SIGNAL_WEIGHTS)

    def generate(self, case_id: str, on: Any) -> dict[str, Any]:
        rng = self._rng
        risky = self._population.pick_risky(rng)
        signals: list[tuple[str, str]] = []
        score = 0.0
        while score < THRESHOLD:
            weighed = rng.choice(self._kinds)
            kind = "inspection" if weighed == "inspection-failed" else weighed
            signals.append((kind, event_id(rng)))
            score += SIGNAL_WEIGHTS[weighed]
        start = datetime(on.year, on.month, on.day, tzinfo=UTC).timestamp()
        crossed = Crossed(
            risky.uscc,
            risky.company_name,
            (start, start + WINDOW.size - 0.1),
            score,
            THRESHOLD,
            tuple(signals),
        )
        return warning_of(crossed, case_id, case_id)


FLOW = FlowSpec(
    id="F13",
    title="Supervision signals scored per entity: a risk warning, and a lead acted on",
    measures=("M33",),
    source=Source(
        agency=PLATFORM,
        topic="supervision-platform.risk-warning.v1",
        schema="f13/RiskWarning.avsc",
        mix_type=SignalMix,
        build=DrawnWarning,
    ),
    scoring=Scoring(
        agency=PLATFORM,
        signals=(
            Signal(
                "judgment",
                "court",
                JUDGMENT_TOPIC,
                "f13/JudgmentAgainstEntity.avsc",
                _judgments,
                "an effective judgment against the entity",
            ),
            Signal(
                "dishonesty",
                "drc",
                DISHONESTY_TOPIC,
                "f13/DishonestyListed.avsc",
                _listings,
                "the entity listed as dishonest",
            ),
            Signal(
                "inspection",
                "amr",
                INSPECTION_TOPIC,
                "f13/InspectionResult.avsc",
                _inspections,
                "an inspection of the entity, passed or failed",
            ),
            Signal(
                "complaint",
                "gov-services",
                COMPLAINT_TOPIC,
                "f13/ComplaintLodged.avsc",
                _complaints,
                "a complaint about the entity",
            ),
        ),
        weight=signal_weight,
        key=lambda signal: str(signal["uscc"]),
        window=WINDOW,
        threshold=THRESHOLD,
        trigger=warning_of,
        population=_population,
    ),
    steps=(
        Step(
            WARNING,
            "issue the risk warning about the entity",
            agency=PLATFORM,
            topic="supervision-platform.warning-issue-request.v1",
            schema="f13/WarningIssueRequest.avsc",
            request=to_warning,
        ),
        Step(
            LEAD,
            "act on the lead pushed to market-supervision enforcement",
            agency="amr",
            topic="amr.enforcement-lead.v1",
            schema="f13/EnforcementLead.avsc",
            request=to_lead,
            after=(WARNING,),
        ),
    ),
    spans=(
        Span(
            "crossing-to-warning",
            "trigger",
            f"{WARNING}.acted",
            "from the signal that took the score to the threshold to the warning issued",
        ),
        Span(
            "crossing-to-lead",
            "trigger",
            f"{LEAD}.acted",
            "from the signal that took the score to the threshold to the lead acted on",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M33",
            quote_zh="实时汇聚司法判决、违法失信、抽查抽检等重点监管领域数据，同步接入社会咨询投诉",
            meaning="judgments, dishonesty records, inspections and complaints reach the "
            "supervision platform as they happen",
        ),
        PlanTarget(
            measure="M33",
            quote_zh="依托监管平台实现风险预警、线索推送等功能",
            meaning="the platform raises risk warnings and pushes leads to enforcement",
        ),
        PlanTarget(
            measure="M33",
            quote_zh="投诉举报处理率、协同监管响应率100%",
            meaning="every complaint handled and every lead pushed for joint supervision "
            "answered: rates of 100 %",
        ),
    ),
)
