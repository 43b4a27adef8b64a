"""A trigger whose routing facts are drawn at once and whose other fields only when read.

The sim engine reads of a trigger only what routes its case (which steps apply, how many items
a step has, which rules hold); the names, numbers and addresses that fill its requests are
read only where a request is built (the Kafka engine, the contract tests). Drawing them is most
of what a trigger costs, so a generator may split its draws: the routing facts from its own
stream, case after case, and the rest from a stream of the case's own, seeded by the case's
id, so they are the same whenever, and whether, they are drawn. Both engines then carry the
same triggers: the Kafka engine's whole, the sim engine's as far as it reads them.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any


class LazyRecord(Mapping[str, Any]):
    """A record of `known` fields, completed by `rest()` the first time any other is read
    (or the whole is iterated). Reads as the dict the generator would have made at once."""

    __slots__ = ("_known", "_rest")

    def __init__(self, known: dict[str, Any], rest: Callable[[], dict[str, Any]]) -> None:
        self._known = known
        self._rest: Callable[[], dict[str, Any]] | None = rest

    def __getitem__(self, key: str) -> Any:
        try:
            return self._known[key]
        except KeyError:
            if self._rest is None:
                raise
        return self._whole()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())

    def __repr__(self) -> str:
        drawn = "" if self._rest is None else ", the rest not drawn yet"
        return f"LazyRecord({self._known!r}{drawn})"

    def _whole(self) -> dict[str, Any]:
        rest = self._rest
        if rest is not None:
            self._rest = None
            self._known.update(rest())
        return self._known


def case_stream(seed: int, case_id: str) -> random.Random:
    """A case's own stream for the fields it draws apart from its routing facts."""
    return random.Random((seed << 32) | zlib.crc32(case_id.encode()))
