"""F04 — plan measures 6 and 8: water, power and gas connections applied for on 渝快办.

Plan text (渝中府办〔2021〕16号):
- measure 6: "获得用水一般项目用户全流程总用时不超过9个工作日。获得用电低压小微用户全流程
  总用时不超过8个工作日，其中，涉及需要开挖占绿的，备案办理用时不超过2日（含现场踏勘）；
  10千伏城镇用户全流程平均用时不超过30个工作日。获得用气用户办理总用时不超过13个工作日。"
- measure 8: "实现报装、查询、缴费等业务全程网上办理。坚持政企协同，依托“渝快办”平台相关
  政务信息共享，建立供水供电供气企业提前介入、主动服务的机制。"

The trigger is one application on the platform; each utility the applicant asks for (`applies`)
works through its own chain of steps, and the chains run side by side. The plan names the
whole process and, for power, the digging filing; the stages inside each chain are the usual
ones of each utility's connection service (acceptance, survey and design with its quotation,
construction, connection), paid and followed online as measure 8 asks, so no step waits on a
counter visit. The applicant's own works inside the premises are not modelled.

- Water: acceptance → survey, design and quotation → service-pipe construction → meter and water on.
- Power, low voltage (small and micro users): acceptance with site survey → the digging or
  green-space filing, when the line needs it → line construction, meter and switch-on in one
  visit (`power-connection-lv`). The filing is done by the district's urban-management office
  (区城管局, one of the two offices leading this section of the plan), not by an agency of
  this simulator: it is a wait (`party="urban-management"`) whose length the scenario sets,
  and the span `power-lv-excavation-filing` checks it against the plan's 2 days.
- Power, 10 kV: acceptance → supply plan (供电方案答复) → external works → meter and energise
  (`power-connection-10kv`). A 10 kV line's road permit is part of its external works.
- Gas: acceptance → survey, design and quotation → service-pipe construction → purge and gas on.

Low-voltage and 10 kV power end in different steps, so each of the plan's targets has its own
span from the application (`trigger`) to that connection. Each utility's acceptance answers
with its work order and the customer account it opened (request/reply); the later steps quote
them instead of the applicant's identity, which only the acceptance sees.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from processors.events import Record
from processors.flow import CaseView, FlowSpec, PlanTarget, Projection, Reply, Source, Span, Step
from producers.gov_services import (
    UtilityConnectionGenerator,
    UtilityConnectionMix,
    customer_account,
    work_order_no,
)

Condition = Callable[[Record], bool]

# -- which steps a case needs -----------------------------------------------------------------


def asks_for(utility: str) -> Condition:
    def condition(trigger: Record) -> bool:
        return trigger[utility] is not None

    condition.__name__ = f"asks_for_{utility}"
    return condition


def low_voltage(trigger: Record) -> bool:
    power = trigger["power"]
    return power is not None and power["voltage"] != "KV10"


def ten_kv(trigger: Record) -> bool:
    power = trigger["power"]
    return power is not None and power["voltage"] == "KV10"


def low_voltage_digging(trigger: Record) -> bool:
    return low_voltage(trigger) and bool(trigger["power"]["needs_excavation"])


# -- what each step's agency is told ------------------------------------------------------------


def _accepting(case: CaseView) -> dict[str, object]:
    """What every utility's acceptance needs: the application and who must hold the account."""
    trigger = case.trigger
    applicant = trigger["applicant"]
    return {
        "application_no": trigger["application_no"],
        "applied_on": trigger["applied_on"],
        "applicant_name": applicant["name"],
        "applicant_id_kind": applicant["id_kind"],
        "applicant_id_number": applicant["id_number"],
        "contact_name": applicant["contact_name"],
        "contact_phone": applicant["contact_phone"],
        "site_address": trigger["site"]["address"],
        "property_certificate_no": trigger["site"]["property_certificate_no"],
    }


def _contact(case: CaseView) -> dict[str, object]:
    applicant = case.trigger["applicant"]
    return {"contact_name": applicant["contact_name"], "contact_phone": applicant["contact_phone"]}


def accepted(case: CaseView, step: str, field: str) -> str:
    """A field of an acceptance's reply; a later step cannot be asked for without it."""
    reply = case.replies.get(step)
    if reply is None or field not in reply:
        raise LookupError(
            f"{case.case_id}: {step} gave no {field!r} (was it rejected?), so the steps after "
            "it have no work order to quote"
        )
    return str(reply[field])


def _work_order(case: CaseView, utility: str) -> dict[str, object]:
    return {
        "work_order_no": accepted(case, f"{utility}-acceptance", "work_order_no"),
        "site_address": case.trigger["site"]["address"],
    }


def _account(case: CaseView, utility: str) -> dict[str, object]:
    return {"account_number": accepted(case, f"{utility}-acceptance", "account_number")}


