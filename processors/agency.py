"""What a simulated recipient agency says once it has acted on a request."""

from __future__ import annotations

from processors.events import Emit, Record
from processors.flow import FlowSpec

COMPLETED = "COMPLETED"
REJECTED = "REJECTED"


def outcome_for(
    flow: FlowSpec, recipient: str, request: Record, *, rejected_reason: str | None = None
) -> Emit:
    """The recipient's answer, keyed by case so it lands where the case's tracker state lives."""
    case_id = str(request["case_id"])
    value = {
        "case_id": case_id,
        "request_id": str(request["request_id"]),
        "flow": flow.id,
        "recipient": recipient,
        "status": REJECTED if rejected_reason else COMPLETED,
        "reason": rejected_reason,
    }
    return Emit(flow.outcome_topic, case_id, value, recipient)
