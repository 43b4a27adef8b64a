"""Checks that a scenario can run to its end, beyond the shape its fields' types give it.

A field can be well-typed and still stop a run: a name that climbs out of `runs/`, a
probability of 2 or NaN that breaks the data mix, a length that runs the calendar out of dates.
Each check here names the field and what is allowed, so `validate` refuses what `run` would
die on. (Office hours and the holiday data's coverage are checked by the scenario model.)
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from processors.flow import FlowSpec

NAME_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?")
NAME_RULE = (
    "1 to 64 letters A-Z or a-z, digits, '.', '_' or '-', starting and ending with a letter "
    "or digit, without '..' (it names the output folder runs/<name>)"
)


def check_name(name: str) -> str:
    """The name becomes a folder under `runs/`: it must stay one plain folder name there."""
    if not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise ValueError(f"not a safe name: use {NAME_RULE}")
    return name


LONGEST_RUN_YEARS = 100


def run_end(start: datetime, seconds: float) -> datetime:
    """`start` + `seconds`, or the last representable moment for a length past it."""
    try:
        return start + timedelta(seconds=seconds)
    except OverflowError:
        return datetime.max.replace(tzinfo=start.tzinfo)


def check_length(start: datetime, end: datetime) -> None:
    """A run's duration and drain must end within a century of its start: past that, the
    calendar arithmetic runs out of dates (year 9999) long before a run would end. Whether the
    holiday data covers the days in between is `Scenario._check_calendar`'s question."""
    if end.year - start.year > LONGEST_RUN_YEARS:
        raise ValueError(
            f"duration: duration + drain run from {start.date().isoformat()} past "
            f"{end.date().isoformat()}: at most {LONGEST_RUN_YEARS} years"
        )


def check_population(flow: FlowSpec, population: Mapping[str, Any]) -> None:
    """Builds the flow's data mix as a run would, so a bad knob is refused before the run."""
    where = f"flows.{flow.id}.population"
    defaults = flow.source.mix_type()
    values: dict[str, Any] = {}
    for name, value in population.items():
        default = getattr(defaults, name)
        if isinstance(default, tuple):
            if not isinstance(value, Sequence) or isinstance(value, str):
                raise ValueError(f"{where}.{name}: a list of numbers, e.g. {list(default)}")
            numbers = [_finite(f"{where}.{name}", v) for v in value]
            if not numbers:
                raise ValueError(f"{where}.{name}: needs at least one weight")
            if any(n < 0 for n in numbers) or sum(numbers) <= 0:
                raise ValueError(
                    f"{where}.{name}: weights must be 0 or more and not all 0 (got {numbers})"
                )
            kind = default[0] if default else 0.0
            values[name] = tuple(whole(kind, n) for n in numbers)
        else:
            if isinstance(value, Sequence) and not isinstance(value, str):
                raise ValueError(f"{where}.{name}: one number, not a list (got {list(value)})")
            number = _finite(f"{where}.{name}", value)
            if name.endswith(("_probability", "_compliance")) and not 0 <= number <= 1:
                raise ValueError(f"{where}.{name}: a probability from 0 to 1 (got {number})")
            values[name] = whole(default, number)
    try:
        dataclasses.replace(defaults, **values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}: {error}") from None


def whole(default: Any, number: float) -> float | int:
    """A knob whose default is a whole number (a population's size) as one, where the scenario
    gave it whole: YAML's numbers arrive here as floats."""
    if isinstance(default, int) and not isinstance(default, bool) and float(number).is_integer():
        return int(number)
    return number


def _finite(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}: a finite number (got {value!r})")
    return float(value)
