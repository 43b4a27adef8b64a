"""F02 — plan measure 3: a company is issued its electronic business licence and electronic
seal, free of charge, as it is established, and uses them at the housing fund, at its bank and
at the real-estate register.

Plan text (渝中府办〔2021〕16号, measure 3): "推广电子营业执照及电子印章应用。企业设立即免费发放
电子营业执照和电子印章。拓宽电子营业执照和电子印章在公积金缴存、银行网点对公账户开立、企业房产
在线抵押运用等政务服务事项的应用场景，并逐步扩大到公共事业、商务活动等领域。"

Started by F01, at its trigger. "设立即发放" issues the licence on establishment, and F01's
trigger is the establishment: the register's record of the company set up (measure 1, which
F01's trigger stands for). The register's own registration is no step of F01, whose steps are
the bank, social insurance, tax and the housing fund acting on that record, and the licence
waits for none of them. So every F01 case starts an F02 case as it opens (`at=TRIGGER`), and
the F02 case opens at the establishment's own time. F02 declares this itself (`started_by`):
F01's module is not F02's to change, and discovery folds the hand-over into F01's. A study of
F02 alone may also give it arrivals of its own, drawn as F01 draws establishments.

The steps and why they depend as they do:

- `issue` (amr): the register's e-licence system issues the licence and the seal (免费发放).
  A request/reply step: the answer is the licence's identifier and the seal's code, which every
  place that accepts them checks against the register. The request carries the entries the
  licence shows and its holder, the legal representative, whose identity number and phone
  serve the real-name check when the holder claims them.
- Then, for each place the plan names, a wait for the company's first use there (the company,
  not an agency, decides when), and that agency accepting the licence and seal:
  - `first-deposit`, then `deposit-acceptance` (housing-fund): the unit's first deposit
    (公积金缴存). A company with no employees deposits for nobody, as in F01: both are skipped.
  - `account-visit`, then `account-opening` (bank): the basic account opened at a branch
    (银行网点对公账户开立) of the bank the company chose on establishment.
  - `mortgage-application`, then `mortgage-acceptance` (real-estate): the company's property
    mortgaged online (企业房产在线抵押), only where it mortgages any.
  Each agency learns the company and the licence and seal it checks, never an identity number;
  the bank also the representative's name, who signs in person. If the issuance is refused,
  there is nothing to use: the waits and acceptances are cancelled.

The spans: `establishment-to-issued` is the plan's "设立即发放", from the establishment to the
licence and seal issued. From the issuance to the first accepted use the spans are per place
(`issued-to-deposit`, `issued-to-account`, `issued-to-mortgage`), not one span to the first
use anywhere: the plan names three places, and each asks its own question (does the fund, the
bank, the register take the e-licence instead of paper?); a company comes to each in its own
time, for its own reasons, so a first use anywhere would be its bank visit almost always and
would hide the fund and the register. These spans are mostly the company's own time; what an
agency controls is from the company's arrival to its acceptance (e.g. a target from
`account-visit.acted` to `account-opening.acted`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from processors.events import Record
from processors.flow import (
    TRIGGER,
    Applies,
    CaseView,
    FlowSpec,
    PlanTarget,
    Source,
    Span,
    StartedBy,
    Step,
    always,
)
from producers import identifiers
from producers.amr_e_licence import ELicenceDueGenerator, ELicenceMix, e_licence_due
from producers.ids import event_id

ISSUE = "issue"
FIRST_DEPOSIT = "first-deposit"
DEPOSIT = "deposit-acceptance"
ACCOUNT_VISIT = "account-visit"
ACCOUNT = "account-opening"
MORTGAGE_APPLICATION = "mortgage-application"
MORTGAGE = "mortgage-acceptance"
COMPANY = "company"
"""Who is waited on before each place accepts the licence: the company, deciding when it
comes."""


def on_establishment(case: CaseView, case_id: str) -> Record:
    """F02's trigger from an F01 case: the company as the register established it. Whether it
    mortgages property is drawn from the establishment's own event id, which the seed fixes,
    so both engines hand over the same company (the kafka engine's case ids carry its run's
    id), at the default mix's share."""
    established = case.trigger
    rng = random.Random(f"handover:{established['event_id']}")
    mortgages = rng.random() < ELicenceMix().mortgage_probability
    return e_licence_due(established, case_id, event_id(rng), mortgages)


def _company(trigger: Record) -> dict[str, object]:
    return {"uscc": trigger["uscc"], "company_name": trigger["company_name"]}


def _issued(case: CaseView) -> dict[str, object]:
    """The licence and seal as the register issued them, which each place checks."""
    issued = case.replies.get(ISSUE) or {}
    return {"licence_id": issued["licence_id"], "e_seal_code": issued["e_seal_code"]}


def to_register(case: CaseView) -> Record:
    trigger = case.trigger
    holder = trigger["legal_representative"]
    return {
        **_company(trigger),
        "legal_form": trigger["legal_form"],
        "established_on": trigger["established_on"],
        "registered_address": trigger["registered_address"],
        "registered_capital_yuan": trigger["registered_capital_yuan"],
        "legal_representative_name": holder["name"],
        "legal_representative_id_number": holder["id_number"],
        "legal_representative_phone": holder["phone"],
    }


