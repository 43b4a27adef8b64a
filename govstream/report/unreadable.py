"""Why a result.json cannot be read, said so a person can find the spot in the file.

Pydantic's own first line ("1 validation error for RunResult") names neither the field nor
where the JSON broke; a run stopped while writing, or a file copied in part, needs to be told
apart from a result of another version, and both from a file that is not a result at all.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

SHOWN_FIELDS = 3
"""Field errors named in full; the rest are counted."""


def why_unreadable(error: ValidationError | ValueError, path: Path) -> str:
    """One line: where the JSON ends or breaks, or the fields that do not fit, with their
    values and what was expected."""
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 text (byte {error.start} is 0x{error.object[error.start]:02x})"
    if isinstance(error, ValidationError):
        problems = error.errors(include_url=False)
        broken = next((p for p in problems if p["type"] == "json_invalid"), None)
        if broken is not None:
            return _json_problem(str((broken.get("ctx") or {}).get("error", "")), path)
        return _field_problems(problems)
    return str(error).splitlines()[0]


JSON_AT = re.compile(r"(?P<what>.*) at line (?P<line>\d+) column (?P<column>\d+)")
"""How pydantic's JSON parser says where it stopped: `EOF while parsing a string at line 200
column 15`."""


def _json_problem(message: str, path: Path) -> str:
    """Where the JSON parser stopped, by line, column and byte, and whether the file just ends
    there (a file cut short) or holds something else."""
    found = JSON_AT.fullmatch(message.strip())
    if found is None:
        return f"not valid JSON: {message}"
    line, column = int(found["line"]), int(found["column"])
    what = found["what"]
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    if not data.strip():
        return "the file is empty"
    where = f"line {line}, column {column}"
    if what.startswith("EOF while parsing"):
        inside = what.removeprefix("EOF while parsing").strip()
        return (
            f"the JSON ends at {where} (byte {len(data)}, the end of the file) while parsing "
            f"{inside}: the file is cut short"
        )
    return f"not valid JSON at {where}{_byte_at(data, line, column)}: {what}"


def _byte_at(data: bytes, line: int, column: int) -> str:
    lines = data.split(b"\n")
    if not data or line > len(lines):
        return ""
    before = sum(len(text) + 1 for text in lines[: line - 1])
    into = len(lines[line - 1].decode("utf-8", "replace")[: column - 1].encode("utf-8"))
    return f" (byte {before + into})"


def _field_problems(problems: list[ErrorDetails]) -> str:
    said = []
    for problem in problems[:SHOWN_FIELDS]:
        field = ".".join(str(part) for part in problem["loc"]) or "the whole file"
        value = problem.get("input")
        got = ""
        if isinstance(value, str | int | float | bool) or value is None:
            shown = repr(value)
            shown = shown if len(shown) <= 60 else f"{shown[:57]}..."
            got = f" (got {shown})" if problem["type"] != "missing" else ""
        said.append(f"{field}: {problem['msg']}{got}")
    more = len(problems) - SHOWN_FIELDS
    return "; ".join(said) + (f"; and {more} more" if more > 0 else "")
