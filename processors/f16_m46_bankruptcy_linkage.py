"""F16 — plan measures 44 to 46: a bankruptcy ruling shared by the court with the government
(府院联动), which settles the company's register entry, taxes, credit, employees and accounts,
and deregisters a liquidated company.

Plan text (渝中府办〔2021〕16号, measure 46): "持续巩固“府院”协调机制，统筹推进企业破产过程中
信息共享、信用修复、财产处置、企业注销、涉税办理、风险防范等事项。推动建立破产企业职工权益保障
机制，协调解决职工社会保险关系转移、退休人员社会化管理、档案接转等事项". Measures 44 and 45
ask for shorter proceedings (缩短案件审理周期) and cheaper disposal (网络拍卖).

The court's ruling reaches every agency at once; each acts on what it holds:

- `register-notice` (amr): the register records the ruling (信息共享).
- `tax-handling` (tax): the company's taxes settled with its administrator (涉税办理).
- `credit-repair` (drc): a reorganised company on a dishonesty list has its record repaired
  (信用修复); a liquidated one has nothing to repair for.
- `insurance-transfer` (hrss): the employees' social-insurance relationships moved out of the
  company (职工社会保险关系转移), where it still has employees.
- `bank-notice`, once per bank: each bank holding the company's accounts is told of the ruling
  and handles them under the administrator (财产处置); it learns only its own accounts.
- `deregistration` (amr): a liquidated company is deregistered (企业注销) once its taxes,
  employees and accounts are settled.

The deregistration hands over to F03: the register's deregistration is shared with police,
banks and the housing fund, as for any company. The span `ruling-to-accounts-closed` runs across
the hand-over, from the ruling to the company's accounts closed in F03.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from processors.events import Record
from processors.flow import CaseView, Each, FlowSpec, Handover, PlanTarget, Source, Span, Step
from producers.court import BankruptcyMix, BankruptcyRulingGenerator, deregistration_from_ruling

REGISTER = "register-notice"
TAX = "tax-handling"
CREDIT = "credit-repair"
EMPLOYEES = "insurance-transfer"
BANKS = "bank-notice"
DEREGISTRATION = "deregistration"


def company(trigger: Record) -> dict[str, object]:
    return {
        "ruling_number": trigger["ruling_number"],
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
    }


def to_register(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        **company(trigger),
        "ruled_on": trigger["ruled_on"],
        "procedure": trigger["procedure"],
        "administrator_name": trigger["administrator_name"],
    }


def to_tax(case: CaseView) -> Record:
    return {**to_register(case), "tax_arrears_yuan": case.trigger["tax_arrears_yuan"]}


def to_drc(case: CaseView) -> Record:
    return {**company(case.trigger), "ruled_on": case.trigger["ruled_on"]}


def to_hrss(case: CaseView) -> Record:
    return {
        **company(case.trigger),
        "employees": [
            {"name": e["name"], "id_number": e["id_number"], "insured_months": e["insured_months"]}
            for e in case.trigger["employees"]
        ],
    }


def banks(case: CaseView) -> Sequence[Record]:
    """One item per bank holding the company's accounts, with the accounts held there."""
    held: dict[str, list[Record]] = {}
    for account in case.trigger["bank_accounts"]:
        held.setdefault(account["bank_code"], []).append(
            {"account_number": account["account_number"], "account_kind": account["account_kind"]}
        )
    return [{"bank_code": code, "accounts": accounts} for code, accounts in held.items()]


def to_bank(case: CaseView) -> Record:
    assert case.item is not None
    trigger = case.trigger
    return {
        **company(trigger),
        "ruled_on": trigger["ruled_on"],
        "administrator_name": trigger["administrator_name"],
        "bank_code": case.item["bank_code"],
        "accounts": list(case.item["accounts"]),
    }


def to_deregistration(case: CaseView) -> Record:
    return {**company(case.trigger), "administrator_name": case.trigger["administrator_name"]}


