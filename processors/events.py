"""The one event shape every processor speaks, whichever engine carries it.

Processors return `Emit`s rather than calling a producer, so the same code runs inside a SimPy
process and inside a faust agent: the engine decides how (and when) an emit travels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Emit:
    """A record a processor wants published: its topic, key (the case id) and value.

    A request also names the agency that receives it (None for a wait) and the step it serves.
    """

    topic: str
    key: str
    value: Record
    recipient: str | None = None
    step: str | None = None
