"""F07 — plan measures 21 and 22: an application made at the Yuzhong counter for an item handled
in another region is accepted to the same standard, routed to the handling region over that
region's link, handled there, and its result recognised back in Yuzhong (通办).

Plan text (渝中府办〔2021〕16号, measure 22): "加快推进“通办类”事项覆盖面。“跨区县通办”方面，
深化第一批、第二批“跨区县通办”事项办理深度，落实第三批“跨区县通办”事项及高频政务服务事项，
2021年12月底实现线上线下融合互认、无差别协同办理。“跨省通办”方面，加快推动第二批“川渝通办”
事项落地见效，今年10月底前实现同一事项在成渝地区双城经济圈同标准受理、无差别办理、行政审批结果
互认。74项高频政务服务事项年内实现“跨省通办”，力争将国家要求在2021年以后实现的8项“跨省通办”
事项提前在今年内实现。"
Measure 21 (延展线上政务服务深度) is the 渝快办 platform this runs on: "按照市级统一部署，完善
“渝快办”平台……推动居民身份证、社保卡、营业执照等一批高频电子证照……的应用".

Meaning: for the items on the 通办 lists, an applicant in Yuzhong need not go to the region that
handles the item: the Yuzhong counter accepts the application as the handling region would
(同标准受理), that region handles it as its own (无差别办理), and its result is recognised in
Yuzhong (结果互认). The plan dates when each list's new batch is 通办: 跨区县 batch 3 by the end
of December 2021, 川渝通办 batch 2 by the end of October, the 74 跨省通办 items within the year.

The source is `gov-services` (区政务服务办): its counter's record of an applicant coming for an
item handled elsewhere. The case's data routes it: the handling region's division code gives
the route (another district of Chongqing, Sichuan, another province), and the producer decides
from the day and the item's go-live date whether the item is 通办 yet (`live`). The go-live
dates are the source's population knobs, so a scenario or a sweep moves them; the plan's dates
are dates, not latencies, and `govstream.plan.targets` says so (a run cannot check them).

The parties, beside `gov-services`:

- the handling regions: `cq-district` (the government services office of the Chongqing
  district that handles the item), `sichuan` (the handling department of the Sichuan city or
  district, for 川渝通办) and `other-province` (the handling department in another province, for
  跨省通办);
- the links between Yuzhong and them, each a system with its own latency: `yukuaiban` (渝快办,
  the city's platform between its districts), `chuanyu-zone` (the 川渝通办 zone linking the two
  provinces' platforms) and `national-platform` (全国一体化在线政务服务平台, across provinces).

Per route, where the item is live:

- `forward-<route>` (the link): the application routed to the handling region. The link's
  latency is this step's service time, so a scenario gives each link its own.
- `handle-<route>` (the region): handled as the region's own, on the forwarded documents. A
  request/reply step: the answer is the result's number.
- `return-<route>` (the link): the result carried back to Yuzhong.

Where it is not live yet, the counter can only send the applicant to the handling region:

- `travel-<route>`: a wait for the applicant (party: `applicant`) to get there;
- `in-person-<route>` (the region): handled at its own counter, the applicant present.

Then, for a live item, `recognise` (gov-services): the Yuzhong counter recognises the result and
hands it to the applicant. Every route's steps are skipped on the other routes, so one case runs
one route, and one of its two paths.

The spans say what each go-live date saves: for each route, from the application to the item
handled (`<route>-handled-live`, forwarded; `<route>-handled-in-person`, after the applicant's
journey), and to the result back in Yuzhong (`<route>-result-back`); and `accepted-to-result`,
from the application to the result recognised, for every live item. A year's run with the
plan's dates shows how many applications came before each batch went live and what they cost;
a sweep of the `*_live_from` knobs (or two runs) shows what an earlier date saves.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from processors.events import Record
from processors.flow import TRIGGER, Applies, CaseView, FlowSpec, PlanTarget, Source, Span, Step
from producers.gov_services_tongban import (
    CROSS_DISTRICT,
    CROSS_PROVINCE,
    SICHUAN_CHONGQING,
    TongbanApplicationGenerator,
    TongbanMix,
)
from producers.identifiers import YUZHONG_DIVISION

APPLICANT = "applicant"
"""Who is waited on where the item is not 通办 yet: the applicant, travelling to the region."""
RECOGNISE = "recognise"


@dataclass(frozen=True, slots=True)
class Route:
    """One 通办 route: what the case's data calls it, its steps' suffix, its link and region."""

    value: str
    name: str
    link: str
    region: str
    words: str

    @property
    def forward(self) -> str:
        return f"forward-{self.name}"

    @property
    def handle(self) -> str:
        return f"handle-{self.name}"

    @property
    def give_back(self) -> str:
        return f"return-{self.name}"

    @property
    def travel(self) -> str:
        return f"travel-{self.name}"

    @property
    def in_person(self) -> str:
        return f"in-person-{self.name}"


ROUTES = (
    Route(CROSS_DISTRICT, "district", "yukuaiban", "cq-district", "跨区县通办"),
    Route(SICHUAN_CHONGQING, "sichuan", "chuanyu-zone", "sichuan", "川渝通办"),
    Route(CROSS_PROVINCE, "province", "national-platform", "other-province", "跨省通办"),
)


def on_route(route: Route, live: bool) -> Applies:
    """Whether a case runs this route's forwarded (live) or in-person path."""

    def applies(trigger: Record) -> bool:
        return trigger["route"] == route.value and bool(trigger["live"]) == live

    applies.__name__ = f"{route.name}_{'live' if live else 'in_person'}"
    return applies


