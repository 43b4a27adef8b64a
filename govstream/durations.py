"""Durations and rates as scenario YAML writes them (``250ms``, ``2h``, ``5wd``, ``200/d``).

Clock durations and working-day durations are different quantities: ``2wd`` has no fixed
length in seconds (it depends on when it starts, weekends and holidays), so a working-day
:class:`Duration` carries ``working_days`` and a NaN ``seconds``. NaN rather than 0 so that any
arithmetic that forgets the distinction poisons the result instead of quietly treating the
duration as zero; :meth:`Duration.clock_seconds` is the checked accessor.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator
from pydantic_core import PydanticCustomError

__all__ = [
    "ClockDuration",
    "Duration",
    "DurationError",
    "DurationField",
    "RateError",
    "RateField",
    "format_seconds",
    "parse_duration",
    "parse_rate",
]

# Seconds per clock unit; "wd" (working days) is handled apart because it has no fixed length.
_UNIT_SECONDS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_WORKING_DAYS = "wd"
# Largest first: __str__ picks the largest unit that expresses the value exactly.
_RENDER_UNITS: tuple[tuple[str, float], ...] = (
    ("w", 604800.0),
    ("d", 86400.0),
    ("h", 3600.0),
    ("min", 60.0),
    ("s", 1.0),
    ("ms", 0.001),
)
_RATE_UNITS: dict[str, float] = {k: v for k, v in _UNIT_SECONDS.items() if k != "ms"}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DURATION_RE = re.compile(rf"^\s*({_NUMBER})\s*([^\d\s.+-][^\s]*)?\s*$")
_RATE_RE = re.compile(rf"^\s*({_NUMBER})\s*(?:/\s*([A-Za-z]+))?\s*$")

_DURATION_FORMS = (
    "use a number with a unit ms, s, min (or m), h, d, w or wd (working days), "
    "e.g. 250ms, 90s, 2h, 3d, 5wd; a bare number means seconds"
)
_RATE_FORMS = (
    "use a number of events per unit s, min (or m), h, d or w, "
    "e.g. 5/s, 30/min, 12/h, 200/d; a bare number means events per second"
)


class DurationError(ValueError):
    """A scenario value that is not a valid duration."""


class RateError(ValueError):
    """A scenario value that is not a valid rate."""


@dataclass(frozen=True, eq=False)
class Duration:
    """A non-negative span of time: clock seconds, or working days (``seconds`` is then NaN).

    Equality and hashing are defined by hand because NaN never equals itself.
    """

    seconds: float
    working_days: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "seconds", float(self.seconds))
        if self.working_days is not None:
            object.__setattr__(self, "working_days", float(self.working_days))
        if self.working_days is None:
            if not math.isfinite(self.seconds) or self.seconds < 0:
                raise DurationError(f"duration seconds must be finite and >= 0, not {self.seconds}")
        else:
            if not math.isfinite(self.working_days) or self.working_days < 0:
                raise DurationError(
                    f"working days must be finite and >= 0, not {self.working_days}"
                )
            if not math.isnan(self.seconds):
                raise DurationError(
                    "a working-day duration has no clock length: pass seconds=math.nan "
                    "(or use Duration.of_working_days)"
                )

    @classmethod
    def of_seconds(cls, seconds: float) -> Duration:
        return cls(float(seconds))

    @classmethod
    def of_working_days(cls, working_days: float) -> Duration:
        return cls(math.nan, float(working_days))

    @property
    def is_working_days(self) -> bool:
        return self.working_days is not None

    def clock_seconds(self) -> float:
        """The length in seconds; refuses working days, whose length depends on the calendar."""
        if self.working_days is not None:
            raise ValueError(
                f"{self} is measured in working days and has no fixed length in seconds: "
                "convert it with a WorkingCalendar"
            )
        return self.seconds

    def _key(self) -> tuple[str, float]:
        if self.working_days is not None:
            return (_WORKING_DAYS, self.working_days)
        return ("s", self.seconds)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        if self.working_days is not None:
            return f"{_number(self.working_days)}wd"
        if self.seconds == 0:
            return "0s"
        for unit, size in _RENDER_UNITS:
            count = self.seconds / size
            if count >= 1 and abs(count - round(count)) < 1e-9 * max(1.0, count):
                return f"{round(count)}{unit}"
        return f"{_number(self.seconds)}s"


def _number(value: float) -> str:
    """Shortest text that reads back as the same float (no trailing ``.0``)."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _parse_number(text: str, error: type[ValueError], shown: str, forms: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise error(f"{shown} is not finite: {forms}")
    if value < 0:
        raise error(f"{shown} is negative: {forms}")
    return value


