"""Draws that depend on what they are for, not on how many came before them.

A request's service time, whether its agency rejects it, how long a wait lasts and how long a
message takes on the exchange are each drawn from a uniform value made from the scenario's
seed, the kind of draw and the case and step it is for. The sim engine meets its events in
business-time order and the kafka engine in whatever order its workers see them; with a stream
of draws each would give the same request another value. Keyed, both engines draw the same
values for the same case: the same requests are rejected, the same work takes as long, and what
differs between the engines is what the platform itself did.
"""

from __future__ import annotations

from hashlib import blake2b

from producers.ids import run_free

_UNIT = 2.0**-53


class KeyedDraws:
    """Uniform values in (0, 1), one per key, for one kind of draw of one scenario's seed."""

    __slots__ = ("_salted",)

    def __init__(self, seed: int, kind: str) -> None:
        self._salted = blake2b(f"{seed}:{kind}:".encode(), digest_size=8)

    def uniform(self, case_id: str, step: str = "", detail: str = "") -> float:
        if case_id.count("-") > 1:
            case_id = run_free(case_id)
        hashed = self._salted.copy()
        hashed.update(f"{case_id}:{step}:{detail}".encode())
        drawn = int.from_bytes(hashed.digest(), "little")
        # 53 bits of the hash, centred in their interval: never 0 or 1.
        return ((drawn >> 11) + 0.5) * _UNIT