def liquidated(trigger: Record) -> bool:
    return trigger["procedure"] == "LIQUIDATION"


def deregistered(case: CaseView, case_id: str) -> Record:
    """F03's trigger: the company as the register deregisters it, its seals, accounts and
    housing-fund account carried forward from the ruling."""
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"govstream:{case_id}"))
    return deregistration_from_ruling(case.trigger, case_id, case.trigger["ruled_on"], event_id)


FLOW = FlowSpec(
    id="F16",
    title="Bankruptcy ruling shared with the government: register, tax, credit, employees, banks",
    measures=("M44", "M45", "M46"),
    source=Source(
        agency="court",
        topic="court.bankruptcy-ruled.v1",
        schema="f16/BankruptcyRuled.avsc",
        mix_type=BankruptcyMix,
        build=BankruptcyRulingGenerator,
    ),
    steps=(
        Step(
            REGISTER,
            "record the ruling in the company register",
            agency="amr",
            topic="amr.bankruptcy-notice-request.v1",
            schema="f16/BankruptcyNoticeRequest.avsc",
            request=to_register,
        ),
        Step(
            TAX,
            "settle the company's taxes with its administrator",
            agency="tax",
            topic="tax.bankruptcy-tax-request.v1",
            schema="f16/TaxHandlingRequest.avsc",
            request=to_tax,
        ),
        Step(
            CREDIT,
            "repair the reorganised company's credit record",
            agency="drc",
            topic="drc.credit-repair-request.v1",
            schema="f16/CreditRepairRequest.avsc",
            request=to_drc,
            applies=lambda trigger: not liquidated(trigger) and bool(trigger["dishonest"]),
        ),
        Step(
            EMPLOYEES,
            "move the employees' social-insurance relationships",
            agency="hrss",
            topic="hrss.bankruptcy-insurance-transfer-request.v1",
            schema="f16/InsuranceTransferRequest.avsc",
            request=to_hrss,
            applies=lambda trigger: bool(trigger["employees"]),
        ),
        Step(
            BANKS,
            "handle the company's accounts at a bank under the administrator",
            agency="bank",
            topic="bank.bankruptcy-notice-request.v1",
            schema="f16/BankNoticeRequest.avsc",
            request=to_bank,
            each=Each(banks, lambda item: str(item["bank_code"]), kind="bank"),
        ),
        Step(
            DEREGISTRATION,
            "deregister the liquidated company",
            agency="amr",
            topic="amr.bankruptcy-deregistration-request.v1",
            schema="f16/DeregistrationRequest.avsc",
            request=to_deregistration,
            after=(REGISTER, TAX, EMPLOYEES, BANKS),
            applies=liquidated,
        ),
    ),
    handovers=(
        Handover(
            "F03",
            f"{DEREGISTRATION}.acted",
            deregistered,
            applies=liquidated,
            title="the deregistration is shared with police, banks and the housing fund",
        ),
    ),
    spans=(
        Span(
            "ruling-shared",
            "trigger",
            f"{BANKS}.acted",
            "from the ruling to every bank holding the company's accounts acting on it",
        ),
        Span(
            "ruling-to-deregistration",
            "trigger",
            f"{DEREGISTRATION}.acted",
            "from the ruling to the liquidated company deregistered",
        ),
        Span(
            "ruling-to-accounts-closed",
            "trigger",
            "F03:bank.acted",
            "from the ruling to the company's bank accounts closed after its deregistration (F03)",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M46",
            quote_zh="统筹推进企业破产过程中信息共享、信用修复、财产处置、企业注销、涉税办理",
            meaning="the ruling is shared so that credit, assets, deregistration and taxes are "
            "settled together; the plan sets no time",
        ),
        PlanTarget(
            measure="M46",
            quote_zh="协调解决职工社会保险关系转移",
            meaning="the employees' social-insurance relationships are moved out of the company",
        ),
    ),
)
