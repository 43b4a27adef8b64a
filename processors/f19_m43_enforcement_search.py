"""F19 — plan measure 43: an enforcement case's asset search and freezing at every bank holding
the debtor's accounts and at the real-estate register, then the disposal's milestones.

Plan text (渝中府办〔2021〕16号, measure 43): "重点推进动产处置执行准备、执行立案、首次拍卖、二次
拍卖等各时间节点优化，减少执行耗时。……加快执行查控，提高财产保全工作效率。"

The case starts with the filing (执行立案): from the court's own filings, or handed over by F15
when an effective judgment's creditor applies for enforcement. Then:

- `bank-freeze`, once per bank: each bank where the debtor holds accounts receives its own
  freezing order (执行查控), naming only the accounts held there. The step is done when every
  bank has answered; a scenario may read the plan's "加快" as the first bank, or k of them
  (`join: {at_least: 2}`), to start the disposal sooner.
- `property-freeze`: the real-estate register seizes the debtor's property, beside the banks.
- `disposal-preparation` (执行准备): the court prepares the seized assets for sale, once the
  search has finished.
- `first-auction`, then `second-auction` where the first does not sell (首次拍卖、二次拍卖):
  waits on the online auction platform (网络拍卖), whose announcement periods are the law's,
  not an agency's queue.

The plan sets no number ("加快", speed up); the study scenario's targets are its author's.
"""

from __future__ import annotations

from collections.abc import Sequence

from processors.events import Record
from processors.flow import CaseView, Each, FlowSpec, PlanTarget, Source, Span, Step
from producers.court import EnforcementFiledGenerator, EnforcementMix

BANK_FREEZE = "bank-freeze"
PROPERTY_FREEZE = "property-freeze"
PREPARATION = "disposal-preparation"
FIRST_AUCTION = "first-auction"
SECOND_AUCTION = "second-auction"


def debtor(trigger: Record) -> dict[str, object]:
    party = trigger["debtor"]
    return {
        "debtor_name": party["name"],
        "debtor_uscc": party.get("uscc"),
        "debtor_id_number": party.get("id_number"),
    }


def banks(case: CaseView) -> Sequence[Record]:
    """One item per bank holding the debtor's accounts, with the accounts held there."""
    held: dict[str, list[str]] = {}
    for account in case.trigger["debtor_bank_accounts"]:
        held.setdefault(account["bank_code"], []).append(account["account_number"])
    return [{"bank_code": code, "account_numbers": numbers} for code, numbers in held.items()]


def to_bank(case: CaseView) -> Record:
    assert case.item is not None
    return {
        "enforcement_number": case.trigger["enforcement_number"],
        **debtor(case.trigger),
        "bank_code": case.item["bank_code"],
        "accounts": [{"account_number": n} for n in case.item["account_numbers"]],
        "amount_yuan": case.trigger["amount_yuan"],
    }


def to_register(case: CaseView) -> Record:
    return {
        "enforcement_number": case.trigger["enforcement_number"],
        **debtor(case.trigger),
        "properties": [
            {"certificate_number": p["certificate_number"], "address": p["address"]}
            for p in case.trigger["debtor_properties"]
        ],
    }


def to_preparation(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "enforcement_number": trigger["enforcement_number"],
        "movables": trigger["movables"],
        "property_count": len(trigger["debtor_properties"]),
        "amount_yuan": trigger["amount_yuan"],
    }


def something_to_sell(trigger: Record) -> bool:
    return bool(trigger["movables"] or trigger["debtor_properties"])


def unsold_at_first(trigger: Record) -> bool:
    return something_to_sell(trigger) and not trigger["first_auction_sells"]


FLOW = FlowSpec(
    id="F19",
    title="Enforcement: asset search and freezing at each bank and the register, then auctions",
    measures=("M43",),
    source=Source(
        agency="court",
        topic="court.enforcement-case-filed.v1",
        schema="f19/EnforcementCaseFiled.avsc",
        mix_type=EnforcementMix,
        build=EnforcementFiledGenerator,
    ),
    steps=(
        Step(
            BANK_FREEZE,
            "freeze the debtor's accounts at a bank",
            agency="bank",
            topic="bank.account-freeze-request.v1",
            schema="f19/BankFreezeRequest.avsc",
            request=to_bank,
            each=Each(banks, lambda item: str(item["bank_code"]), kind="bank"),
        ),
        Step(
            PROPERTY_FREEZE,
            "seize the debtor's real estate",
            agency="real-estate",
            topic="real-estate.property-freeze-request.v1",
            schema="f19/PropertyFreezeRequest.avsc",
            request=to_register,
            applies=lambda trigger: bool(trigger["debtor_properties"]),
        ),
        Step(
            PREPARATION,
            "prepare the seized assets for disposal",
            agency="court",
            topic="court.disposal-preparation-request.v1",
            schema="f19/DisposalPreparationRequest.avsc",
            request=to_preparation,
            after=(BANK_FREEZE, PROPERTY_FREEZE),
            applies=something_to_sell,
        ),
        Step(
            FIRST_AUCTION,
            "the first online auction",
            agency=None,
            after=(PREPARATION,),
            applies=something_to_sell,
            party="auction-platform",
        ),
        Step(
            SECOND_AUCTION,
            "the second online auction, where the first did not sell",
            agency=None,
            after=(FIRST_AUCTION,),
            applies=unsold_at_first,
            party="auction-platform",
        ),
    ),
    spans=(
        Span(
            "search-and-freeze",
            "trigger",
            f"{BANK_FREEZE}.acted",
            "from the filing to the accounts frozen at the banks (执行查控)",
        ),
        Span(
            "to-first-auction",
            "trigger",
            f"{FIRST_AUCTION}.acted",
            "from the filing to the first auction's end (首次拍卖)",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M43",
            quote_zh="加快执行查控，提高财产保全工作效率",
            meaning="speed up asset search and freezing; the plan sets no number",
        ),
    ),
)
