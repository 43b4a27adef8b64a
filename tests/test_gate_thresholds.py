"""`--fail-if` thresholds decided on two runs' numbers alone, without simulating either.

test_compare_gate checks the gate on real runs, where the second is slower than the first; a
threshold that asks the second run to be faster (a negative change) is decided on the other
side of zero, where a sign read wrongly still passes every slower comparison. Here the runs are
just their latency tables, so each side of each boundary can be set exactly.
"""

from __future__ import annotations

import pytest

from govstream.report.gate import Crossing, ThresholdError, evaluate, parse_threshold
from govstream.result import FlowInfo, RunResult

HOUR = 3600.0
MINUTE = 60.0


def run(p90: float, wd_p90: float = 1.0, flow: str = "F03", count: float = 100) -> RunResult:
    """A run whose only numbers are its case's p90, in seconds and in working days."""
    row = {"count": count, "mean": p90, "p50": p90, "p90": p90, "p99": p90, "max": p90}
    wd_row = {**row, "mean": wd_p90, "p50": wd_p90, "p90": wd_p90, "p99": wd_p90}
    return RunResult.model_construct(
        flows=[FlowInfo(id=flow, title=flow, measures=[], steps=[])],
        latency={f"{flow}/case": row},
        working_days={f"{flow}/case": wd_row},
    )


def crossed(text: str, first: RunResult, second: RunResult) -> bool:
    return evaluate(parse_threshold(text), first, second).crossed


@pytest.mark.parametrize(
    ("text", "kind", "amount", "working_days"),
    [
        ("case.p90 > -30min", "delta", -30 * MINUTE, False),
        ("case.p90 >= -2h", "delta", -2 * HOUR, False),
        ("wd:case.p90 > -0.5wd", "delta", -0.5, True),
        ("case.p90 > -1wd", "delta", -1.0, True),
        ("case.count < -5", "delta", -5.0, False),
        ("case.p90 > +30min", "delta", 30 * MINUTE, False),
        ("case.p90 > 30min", "level", 30 * MINUTE, False),
        ("case.p90 > -10%", "relative", -10.0, False),
        ("case.p90 > 1.5x", "ratio", 1.5, False),
        ("wd:case.p90 > +0wd", "delta", 0.0, True),
    ],
)
def test_a_change_keeps_its_sign(text: str, kind: str, amount: float, working_days: bool) -> None:
    threshold = parse_threshold(text)
    assert threshold.text == text
    assert (threshold.kind, threshold.amount, threshold.working_days) == (
        kind,
        amount,
        working_days,
    )


# "The second run must be at least 30 min faster": fail when its p90 fell by less.
FASTER = "case.p90 > -30min"


@pytest.mark.parametrize(
    ("second", "fails"),
    [
        (3 * HOUR - HOUR, False),  # an hour faster: the promise holds
        (3 * HOUR - 30 * MINUTE, False),  # exactly 30 min faster: still holds (strict >)
        (3 * HOUR - 10 * MINUTE, True),  # only 10 min faster: not enough
        (3 * HOUR, True),  # no faster at all
        (3 * HOUR + 10 * MINUTE, True),  # slower
    ],
)
def test_a_threshold_requiring_a_faster_second_run(second: float, fails: bool) -> None:
    assert crossed(FASTER, run(3 * HOUR), run(second)) is fails


@pytest.mark.parametrize(
    ("second", "fails"),
    [
        (3 * HOUR - HOUR, True),  # fell by an hour: flagged
        (3 * HOUR - 30 * MINUTE, True),  # by exactly 30 min: flagged (<=)
        (3 * HOUR - 10 * MINUTE, False),
        (3 * HOUR + 10 * MINUTE, False),  # a slower run never reads as a 30 min fall
    ],
)
def test_a_threshold_flagging_a_fall_of_30_minutes_or_more(second: float, fails: bool) -> None:
    assert crossed("case.p90 <= -30min", run(3 * HOUR), run(second)) is fails


@pytest.mark.parametrize(
    ("second", "fails"), [(1.0, False), (1.4, False), (1.6, True), (2.5, True)]
)
def test_a_negative_change_in_working_days(second: float, fails: bool) -> None:
    """`-0.5wd`: the second run's p90 at least half a working day shorter than 2 wd."""
    first = run(3 * HOUR, wd_p90=2.0)
    assert crossed("wd:case.p90 > -0.5wd", first, run(3 * HOUR, wd_p90=second)) is fails


def test_each_kind_of_change_is_decided_on_its_own_quantity() -> None:
    first, second = run(2 * HOUR), run(3 * HOUR)  # +1h, +50 %, 1.5x
    assert crossed("case.p90 > +59min", first, second)
    assert not crossed("case.p90 > +1h", first, second)
    assert crossed("case.p90 >= +1h", first, second)
    assert crossed("case.p90 > +49%", first, second)
    assert not crossed("case.p90 > +50%", first, second)
    assert crossed("case.p90 > 1.49x", first, second)
    assert not crossed("case.p90 > 1.5x", first, second)
    assert crossed("case.p90 > 2h", first, second)  # the second's own value
    assert not crossed("case.p90 < 3h", first, second)
    assert crossed("case.p90 <= 3h", first, second)


