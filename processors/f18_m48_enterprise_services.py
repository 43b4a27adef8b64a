"""F18 — plan measure 48: policies pushed to the enterprises they concern, and enterprises'
requests settled by the responsible department and answered, on the district's online
enterprise-service platform.

Plan text (渝中府办〔2021〕16号, measure 48): "搭建网上企业服务平台。全面推行“互联网+”服务模式，
积极搭建涉企政策统一发布推送平台，为区内企业提供全生命周期的智慧服务，实现惠企政策一网速查、
一网通办、全程网办和企业诉求在线提交、按时办结、及时反馈，实现企业服务高效精准、政策服务科学
智慧。（牵头单位：区政务服务办，责任单位：各产业部门、各管委会）"

Meaning: build an online enterprise-service platform; a single platform that publishes and
pushes policies concerning enterprises; enterprises' requests submitted online, settled on
time and answered promptly. Led by the Government Services Office (`gov-services`), with the
industry departments and the zones' management committees responsible.

One flow, two parts: the platform's event says which (`kind`), and `applies` runs that part's
steps only. They are one flow because they are one platform, the plan's one measure and one
source: a study of the platform's load sees both on its one desk. Two flows would have needed
two sources drawing the same directory of enterprises.

- A policy published (`POLICY_PUBLISHED`): `push`, done once per enterprise its matching rule
  picks from the platform's directory (industry, size, sub-district), each its own request to
  the platform's push service (gov-services), answered when the push reached the enterprise's
  account and phone. A push that cannot reach (a number no longer in use, an account closed) is
  the item rejected. The step joins all items: a policy is pushed once it reached every
  enterprise it matched. The time to reach each enterprise is the item's own latency, kept per
  industry (`push@finance`), and the share reached is a rate target on `push`, which on a step
  done per item counts its items.
- An enterprise's request (`REQUEST_SUBMITTED`): routed by the case's data to the responsible
  department, one of `answer-industry` (`industry-department`, a new party: the district's
  industry departments, 各产业部门, which answer for policy benefits and industrial support),
  `answer-amr`, `answer-tax`, `answer-hrss`; the others are skipped. A request/reply step: the
  department answers how it settled it. Then `feedback` (gov-services): the platform tells the
  enterprise (及时反馈), with the department's answer.

The plan's words "按时办结、及时反馈" are on the `request-settled` span, from the request to the
feedback. The plan gives no number: the study scenario's target says how it reads "on time".
The push has no time in the plan at all.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from processors.events import Record
from processors.flow import Applies, CaseView, Each, FlowSpec, PlanTarget, Source, Span, Step
from producers.enterprise_services import (
    INDUSTRIES,
    POLICY,
    REQUEST,
    EnterpriseServiceGenerator,
    EnterpriseServiceMix,
    matches,
)

PUSH = "push"
FEEDBACK = "feedback"
ANSWERS = {
    "industry-department": "answer-industry",
    "amr": "answer-amr",
    "tax": "answer-tax",
    "hrss": "answer-hrss",
}
"""The responsible department -> its step."""
RESOLUTIONS = (("RESOLVED", 0.75), ("EXPLAINED", 0.2), ("REFERRED", 0.05))
"""How departments settle requests: solved, explained (a policy's terms not met), referred to a
higher level. Author's estimate."""


def is_policy(trigger: Record) -> bool:
    return trigger["kind"] == POLICY


def is_request(trigger: Record) -> bool:
    return trigger["kind"] == REQUEST


def matched(case: CaseView) -> Sequence[Record]:
    """The enterprises of the platform's directory the policy's rule picks."""
    policy, directory = case.trigger["policy"], case.trigger["directory"]
    if policy is None or directory is None:
        return []
    return [enterprise for enterprise in directory if matches(policy["rule"], enterprise)]


def item_name(enterprise: Record) -> str:
    """An enterprise's item: its industry's section, then its code (`J-91500103…`)."""
    return f"{enterprise['industry']}-{enterprise['uscc']}"


def industry_of(name: str) -> str:
    """The group an enterprise's push latency is kept under: its industry (`finance`)."""
    section = name.split("-", 1)[0]
    return INDUSTRIES.get(section, section)


def to_push(case: CaseView) -> Record:
    assert case.item is not None
    policy = case.trigger["policy"]
    return {
        "policy_no": policy["policy_no"],
        "title": policy["title"],
        "issuing_department": policy["issuing_department"],
        "uscc": case.item["uscc"],
        "company_name": case.item["name"],
        "contact_phone": case.item["contact_phone"],
    }


def for_department(department: str) -> Applies:
    def applies(trigger: Record) -> bool:
        request = trigger["request"]
        return request is not None and request["department"] == department

    applies.__doc__ = f"Whether the request is {department}'s to settle."
    return applies


def to_department(case: CaseView) -> Record:
    request = case.trigger["request"]
    return {
        "request_no": request["request_no"],
        "uscc": request["enterprise"]["uscc"],
        "company_name": request["enterprise"]["name"],
        "subject": request["subject"],
    }


def settled(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The department's answer: how it settled the request."""
    pick = rng.random()
    for resolution, share in RESOLUTIONS:
        pick -= share
        if pick < 0:
            return {"resolution": resolution}
    return {"resolution": RESOLUTIONS[-1][0]}


def to_feedback(case: CaseView) -> Record:
    request = case.trigger["request"]
    enterprise = request["enterprise"]
    answer = case.replies.get(ANSWERS[request["department"]]) or {}
    return {
        "request_no": request["request_no"],
        "uscc": enterprise["uscc"],
        "company_name": enterprise["name"],
        "contact_name": enterprise["contact_name"],
        "contact_phone": enterprise["contact_phone"],
        "department": request["department"],
        "resolution": str(answer.get("resolution", "")),
    }


def answer_step(department: str, title: str) -> Step:
    """The responsible department settling the request, where it is that department's."""
    return Step(
        ANSWERS[department],
        title,
        agency=department,
        topic=f"{department}.enterprise-request.v1",
        schema="f18/DepartmentRequest.avsc",
        request=to_department,
        applies=for_department(department),
        reply=settled,
        reply_fields=("resolution",),
    )


FLOW = FlowSpec(
    id="F18",
    title="Enterprise services: policies pushed to matched enterprises; requests settled, answered",
    measures=("M48",),
    source=Source(
        agency="gov-services",
        topic="gov-services.enterprise-service-event.v1",
        schema="f18/EnterpriseServiceEvent.avsc",
        mix_type=EnterpriseServiceMix,
        build=EnterpriseServiceGenerator,
    ),
    steps=(
        Step(
            PUSH,
            "push the policy to an enterprise it matches",
            agency="gov-services",
            topic="gov-services.policy-push-request.v1",
            schema="f18/PolicyPushRequest.avsc",
            request=to_push,
            applies=is_policy,
            each=Each(matched, item_name, kind="enterprise", group=industry_of),
        ),
        answer_step("industry-department", "settle a request on policy benefits or support"),
        answer_step("amr", "settle a request on licences and registration"),
        answer_step("tax", "settle a request on taxes"),
        answer_step("hrss", "settle a request on hiring and employment subsidies"),
        Step(
            FEEDBACK,
            "tell the enterprise how its request was settled",
            agency="gov-services",
            topic="gov-services.request-feedback-request.v1",
            schema="f18/RequestFeedbackRequest.avsc",
            request=to_feedback,
            after=tuple(ANSWERS.values()),
            applies=is_request,
        ),
    ),
    spans=(
        Span(
            "request-settled",
            "trigger",
            f"{FEEDBACK}.acted",
            "from the enterprise's request to the feedback on its settlement (按时办结、及时反馈)",
        ),
    ),
    # A target on M48 quotes the measure's last: the request's words, which set its time.
    plan_targets=(
        PlanTarget(
            measure="M48",
            quote_zh="积极搭建涉企政策统一发布推送平台",
            meaning="one platform publishes policies and pushes them to the enterprises they "
            "concern; the plan sets no time",
        ),
        PlanTarget(
            measure="M48",
            quote_zh="企业诉求在线提交、按时办结、及时反馈",
            meaning="enterprises' requests submitted online, settled on time and answered "
            "promptly; the plan gives words, not a number",
        ),
    ),
)
