"""F21 — plan measure 18: a bidder's electronic guarantee (电子保函), issued by a bank or an
insurer and verified by the procurement platform with its issuer, for a bid before it closes.

Plan text (渝中府办〔2021〕16号, measure 18): "降低招标投标参与成本。鼓励以电子保函形式进行投标
担保、低价风险担保、履约担保、支付担保，减轻市场主体资金占用压力。"

Meaning: lower the cost of taking part in tenders; encourage electronic guarantees for bids,
against low-price risk, for performance and for payment, so that firms do not tie up cash in
deposits.

The source is `finance-bureau`'s procurement platform: the bidder asks through its guarantee
service, which passes the request to the issuer the bidder chose. The issuer is the case's
data (`issuer.kind`), so the issuing step is routed by it:

- `bank-issue` (bank): a bank issues an electronic letter of guarantee (银行保函). It reviews
  the applicant's basic account, which only it receives. A request/reply step: the answer is
  the guarantee's number.
- `insurer-issue` (insurer): an insurer issues a guarantee-insurance policy (保证保险保单)
  instead. `insurer` is a new party: the property insurers that write guarantee insurance for
  bidders in Chongqing (PICC, Ping An, CPIC, …), answering on their own systems as a bank
  does. It learns the applicant and its contact, never its bank account.
- `verification` (finance-bureau): the platform verifies the guarantee with its issuer (保函
  核验, the issuer's online check of the number it gave) and records it against the bid. It
  runs after whichever issuer applied (the other is skipped); a refused guarantee leaves
  nothing to verify, and the verification is cancelled.
- `bid-closing`: for a bid guarantee, the bid's own closing time (投标截止), a wait outside any
  agency whose length the case's data gives (`minutes_to_bid_close`, how long after the request
  the bid closes). Nobody acts on it: it marks the moment the verification had to beat. The
  other kinds of guarantee come after the bid's opening and have no closing time.

Spans: `request-to-verified`, from the bidder's request to the verified guarantee, the flow's
whole work. `verified-after-close`, from the bid's close to the verification, which the books
record as zero when the verification came first (a span ends no earlier than it starts): a
bid guarantee verified by the close spans 0, a late one spans its lateness, so "every bid
guarantee verified before its bid closed" is a target of `max` within 0 s on it. A Rule could
not say this: a rule reads the trigger, and whether the verification beat the close is not in
the trigger but in the case's marks.

The plan sets no time for the guarantee (FLOWS.md: "—"): every time in the study scenario is
its author's.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from processors.events import Record
from processors.flow import Applies, CaseView, FlowSpec, PlanTarget, Source, Span, Step
from producers.bid_guarantee import (
    BANK,
    INSURER,
    GuaranteeMix,
    GuaranteeRequestGenerator,
    guarantee_number,
)

BANK_ISSUE = "bank-issue"
INSURER_ISSUE = "insurer-issue"
VERIFICATION = "verification"
BID_CLOSING = "bid-closing"
TIMETABLE = "bid-timetable"
"""Who a bid's closing is waited on: the tender's own timetable, set in its documents."""
MINUTE = 60.0


def issued_by(kind: str) -> Applies:
    def applies(trigger: Record) -> bool:
        return trigger["issuer"]["kind"] == kind

    applies.__doc__ = f"Whether the bidder chose an issuer of kind {kind}."
    return applies


def is_bid(trigger: Record) -> bool:
    """A bid guarantee, which must be verified before the bid closes."""
    return trigger["guarantee_kind"] == "BID" and trigger["minutes_to_bid_close"] is not None


def until_close(trigger: Record) -> float:
    """Seconds from the request to the bid's close, as the tender's documents set it."""
    return float(trigger["minutes_to_bid_close"]) * MINUTE


def _application(trigger: Record) -> dict[str, object]:
    """What any issuer reviews: the guarantee, the project, its beneficiary and the applicant."""
    bidder, beneficiary = trigger["bidder"], trigger["beneficiary"]
    return {
        "guarantee_kind": trigger["guarantee_kind"],
        "project_no": trigger["project_no"],
        "project_name": trigger["project_name"],
        "beneficiary_name": beneficiary["name"],
        "beneficiary_uscc": beneficiary["uscc"],
        "bidder_name": bidder["name"],
        "bidder_uscc": bidder["uscc"],
        "contact_name": bidder["contact_name"],
        "contact_phone": bidder["contact_phone"],
        "amount_yuan": trigger["amount_yuan"],
    }


def to_bank(case: CaseView) -> Record:
    bidder = case.trigger["bidder"]
    return {
        **_application(case.trigger),
        "account_bank_code": bidder["account_bank_code"],
        "account_number": bidder["account_number"],
        "bank_code": case.trigger["issuer"]["code"],
    }


def to_insurer(case: CaseView) -> Record:
    return {**_application(case.trigger), "insurer_code": case.trigger["issuer"]["code"]}


def bank_guarantee(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The bank's answer: its letter of guarantee's number."""
    return {"guarantee_number": guarantee_number(rng, BANK)}


