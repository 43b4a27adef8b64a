"""The plan's flows as pure processors: no Kafka, faust or SimPy in this package.

Find a flow by its id and measure: `f03_m05_deregistration` is flow F03, plan measure 5. Flow
modules are discovered by that name pattern, so adding a flow is adding its module.

`FLOWS` holds each flow as a run sees it: as its module declares it, with the hand-overs other
flows declare they are started by (`StartedBy`) added to its own. A flow added later can so be
started by one already there without a change to that flow's module, and everything that reads
`FLOWS` sees one list of hand-overs, whichever side declared each.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from collections.abc import Mapping

from processors.flow import COMPLETED_MARK, FlowSpec, check_mark

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
    found = fold_started_by(found)
    for spec in found.values():
        _check_handovers(spec, found)
    return found


def fold_started_by(flows: Mapping[str, FlowSpec]) -> dict[str, FlowSpec]:
    """Each flow with the hand-overs that other flows say they are started by added to its
    `handovers`, after its own. A hand-over is declared once: by the upstream flow or by the
    downstream one, not both, since both would start the same case (`handover_case_id`)."""
    folded = dict(flows)
    for spec in flows.values():
        for declared in spec.started_by:
            upstream = folded.get(declared.flow)
            if upstream is None:
                raise ImportError(f"{spec.id} is started by {declared.flow}, which is not a flow")
            if any(handover.flow == spec.id for handover in upstream.handovers):
                raise ImportError(
                    f"{declared.flow} hands over to {spec.id} already: declare the hand-over "
                    f"once, in {declared.flow}'s handovers or in {spec.id}'s started_by"
                )
            if declared.at != COMPLETED_MARK:
                try:
                    check_mark(upstream, declared.at)
                except ValueError as error:
                    raise ImportError(f"{spec.id} is started by {error}") from None
            folded[upstream.id] = dataclasses.replace(
                upstream, handovers=(*upstream.handovers, declared.handover(spec.id))
            )
    return folded


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
