"""The plan's flows as pure processors: no Kafka, faust or SimPy in this package.

Find a flow by its id and measure: `f03_m05_deregistration` is flow F03, plan measure 5.
"""

from __future__ import annotations

from processors import f03_m05_deregistration, f10_m27_property_transfer
from processors.flow import FlowSpec

FLOWS: dict[str, FlowSpec] = {
    flow.id: flow for flow in (f03_m05_deregistration.FLOW, f10_m27_property_transfer.FLOW)
}


def flow(flow_id: str) -> FlowSpec:
    try:
        return FLOWS[flow_id.upper()]
    except KeyError:
        raise KeyError(f"no flow {flow_id!r}; implemented flows: {', '.join(FLOWS)}") from None
