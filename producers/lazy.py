"""A trigger whose routing facts are drawn at once and whose other fields only when read.

The sim engine reads of a trigger only what routes its case (which steps apply, how many items
a step has, which rules hold); the names, numbers and addresses that fill its requests are
read only where a request is built (the Kafka engine, the contract tests). Drawing them is most
of what a trigger costs, so a generator may split its draws: the routing facts from its own
stream, case after case, and the rest from a stream of the case's own, seeded by the case's
id, so they are the same whenever, and whether, they are drawn. Both engines then carry the
same triggers: the Kafka engine's whole, the sim engine's as far as it reads them.

A routing fact may be less than a field: that a company holds two bank accounts decides that
the bank is asked, not which accounts they are. Such a field is known by its shape at once
(a list of its length, `LaterList`; a record that is there, a `LazyRecord` itself, with any of
its own fields that route known too) and drawn with the rest the first time anything else
inside it is read.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from producers.ids import run_free


class LazyRecord(Mapping[str, Any]):
    """A record of `known` fields, completed by `rest()` the first time any other is read
    (or the whole is iterated). Reads as the dict the generator would have made at once."""

    __slots__ = ("_known", "_promised", "_rest")

    def __init__(
        self,
        known: dict[str, Any],
        rest: Callable[[], dict[str, Any]],
        *,
        lists: Mapping[str, int] | None = None,
        records: Iterable[str] | Mapping[str, dict[str, Any]] = (),
        promised: Iterable[str] = (),
    ) -> None:
        """`lists`: fields of the rest known only by their length; `records`: record fields of
        the rest known to be there, each with the fields of it known at once where given (a
        power application's voltage), and read as drawn; `promised`: fields the rest is
        known to hold, so that asking whether they are there draws nothing."""
        self._known = known
        self._rest: Callable[[], dict[str, Any]] | None = rest
        self._promised = frozenset(promised)
        for key, length in (lists or {}).items():
            known[key] = LaterList(self, key, length)
        inside = records if isinstance(records, Mapping) else {key: {} for key in records}
        for key, fields in inside.items():
            known[key] = LazyRecord(dict(fields), partial(self._field, key))

    def __getitem__(self, key: str) -> Any:
        try:
            return self._known[key]
        except KeyError:
            if self._rest is None:
                raise
        return self._whole()[key]

    def __contains__(self, key: object) -> bool:
        if key in self._known or (self._rest is not None and key in self._promised):
            return True
        return key in self._whole()

    def __bool__(self) -> bool:
        return bool(self._known or self._promised) or len(self) > 0

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())

    def __repr__(self) -> str:
        drawn = "" if self._rest is None else ", the rest not drawn yet"
        return f"LazyRecord({self._known!r}{drawn})"

    @property
    def drawn(self) -> bool:
        """Whether the rest has been drawn."""
        return self._rest is None

    def _whole(self) -> dict[str, Any]:
        rest = self._rest
        if rest is not None:
            self._rest = None
            self._known.update(rest())
        return self._known

    def _field(self, key: str) -> dict[str, Any]:
        return dict(self._whole()[key])


class LaterList(Sequence[Any]):
    """A list field of a `LazyRecord` whose length is known and whose items are drawn with
    the record's rest when one is read. Once drawn, the record holds the list itself."""

    __slots__ = ("_key", "_length", "_record")

    def __init__(self, record: LazyRecord, key: str, length: int) -> None:
        self._record = record
        self._key = key
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        return self._record._whole()[self._key][index]

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    def __repr__(self) -> str:
        return f"LaterList({self._key!r}, {self._length} items)"


def case_stream(seed: int, case_id: str) -> random.Random:
    """A case's own stream for the fields it draws apart from its routing facts: the same for
    the case on either engine (the kafka engine's case ids carry its run's id)."""
    if case_id.count("-") > 1:
        case_id = run_free(case_id)
    return random.Random((seed << 32) | zlib.crc32(case_id.encode()))
