"""F01 — plan measures 1 and 2: a company established on the one-stop platform is set up at
the bank, social insurance, tax and the housing fund from the register's data.

Plan text (渝中府办〔2021〕16号, measure 2): "提升“一网通”平台智能化水平，推进商业银行实时生成
企业账户预约账号、员工参保自动办理，引导企业通过“一网通”平台首次办理税务和社保事项，实现“一个平台”
全覆盖。" Measure 1 ("优化开办企业服务") is the establishment itself, which the register's trigger
stands for.

The steps and why they depend as they do:

- `bank-reservation`: the chosen bank generates the account reservation number in real time
  (实时生成企业账户预约账号). A request/reply step: the number is the answer, and later steps use
  it. The bank learns whom to expect and how to call them, never an identity number.
- `social-insurance`: the unit is registered and its employees enrolled automatically
  (员工参保自动办理). It needs nothing from the bank, so it starts with the trigger; it is the
  only step besides the housing fund that sees employees' identity numbers, because it enrols
  them.
- `tax-registration`: the first tax registration (首次办理税务事项) records the account taxes
  are deducted from, so it follows the bank and reads the reserved number from the bank's
  reply. Tax gets the legal representative's identity (real-name registration) and only a
  count of employees.
- `housing-fund`: the unit deposit account, collected from the same reserved account, so it
  follows the bank too. A company with no employees has nobody to deposit for: the step does
  not apply to it.

If the bank refuses the reservation, tax and the housing fund still register the company,
without an account number (the company reports it later), so a case always completes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from processors.events import Record
from processors.flow import CaseView, FlowSpec, PlanTarget, Source, Step
from producers import identifiers
from producers.amr_establishment import CompanyEstablishmentGenerator, EstablishmentMix

BANK_STEP = "bank-reservation"


def _company(trigger: Record) -> dict[str, object]:
    return {
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
        "established_on": trigger["established_on"],
        "registered_address": trigger["registered_address"],
        "legal_representative_name": trigger["legal_representative"]["name"],
    }


def _bank(case: CaseView) -> dict[str, object]:
    """The chosen bank and, once it has answered, the account number it reserved."""
    bank = case.trigger["account_bank"]
    reply = case.replies.get(BANK_STEP) or {}
    return {
        "bank_name": bank["bank_name"],
        "bank_code": bank["bank_code"],
        "account_number": reply.get("reservation_number"),
    }


def to_bank(case: CaseView) -> Record:
    trigger = case.trigger
    bank = trigger["account_bank"]
    return {
        **_company(trigger),
        "legal_representative_phone": trigger["legal_representative"]["phone"],
        "bank_name": bank["bank_name"],
        "bank_code": bank["bank_code"],
    }


def reserve_account(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The bank's answer: the basic account's number, in the bank's own format, reserved now."""
    bank = identifiers.bank_by_code(str(request["bank_code"]))
    return {"reservation_number": identifiers.bank_account_number(rng, bank)}


def to_social_insurance(case: CaseView) -> Record:
    return {
        **_company(case.trigger),
        "employees": [
            {
                "name": e["name"],
                "id_number": e["id_number"],
                "insured_from": e["employed_from"],
                "contribution_base_yuan": e["monthly_wage_yuan"],
            }
            for e in case.trigger["employees"]
        ],
    }


def to_tax(case: CaseView) -> Record:
    trigger = case.trigger
    legal = trigger["legal_representative"]
    return {
        **_company(trigger),
        "registered_capital_yuan": trigger["registered_capital_yuan"],
        "vat_taxpayer_kind": trigger["vat_taxpayer_kind"],
        "legal_representative_id_number": legal["id_number"],
        "legal_representative_phone": legal["phone"],
        "employee_count": len(trigger["employees"]),
        **_bank(case),
    }


def to_housing_fund(case: CaseView) -> Record:
    return {
        **_company(case.trigger),
        **_bank(case),
        "employees": [
            {
                "name": e["name"],
                "id_number": e["id_number"],
                "deposit_base_yuan": e["monthly_wage_yuan"],
            }
            for e in case.trigger["employees"]
        ],
    }


def has_employees(trigger: Record) -> bool:
    return bool(trigger["employees"])


FLOW = FlowSpec(
    id="F01",
    title="Company establishment shared with the bank, social insurance, tax and housing fund",
    measures=("M1", "M2"),
    source=Source(
        agency="amr",
        topic="amr.company-established.v1",
        schema="f01/CompanyEstablished.avsc",
        mix_type=EstablishmentMix,
        build=CompanyEstablishmentGenerator,
    ),
    steps=(
        Step(
            BANK_STEP,
            "reserve the company's basic account number",
            agency="bank",
            topic="bank.account-reservation-request.v1",
            schema="f01/BankAccountReservationRequest.avsc",
            request=to_bank,
            reply=reserve_account,
            reply_fields=("reservation_number",),
        ),
        Step(
            "social-insurance",
            "register the unit for social insurance and enrol its employees",
            agency="hrss",
            topic="hrss.social-insurance-registration-request.v1",
            schema="f01/SocialInsuranceRegistrationRequest.avsc",
            request=to_social_insurance,
        ),
        Step(
            "tax-registration",
            "register the new taxpayer with the reserved account for deductions",
            agency="tax",
            topic="tax.taxpayer-registration-request.v1",
            schema="f01/TaxRegistrationRequest.avsc",
            request=to_tax,
            after=(BANK_STEP,),
            after_rejection="run",  # registered all the same, with no account for deductions
        ),
        Step(
            "housing-fund",
            "open the unit's housing-fund deposit account and its employees' accounts",
            agency="housing-fund",
            topic="housing-fund.unit-account-opening-request.v1",
            schema="f01/HousingFundAccountOpeningRequest.avsc",
            request=to_housing_fund,
            after=(BANK_STEP,),
            applies=has_employees,
            after_rejection="run",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M2",
            quote_zh="推进商业银行实时生成企业账户预约账号、员工参保自动办理",
            meaning="the bank generates the account reservation number in real time; employees "
            "are enrolled in social insurance automatically",
        ),
    ),
)
