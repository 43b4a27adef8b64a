"""Message headers: CloudEvents attributes (binary content mode) and govstream's trace marks.

Trace marks are wall-clock epoch seconds written by the hop that saw the moment. End-to-end
latencies use only the originating process's own clock (intended emit time → seen by the
collector); a hop's own duration uses only that hop's clock, so no clock sync is needed.

Every message also carries its case's clock (`business_clock.CaseClock`): the wall time the
case spent at agencies and waits, the business time that stood for, and the exchange's drawn
delays along its path; an answer adds its request's own marks on the business clock.
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
wall time that stands for business time rather than the platform's own."""
AGENCY_BUSINESS = "gs_agency_business"
"""Business seconds the same stretches stood for: queueing, work and waits on the business
clock the agencies and the wait timer kept."""
EXCHANGE = "gs_exchange"
"""Business seconds of the exchange's drawn delays along the case's path so far."""
UNCERTAIN = "gs_uncertain"
"""On an answer: business seconds by which its request's place in its pool's queue may be off,
having reached the pool after one that came later on the business clock (0 for most)."""
B_DELIVERED = "gs_b_delivered"
B_TAKEN = "gs_b_taken"
B_STARTED = "gs_b_started"
B_DONE = "gs_b_done"
"""On an answer: its request's moments at its pool, in business seconds since the start."""
FLOW = "gs_flow"
STEP = "gs_step"
CASE = "gs_case"  # on a published record or its tombstone, keyed by the record: its case
ENTITY = "gs_entity"  # ... and the entity it is about, which a subscriber's table is keyed by
POOL = "gs_pool"  # the pool of clerks that acted: an agency, or one flow's desk there
DELIVERED = "gs_delivered"
ACTED = "gs_acted"
WORK = "gs_work"  # business seconds of work the clerk did (office time), as drawn
OVERSHOOT = "gs_overshoot"
"""Wall seconds an answer went out after the moment its business clock set: the event loop's
lateness, which only delays the answer on the wall clock."""
WARM_UP = "gs_warm_up"  # present on start-up traffic, which agencies answer at once
UPSTREAM = "gs_upstream"
"""On a trigger a hand-over wrote: the flow whose case started this one."""
SIGNAL_AT = "gs_signal_at"
"""On a scoring flow's signal: its business moment on the scores' clock (Unix seconds of the
business time, `schedule.signal_time`), which the scorer's windowed table counts it at."""
HANDED = "gs_handed"
"""On a progress record of a transition that handed cases over: their intended time, the wall
time at which the run's one clock reads the business time the upstream case had reached (for a
hand-over as the upstream case opens, its trigger's intended time)."""

DLQ_REASON = "dlq_reason"
DLQ_ERROR = "dlq_error"
DLQ_TOPIC = "dlq_source_topic"
DLQ_PARTITION = "dlq_source_partition"
DLQ_OFFSET = "dlq_source_offset"

Headers = dict[str, str]
RawHeaders = Iterable[tuple[str, bytes | None]] | Mapping[str, bytes | None] | None

CASE_CLOCK = (AGENCY_WALL, AGENCY_BUSINESS, EXCHANGE)
TRACE = (RUN, T0, SPEEDUP, INTENDED, EMITTED, WARM_UP, FLOW, *CASE_CLOCK)
"""What every hop passes on."""

ECHOED_REQUIRED = (RUN, T0, INTENDED)
"""What an external agency's answer must carry back at least: every `gs_` header of its
request comes back unchanged, and without these the run it belongs to and its case's clock
cannot be told (`MISSING_TRACE`)."""
MISSING_TRACE = "missing-trace-headers"
"""Dead-letter reason for an external agency's answer without its request's trace."""


def echoes_trace(trace: Mapping[str, str]) -> bool:
    """Whether an answer carries back the trace an external agency's answer must."""
    return all(trace.get(key) for key in ECHOED_REQUIRED)


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
    clock: Mapping[str, str],
    *,
    delivered: float,
    acted: float,
    step: str,
    pool: str,
    **more: float | str,
) -> Headers:
    """The marks an outcome carries back: the trace, the orchestrator's moments it was sent
    with, the case's clock as the answer leaves (`clock`), and the hop's own."""
    marks = carry(
        trace,
        **{
            ORCH_IN: trace.get(ORCH_IN, ""),
            ORCH_OUT: trace.get(ORCH_OUT, ""),
            DELIVERED: delivered,
            ACTED: acted,
            STEP: step,
            POOL: pool,
            **more,
        },
    )
    marks.update(clock)
    return marks


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
