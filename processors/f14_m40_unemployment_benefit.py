"""F14 — plan measure 40: an unemployment claim decided at once, with the insurance
relationship moved first when the claimant was insured elsewhere.

Plan text (渝中府办〔2021〕16号, measure 40): "提升“一网通办”服务能力，推动失业保险关系接续、
失业保险待遇核准支付等就业事项即办即结，失业补助金、失业保险金申领不超过1个工作日。"

The source agency is `hrss`, not `gov-services`: the claim is the person's, lodged with hrss
whether through the 一网通办 front end or at the employment service counter, and it is hrss's
claim record that starts the plan's one-working-day clock. The platform forwards the form
without deciding anything, so naming it as the producer would add a hop the plan does not
measure and no agency acts on.

Both steps are hrss's, at two desks:

- `relationship-transfer`: for a claimant insured outside Chongqing, the Yuzhong office takes
  over the insurance relationship from the previous office (失业保险关系接续). A request/reply
  step: the previous office's record answers with the months of contributions it transfers.
  It learns who and from where, not the payment account.
- `benefit-approval`: the claim is approved and its payment ordered (待遇核准支付), after the
  transfer where there is one. Its request counts the transferred months from the transfer's
  answer, which decide how long the benefit runs.

The plan's "不超过1个工作日" is on the `claim-decided` span: from the claim to the approval.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping

from processors.events import Record
from processors.flow import CaseView, FlowSpec, PlanTarget, Source, Span, Step
from producers.hrss import UnemploymentClaimGenerator, UnemploymentClaimMix, months_between

TRANSFER_STEP = "relationship-transfer"
APPROVAL_STEP = "benefit-approval"

RECORD_GAP_PROBABILITY = 0.1
"""Share of transferred records with months the claimant thought were paid but were not."""


def to_transfer(case: CaseView) -> Record:
    trigger = case.trigger
    previous = trigger["previous_insurance"]
    return {
        "claimant_name": trigger["claimant"]["name"],
        "claimant_id_number": trigger["claimant"]["id_number"],
        "previous_division": previous["division"],
        "previous_region_name": previous["region_name"],
        "insured_from": previous["insured_from"],
        "insured_until": previous["insured_until"],
    }


def transfer_record(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The previous office's answer: the months it transfers, fewer where its record has gaps."""
    start, end = request["insured_from"], request["insured_until"]
    assert isinstance(start, dt.date) and isinstance(end, dt.date)
    months = months_between(start, end)
    if rng.random() < RECORD_GAP_PROBABILITY:
        months = max(0, months - rng.randint(1, 3))
    return {"transferred_months": str(months)}


def to_approval(case: CaseView) -> Record:
    trigger = case.trigger
    separation = trigger["separation"]
    account = trigger["payment_account"]
    transferred = int((case.replies.get(TRANSFER_STEP) or {}).get("transferred_months", 0))
    return {
        "claim_kind": trigger["claim_kind"],
        "claimed_on": trigger["claimed_on"],
        "claimant_name": trigger["claimant"]["name"],
        "claimant_id_number": trigger["claimant"]["id_number"],
        "employer_uscc": separation["employer_uscc"],
        "separated_on": separation["separated_on"],
        "separation_reason": separation["reason"],
        "contribution_months": trigger["insured_months_local"] + transferred,
        "transferred_months": transferred,
        "payment_bank_code": account["bank_code"],
        "payment_card_number": account["card_number"],
    }


def insured_elsewhere(trigger: Record) -> bool:
    return trigger.get("previous_insurance") is not None


FLOW = FlowSpec(
    id="F14",
    title="Unemployment benefit claim: insurance relationship transferred, claim decided at once",
    measures=("M40",),
    source=Source(
        agency="hrss",
        topic="hrss.unemployment-benefit-claimed.v1",
        schema="f14/UnemploymentBenefitClaimed.avsc",
        mix_type=UnemploymentClaimMix,
        build=UnemploymentClaimGenerator,
    ),
    steps=(
        Step(
            TRANSFER_STEP,
            "take over the unemployment-insurance relationship from the previous office",
            agency="hrss",
            topic="hrss.insurance-relationship-transfer-request.v1",
            schema="f14/InsuranceRelationshipTransferRequest.avsc",
            request=to_transfer,
            applies=insured_elsewhere,
            reply=transfer_record,
            reply_fields=("transferred_months",),
        ),
        Step(
            APPROVAL_STEP,
            "approve the claim and order its payment",
            agency="hrss",
            topic="hrss.benefit-approval-request.v1",
            schema="f14/BenefitApprovalRequest.avsc",
            request=to_approval,
            after=(TRANSFER_STEP,),
        ),
    ),
    spans=(
        Span(
            "claim-decided",
            "trigger",
            f"{APPROVAL_STEP}.acted",
            "from the claim to its approval and payment order",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M40",
            quote_zh="失业补助金、失业保险金申领不超过1个工作日",
            meaning="a claim for the unemployment subsidy or benefit is decided within one "
            "working day; transfer and approval are settled on the spot (即办即结)",
        ),
    ),
)
