"""What a simulated agency (or a party waited on) says once it has acted on a step's request."""

from __future__ import annotations

import random
from functools import partial
from typing import Any

from processors.events import Emit, Record
from processors.flow import FlowSpec, Step
from processors.orchestrator import COMPLETED, REJECTED
from producers.lazy import LazyRecord


def outcome_for(
    flow: FlowSpec,
    step: Step,
    request: Record,
    rng: random.Random,
    *,
    rejected_reason: str | None = None,
) -> Emit:
    """The step's answer, keyed by case so it lands where the case's orchestrator state lives.

    A request/reply step answers with the data later steps need (the bank's account
    reservation number); a rejected request answers with none.
    """
    case_id = str(request["case_id"])
    reply: Record | None = None
    if step.reply is not None and not rejected_reason:
        if isinstance(request, LazyRecord) and not request.drawn:
            # the request's body was not built (the sim engine): nor is the answer, unless read
            reply = LazyRecord({}, partial(_reply, step, request, rng), promised=step.reply_fields)
        else:
            reply = _reply(step, request, rng)
    value = {
        "case_id": case_id,
        "request_id": str(request["request_id"]),
        "flow": flow.id,
        "step": step.id,
        "agency": step.actor,
        "status": REJECTED if rejected_reason else COMPLETED,
        "reason": rejected_reason,
        "reply": reply,
    }
    return Emit(flow.outcome_topic(flow.answerer(step)), case_id, value, step.agency, step.id)


def _reply(step: Step, request: Record, rng: random.Random) -> dict[str, Any]:
    assert step.reply is not None
    return dict(step.reply(request, rng))
