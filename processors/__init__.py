"""The plan's flows as pure processors: no Kafka, faust or SimPy in this package.

Find a flow by its id and measure: `f03_m05_deregistration` is flow F03, plan measure 5. Flow
modules are discovered by that name pattern, so adding a flow is adding its module.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from processors.flow import FlowSpec, check_mark

FLOW_MODULE = re.compile(r"^f\d{2}_m\d{2}")


def _discover() -> dict[str, FlowSpec]:
    found: dict[str, FlowSpec] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not FLOW_MODULE.match(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec: FlowSpec = module.FLOW
        if not info.name.startswith(spec.id.lower()):
            raise ImportError(f"{info.name} declares flow {spec.id}; its name must start with it")
        found[spec.id] = spec
    for spec in found.values():
        _check_handovers(spec, found)
    return found


def _check_handovers(spec: FlowSpec, flows: dict[str, FlowSpec]) -> None:
    """What a flow hands over to, and the marks its spans end at there, exist: checked once
    every flow is known, since a flow may hand over to one declared after it."""
    for handover in spec.handovers:
        if handover.flow not in flows:
            raise ImportError(f"{spec.id} hands over to {handover.flow}, which is not a flow")
    for span in spec.spans:
        if ":" in span.end:
            target, mark = span.end.split(":", 1)
            check_mark(flows[target], mark)


FLOWS: dict[str, FlowSpec] = _discover()


def flow(flow_id: str) -> FlowSpec:
    try:
        return FLOWS[flow_id.upper()]
    except KeyError:
        raise KeyError(f"no flow {flow_id!r}; implemented flows: {', '.join(FLOWS)}") from None