def water_acceptance(case: CaseView) -> Record:
    water = case.trigger["water"]
    return {
        **_accepting(case),
        "water_use": water["water_use"],
        "pipe_diameter_mm": water["pipe_diameter_mm"],
        "monthly_volume_m3": water["monthly_volume_m3"],
    }


def water_design(case: CaseView) -> Record:
    water = case.trigger["water"]
    return {
        **_work_order(case, "water"),
        "water_use": water["water_use"],
        "pipe_diameter_mm": water["pipe_diameter_mm"],
        "monthly_volume_m3": water["monthly_volume_m3"],
    }


def water_construction(case: CaseView) -> Record:
    return {
        **_work_order(case, "water"),
        "pipe_diameter_mm": case.trigger["water"]["pipe_diameter_mm"],
        **_contact(case),
    }


def water_connection(case: CaseView) -> Record:
    return {**water_construction(case), **_account(case, "water")}


def power_acceptance(case: CaseView) -> Record:
    power = case.trigger["power"]
    return {
        **_accepting(case),
        "voltage": power["voltage"],
        "capacity_kva": power["capacity_kva"],
        "needs_excavation": power["needs_excavation"],
    }


def power_connection_lv(case: CaseView) -> Record:
    power = case.trigger["power"]
    return {
        **_work_order(case, "power"),
        **_account(case, "power"),
        "voltage": power["voltage"],
        "capacity_kva": power["capacity_kva"],
        **_contact(case),
    }


def power_supply_plan(case: CaseView) -> Record:
    return {
        **_work_order(case, "power"),
        "site_use": case.trigger["site"]["use"],
        "capacity_kva": case.trigger["power"]["capacity_kva"],
    }


def power_external_works(case: CaseView) -> Record:
    return {
        **_work_order(case, "power"),
        "capacity_kva": case.trigger["power"]["capacity_kva"],
        **_contact(case),
    }


def power_connection_10kv(case: CaseView) -> Record:
    return {**power_external_works(case), **_account(case, "power")}


def gas_acceptance(case: CaseView) -> Record:
    gas = case.trigger["gas"]
    return {
        **_accepting(case),
        "site_use": case.trigger["site"]["use"],
        "gas_use": gas["gas_use"],
        "peak_flow_m3h": gas["peak_flow_m3h"],
    }


def gas_design(case: CaseView) -> Record:
    gas = case.trigger["gas"]
    return {
        **_work_order(case, "gas"),
        "site_use": case.trigger["site"]["use"],
        "gas_use": gas["gas_use"],
        "peak_flow_m3h": gas["peak_flow_m3h"],
    }


def gas_construction(case: CaseView) -> Record:
    return {
        **_work_order(case, "gas"),
        "peak_flow_m3h": case.trigger["gas"]["peak_flow_m3h"],
        **_contact(case),
    }


def gas_connection(case: CaseView) -> Record:
    return {
        **_work_order(case, "gas"),
        **_account(case, "gas"),
        "gas_use": case.trigger["gas"]["gas_use"],
        **_contact(case),
    }


def opens_account(utility: str) -> Reply:
    """Acceptance answers with the work order and the customer account later steps quote."""

    def reply(request: Record, rng: random.Random) -> dict[str, str]:
        return {
            "work_order_no": work_order_no(rng, utility),
            "account_number": customer_account(rng, utility),
        }

    reply.__name__ = f"{utility}_opens_account"
    return reply


ACCEPTANCE_REPLY = ("work_order_no", "account_number")


def _acceptance(utility: str, title: str, projection: Projection) -> Step:
    return Step(
        f"{utility}-acceptance",
        title,
        agency=utility,
        topic=f"{utility}.application-acceptance-request.v1",
        schema=f"f04/{utility.capitalize()}ApplicationRequest.avsc",
        request=projection,
        applies=asks_for(utility),
        reply=opens_account(utility),
        reply_fields=ACCEPTANCE_REPLY,
    )


def _then(
    step_id: str,
    title: str,
    agency: str,
    topic: str,
    schema: str,
    projection: Projection,
    after: str,
    applies: Condition,
) -> Step:
    return Step(
        step_id,
        title,
        agency=agency,
        topic=topic,
        schema=f"f04/{schema}.avsc",
        request=projection,
        after=(after,),
        applies=applies,
    )


WATER = asks_for("water")
GAS = asks_for("gas")

