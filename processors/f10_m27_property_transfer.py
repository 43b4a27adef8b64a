"""F10 — plan measure 27: a registered property transfer moves the water, power and gas accounts.

Plan text (measure 27): "推动不动产登记信息与水、电、气等市政公用企业共享，探索同步过户。"
The plan sets no time for it; scenarios that check F10 state their own targets.

Each utility receives only its own account number, the address and the new holder's name and
phone: identity numbers of buyer and seller stay with the registry. A property with no gas
connection gets no gas request.
"""

from __future__ import annotations

from processors.events import Record
from processors.flow import FlowSpec, PlanTarget, Route, request_id


def _to_utility(utility: str) -> object:
    def project(trigger: Record) -> Record | None:
        account = trigger["utility_accounts"].get(utility)
        if account is None:
            return None
        case_id = str(trigger["case_id"])
        buyer = trigger["buyer"]
        return {
            "request_id": request_id(case_id, utility),
            "case_id": case_id,
            "utility": utility.upper(),
            "account_number": account,
            "service_address": trigger["property"]["address"],
            "certificate_no": trigger["certificate_no"],
            "registered_on": trigger["registered_on"],
            "previous_holder_name": trigger["seller"]["name"],
            "new_holder_name": buyer["name"],
            "new_holder_phone": buyer.get("phone"),
        }

    project.__name__ = f"to_{utility}"
    return project


to_water = _to_utility("water")
to_power = _to_utility("power")
to_gas = _to_utility("gas")

FLOW = FlowSpec(
    id="F10",
    title="Property transfer shared with water, power and gas for same-time account transfer",
    measures=("M27",),
    source_agency="real-estate",
    source_topic="real-estate.property-transfer-registered.v1",
    outcome_topic="f10.recipient-outcome.v1",
    completed_topic="f10.case-completed.v1",
    routes=(
        Route("water", "water.account-transfer-request.v1", to_water),
        Route("power", "power.account-transfer-request.v1", to_power),
        Route("gas", "gas.account-transfer-request.v1", to_gas),
    ),
    plan_targets=(
        PlanTarget(
            measure="M27",
            quote_zh="推动不动产登记信息与水、电、气等市政公用企业共享，探索同步过户",
            meaning="registration data shared with utilities; no time target is set",
        ),
    ),
)