def issue_licence(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The register's answer: the e-licence's identifier and the e-seal's code."""
    return {
        "licence_id": f"EL{request['uscc']}{rng.randrange(10**5, 10**6)}",
        "e_seal_code": identifiers.seal_number(rng),
    }


def to_housing_fund(case: CaseView) -> Record:
    return {**_company(case.trigger), **_issued(case)}


def to_bank(case: CaseView) -> Record:
    trigger = case.trigger
    bank = trigger["account_bank"]
    return {
        **_company(trigger),
        "legal_representative_name": trigger["legal_representative"]["name"],
        "bank_name": bank["bank_name"],
        "bank_code": bank["bank_code"],
        **_issued(case),
    }


def to_real_estate(case: CaseView) -> Record:
    return {**_company(case.trigger), **_issued(case)}


def has_employees(trigger: Record) -> bool:
    return bool(trigger["employee_count"])


def mortgages_property(trigger: Record) -> bool:
    return bool(trigger["mortgages_property"])


def first_use(step_id: str, title: str, applies: Applies = always) -> Step:
    """The wait for the company's first use of the licence and seal at one place."""
    return Step(step_id, title, agency=None, after=(ISSUE,), applies=applies, party=COMPANY)


FLOW = FlowSpec(
    id="F02",
    title="E-business-licence and e-seal issued on establishment, accepted by fund, bank, register",
    measures=("M3",),
    source=Source(
        agency="amr",
        topic="amr.e-licence-due.v1",
        schema="f02/ELicenceDue.avsc",
        mix_type=ELicenceMix,
        build=ELicenceDueGenerator,
    ),
    steps=(
        Step(
            ISSUE,
            "issue the e-business-licence and e-seal",
            agency="amr",
            topic="amr.e-licence-issue-request.v1",
            schema="f02/ELicenceIssueRequest.avsc",
            request=to_register,
            reply=issue_licence,
            reply_fields=("licence_id", "e_seal_code"),
        ),
        first_use(FIRST_DEPOSIT, "the company makes its first housing-fund deposit", has_employees),
        Step(
            DEPOSIT,
            "accept the e-licence and e-seal for the unit's deposit",
            agency="housing-fund",
            topic="housing-fund.e-licence-deposit-request.v1",
            schema="f02/DepositELicenceRequest.avsc",
            request=to_housing_fund,
            after=(FIRST_DEPOSIT,),
            applies=has_employees,
        ),
        first_use(ACCOUNT_VISIT, "the company comes to its bank to open its basic account"),
        Step(
            ACCOUNT,
            "accept the e-licence and e-seal to open the basic account",
            agency="bank",
            topic="bank.e-licence-account-opening-request.v1",
            schema="f02/AccountOpeningELicenceRequest.avsc",
            request=to_bank,
            after=(ACCOUNT_VISIT,),
        ),
        first_use(
            MORTGAGE_APPLICATION,
            "the company applies online to mortgage its property",
            mortgages_property,
        ),
        Step(
            MORTGAGE,
            "accept the e-licence and e-seal on the online mortgage",
            agency="real-estate",
            topic="real-estate.e-licence-mortgage-request.v1",
            schema="f02/MortgageELicenceRequest.avsc",
            request=to_real_estate,
            after=(MORTGAGE_APPLICATION,),
            applies=mortgages_property,
        ),
    ),
    started_by=(
        StartedBy(
            "F01",
            TRIGGER,
            on_establishment,
            title="every company established is issued its e-licence and e-seal at once",
        ),
    ),
    spans=(
        Span(
            "establishment-to-issued",
            TRIGGER,
            f"{ISSUE}.acted",
            "from the company's establishment to its e-licence and e-seal issued",
        ),
        Span(
            "issued-to-deposit",
            f"{ISSUE}.acted",
            f"{DEPOSIT}.acted",
            "from the issuance to the housing fund accepting them for the first deposit",
        ),
        Span(
            "issued-to-account",
            f"{ISSUE}.acted",
            f"{ACCOUNT}.acted",
            "from the issuance to the bank accepting them to open the basic account",
        ),
        Span(
            "issued-to-mortgage",
            f"{ISSUE}.acted",
            f"{MORTGAGE}.acted",
            "from the issuance to the register accepting them on the online mortgage",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M3",
            quote_zh="拓宽电子营业执照和电子印章在公积金缴存、银行网点对公账户开立、企业房产在线抵押"
            "运用等政务服务事项的应用场景",
            meaning="the housing fund, the banks' branches and the real-estate register accept "
            "them for deposits, account opening and online mortgages; the plan sets no time",
        ),
        PlanTarget(
            measure="M3",
            quote_zh="企业设立即免费发放电子营业执照和电子印章",
            meaning="a company is issued its e-business-licence and e-seal free of charge as it "
            "is established",
        ),
    ),
)
