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


_VERSION_4 = (~(0xC000 << 48) & ~(0xF000 << 64), (0x8000 << 48) | (4 << 76))
"""The bits `uuid.UUID(..., version=4)` clears and sets: the RFC 4122 variant, version 4."""


def event_id(rng: random.Random) -> str:
    """An event id in the canonical 36-character UUID text form: `str(uuid4(rng))`, formatted
    here rather than through a `uuid.UUID` (an event id is drawn for every case)."""
    clear, set_ = _VERSION_4
    digits = f"{(rng.getrandbits(128) & clear) | set_:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def run_free(case_id: str) -> str:
    """A case's id without the run id the kafka engine puts in it (`F03-<run>-0000001` and
    `F03-0000001` are the same case of the schedule)."""
    flow_id, *_, number = case_id.split("-")
    return f"{flow_id}-{number}"


def case_id(flow: str, n: int) -> str:
    """The `n`-th case of a flow, e.g. case_id("F03", 1) == "F03-000001"."""
    if not _FLOW.fullmatch(flow):
        raise ValueError(f"flow must look like 'F03', got {flow!r}")
    if n < 0:
        raise ValueError(f"case number must not be negative, got {n}")
    return f"{flow}-{n:06d}"
