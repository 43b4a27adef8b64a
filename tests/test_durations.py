import math

import pytest
from pydantic import BaseModel, ValidationError

from govstream.durations import (
    ClockDuration,
    Duration,
    DurationError,
    DurationField,
    RateError,
    RateField,
    format_seconds,
    parse_duration,
    parse_rate,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("90s", 90.0),
        ("15min", 900.0),
        ("15m", 900.0),
        ("2h", 7200.0),
        ("3d", 3 * 86400.0),
        ("1w", 7 * 86400.0),
        ("1.5h", 5400.0),
        ("2 h", 7200.0),
        (" 30 min ", 1800.0),
        ("45", 45.0),
        (45, 45.0),
        (0.5, 0.5),
        ("0s", 0.0),
    ],
)
def test_parse_clock_durations(text: str | float, seconds: float) -> None:
    d = parse_duration(text)
    assert not d.is_working_days
    assert d.working_days is None
    assert d.clock_seconds() == pytest.approx(seconds)


def test_parse_working_days() -> None:
    d = parse_duration("2wd")
    assert d.is_working_days
    assert d.working_days == 2.0
    assert math.isnan(d.seconds)
    assert parse_duration("0.5 wd").working_days == 0.5


def test_working_days_are_not_clock_seconds() -> None:
    with pytest.raises(ValueError, match="working days"):
        parse_duration("3wd").clock_seconds()


def test_working_day_durations_compare_equal_despite_nan() -> None:
    assert parse_duration("3wd") == parse_duration("3 wd")
    assert hash(parse_duration("3wd")) == hash(Duration.of_working_days(3))
    assert parse_duration("3wd") != parse_duration("2wd")
    assert parse_duration("3wd") != parse_duration("3d")


@pytest.mark.parametrize(
    ("text", "rendered"),
    [("2h", "2h"), ("250ms", "250ms"), ("3wd", "3wd"), ("90s", "90s"), ("120s", "2min"),
     ("1w", "1w"), ("7d", "1w"), ("0", "0s"), ("0.5wd", "0.5wd"), ("36h", "36h")],
)  # fmt: skip
def test_str_is_compact(text: str, rendered: str) -> None:
    assert str(parse_duration(text)) == rendered


@pytest.mark.parametrize("text", ["1.25s", "0.001s", "12345.678s", "2.5wd", "1500ms", "100d"])
def test_str_reads_back_as_the_same_duration(text: str) -> None:
    d = parse_duration(text)
    assert parse_duration(str(d)) == d


@pytest.mark.parametrize("bad", ["3 hourz", "h", "", "2 h x", "two hours", "1y", "nan", "inf"])
def test_bad_duration_message_names_value_and_forms(bad: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(bad)
    message = str(info.value)
    assert repr(bad) in message
    for form in ("ms", "min", "wd", "working days", "2h"):
        assert form in message


@pytest.mark.parametrize("bad", ["-2h", -1, -0.5, "-1wd"])
def test_negative_durations_rejected(bad: str | float) -> None:
    with pytest.raises(DurationError, match="negative"):
        parse_duration(bad)


def test_bool_and_non_finite_numbers_rejected() -> None:
    for bad in (True, math.inf, math.nan):
        with pytest.raises(DurationError):
            parse_duration(bad)


def test_duration_constructor_rejects_mixed_or_negative() -> None:
    with pytest.raises(DurationError):
        Duration(-1.0)
    with pytest.raises(DurationError):
        Duration(5.0, 2.0)  # a working-day duration with a clock length


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("200/d", 200 / 86400), ("5/s", 5.0), ("12/h", 12 / 3600), ("30/min", 0.5),
     ("30/m", 0.5), ("0.5/s", 0.5), ("2", 2.0), (3, 3.0), ("7 / w", 7 / 604800)],
)  # fmt: skip
def test_parse_rate(text: str | int, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("bad", ["200/day", "5 per s", "/s", "3/wd", "1/ms", "abc"])
def test_bad_rate_message(bad: str) -> None:
    with pytest.raises(RateError) as info:
        parse_rate(bad)
    assert repr(bad) in str(info.value)
    assert "200/d" in str(info.value)


def test_negative_rate_rejected() -> None:
    with pytest.raises(RateError, match="negative"):
        parse_rate("-5/s")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.85, "850ms"), (12.34, "12.3s"), (4.2 * 60, "4.2min"), (3.1 * 3600, "3.1h"),
     (2.4 * 86400, "2.4d"), (59.97, "1min"), (0.0005, "0.5ms"), (-90, "-1.5min")],
)  # fmt: skip
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


class _Model(BaseModel):
    sla: DurationField = Duration(0.0)
    service: ClockDuration = Duration(0.0)
    rate: RateField = 0.0


def test_pydantic_fields_parse_strings_numbers_and_durations() -> None:
    m = _Model(sla="5wd", service=90, rate="200/d")
    assert m.sla == Duration.of_working_days(5)
    assert m.service.clock_seconds() == 90.0
    assert m.rate == pytest.approx(200 / 86400)
    assert _Model(service=Duration(3.0)).service.clock_seconds() == 3.0


def test_pydantic_json_dump_renders_durations_as_text() -> None:
    dumped = _Model(sla="5wd", service="2h").model_dump(mode="json")
    assert dumped["sla"] == "5wd"
    assert dumped["service"] == "2h"
    assert _Model.model_validate(dumped) == _Model(sla="5wd", service="2h")


def test_pydantic_reports_the_duration_message() -> None:
    with pytest.raises(ValidationError) as info:
        _Model(sla="3 hourz")
    assert "'3 hourz' is not a duration" in str(info.value)
    assert info.value.errors()[0]["loc"] == ("sla",)


def test_clock_duration_rejects_working_days_with_reason() -> None:
    with pytest.raises(ValidationError) as info:
        _Model(service="2wd")
    assert "only allowed for SLA targets" in str(info.value)


def test_rate_field_reports_the_rate_message() -> None:
    with pytest.raises(ValidationError, match="is not a rate"):
        _Model(rate="fast")
