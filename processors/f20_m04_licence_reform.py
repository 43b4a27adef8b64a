"""F20 — plan measure 4: 证照分离, the separation of operating licences from the business
licence: a licensing matter a company's business scope needs is abolished, turned into a
filing, granted on a commitment or approved faster, and the licensing department takes the
company's data from the register instead of asking the company again.

Plan text (渝中府办〔2021〕16号, measure 4): "持续深化“证照分离”改革。按照市级统一部署，加快部门间
信息共享对接，按照直接取消、审批改备案、实行告知承诺制、优化审批服务四种方式推动涉企经营许可事项
清单化管理，对涉企经营许可事项应减尽减。……推动行政审批改为行政备案的事项有序纳入“多证合一”
范围，……实现“一网受理、一单告知、一表申请、一标核准、一窗发照”。" — speed up the departments'
information sharing; manage every licensing matter in a list, each handled one of four ways
(abolished, approval turned into a filing, notice and commitment, optimised approval), cutting
all that can be cut; one online intake, one notice, one form, one approval, one window.

The source agency is `amr`: the register records the company (its establishment or a change of
its business scope) and tells the company and the department at once which matter the scope
needs (一单告知, 双告知); its record starts the case. The departments and the matters they
handle, one matter for each way (`producers.amr_licensing`):

- `transport` — the District Transport Bureau (区交通局), a department the plan's agency
  list does not name: road freight with vehicles of 4.5 t or less, whose permit is abolished
  (直接取消审批). `supervision-intake`: the bureau takes the company into its supervision
  after the fact; there is nothing for the company to apply for.
- `amr` — its food-safety desk: selling only prepackaged food, a filing instead of a permit
  (审批改为备案). `filing-submission`, the company filing as it opens its shop (a wait, the
  company the party), then `filing-record`, the desk recording it without review.
- `health` — the District Health Commission (区卫生健康委), also not in the plan's list: the
  hygiene permit of a public place (hotel, salon, bath), granted on the company's signed
  commitment (实行告知承诺). `commitment-signing` (a wait for the company), then
  `permit-on-commitment`, the permit issued on the commitment, checked later.
- `hrss` — the labour-dispatch permit, still reviewed, with fewer materials (优化审批服务).
  `application-submission` (a wait for the company), then `permit-approval`.

Each department's request carries the company's data as the register holds it, and only what
that department needs (the transport bureau no identity number, since it licenses nobody; the
health commission and hrss the legal representative's, who signs or is licensed); the waits for
the company carry nothing, for the company restates nothing the register holds.

The spans, per way, so a reviewer sees what each saves: from the register's notice to the
matter settled (`notice-to-supervised`, `notice-to-filed`, `notice-to-permit-on-commitment`,
`notice-to-permit-approved`), and for the three ways where the company still acts, from its
filing, commitment or application to the department's answer (`filing-to-recorded`,
`commitment-to-permit`, `application-to-permit`): that part is the department's, and it is
what the reform shortens. The plan sets no time for M4 (FLOWS.md: "—"); the study scenario's
targets are its author's.
"""

from __future__ import annotations

from processors.events import Record
from processors.flow import Applies, CaseView, FlowSpec, PlanTarget, Source, Span, Step
from producers.amr_licensing import LicensingMatterGenerator, LicensingMix

SUPERVISION = "supervision-intake"
FILING_SUBMISSION = "filing-submission"
FILING_RECORD = "filing-record"
COMMITMENT_SIGNING = "commitment-signing"
PERMIT_ON_COMMITMENT = "permit-on-commitment"
APPLICATION = "application-submission"
APPROVAL = "permit-approval"
COMPANY = "company"
"""Who is waited on before a filing, commitment or application reaches its department."""


def _way(way: str) -> Applies:
    def applies(trigger: Record) -> bool:
        return trigger["way"] == way

    applies.__name__ = f"applies_{way.lower()}"
    return applies


abolished = _way("ABOLISHED")
filing = _way("FILING")
commitment = _way("COMMITMENT")
optimised = _way("OPTIMISED")


def _company(trigger: Record) -> dict[str, object]:
    return {
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
        "legal_representative_name": trigger["legal_representative"]["name"],
        "business_scope_item": trigger["business_scope_item"],
    }


def _premises(trigger: Record) -> dict[str, object]:
    premises = trigger["premises"]
    return {"premises_address": premises["address"], "premises_area_m2": premises["area_m2"]}


