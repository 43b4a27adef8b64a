"""F10 — plan measure 27: a registered property transfer moves the water, power and gas accounts.

Plan text (measure 27): "推动不动产登记信息与水、电、气等市政公用企业共享，探索同步过户。"
The plan sets no time for it; scenarios that check F10 state their own targets.

A fan-out. Each utility receives only its own account number, the address and the new holder's
name and phone: identity numbers of buyer and seller stay with the registry. A property with no
gas connection has no gas step.
"""

from __future__ import annotations

from processors.events import Record
from processors.flow import CaseView, FlowSpec, PlanTarget, Projection, Source, Step
from producers.real_estate import PropertyTransferGenerator, PropertyTransferMix

UTILITIES = ("water", "power", "gas")


def _to_utility(utility: str) -> Projection:
    def project(case: CaseView) -> Record:
        trigger = case.trigger
        buyer = trigger["buyer"]
        return {
            "utility": utility.upper(),
            "account_number": trigger["utility_accounts"][utility],
            "service_address": trigger["property"]["address"],
            "certificate_no": trigger["certificate_no"],
            "registered_on": trigger["registered_on"],
            "previous_holder_name": trigger["seller"]["name"],
            "new_holder_name": buyer["name"],
            "new_holder_phone": buyer.get("phone"),
        }

    project.__name__ = f"to_{utility}"
    return project


def _has_account(utility: str) -> object:
    return lambda trigger: trigger["utility_accounts"].get(utility) is not None


FLOW = FlowSpec(
    id="F10",
    title="Property transfer shared with water, power and gas for same-time account transfer",
    measures=("M27",),
    source=Source(
        agency="real-estate",
        topic="real-estate.property-transfer-registered.v1",
        schema="f10/PropertyTransferRegistered.avsc",
        mix_type=PropertyTransferMix,
        build=PropertyTransferGenerator,
    ),
    steps=tuple(
        Step(
            utility,
            f"transfer the {utility} account to the new holder",
            agency=utility,
            topic=f"{utility}.account-transfer-request.v1",
            schema="f10/UtilityAccountTransferRequest.avsc",
            request=_to_utility(utility),
            applies=_has_account(utility),  # type: ignore[arg-type]
        )
        for utility in UTILITIES
    ),
    plan_targets=(
        PlanTarget(
            measure="M27",
            quote_zh="推动不动产登记信息与水、电、气等市政公用企业共享，探索同步过户",
            meaning="registration data shared with utilities; no time target is set",
        ),
    ),
)
