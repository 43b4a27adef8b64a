"""F08 — plan measure 25: one survey result shared in real time between the project approval
systems and recognised by each, and an approval that starts before a missing document arrives
and is completed when it is filed (容缺后补).

Plan text (渝中府办〔2021〕16号, measure 25): "提升工程建设项目审批服务水平。……依托信用体系
建设，探索“容缺后补”的审批机制。加快推动工程建设项目全流程在线审批，尽快实现多种业务系统数据
实时共享，推动对同一标的物的测绘成果共享互认。"

Meaning: the approval systems of construction (lead, 区住房城市建委), real estate (区规划自然
资源局) and drc (区发展改革委) share their data in real time; a survey of one building serves
all of them (测绘成果共享互认), so no department has it surveyed again; and, for developers of
good credit, an approval may go ahead with a document missing, the document filed later.

The trigger is construction's approval system recording a survey result filed with a project's
application for its joint completion acceptance (联合竣工验收). Then:

- `recognise-construction`, `recognise-real-estate`, `recognise-drc`: each department takes the
  one survey result into its own file (互认): construction for the completion acceptance,
  real estate for the planning check and first registration, drc for the investment project's
  record. A fan-out from the trigger; each request carries the result and the project, nobody's
  contact. The spans `survey-shared-<agency>` time each. The survey is filed on construction's
  own system, so its recognition is the acceptance clerk's, in office hours; real estate's and
  drc's are their systems', and the plan's 实时 (data shared between the systems) reads those.
- `late-document` (a wait, party: `developer`): where the application was filed with a document
  missing, the developer filing it later. It runs beside everything else.
- `review` (construction): the acceptance reviewed on the recognised survey, without waiting
  for the missing document where the developer's credit allows 容缺 (grade A or B), or where
  nothing is missing. It depends only on the survey's recognition.
- `review-after-document` (construction): where a document is missing and the developer's credit
  does not allow 容缺 (grade C), the review waits for the document: the approval without 容缺,
  in the same run, to compare against.
- `completion` (construction): the acceptance completed, once it is reviewed and the file is
  whole (后补): it depends on both reviews (only one applies) and on the late document.

What 容缺后补 saves shows in `document-to-approved`, from the late document's arrival to the
acceptance completed: with 容缺 it is the completion alone, the review being done before the
document came; without it, the review and the completion. `approved` spans the whole approval.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from processors.events import Record
from processors.flow import TRIGGER, Applies, CaseView, FlowSpec, PlanTarget, Source, Span, Step
from producers.construction import SurveyMix, SurveyResultGenerator

RECOGNISERS = ("construction", "real-estate", "drc")
LATE_DOCUMENT = "late-document"
REVIEW = "review"
REVIEW_AFTER_DOCUMENT = "review-after-document"
COMPLETION = "completion"
DEVELOPER = "developer"
"""Who is waited on for a missing document: the developer, filing it later."""
TRUSTED = ("A", "B")
"""Credit grades that allow 容缺后补 (依托信用体系建设)."""


def recognise(agency: str) -> str:
    return f"recognise-{agency}"


def missing_document(trigger: Record) -> bool:
    return bool(trigger["documents_pending"])


def trusted(trigger: Record) -> bool:
    return trigger["developer"]["credit_grade"] in TRUSTED


def review_before_document(trigger: Record) -> bool:
    """Reviewed on the recognised survey alone: nothing missing, or 容缺 allowed."""
    return not missing_document(trigger) or trusted(trigger)


def review_waits_for_document(trigger: Record) -> bool:
    return not review_before_document(trigger)


def to_system(case: CaseView) -> Record:
    trigger = case.trigger
    project, survey = trigger["project"], trigger["survey"]
    return {
        "project_code": project["code"],
        "project_name": project["name"],
        "floor_area_m2": project["floor_area_m2"],
        "result_number": survey["result_number"],
        "survey_kind": survey["kind"],
        "surveyor_uscc": survey["surveyor_uscc"],
        "surveyor_name": survey["surveyor_name"],
        "completed_on": survey["completed_on"],
    }


def to_review(case: CaseView) -> Record:
    trigger = case.trigger
    developer = trigger["developer"]
    return {
        "project_code": trigger["project"]["code"],
        "project_name": trigger["project"]["name"],
        "developer_uscc": developer["uscc"],
        "developer_name": developer["company_name"],
        "credit_grade": developer["credit_grade"],
        "result_number": trigger["survey"]["result_number"],
        "documents_received": list(trigger["documents_received"]),
        "documents_pending": list(trigger["documents_pending"]),
        "contact_name": developer["contact_name"],
        "contact_phone": developer["contact_phone"],
    }


def review_opinion(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The review's answer: the number of its opinion, which the completion quotes."""
    return {"review_number": f"YS{request['project_code'][-6:]}{rng.randrange(10**4):04d}"}