def test_a_change_from_nothing_is_infinite_or_none() -> None:
    """A first value of 0 has no ratio: any growth is infinite, none is no change."""
    zero, some = run(0.0), run(HOUR)
    crossing = evaluate(parse_threshold("case.p90 > +1000%"), zero, some)
    assert crossing.crossed
    assert evaluate(parse_threshold("case.p90 > 1000x"), zero, some).crossed
    assert not evaluate(parse_threshold("case.p90 > +0%"), zero, zero).crossed
    assert not evaluate(parse_threshold("case.p90 > 1x"), zero, zero).crossed
    assert evaluate(parse_threshold("case.p90 >= 1x"), zero, zero).crossed


def test_a_first_value_under_a_second_is_still_a_ratio() -> None:
    """Only 0 has no ratio: half a second to one second doubled, not grew without bound."""
    half, one = run(0.5), run(1.0)
    assert crossed("case.p90 < 3x", half, one)
    assert crossed("case.p90 < +150%", half, one)
    # from nothing to half a second is growth, however small
    assert crossed("case.p90 > 1x", run(0.0), half)
    assert crossed("case.p90 > +0%", run(0.0), half)


def test_the_statement_says_the_change_with_its_sign() -> None:
    crossing = evaluate(parse_threshold(FASTER), run(3 * HOUR), run(3 * HOUR - 10 * MINUTE))
    assert isinstance(crossing, Crossing) and crossing.crossed
    assert (crossing.first, crossing.second) == (3 * HOUR, 3 * HOUR - 10 * MINUTE)
    assert crossing.metric == "F03/case"
    assert crossing.change_text.startswith("-10min")
    assert "(-5.6 %, 0.94×)" in crossing.change_text
    assert crossing.statement.endswith(f"threshold '{FASTER}'")


@pytest.mark.parametrize("change", ["X2h", "*2h", "~30min"])
def test_only_a_plus_or_minus_signs_a_change(change: str) -> None:
    with pytest.raises(ThresholdError, match="not a duration"):
        parse_threshold(f"case.p90 > {change}")


def runs_of(*flows: str, metrics: tuple[str, ...] = ("case",)) -> RunResult:
    """A run of several flows, each with the given metrics (p90 of an hour)."""
    row = {"count": 10, "mean": HOUR, "p50": HOUR, "p90": HOUR, "p99": HOUR, "max": HOUR}
    table = {f"{flow}/{metric}": row for flow in flows for metric in metrics}
    return RunResult.model_construct(
        flows=[FlowInfo(id=flow, title=flow, measures=[], steps=[]) for flow in flows],
        latency=table,
        working_days={},
    )


def test_a_metric_is_named_in_full_or_by_the_one_shared_flow_that_has_it() -> None:
    first, second = runs_of("F03", "F14", metrics=("case", "acted:bank")), runs_of("F03")
    assert evaluate(parse_threshold("F03/case.p90 > +1h"), first, second).metric == "F03/case"
    # `case` is in both flows of the first run but only F03 is in both runs
    assert evaluate(parse_threshold("case.p90 > +1h"), first, second).metric == "F03/case"
    with pytest.raises(ThresholdError, match="in several flows of both runs; name one: "
                       "F03/case, F14/case"):  # fmt: skip
        evaluate(parse_threshold("case.p90 > +1h"), first, first)


def test_a_metric_only_one_run_has_is_refused_naming_that_run_and_the_close_ones() -> None:
    first, second = runs_of("F03", metrics=("case", "acted:bank")), runs_of("F03")
    with pytest.raises(ThresholdError) as raised:
        evaluate(parse_threshold("F03/acted:bank.p90 > +1h"), first, second)
    said = str(raised.value)
    assert "no latency 'F03/acted:bank' (clock time) in the second run" in said
    assert "first" not in said.split("in the")[1].split("run")[0]
    with pytest.raises(ThresholdError) as raised:
        evaluate(parse_threshold("F03/cases.p90 > +1h"), first, second)
    said = str(raised.value)
    assert "in the first and the second run; did you mean F03/case?" in said
    assert "`govstream compare` lists them" in said
    with pytest.raises(ThresholdError, match=r"\(working days\) in the first and the second"):
        evaluate(parse_threshold("wd:F03/case.p90 > +1wd"), first, second)


def test_a_bare_metric_is_refused_where_the_runs_share_no_flow() -> None:
    with pytest.raises(ThresholdError, match="no latency 'case'"):
        evaluate(parse_threshold("case.p90 > +1h"), run(HOUR), run(HOUR, flow="F14"))
