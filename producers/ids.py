"""Event and case identifiers that a seed reproduces.

`uuid.uuid4()` reads the OS entropy pool, which would make two runs with the same seed emit
different event ids; drawing the 128 bits from the run's `random.Random` keeps them equal.
"""

from __future__ import annotations

import random
import re
import uuid

_FLOW = re.compile(r"F\d{2}")


def uuid4(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID whose random bits come from `rng`."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def event_id(rng: random.Random) -> str:
    """An event id in the canonical 36-character UUID text form."""
    return str(uuid4(rng))


def case_id(flow: str, n: int) -> str:
    """The `n`-th case of a flow, e.g. case_id("F03", 1) == "F03-000001"."""
    if not _FLOW.fullmatch(flow):
        raise ValueError(f"flow must look like 'F03', got {flow!r}")
    if n < 0:
        raise ValueError(f"case number must not be negative, got {n}")
    return f"{flow}-{n:06d}"