def insurer_policy(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The insurer's answer: its guarantee-insurance policy's number."""
    return {"guarantee_number": guarantee_number(rng, INSURER)}


def to_verification(case: CaseView) -> Record:
    trigger = case.trigger
    issuer = trigger["issuer"]
    issued = case.replies.get(BANK_ISSUE) or case.replies.get(INSURER_ISSUE) or {}
    return {
        "guarantee_kind": trigger["guarantee_kind"],
        "guarantee_number": str(issued.get("guarantee_number", "")),
        "issuer_kind": issuer["kind"],
        "issuer_code": issuer["code"],
        "project_no": trigger["project_no"],
        "bidder_uscc": trigger["bidder"]["uscc"],
        "bidder_name": trigger["bidder"]["name"],
        "amount_yuan": trigger["amount_yuan"],
    }


FLOW = FlowSpec(
    id="F21",
    title="Electronic guarantee: issued by a bank or an insurer, verified by the platform",
    measures=("M18",),
    source=Source(
        agency="finance-bureau",
        topic="finance-bureau.e-guarantee-requested.v1",
        schema="f21/EGuaranteeRequested.avsc",
        mix_type=GuaranteeMix,
        build=GuaranteeRequestGenerator,
    ),
    steps=(
        Step(
            BANK_ISSUE,
            "issue an electronic letter of guarantee",
            agency="bank",
            topic="bank.e-guarantee-issue-request.v1",
            schema="f21/BankGuaranteeRequest.avsc",
            request=to_bank,
            applies=issued_by(BANK),
            reply=bank_guarantee,
            reply_fields=("guarantee_number",),
        ),
        Step(
            INSURER_ISSUE,
            "issue a guarantee-insurance policy as an electronic guarantee",
            agency="insurer",
            topic="insurer.e-guarantee-issue-request.v1",
            schema="f21/InsurerGuaranteeRequest.avsc",
            request=to_insurer,
            applies=issued_by(INSURER),
            reply=insurer_policy,
            reply_fields=("guarantee_number",),
        ),
        Step(
            VERIFICATION,
            "verify the guarantee with its issuer and record it against the bid",
            agency="finance-bureau",
            topic="finance-bureau.e-guarantee-verification-request.v1",
            schema="f21/GuaranteeVerificationRequest.avsc",
            request=to_verification,
            after=(BANK_ISSUE, INSURER_ISSUE),
        ),
        Step(
            BID_CLOSING,
            "the bid closes (投标截止)",
            agency=None,
            applies=is_bid,
            party=TIMETABLE,
            lasts=until_close,
        ),
    ),
    spans=(
        Span(
            "request-to-verified",
            "trigger",
            f"{VERIFICATION}.acted",
            "from the bidder's request to the guarantee verified by the platform",
        ),
        Span(
            "verified-after-close",
            f"{BID_CLOSING}.acted",
            f"{VERIFICATION}.acted",
            "how long after its bid closed a bid guarantee was verified (0: before the close)",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M18",
            quote_zh="鼓励以电子保函形式进行投标担保、低价风险担保、履约担保、支付担保，"
            "减轻市场主体资金占用压力",
            meaning="electronic guarantees for bids, low-price risk, performance and payment, "
            "instead of cash deposits; the plan sets no time",
        ),
    ),
)