def to_completion(case: CaseView) -> Record:
    trigger = case.trigger
    reviewed = case.replies.get(REVIEW) or case.replies.get(REVIEW_AFTER_DOCUMENT) or {}
    return {
        "project_code": trigger["project"]["code"],
        "developer_uscc": trigger["developer"]["uscc"],
        "developer_name": trigger["developer"]["company_name"],
        "review_number": reviewed["review_number"],
        "documents_filed_late": list(trigger["documents_pending"]),
    }


def _review(step_id: str, title: str, after: tuple[str, ...], applies: Applies) -> Step:
    return Step(
        step_id,
        title,
        agency="construction",
        topic=f"construction.completion-{step_id}-request.v1",
        schema="f08/AcceptanceReviewRequest.avsc",
        request=to_review,
        after=after,
        applies=applies,
        reply=review_opinion,
        reply_fields=("review_number",),
    )


FLOW = FlowSpec(
    id="F08",
    title="Project approval: one survey result shared and recognised; approval with 容缺后补",
    measures=("M25",),
    source=Source(
        agency="construction",
        topic="construction.survey-result-filed.v1",
        schema="f08/SurveyResultFiled.avsc",
        mix_type=SurveyMix,
        build=SurveyResultGenerator,
    ),
    steps=(
        *(
            Step(
                recognise(agency),
                "take the shared survey result into the system's own file (测绘成果共享互认)",
                agency=agency,
                topic=f"{agency}.survey-recognition-request.v1",
                schema="f08/SurveyRecognitionRequest.avsc",
                request=to_system,
            )
            for agency in RECOGNISERS
        ),
        Step(
            LATE_DOCUMENT,
            "the developer files the missing document (后补)",
            agency=None,
            applies=missing_document,
            party=DEVELOPER,
        ),
        _review(
            REVIEW,
            "review the completion acceptance on the recognised survey (容缺: before the "
            "missing document)",
            (recognise("construction"),),
            review_before_document,
        ),
        _review(
            REVIEW_AFTER_DOCUMENT,
            "review the completion acceptance once the missing document is filed (no 容缺)",
            (recognise("construction"), LATE_DOCUMENT),
            review_waits_for_document,
        ),
        Step(
            COMPLETION,
            "complete the acceptance on the whole file",
            agency="construction",
            topic="construction.completion-acceptance-request.v1",
            schema="f08/AcceptanceCompletionRequest.avsc",
            request=to_completion,
            after=(REVIEW, REVIEW_AFTER_DOCUMENT, LATE_DOCUMENT),
        ),
    ),
    spans=(
        *(
            Span(
                f"survey-shared-{agency}",
                TRIGGER,
                f"{recognise(agency)}.acted",
                f"from the survey result filed to {agency}'s system recognising it",
            )
            for agency in RECOGNISERS
        ),
        Span(
            "reviewed",
            TRIGGER,
            f"{REVIEW}.acted",
            "容缺 or a whole file: from the survey result filed to the acceptance reviewed",
        ),
        Span(
            "document-to-approved",
            f"{LATE_DOCUMENT}.acted",
            f"{COMPLETION}.acted",
            "from the missing document filed to the acceptance completed: what is left once it "
            "comes (with 容缺 the completion alone, without it the review too)",
        ),
        Span(
            "document-to-reviewed",
            f"{LATE_DOCUMENT}.acted",
            f"{REVIEW_AFTER_DOCUMENT}.acted",
            "without 容缺 only: from the missing document filed to the review it waited for, "
            "the time 容缺 moves before the document",
        ),
        Span(
            "approved",
            TRIGGER,
            f"{COMPLETION}.acted",
            "from the survey result filed to the acceptance completed",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M25",
            quote_zh="尽快实现多种业务系统数据实时共享，推动对同一标的物的测绘成果共享互认",
            meaning="the approval systems share data in real time, and one survey of a building "
            "is recognised by all of them; the plan sets no number (实时 is a word)",
        ),
        PlanTarget(
            measure="M25",
            quote_zh="依托信用体系建设，探索“容缺后补”的审批机制",
            meaning="for applicants of good credit, an approval goes ahead with a document "
            "missing, filed later; the plan sets no time",
        ),
    ),
)
