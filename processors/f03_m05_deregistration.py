"""F03 — plan measure 5: a deregistration shared in real time with police, banks, housing fund.

Plan text (渝中府办〔2021〕16号, measure 5): "将企业注销信息实时与公安、银行、公积金等单位共享，
便于企业快捷办理公章注销、银行账户注销、公积金账户注销等事项。"

Each recipient's projection copies only what its contract names: police learn the seals and
the legal representative's name, never accounts or identity numbers; banks learn the accounts
they hold; the housing fund learns its unit account. A company with no bank account or no
housing-fund account has no request for that recipient, so its case completes without it.
"""

from __future__ import annotations

from processors.events import Record
from processors.flow import FlowSpec, PlanTarget, Route, request_id


def _common(trigger: Record, recipient: str) -> dict[str, object]:
    case_id = str(trigger["case_id"])
    return {
        "request_id": request_id(case_id, recipient),
        "case_id": case_id,
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
        "deregistered_on": trigger["deregistered_on"],
    }


def to_police(trigger: Record) -> Record | None:
    seals = list(trigger["seals"])
    if not seals:
        return None
    return {
        **_common(trigger, "police"),
        "legal_representative_name": trigger["legal_representative"]["name"],
        "seals": [{"seal_no": s["seal_no"], "kind": s["kind"]} for s in seals],
    }


def to_bank(trigger: Record) -> Record | None:
    accounts = list(trigger["bank_accounts"])
    if not accounts:
        return None
    return {
        **_common(trigger, "bank"),
        "accounts": [
            {
                "bank_name": a["bank_name"],
                "bank_code": a["bank_code"],
                "account_number": a["account_number"],
                "account_kind": a["account_kind"],
            }
            for a in accounts
        ],
    }


def to_housing_fund(trigger: Record) -> Record | None:
    account = trigger.get("housing_fund_account")
    if account is None:
        return None
    return {
        **_common(trigger, "housing-fund"),
        "unit_account_number": account["unit_account_number"],
        "employees": account["employees"],
    }


FLOW = FlowSpec(
    id="F03",
    title="Company deregistration shared with police, banks and the housing fund",
    measures=("M5",),
    source_agency="amr",
    source_topic="amr.company-deregistered.v1",
    outcome_topic="f03.recipient-outcome.v1",
    completed_topic="f03.case-completed.v1",
    routes=(
        Route("police", "police.seal-cancellation-request.v1", to_police),
        Route("bank", "bank.account-closure-request.v1", to_bank),
        Route("housing-fund", "housing-fund.account-closure-request.v1", to_housing_fund),
    ),
    plan_targets=(
        PlanTarget(
            measure="M5",
            quote_zh="将企业注销信息实时与公安、银行、公积金等单位共享",
            meaning="deregistration data reaches police, banks and the housing fund in real time",
        ),
    ),
)
