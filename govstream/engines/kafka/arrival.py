"""The moment a request reaches an agency's worker, taken before it waits for a free clerk.

faust stamps a message (``Message.time_in``) only when an actor takes it off the agent's buffer,
so a request queued behind busy clerks would look as if it had just arrived, and its wait would
be counted as transport. The conductor decodes each fetched record once, as it hands it to the
agent's buffer; a schema that stamps the value there records the true arrival. A backlog too
deep for the buffer (``stream_buffer_maxsize``) waits in Kafka and is stamped when fetched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

import faust
from faust.types import AppT, CodecArg, Message


class Arrival(NamedTuple):
    at: float
    """Wall-clock epoch seconds at which this worker's consumer handed the record to faust."""
    body: bytes


class ArrivalStampedSchema(faust.Schema):
    """Raw values, each paired with the wall-clock moment the worker received it."""

    def __init__(self) -> None:
        super().__init__(key_serializer="raw", value_serializer="raw")

    def loads_value(
        self,
        app: AppT,
        message: Message,
        *,
        loads: Callable[..., Any] | None = None,
        serializer: CodecArg | None = None,
    ) -> Arrival:
        body = message.value if isinstance(message.value, bytes) else b""
        return Arrival(time.time(), body)
