"""F03 — plan measure 5: a deregistration shared in real time with police, banks, housing fund.

Plan text (渝中府办〔2021〕16号, measure 5): "将企业注销信息实时与公安、银行、公积金等单位共享，
便于企业快捷办理公章注销、银行账户注销、公积金账户注销等事项。"

A fan-out: every step depends only on the trigger. Each recipient's request copies only what its
contract names: police learn the seals and the legal representative's name, never accounts or
identity numbers; banks learn the accounts they hold; the housing fund learns its unit account.
A company with no bank account or no housing-fund account has no step for that recipient, so
its case completes without it.
"""

from __future__ import annotations

from processors.events import Record
from processors.flow import CaseView, FlowSpec, PlanTarget, Source, Step
from producers.amr import CompanyDeregistrationGenerator, DeregistrationMix


def _common(trigger: Record) -> dict[str, object]:
    return {
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
        "deregistered_on": trigger["deregistered_on"],
    }


def to_police(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        **_common(trigger),
        "legal_representative_name": trigger["legal_representative"]["name"],
        "seals": [{"seal_no": s["seal_no"], "kind": s["kind"]} for s in trigger["seals"]],
    }


def to_bank(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        **_common(trigger),
        "accounts": [
            {
                "bank_name": a["bank_name"],
                "bank_code": a["bank_code"],
                "account_number": a["account_number"],
                "account_kind": a["account_kind"],
            }
            for a in trigger["bank_accounts"]
        ],
    }


def to_housing_fund(case: CaseView) -> Record:
    account = case.trigger["housing_fund_account"]
    return {
        **_common(case.trigger),
        "unit_account_number": account["unit_account_number"],
        "employees": account["employees"],
    }


FLOW = FlowSpec(
    id="F03",
    title="Company deregistration shared with police, banks and the housing fund",
    measures=("M5",),
    source=Source(
        agency="amr",
        topic="amr.company-deregistered.v1",
        schema="f03/CompanyDeregistered.avsc",
        mix_type=DeregistrationMix,
        build=CompanyDeregistrationGenerator,
    ),
    steps=(
        Step(
            "police",
            "cancel the company's seals",
            agency="police",
            topic="police.seal-cancellation-request.v1",
            schema="f03/SealCancellationRequest.avsc",
            request=to_police,
            applies=lambda trigger: bool(trigger["seals"]),
        ),
        Step(
            "bank",
            "close the company's bank accounts",
            agency="bank",
            topic="bank.account-closure-request.v1",
            schema="f03/BankAccountClosureRequest.avsc",
            request=to_bank,
            applies=lambda trigger: bool(trigger["bank_accounts"]),
        ),
        Step(
            "housing-fund",
            "close the unit's housing-fund account",
            agency="housing-fund",
            topic="housing-fund.account-closure-request.v1",
            schema="f03/HousingFundClosureRequest.avsc",
            request=to_housing_fund,
            applies=lambda trigger: trigger.get("housing_fund_account") is not None,
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M5",
            quote_zh="将企业注销信息实时与公安、银行、公积金等单位共享",
            meaning="deregistration data reaches police, banks and the housing fund in real time",
        ),
    ),
)
