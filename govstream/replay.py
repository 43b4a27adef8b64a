"""Arrivals replayed from a CSV file of timestamps: a real day's or month's load, as it came.

One timestamp per row, in one column (the first unless the scenario names another, by header
or by number); a first row that is not a timestamp is taken for the header. Timestamps are ISO
8601; one without a time zone is on the scenario's own (the start's). Rows before the start or
past the arrival window are left out, so one file can serve studies of different windows.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime, tzinfo
from pathlib import Path


class ReplayError(ValueError):
    """A replay file that cannot be read; the message names the file, row and value."""


def _parse(text: str, zone: tzinfo | None) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=zone)


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_replay(path: str | Path, column: str | int, start: datetime) -> list[float]:
    """Seconds after `start` of every timestamp in the file, sorted (ties kept)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ReplayError(f"{path}: cannot read the file: {error.strerror or error}") from None
    rows = [row for row in csv.reader(text.splitlines()) if any(cell.strip() for cell in row)]
    if not rows:
        raise ReplayError(f"{path}: no rows; write one timestamp per row, e.g. 2021-06-01T09:12:00")
    first_line = 1
    index = column if isinstance(column, int) else None
    header = rows[0]
    header_is_data = index is not None and index < len(header) and _parse(header[index], None)
    if not header_is_data:
        if isinstance(column, str):
            names = [cell.strip() for cell in header]
            if column not in names:
                raise ReplayError(
                    f"{path}: no column {column!r} in the header; columns: {', '.join(names)}"
                )
            index = names.index(column)
        rows, first_line = rows[1:], 2
    assert index is not None
    seconds: list[float] = []
    for number, row in enumerate(rows, start=first_line):
        if index >= len(row):
            raise ReplayError(f"{path}: row {number} has no column {column!r}")
        stamp = _parse(row[index], start.tzinfo)
        if stamp is None:
            raise ReplayError(
                f"{path}: row {number}: {row[index].strip()!r} is not a timestamp; "
                "write ISO 8601, e.g. 2021-06-01T09:12:00 or 2021-06-01 09:12:00+08:00"
            )
        seconds.append((stamp - start).total_seconds())
    return sorted(seconds)