def _check_bare_number(value: Any, error: type[ValueError], forms: str) -> float:
    if isinstance(value, bool):
        raise error(f"{value!r} is a boolean, not a number: {forms}")
    number = float(value)
    if not math.isfinite(number):
        raise error(f"{value!r} is not finite: {forms}")
    if number < 0:
        raise error(f"{value!r} is negative: {forms}")
    return number


def parse_duration(text: str | int | float | Duration) -> Duration:
    """Read ``250ms``, ``90s``, ``15min``/``15m``, ``2h``, ``3d``, ``1w``, ``2wd`` or seconds."""
    if isinstance(text, Duration):
        return text
    if isinstance(text, int | float):
        return Duration(_check_bare_number(text, DurationError, _DURATION_FORMS))
    if not isinstance(text, str):
        raise DurationError(f"{text!r} is not a duration: {_DURATION_FORMS}")
    match = _DURATION_RE.match(text)
    if match is None:
        raise DurationError(f"{text!r} is not a duration: {_DURATION_FORMS}")
    number_text, unit_text = match.groups()
    unit = (unit_text or "s").lower()
    if unit != _WORKING_DAYS and unit not in _UNIT_SECONDS:
        raise DurationError(f"{text!r} is not a duration: {_DURATION_FORMS}")
    value = _parse_number(number_text, DurationError, repr(text), _DURATION_FORMS)
    if unit == _WORKING_DAYS:
        return Duration.of_working_days(value)
    return Duration(value * _UNIT_SECONDS[unit])


def parse_rate(text: str | int | float) -> float:
    """Read ``200/d``, ``5/s``, ``12/h``, ``30/min``, ``0.5/s`` or a bare number; events/s."""
    if isinstance(text, int | float):
        return _check_bare_number(text, RateError, _RATE_FORMS)
    if not isinstance(text, str):
        raise RateError(f"{text!r} is not a rate: {_RATE_FORMS}")
    match = _RATE_RE.match(text)
    if match is None:
        raise RateError(f"{text!r} is not a rate: {_RATE_FORMS}")
    number_text, unit_text = match.groups()
    unit = (unit_text or "s").lower()
    if unit not in _RATE_UNITS:
        raise RateError(f"{text!r} is not a rate: {_RATE_FORMS}")
    value = _parse_number(number_text, RateError, repr(text), _RATE_FORMS)
    return value / _RATE_UNITS[unit]


def format_seconds(seconds: float) -> str:
    """Readable latency for reports: ``850ms``, ``12.3s``, ``4.2min``, ``3.1h``, ``2.4d``.

    The unit is chosen after rounding so 59.97s reads ``1min``, not ``60s``.
    """
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds < 0:
        return "-" + format_seconds(-seconds)
    if round(seconds * 1000) < 1000:
        return f"{seconds * 1000:.3g}ms"
    for unit, size, limit in (("s", 1.0, 60.0), ("min", 60.0, 60.0), ("h", 3600.0, 24.0)):
        value = round(seconds / size, 1)
        if value < limit:
            return f"{value:g}{unit}"
    return f"{round(seconds / 86400.0, 1):g}d"


def _validate_duration(value: Any) -> Duration:
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise PydanticCustomError("duration", "{reason}", {"reason": str(exc)}) from None


def _validate_clock_duration(value: Any) -> Duration:
    duration = _validate_duration(value)
    if duration.is_working_days:
        raise PydanticCustomError(
            "clock_duration",
            "{reason}",
            {
                "reason": f"{value!r} is in working days, which are only allowed for SLA "
                "targets: use a clock duration here, e.g. 90s, 2h or 3d"
            },
        )
    return duration


def _validate_rate(value: Any) -> float:
    try:
        return parse_rate(value)
    except RateError as exc:
        raise PydanticCustomError("rate", "{reason}", {"reason": str(exc)}) from None


_AS_TEXT = PlainSerializer(str, return_type=str, when_used="json")

DurationField = Annotated[
    Duration, PlainValidator(_validate_duration, json_schema_input_type=str | float), _AS_TEXT
]
"""A duration in any unit, working days included (SLA targets)."""

ClockDuration = Annotated[
    Duration,
    PlainValidator(_validate_clock_duration, json_schema_input_type=str | float),
    _AS_TEXT,
]
"""A duration with a fixed length in seconds (service times, latencies, run lengths)."""

RateField = Annotated[float, PlainValidator(_validate_rate, json_schema_input_type=str | float)]
"""Events per second, written as ``200/d``, ``5/s`` or a bare number."""
