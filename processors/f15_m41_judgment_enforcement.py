"""F15 — plan measures 41 and 43: an effective judgment's status generated automatically, the
judgment served electronically, and enforcement filed with no paper certificate of effect.

Plan text (渝中府办〔2021〕16号):
- measure 41: "推行网上立案无纸化……全力推进电子送达，扩大电子送达适用率。落实企业送达地址承诺制，
  提高法律文书送达效率。"
- measure 43: "落实生效判决自动生成查询机制，确保当事人申请执行不再需要纸质生效证明。"

The court is both the source and the agency that acts, at two desks of its own:

- `effective-status`: the court's case system generates the judgment's effective status, which
  anyone may then query (自动生成查询机制). A request/reply step: the status it answers with is
  what the filing checks in place of a paper certificate.
- `electronic-service`: the judgment served electronically, where a party committed a service
  address (送达地址承诺制), beside the status.
- `enforcement-filing`: where the creditor applies for enforcement, the filing office files the
  case on the generated status (执行立案, no paper certificate).

The filing hands the case to F19 (asset search and freezing): F19's trigger is the filed case,
carrying the judgment's parties, amount and the debtor's known assets forward.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping

from processors.events import Record
from processors.flow import CaseView, FlowSpec, Handover, PlanTarget, Source, Span, Step
from producers.court import (
    EnforcementMix,
    JudgmentMix,
    JudgmentTookEffectGenerator,
    enforcement_from_judgment,
)

STATUS = "effective-status"
SERVICE = "electronic-service"
FILING = "enforcement-filing"


def parties(trigger: Record) -> dict[str, object]:
    fields: dict[str, object] = {}
    for role in ("creditor", "debtor"):
        party = trigger[role]
        fields[f"{role}_name"] = party["name"]
        fields[f"{role}_uscc"] = party.get("uscc")
        fields[f"{role}_id_number"] = party.get("id_number")
    return fields


def to_status(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "judgment_number": trigger["judgment_number"],
        "effective_on": trigger["effective_on"],
        "case_kind": trigger["case_kind"],
    }


def status_generated(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The status record the court's system generates: a query code anyone may check."""
    return {"status_query_code": f"SX{rng.randrange(10**11, 10**12)}"}


def to_service(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "judgment_number": trigger["judgment_number"],
        "effective_on": trigger["effective_on"],
        **parties(trigger),
    }


def to_filing(case: CaseView) -> Record:
    trigger = case.trigger
    status = case.replies.get(STATUS) or {}
    return {
        "judgment_number": trigger["judgment_number"],
        "effective_on": trigger["effective_on"],
        "status_query_code": str(status.get("status_query_code", "")),
        **parties(trigger),
        "amount_yuan": trigger["amount_yuan"],
    }


def enforcement_case(case: CaseView, case_id: str) -> Record:
    """F19's trigger: the filed case. What the filing decides about the assets (whether there
    are movables, whether the first auction sells) is drawn from the judgment's own event id,
    which the seed fixes, so both engines hand over the same case (the kafka engine's case ids
    carry its run's id)."""
    judgment = case.trigger
    filed_on = judgment["effective_on"]
    assert isinstance(filed_on, dt.date)
    rng = random.Random(f"handover:{judgment['event_id']}")
    return enforcement_from_judgment(judgment, case_id, filed_on, rng, EnforcementMix())


FLOW = FlowSpec(
    id="F15",
    title="Effective judgment: status generated, served online, enforcement filed without paper",
    measures=("M41", "M43"),
    source=Source(
        agency="court",
        topic="court.judgment-took-effect.v1",
        schema="f15/JudgmentTookEffect.avsc",
        mix_type=JudgmentMix,
        build=JudgmentTookEffectGenerator,
    ),
    steps=(
        Step(
            STATUS,
            "generate the judgment's effective status for query",
            agency="court",
            topic="court.effective-status-request.v1",
            schema="f15/EffectiveStatusRequest.avsc",
            request=to_status,
            reply=status_generated,
            reply_fields=("status_query_code",),
        ),
        Step(
            SERVICE,
            "serve the judgment electronically",
            agency="court",
            topic="court.electronic-service-request.v1",
            schema="f15/ElectronicServiceRequest.avsc",
            request=to_service,
            applies=lambda trigger: bool(trigger["address_committed"]),
        ),
        Step(
            FILING,
            "file the enforcement case on the generated status",
            agency="court",
            topic="court.enforcement-filing-request.v1",
            schema="f15/EnforcementFilingRequest.avsc",
            request=to_filing,
            after=(STATUS,),
            applies=lambda trigger: bool(trigger["enforcement_applied"]),
        ),
    ),
    handovers=(
        Handover(
            "F19",
            f"{FILING}.acted",
            enforcement_case,
            title="the filed enforcement case starts its asset search and freezing",
        ),
    ),
    spans=(
        Span(
            "judgment-to-filing",
            "trigger",
            f"{FILING}.acted",
            "from the judgment taking effect to the enforcement filed",
        ),
        Span(
            "judgment-to-freeze",
            "trigger",
            "F19:bank-freeze.acted",
            "from the judgment taking effect to the debtor's accounts frozen (F19)",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M43",
            quote_zh="确保当事人申请执行不再需要纸质生效证明",
            meaning="an application for enforcement needs no paper certificate of effect: the "
            "status is generated automatically and the filing checks it",
        ),
        PlanTarget(
            measure="M41",
            quote_zh="全力推进电子送达，扩大电子送达适用率",
            meaning="judgments are served electronically wherever a party committed an address",
        ),
    ),
)
