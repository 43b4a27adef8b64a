"""Message headers: CloudEvents attributes (binary content mode) and govstream's trace marks.

Trace marks are wall-clock epoch seconds written by the hop that saw the moment. End-to-end
latencies use only the originating process's own clock (intended emit time → seen by the
collector); a hop's own duration uses only that hop's clock, so no clock sync is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

PREFIX = "gs_"
"""govstream's own trace headers, beside the CloudEvents attributes."""
RUN = "gs_run"
T0 = "gs_t0"  # wall time at business second 0 of the run
SPEEDUP = "gs_speedup"
INTENDED = "gs_intended"  # wall time the arrival schedule meant the trigger to be emitted
EMITTED = "gs_emitted"
ORCH_IN = "gs_orch_in"  # the orchestrator took the trigger or outcome that made this step due
ORCH_OUT = "gs_orch_out"  # the orchestrator sent this step's request
RECORDED = "gs_recorded"  # the orchestrator took the trigger or answer a progress record is of
AGENCY_WALL = "gs_agency_wall"
"""Wall seconds the case spent at agencies and waits along its path so far: the part of its
wall time that stands for business time scaled down by `speedup` (see the collector)."""
FLOW = "gs_flow"
STEP = "gs_step"
POOL = "gs_pool"  # the pool of clerks that acted: an agency, or one flow's desk there
DELIVERED = "gs_delivered"
TAKEN = "gs_taken"  # a clerk took the request up (it may still wait for opening hours)
STARTED = "gs_started"
ACTED = "gs_acted"
RECIPIENT = "gs_recipient"
WORK = "gs_work"  # business seconds of work the clerk did (office time), as drawn
OVERSHOOT = "gs_overshoot"
"""Wall seconds the agency's work ended after it was due to: the scheduling overhead the
event loop added, which the business clock scales up by `speedup`."""
WARM_UP = "gs_warm_up"  # present on start-up traffic, which agencies answer at once

DLQ_REASON = "dlq_reason"
DLQ_ERROR = "dlq_error"
DLQ_TOPIC = "dlq_source_topic"
DLQ_PARTITION = "dlq_source_partition"
DLQ_OFFSET = "dlq_source_offset"

Headers = dict[str, str]
RawHeaders = Iterable[tuple[str, bytes | None]] | Mapping[str, bytes | None] | None

TRACE = (RUN, T0, SPEEDUP, INTENDED, EMITTED, WARM_UP, FLOW)
"""What every hop passes on."""
TRACE_MARKS = (EMITTED, ORCH_IN, ORCH_OUT, DELIVERED, TAKEN, STARTED, ACTED, AGENCY_WALL)
"""The wall-clock moments an outcome carries back, one per hop boundary."""


def cloud_event(*, event_id: str, source: str, event_type: str, subject: str, at: float) -> Headers:
    return {
        "ce_specversion": "1.0",
        "ce_id": event_id,
        "ce_source": source,
        "ce_type": event_type,
        "ce_subject": subject,
        "ce_time": datetime.fromtimestamp(at, UTC).isoformat(),
        "content-type": "application/avro",
    }


def read(raw: RawHeaders) -> Headers:
    """Kafka clients hand headers over as pairs or mappings of bytes; work with str."""
    if raw is None:
        return {}
    items = raw.items() if isinstance(raw, Mapping) else raw
    return {key: (value or b"").decode("utf-8", "replace") for key, value in items}


def encode(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(key, value.encode()) for key, value in headers.items()]


def carry(headers: Mapping[str, str], **marks: float | str) -> Headers:
    """The trace marks a hop passes on, plus its own."""
    carried = {key: headers[key] for key in TRACE if key in headers}
    carried.update({key: str(value) for key, value in marks.items()})
    return carried


def answered(
    trace: Mapping[str, str],
    *,
    delivered: float,
    started: float,
    acted: float,
    step: str,
    pool: str,
    **more: float | str,
) -> Headers:
    """The marks an outcome carries back: the trace, the orchestrator's moments it was sent
    with, and the hop's own; the wall time at agencies grows by the time since delivery."""
    before = mark(trace, AGENCY_WALL) or 0.0
    return carry(
        trace,
        **{
            ORCH_IN: trace.get(ORCH_IN, ""),
            ORCH_OUT: trace.get(ORCH_OUT, ""),
            DELIVERED: delivered,
            STARTED: started,
            ACTED: acted,
            AGENCY_WALL: before + (acted - delivered),
            STEP: step,
            POOL: pool,
            **more,
        },
    )


def progress(trace: Mapping[str, str], recorded: float) -> Headers:
    """The marks a progress record carries: every trace mark of the trigger or answer it
    records, and when the orchestrator took it."""
    marks = {key: value for key, value in trace.items() if key.startswith(PREFIX)}
    marks[RECORDED] = repr(recorded)
    return marks


def mark(headers: Mapping[str, str], key: str) -> float | None:
    value = headers.get(key)
    try:
        return float(value) if value else None
    except ValueError:
        return None