def to_transport(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        **_company(trigger),
        "registered_on": trigger["registered_on"],
        "registered_address": trigger["registered_address"],
        "legal_representative_phone": trigger["legal_representative"]["phone"],
        "vehicle_count": trigger["vehicle_count"],
    }


def to_food_desk(case: CaseView) -> Record:
    return {**_company(case.trigger), **_premises(case.trigger)}


def to_health(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        **_company(trigger),
        "legal_representative_id_number": trigger["legal_representative"]["id_number"],
        **_premises(trigger),
        "premises_kind": trigger["premises"]["kind"],
    }


def to_hrss(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        **_company(trigger),
        "registered_address": trigger["registered_address"],
        "registered_capital_yuan": trigger["registered_capital_yuan"],
        "legal_representative_id_number": trigger["legal_representative"]["id_number"],
        **_premises(trigger),
    }


def company_acts(step_id: str, title: str, applies: Applies) -> Step:
    """The wait for the company's own filing, commitment or application."""
    return Step(step_id, title, agency=None, applies=applies, party=COMPANY)


FLOW = FlowSpec(
    id="F20",
    title="证照分离: a licensing matter abolished, filed, granted on commitment or approved faster",
    measures=("M4",),
    source=Source(
        agency="amr",
        topic="amr.licensing-matter-notified.v1",
        schema="f20/LicensingMatterNotified.avsc",
        mix_type=LicensingMix,
        build=LicensingMatterGenerator,
    ),
    steps=(
        Step(
            SUPERVISION,
            "take the company into supervision: its permit is abolished (直接取消审批)",
            agency="transport",
            topic="transport.supervision-intake-request.v1",
            schema="f20/SupervisionIntakeRequest.avsc",
            request=to_transport,
            applies=abolished,
        ),
        company_acts(FILING_SUBMISSION, "the company files as it opens its shop", filing),
        Step(
            FILING_RECORD,
            "record the prepackaged-food filing (审批改为备案)",
            agency="amr",
            topic="amr.food-filing-request.v1",
            schema="f20/FoodFilingRequest.avsc",
            request=to_food_desk,
            after=(FILING_SUBMISSION,),
            applies=filing,
        ),
        company_acts(COMMITMENT_SIGNING, "the company signs its commitment", commitment),
        Step(
            PERMIT_ON_COMMITMENT,
            "issue the hygiene permit on the commitment (实行告知承诺)",
            agency="health",
            topic="health.hygiene-permit-request.v1",
            schema="f20/HygienePermitRequest.avsc",
            request=to_health,
            after=(COMMITMENT_SIGNING,),
            applies=commitment,
        ),
        company_acts(APPLICATION, "the company applies for the permit", optimised),
        Step(
            APPROVAL,
            "review and decide the labour-dispatch permit (优化审批服务)",
            agency="hrss",
            topic="hrss.dispatch-permit-request.v1",
            schema="f20/DispatchPermitRequest.avsc",
            request=to_hrss,
            after=(APPLICATION,),
            applies=optimised,
        ),
    ),
    spans=(
        Span(
            "notice-to-supervised",
            "trigger",
            f"{SUPERVISION}.acted",
            "abolished: from the register's notice to the department holding the company's data",
        ),
        Span(
            "notice-to-filed",
            "trigger",
            f"{FILING_RECORD}.acted",
            "filing: from the register's notice to the filing recorded",
        ),
        Span(
            "notice-to-permit-on-commitment",
            "trigger",
            f"{PERMIT_ON_COMMITMENT}.acted",
            "commitment: from the register's notice to the permit issued on it",
        ),
        Span(
            "notice-to-permit-approved",
            "trigger",
            f"{APPROVAL}.acted",
            "optimised approval: from the register's notice to the permit decided",
        ),
        Span(
            "filing-to-recorded",
            f"{FILING_SUBMISSION}.acted",
            f"{FILING_RECORD}.acted",
            "filing: from the company's filing to its record",
        ),
        Span(
            "commitment-to-permit",
            f"{COMMITMENT_SIGNING}.acted",
            f"{PERMIT_ON_COMMITMENT}.acted",
            "commitment: from the signed commitment to the permit",
        ),
        Span(
            "application-to-permit",
            f"{APPLICATION}.acted",
            f"{APPROVAL}.acted",
            "optimised approval: from the application to the decision",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M4",
            quote_zh="加快部门间信息共享对接，按照直接取消、审批改备案、实行告知承诺制、优化审批服务"
            "四种方式推动涉企经营许可事项清单化管理",
            meaning="departments share the company's data; each licensing matter is abolished, "
            "filed, granted on commitment or approved faster; the plan sets no time",
        ),
    ),
)