def is_live(trigger: Record) -> bool:
    return bool(trigger["live"])


def to_link(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "application_number": trigger["application_number"],
        "item_code": trigger["item"]["code"],
        "from_division": YUZHONG_DIVISION,
        "to_division": trigger["handling_region"]["division"],
        "material_count": len(trigger["materials"]),
    }


def _handling(case: CaseView, channel: str, accepted_by: str) -> Record:
    trigger = case.trigger
    return {
        "application_number": trigger["application_number"],
        "channel": channel,
        "accepted_by": accepted_by,
        "applied_on": trigger["accepted_on"],
        "item_code": trigger["item"]["code"],
        "item_name": trigger["item"]["name"],
        "applicant_name": trigger["applicant"]["name"],
        "applicant_id_number": trigger["applicant"]["id_number"],
        "materials": list(trigger["materials"]),
    }


def to_region(case: CaseView) -> Record:
    return _handling(case, "FORWARDED", YUZHONG_DIVISION)


def to_region_in_person(case: CaseView) -> Record:
    return _handling(case, "IN_PERSON", str(case.trigger["handling_region"]["division"]))


def handle_item(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The region's answer: the number of the result it issued (a certificate, an approval)."""
    return {"result_number": f"{request['item_code']}-{rng.randrange(10**8):08d}"}


def _result(case: CaseView, route: Route) -> str:
    return str((case.replies.get(route.handle) or {})["result_number"])


def to_link_back(route: Route) -> Callable[[CaseView], Record]:
    def build(case: CaseView) -> Record:
        trigger = case.trigger
        return {
            "application_number": trigger["application_number"],
            "item_code": trigger["item"]["code"],
            "from_division": trigger["handling_region"]["division"],
            "to_division": YUZHONG_DIVISION,
            "result_number": _result(case, route),
        }

    return build


def to_counter(case: CaseView) -> Record:
    trigger = case.trigger
    route = next(r for r in ROUTES if r.value == trigger["route"])
    return {
        "application_number": trigger["application_number"],
        "item_name": trigger["item"]["name"],
        "handling_region_name": trigger["handling_region"]["region_name"],
        "result_number": _result(case, route),
        "applicant_name": trigger["applicant"]["name"],
        "applicant_phone": trigger["applicant"]["phone"],
    }


def route_steps(route: Route) -> tuple[Step, ...]:
    """One route's two paths: forwarded over its link where the item is live, the applicant's
    journey where it is not."""
    live, in_person = on_route(route, True), on_route(route, False)
    region = f"{route.region}.tongban"
    return (
        Step(
            route.forward,
            f"route the application to the handling region ({route.words})",
            agency=route.link,
            topic=f"{route.link}.tongban-forward-request.v1",
            schema="f07/TongbanForwardRequest.avsc",
            request=to_link,
            applies=live,
        ),
        Step(
            route.handle,
            "handle the forwarded application as the region's own (无差别办理)",
            agency=route.region,
            topic=f"{region}-handling-request.v1",
            schema="f07/TongbanHandlingRequest.avsc",
            request=to_region,
            after=(route.forward,),
            applies=live,
            reply=handle_item,
            reply_fields=("result_number",),
        ),
        Step(
            route.give_back,
            "carry the result back to Yuzhong",
            agency=route.link,
            topic=f"{route.link}.tongban-return-request.v1",
            schema="f07/TongbanReturnRequest.avsc",
            request=to_link_back(route),
            after=(route.handle,),
            applies=live,
        ),
        Step(
            route.travel,
            "the applicant travels to the handling region (the item is not 通办 yet)",
            agency=None,
            applies=in_person,
            party=APPLICANT,
        ),
        Step(
            route.in_person,
            "handle the application at the region's own counter, the applicant present",
            agency=route.region,
            topic=f"{region}-in-person-request.v1",
            schema="f07/TongbanHandlingRequest.avsc",
            request=to_region_in_person,
            after=(route.travel,),
            applies=in_person,
            reply=handle_item,
            reply_fields=("result_number",),
        ),
    )


def route_spans(route: Route) -> tuple[Span, ...]:
    return (
        Span(
            f"{route.name}-handled-live",
            TRIGGER,
            f"{route.handle}.acted",
            f"{route.words}, item live: from the application to the item handled, forwarded",
        ),
        Span(
            f"{route.name}-handled-in-person",
            TRIGGER,
            f"{route.in_person}.acted",
            f"{route.words}, item not live yet: from the application to the item handled, "
            "after the applicant's journey",
        ),
        Span(
            f"{route.name}-result-back",
            TRIGGER,
            f"{route.give_back}.acted",
            f"{route.words}, item live: from the application to the result back in Yuzhong",
        ),
    )


FLOW = FlowSpec(
    id="F07",
    title="通办: applications at the Yuzhong counter routed to the handling region, "
    "results recognised",
    measures=("M21", "M22"),
    source=Source(
        agency="gov-services",
        topic="gov-services.tongban-application-accepted.v1",
        schema="f07/TongbanApplicationAccepted.avsc",
        mix_type=TongbanMix,
        build=TongbanApplicationGenerator,
    ),
    steps=(
        *(step for route in ROUTES for step in route_steps(route)),
        Step(
            RECOGNISE,
            "recognise the handling region's result and hand it to the applicant (结果互认)",
            agency="gov-services",
            topic="gov-services.tongban-result-request.v1",
            schema="f07/TongbanResultRequest.avsc",
            request=to_counter,
            after=tuple(route.give_back for route in ROUTES),
            applies=is_live,
        ),
    ),
    spans=(
        *(span for route in ROUTES for span in route_spans(route)),
        Span(
            "accepted-to-result",
            TRIGGER,
            f"{RECOGNISE}.acted",
            "item live: from the application at the Yuzhong counter to its result recognised",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M22",
            quote_zh="落实第三批“跨区县通办”事项及高频政务服务事项，2021年12月底实现线上线下融合互认、"
            "无差别协同办理",
            meaning="跨区县通办 batch 3 live by the end of December 2021: a go-live date, the "
            "source's knob cross_district_batch3_live_from; the plan sets no handling time",
        ),
        PlanTarget(
            measure="M22",
            quote_zh="加快推动第二批“川渝通办”事项落地见效，今年10月底前实现同一事项在成渝地区双城经济圈"
            "同标准受理、无差别办理、行政审批结果互认",
            meaning="川渝通办 batch 2 live by the end of October 2021: a go-live date, the "
            "source's knob chuanyu_batch2_live_from",
        ),
        PlanTarget(
            measure="M22",
            quote_zh="74项高频政务服务事项年内实现“跨省通办”",
            meaning="74 high-frequency items 跨省通办 within 2021: a go-live date, the source's "
            "knob cross_province_74_live_from",
        ),
    ),
)
