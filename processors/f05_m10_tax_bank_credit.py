"""F05 — plan measure 10: a bank weighs a company's credit loan on the tax, social-insurance and
public-credit data the agencies share with it (银税互动).

Plan text (渝中府办〔2021〕16号, measure 10): "依托信用建设加强金融产品创新。引导银行加大商业价值
信用贷款、科技型企业知识价值信用贷款供给力度，推动“银税互动”扩面放量。充分利用渝中区公共信用数据库，
加强与银行对接，探索基于公共信用的融资模式。……推动税务、社保、公共服务机构与金融机构数据信息共享，
引导金融机构加大信用贷款规模。"

Meaning: banks are to lend more on credit alone, on the strength of what tax (银税互动), social
insurance and the public credit database (公共信用数据库) know of a company: those agencies
share their data with the banks, and the banks lend on it.

The case starts with a company's application to a bank for a credit loan, authorising the bank
to ask about it (授权书). Then:

- `tax-credit` (tax), `social-insurance` (hrss) and `public-credit` (drc), at once: each source
  answers the bank's query with its own data on the company (request/reply): tax its tax credit
  grade (纳税信用等级) and the taxes paid over the last twelve months; hrss the employees
  insured and the months contributed; drc the dishonesty records it holds and its public
  credit rating. Each learns only who asks, about which company, and on what authorisation:
  never the amount asked for, nor the legal representative's identity.
- `deadline` (a wait, the bank's own): how long the bank waits for the data before deciding on
  what it has. A product sold as quick cannot wait on the slowest source.
- `decide` (bank): the credit decision, on the application and every answer that came. It
  starts once all three sources have answered, or when the deadline passes (`until`), with the
  sources still out named as missing. A source that refuses does not stop it
  (`after_rejection="run"`): the bank decides without that source's data, as at the deadline.

The span `application-to-decision` is the bank's turnaround. How often the deadline decided:
a deadline the three answers beat is withdrawn and sets no mark, so the `deadline` wait's
`acted` count is the decisions taken at the deadline (its latency the deadline itself), beside
the whole case's count, and so is the span `application-to-deadline`'s. The plan sets no time
target here ("—").
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from processors.events import Record
from processors.flow import CaseView, FlowSpec, PlanTarget, Reply, Source, Span, Step
from producers.bank_credit import CreditLoanApplicationGenerator, CreditLoanMix

TAX = "tax-credit"
SOCIAL_INSURANCE = "social-insurance"
PUBLIC_CREDIT = "public-credit"
DEADLINE = "deadline"
DECIDE = "decide"
SOURCES = (TAX, SOCIAL_INSURANCE, PUBLIC_CREDIT)

TAX_GRADES = ("A", "B", "M", "C", "D")
TAX_GRADE_WEIGHTS = (0.2, 0.45, 0.25, 0.07, 0.03)
"""纳税信用等级 A/B/M/C/D (国家税务总局公告2014年第48号, M for new and small firms). The shares
are the scenario author's reading of the published grade distributions: most firms that apply
are B or M."""
PUBLIC_RATINGS = ("A", "B", "C", "D")
PUBLIC_RATING_WEIGHTS = (0.3, 0.55, 0.12, 0.03)
"""A public credit rating as credit portals grade market entities (author's reading)."""
LISTED_PROBABILITY = 0.03
"""Share of applicants with a dishonesty record in the database (author's reading)."""


def query(case: CaseView) -> Record:
    """What a source needs to answer: who asks, about which company, on what authorisation."""
    trigger = case.trigger
    return {
        "application_no": trigger["application_no"],
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
        "bank_name": trigger["bank"]["bank_name"],
        "bank_code": trigger["bank"]["bank_code"],
        "authorisation_no": trigger["authorisation_no"],
    }


def tax_record(request: Record, rng: random.Random) -> Mapping[str, str]:
    """Tax's answer: the company's grade and the taxes it paid in the last twelve months."""
    grade = rng.choices(TAX_GRADES, TAX_GRADE_WEIGHTS)[0]
    paid = round(rng.lognormvariate(11.3, 1.0), -2)  # median about 80,000 yuan
    return {"tax_credit_grade": grade, "tax_paid_yuan": f"{paid:.0f}"}


def contributions(request: Record, rng: random.Random) -> Mapping[str, str]:
    """hrss's answer: the employees insured now, and the months of the last twelve paid."""
    insured = min(300, round(rng.lognormvariate(1.8, 0.9)))
    months = 12 if rng.random() < 0.85 else rng.randint(0, 11)
    return {"insured_employees": str(insured), "months_contributed": str(months)}


def public_record(request: Record, rng: random.Random) -> Mapping[str, str]:
    """drc's answer: the dishonesty records it holds on the company, and its rating."""
    records = 1 + int(rng.expovariate(1.5)) if rng.random() < LISTED_PROBABILITY else 0
    rating = rng.choices(PUBLIC_RATINGS, PUBLIC_RATING_WEIGHTS)[0] if not records else "D"
    return {"dishonesty_records": str(records), "public_credit_rating": rating}


REPLY_FIELDS = {
    TAX: ("tax_credit_grade", "tax_paid_yuan"),
    SOCIAL_INSURANCE: ("insured_employees", "months_contributed"),
    PUBLIC_CREDIT: ("dishonesty_records", "public_credit_rating"),
}


def to_decision(case: CaseView) -> Record:
    """The bank's credit decision: its own application, and what each source answered; a
    source that had not answered by the deadline (or refused) is named as missing."""
    trigger = case.trigger
    data: dict[str, object] = {}
    missing = []
    for source, fields in REPLY_FIELDS.items():
        reply = case.replies.get(source)
        if reply is None:
            missing.append(source)
        for name in fields:
            data[name] = None if reply is None else reply.get(name)
    return {
        "application_no": trigger["application_no"],
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
        "product": trigger["product"],
        "amount_yuan": trigger["amount_yuan"],
        "term_months": trigger["term_months"],
        **data,
        "missing_sources": missing,
    }


def _source(step_id: str, title: str, agency: str, topic: str, schema: str, reply: Reply) -> Step:
    """A source's step: the bank's query, answered with the source's own data."""
    return Step(
        step_id,
        title,
        agency=agency,
        topic=topic,
        schema=schema,
        request=query,
        reply=reply,
        reply_fields=REPLY_FIELDS[step_id],
    )


FLOW = FlowSpec(
    id="F05",
    title="Tax, social-insurance and public-credit data for a bank's credit loan (银税互动)",
    measures=("M10",),
    source=Source(
        agency="bank",
        topic="bank.credit-loan-application.v1",
        schema="f05/CreditLoanApplication.avsc",
        mix_type=CreditLoanMix,
        build=CreditLoanApplicationGenerator,
    ),
    steps=(
        _source(
            TAX,
            "tax answers with the company's tax credit grade and taxes paid",
            "tax",
            "tax.bank-credit-query.v1",
            "f05/TaxCreditQuery.avsc",
            tax_record,
        ),
        _source(
            SOCIAL_INSURANCE,
            "hrss answers with the company's social-insurance contributions",
            "hrss",
            "hrss.bank-credit-query.v1",
            "f05/ContributionQuery.avsc",
            contributions,
        ),
        _source(
            PUBLIC_CREDIT,
            "drc answers from the district's public credit database",
            "drc",
            "drc.bank-credit-query.v1",
            "f05/PublicCreditQuery.avsc",
            public_record,
        ),
        Step(DEADLINE, "the bank's own deadline for the credit data", agency=None, party="bank"),
        Step(
            DECIDE,
            "the bank decides the credit loan on the data that came",
            agency="bank",
            topic="bank.credit-loan-decision-request.v1",
            schema="f05/CreditDecisionRequest.avsc",
            request=to_decision,
            after=(*SOURCES, DEADLINE),
            until=DEADLINE,
            after_rejection="run",
        ),
    ),
    spans=(
        Span(
            "application-to-decision",
            "trigger",
            f"{DECIDE}.acted",
            "from the company's application to the bank's credit decision",
        ),
        Span(
            "application-to-deadline",
            "trigger",
            f"{DEADLINE}.acted",
            "from the application to the deadline, in the cases it decided: a deadline the "
            "three answers beat is withdrawn and never reached, so this span's count is the "
            "decisions taken at the deadline",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M10",
            quote_zh="推动税务、社保、公共服务机构与金融机构数据信息共享，引导金融机构加大信用贷款规模",
            meaning="tax, social insurance and public-service bodies share their data with the "
            "banks so that they lend more on credit; the plan sets no time",
        ),
    ),
)