STEPS = (
    _acceptance("water", "accept the water application", water_acceptance),
    _then(
        "water-design",
        "survey the site, design the service pipe and quote",
        "water",
        "water.design-quotation-request.v1",
        "WaterDesignRequest",
        water_design,
        "water-acceptance",
        WATER,
    ),
    _then(
        "water-construction",
        "lay the service pipe",
        "water",
        "water.pipe-construction-request.v1",
        "WaterConstructionRequest",
        water_construction,
        "water-design",
        WATER,
    ),
    _then(
        "water-connection",
        "fit the meter and turn the water on",
        "water",
        "water.meter-connection-request.v1",
        "WaterConnectionRequest",
        water_connection,
        "water-construction",
        WATER,
    ),
    _acceptance("power", "accept the power application and survey the site", power_acceptance),
    Step(
        "power-excavation-filing",
        "file the digging or green-space occupation, site survey included (挖掘/占绿 备案)",
        agency=None,
        party="urban-management",
        after=("power-acceptance",),
        applies=low_voltage_digging,
    ),
    _then(
        "power-connection-lv",
        "build the low-voltage line, fit the meter and switch on",
        "power",
        "power.lv-connection-request.v1",
        "PowerLvConnectionRequest",
        power_connection_lv,
        "power-excavation-filing",
        low_voltage,
    ),
    _then(
        "power-supply-plan-10kv",
        "answer the 10 kV supply plan",
        "power",
        "power.supply-plan-request.v1",
        "PowerSupplyPlanRequest",
        power_supply_plan,
        "power-acceptance",
        ten_kv,
    ),
    _then(
        "power-external-works-10kv",
        "build the 10 kV external works",
        "power",
        "power.external-works-request.v1",
        "PowerExternalWorksRequest",
        power_external_works,
        "power-supply-plan-10kv",
        ten_kv,
    ),
    _then(
        "power-connection-10kv",
        "meter and energise the 10 kV supply",
        "power",
        "power.kv10-connection-request.v1",
        "Power10kvConnectionRequest",
        power_connection_10kv,
        "power-external-works-10kv",
        ten_kv,
    ),
    _acceptance("gas", "accept the gas application", gas_acceptance),
    _then(
        "gas-design",
        "survey the site, design the service pipe and quote",
        "gas",
        "gas.design-quotation-request.v1",
        "GasDesignRequest",
        gas_design,
        "gas-acceptance",
        GAS,
    ),
    _then(
        "gas-construction",
        "lay the service pipe",
        "gas",
        "gas.pipe-construction-request.v1",
        "GasConstructionRequest",
        gas_construction,
        "gas-design",
        GAS,
    ),
    _then(
        "gas-connection",
        "fit the meter, purge and turn the gas on",
        "gas",
        "gas.gas-on-request.v1",
        "GasConnectionRequest",
        gas_connection,
        "gas-construction",
        GAS,
    ),
)

FLOW = FlowSpec(
    id="F04",
    title="Water, power and gas connections applied for online and shared with the utilities",
    measures=("M6", "M8"),
    source=Source(
        agency="gov-services",
        topic="gov-services.utility-connection-applied.v1",
        schema="f04/UtilityConnectionApplied.avsc",
        mix_type=UtilityConnectionMix,
        build=UtilityConnectionGenerator,
    ),
    steps=STEPS,
    spans=(
        Span(
            "water-connection",
            "trigger",
            "water-connection.acted",
            "application to water on (plan: at most 9 working days)",
        ),
        Span(
            "power-lv-connection",
            "trigger",
            "power-connection-lv.acted",
            "application to low-voltage power on (plan: at most 8 working days)",
        ),
        Span(
            "power-lv-excavation-filing",
            "power-acceptance.acted",
            "power-excavation-filing.acted",
            "digging or green-space filing, site survey included (plan: at most 2 days)",
        ),
        Span(
            "power-10kv-connection",
            "trigger",
            "power-connection-10kv.acted",
            "application to 10 kV power on (plan: 30 working days on average)",
        ),
        Span(
            "gas-connection",
            "trigger",
            "gas-connection.acted",
            "application to gas on (plan: at most 13 working days)",
        ),
    ),
    plan_targets=(
        # One entry per measure: reports quote a target's source by its measure.
        PlanTarget(
            measure="M6",
            quote_zh=(
                "获得用水一般项目用户全流程总用时不超过9个工作日。获得用电低压小微用户全流程总用时"
                "不超过8个工作日，其中，涉及需要开挖占绿的，备案办理用时不超过2日（含现场踏勘）；"
                "10千伏城镇用户全流程平均用时不超过30个工作日。获得用气用户办理总用时不超过13个工作日。"
            ),
            meaning=(
                "water connection at most 9 working days; low-voltage small and micro power users "
                "at most 8 working days, of which the digging or green-space filing at most 2 days "
                "including the site survey; 10 kV power 30 working days on average; gas at most "
                "13 working days"
            ),
        ),
        PlanTarget(
            measure="M8",
            quote_zh=(
                "实现报装、查询、缴费等业务全程网上办理。坚持政企协同，依托“渝快办”平台相关政务"
                "信息共享，建立供水供电供气企业提前介入、主动服务的机制。"
            ),
            meaning=(
                "application, follow-up and payment online; the platform shares the application "
                "with the utilities so they act early; no time is set"
            ),
        ),
    ),
)
