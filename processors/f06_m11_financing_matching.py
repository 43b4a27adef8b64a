"""F06 — plan measure 11: a company's financing demand, published on the 渝中融 platform, matched
to the banks' loan products; the matched banks answer with offers and the company chooses.

Plan text (渝中府办〔2021〕16号, measure 11): "完善银企融资对接机制。……通过互联网、宣传册等载体
完善融资供需信息发布。鼓励引导银行机构依托“渝快融”“渝企金服”等平台，持续丰富产品供给，深化普惠金融
服务。实现线上智能接合，加快推动“渝中融”特色平台建设，汇集银企融资信息，实现企业融资需求与金融机构
融资产品精准智能对接。"

Meaning: the district's own platform, 渝中融, gathers the banks' and the companies' financing
information, and matches each company's financing demand precisely and automatically to the
banks' products (精准智能对接).

The case starts with a demand published on the platform (finance-office), already matched to
the products of several banks (the platform matches as it publishes). Then:

- `offer` (bank), once per matched bank (`Each`): the bank weighs the demand against its
  product and answers with an offer (request/reply: the amount and the annual rate), or
  declines (a rejected item). The bank learns the demand and the company, not the company's
  contact person, whom the platform puts in touch with the bank the company chooses.
- `deadline` (a wait on the company): how long the company waits for offers.
- `choose` (finance-office): the company's choice among the offers that came, recorded on the
  platform. It starts once k offers are in (the step `offer` finishes at `AtLeast(k)`; two by
  default, a scenario sets `steps.offer.join`), or once every matched bank has answered with
  fewer, or when the deadline passes (`until`) with what has come, none included. Banks still
  out when the company chooses answer all the same. The platform's service time here stands
  for the company deciding: the platform records a choice as it is made.

Spans: `demand-to-first-offer` (to `offer.first`, the first bank's offer) and
`demand-to-choice`. A demand no bank made an offer on never reaches `offer.first`, so the
share of demands with no offer is one less the first-offer span's count over the whole case's.
The plan sets no time here ("—").
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from processors.events import Record
from processors.flow import (
    AtLeast,
    CaseView,
    Each,
    FlowSpec,
    PlanTarget,
    Source,
    Span,
    Step,
    item_unit,
)
from producers.finance_office import FinancingDemandGenerator, FinancingDemandMix

OFFER = "offer"
DEADLINE = "deadline"
CHOOSE = "choose"
OFFERS_BEFORE_CHOOSING = 2
"""The company chooses once two offers are in (author's reading: one offer is no choice)."""


def products(case: CaseView) -> Sequence[Record]:
    """One item per matched bank: its product the platform matched the demand to."""
    return list(case.trigger["matched_products"])


def to_bank(case: CaseView) -> Record:
    """The demand as one matched bank sees it: the company's need and the bank's product."""
    trigger, item = case.trigger, case.item
    assert item is not None
    return {
        "demand_no": trigger["demand_no"],
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
        "industry": trigger["industry"],
        "amount_yuan": trigger["amount_yuan"],
        "term_months": trigger["term_months"],
        "purpose": trigger["purpose"],
        "collateral": trigger["collateral"],
        "bank_code": item["bank_code"],
        "product_code": item["product_code"],
    }


def make_offer(request: Record, rng: random.Random) -> Mapping[str, str]:
    """A bank's offer: up to the amount asked, at a rate about the loan prime rate (3.85 % in
    2021) plus the bank's margin for a small firm's risk (author's reading)."""
    asked = int(request["amount_yuan"])
    share = 1.0 if rng.random() < 0.7 else rng.choice((0.5, 0.6, 0.8))
    rate = 3.85 + rng.uniform(0.2, 2.5) - (0.3 if request["collateral"] else 0.0)
    return {"offered_amount_yuan": str(round(asked * share)), "annual_rate_percent": f"{rate:.2f}"}


def to_choice(case: CaseView) -> Record:
    """The offers that had come when the company chose, bank by bank."""
    offers = []
    for item in case.trigger["matched_products"]:
        reply = case.replies.get(item_unit(OFFER, str(item["bank_code"])))
        if reply is not None:
            offers.append(
                {
                    "bank_code": item["bank_code"],
                    "product_code": item["product_code"],
                    "offered_amount_yuan": reply["offered_amount_yuan"],
                    "annual_rate_percent": reply["annual_rate_percent"],
                }
            )
    return {
        "demand_no": case.trigger["demand_no"],
        "uscc": case.trigger["uscc"],
        "matched_banks": len(case.trigger["matched_products"]),
        "offers": offers,
    }


FLOW = FlowSpec(
    id="F06",
    title="A financing demand matched to banks' products on 渝中融: offers, the company's choice",
    measures=("M11",),
    source=Source(
        agency="finance-office",
        topic="finance-office.financing-demand-published.v1",
        schema="f06/FinancingDemandPublished.avsc",
        mix_type=FinancingDemandMix,
        build=FinancingDemandGenerator,
    ),
    steps=(
        Step(
            OFFER,
            "a matched bank answers the demand with an offer, or declines",
            agency="bank",
            topic="bank.financing-demand-matched.v1",
            schema="f06/MatchedDemand.avsc",
            request=to_bank,
            reply=make_offer,
            reply_fields=("offered_amount_yuan", "annual_rate_percent"),
            each=Each(
                products,
                lambda item: str(item["bank_code"]),
                kind="bank",
                join=AtLeast(OFFERS_BEFORE_CHOOSING),
            ),
        ),
        Step(DEADLINE, "how long the company waits for offers", agency=None, party="company"),
        Step(
            CHOOSE,
            "the company chooses among the offers that came, on the platform",
            agency="finance-office",
            topic="finance-office.financing-choice-request.v1",
            schema="f06/FinancingChoiceRequest.avsc",
            request=to_choice,
            after=(OFFER, DEADLINE),
            until=DEADLINE,
            after_rejection="run",
        ),
    ),
    spans=(
        Span(
            "demand-to-first-offer",
            "trigger",
            f"{OFFER}.first",
            "from the demand published to the first bank's offer; a demand no bank offered on "
            "never reaches it",
        ),
        Span(
            "demand-to-choice",
            "trigger",
            f"{CHOOSE}.acted",
            "from the demand published to the company's choice",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M11",
            quote_zh="实现企业融资需求与金融机构融资产品精准智能对接",
            meaning="companies' financing demands matched precisely and automatically to the "
            "banks' products; the plan sets no time",
        ),
    ),
)
