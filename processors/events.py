"""The one event shape every processor speaks, whichever engine carries it.

Processors return `Emit`s rather than calling a producer, so the same code runs inside a SimPy
process and inside a faust agent: the engine decides how (and when) an emit travels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Record = Mapping[str, Any]


@dataclass(slots=True)
class Emit:
    """A record a processor wants published: its topic, key (the case id) and value.

    A request also names the agency that receives it (None for a wait) and the step it serves.
    Nothing changes an emit once made; it is not frozen because a run makes several per case
    and a frozen dataclass takes about four times as long to build.
    """

    topic: str
    key: str
    value: Record
    recipient: str | None = None
    step: str | None = None
