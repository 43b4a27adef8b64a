"""Window arithmetic for F13's risk scores: faust's windows, and the events that warn.

The kafka engine keeps the scores in a faust windowed table and the sim engine in a `ScoreBook`;
if the two put an event in different windows, they warn about different entities on different
days and the engines' results cannot be compared.
"""

from __future__ import annotations

import math
import random

import pytest
from faust.windows import HoppingWindow, TumblingWindow, _PyHoppingWindow

from govstream.pipeline.windows import (
    Crossing,
    ScoreBook,
    WindowSpec,
    crosses,
    slide,
    sliding_score,
)

DAY = 86_400.0
MONTH = 30 * DAY
WEIGHTS = {"judgment": 3.0, "dishonesty": 5.0, "inspection-failed": 2.0, "complaint": 1.0}
"""The plan's four kinds of event, weighted; a score of 8 warns."""
THRESHOLD = 8.0
USCC = "91500103MA5YXQ2K02"  # a Yuzhong (500103) company, check digit valid


def feed(
    book: ScoreBook, events: list[tuple[float, str]], key: str = USCC
) -> list[Crossing | None]:
    """Each event's answer, in order: (day, kind) pairs."""
    return [book.add(key, day * DAY, WEIGHTS[kind]) for day, kind in events]


# Windows by hand


def test_a_tumbling_window_holds_its_start_and_not_its_end() -> None:
    """faust names a window (start, start + size - 0.1): an event at 10 opens the next window,
    and the label's end is no bound, 9.95 is still in the first."""
    spec = WindowSpec("tumbling", 10)
    assert spec.ranges(0) == [(0.0, 9.9)]
    assert spec.ranges(9.9) == [(0.0, 9.9)]
    assert spec.ranges(9.95) == [(0.0, 9.9)]
    assert spec.ranges(10) == [(10.0, 19.9)]
    assert spec.current(10) == (10.0, 19.9)


def test_a_hopping_event_counts_in_every_window_that_started_within_a_size_of_it() -> None:
    """Size 10, step 5: an event at 7 is in [0, 10) and [5, 15); one on a step's edge opens the
    window starting there and has left the one ending there; before the first size, faust's
    first window starts below zero."""
    spec = WindowSpec("hopping", 10, 5)
    assert spec.ranges(7) == [(0.0, 9.9), (5.0, 14.9)]
    assert spec.ranges(5) == [(0.0, 9.9), (5.0, 14.9)]
    assert spec.ranges(10) == [(5.0, 14.9), (10.0, 19.9)]
    assert spec.ranges(15) == [(10.0, 19.9), (15.0, 24.9)]
    assert spec.ranges(0) == [(-5.0, 4.9), (0.0, 9.9)]
    assert spec.current(7) == (5.0, 14.9)


def test_hopping_windows_off_the_step_grid_are_faust_s() -> None:
    """With a size that is not a multiple of the step, faust's starts are shifted back by the
    remainder (size 10, step 3: -1, 2, 5, 8): the sim engine must use the same windows."""
    spec = WindowSpec("hopping", 10, 3)
    assert spec.ranges(8) == [(-1.0, 8.9), (2.0, 11.9), (5.0, 14.9), (8.0, 17.9)]
    assert spec.ranges(7.5) == [(-1.0, 8.9), (2.0, 11.9), (5.0, 14.9)]


def test_a_hair_before_a_step_faust_s_current_window_is_the_next_one() -> None:
    """One ulp before day 1, `t - first` rounds up to whole steps and faust's `.current()`
    names the window opening at day 1, which does not hold t; the book reads the score where
    faust's table reads it. A tenth of a second before, it is the window holding t."""
    spec = WindowSpec("hopping", MONTH, DAY)
    hair = math.nextafter(DAY, 0.0)
    assert spec.ranges(hair)[-1] == (0.0, MONTH - 0.1)
    assert spec.current(hair) == (DAY, DAY + MONTH - 0.1) == HoppingWindow(MONTH, DAY).current(hair)
    assert spec.current(DAY - 0.1) == (0.0, MONTH - 0.1)


def test_a_sliding_window_is_the_one_ending_at_the_event() -> None:
    """The window of an event at t is (t - size, t]: named by its edges."""
    assert WindowSpec("sliding", 30).ranges(100) == [(70.0, 100.0)]
    assert WindowSpec("sliding", 30).current(100) == (70.0, 100.0)


# Against faust


def _times(size: float, step: float) -> list[float]:
    """Edges, their neighbours, fractions, and random times up to epoch-sized ones."""
    rng = random.Random(int(size * 7 + step))
    edges = [k * step for k in range(12)] + [k * size for k in range(6)]
    times = [0.0, 0.05, 0.1, 0.5, 0.9999, 1.0, 3.7, 1_700_000_000.0, 1_700_000_000.25]
    for edge in edges:
        times += [edge, math.nextafter(edge, math.inf), edge + 0.1, edge + 0.9]
        if edge > 0:
            times += [math.nextafter(edge, 0.0), edge - 0.1, edge - 0.05]
    times += [rng.uniform(0, 5 * size) for _ in range(300)]
    times += [rng.randrange(0, 10**9) + rng.random() for _ in range(100)]
    return times


@pytest.mark.parametrize(("size", "step"), [(10, 10), (1, 1), (MONTH, MONTH), (3600, 3600)])
def test_tumbling_ranges_are_faust_s(size: float, step: float) -> None:
    """For every time, the windows and the current window are the ones faust's table would key
    the score by, to the bit: faust's compiled windows and its pure-Python ones."""
    spec = WindowSpec("tumbling", size)
    theirs, pure = TumblingWindow(size), _PyHoppingWindow(size, size)
    for t in _times(size, step):
        assert spec.ranges(t) == theirs.ranges(t) == pure.ranges(t), t
        assert spec.current(t) == theirs.current(t) == pure.current(t), t


@pytest.mark.parametrize(
    ("size", "step"),
    [(10, 5), (10, 3), (10, 4), (7, 2), (10, 10), (60, 1), (MONTH, DAY), (MONTH, 7 * DAY)],
)
def test_hopping_ranges_are_faust_s(size: float, step: float) -> None:
    """The same for hopping windows, including sizes that are not a multiple of the step."""
    spec = WindowSpec("hopping", size, step)
    theirs, pure = HoppingWindow(size, step), _PyHoppingWindow(size, step)
    for t in _times(size, step):
        assert spec.ranges(t) == theirs.ranges(t) == pure.ranges(t), t
        assert spec.current(t) == theirs.current(t) == pure.current(t), t


@pytest.mark.parametrize(
    "spec", [WindowSpec("tumbling", 10), WindowSpec("hopping", 10, 5), WindowSpec("hopping", 9, 2)]
)
def test_scores_and_warnings_are_what_a_faust_table_holds(spec: WindowSpec) -> None:
    """A dict keyed by faust's own (key, range), added to per range as a faust table's
    `table[key] += weight` does, gives the book's scores and warnings."""
    faust_window = HoppingWindow(spec.size, spec.step or spec.size)
    rng = random.Random(5)
    table: dict[tuple[str, tuple[float, float]], float] = {}
    book = ScoreBook(spec, threshold=6)
    t = 0.0
    for _ in range(2_000):
        t += rng.choice([0.0, 0.3, 1.0, 2.5, 4.0, 9.0])
        key = rng.choice("ABC")
        weight = float(rng.randint(0, 3))
        expected = None
        for window in faust_window.ranges(t):
            before = table.get((key, window), 0.0)
            table[(key, window)] = before + weight
            if expected is None and before < 6 <= before + weight:
                expected = Crossing(key, t, window, before, before + weight, 6)
        assert book.add(key, t, weight) == expected
        assert book.score(key, t) == table.get((key, faust_window.current(t)), 0.0)


# Warnings


def test_a_tumbling_score_warns_at_the_event_that_reaches_the_threshold() -> None:
    """A complaint, a failed inspection, a complaint and a dishonesty record in one 30-day
    window: 1, 3, 4, then 9, so the fourth warns, from 4 to 9."""
    book = ScoreBook(WindowSpec("tumbling", MONTH), THRESHOLD)
    answers = feed(
        book, [(1, "complaint"), (3, "inspection-failed"), (10, "complaint"), (20, "dishonesty")]
    )
    assert answers[:3] == [None, None, None]
    assert answers[3] == Crossing(USCC, 20 * DAY, (0.0, MONTH - 0.1), 4.0, 9.0, THRESHOLD)


def test_a_tumbling_score_does_not_add_across_a_window_s_edge() -> None:
    """A judgment and a complaint before day 30 (4) and a dishonesty record after (5) make 9,
    but in two windows; a sliding window over the same events warns."""
    events = [(25, "judgment"), (28, "complaint"), (31, "dishonesty"), (33, "complaint")]
    book = ScoreBook(WindowSpec("tumbling", MONTH), THRESHOLD)
    assert feed(book, events[:2]) == [None, None]
    assert book.score(USCC, 28 * DAY) == 4.0
    assert feed(book, events[2:]) == [None, None]
    assert book.score(USCC, 33 * DAY) == 6.0
    sliding = feed(ScoreBook(WindowSpec("sliding", MONTH), THRESHOLD), events)
    assert [answer is not None for answer in sliding] == [False, False, True, False]


def test_a_sliding_score_warns_when_the_window_ending_at_the_event_reaches_it() -> None:
    """The same four events as the tumbling warning: the fourth warns, from 4 to 9, and the
    window is the 30 days ending at it."""
    book = ScoreBook(WindowSpec("sliding", MONTH), THRESHOLD)
    answers = feed(
        book, [(1, "complaint"), (3, "inspection-failed"), (10, "complaint"), (20, "dishonesty")]
    )
    assert answers[:3] == [None, None, None]
    assert answers[3] == Crossing(USCC, 20 * DAY, (20 * DAY - MONTH, 20 * DAY), 4.0, 9.0, THRESHOLD)


def test_an_event_exactly_a_window_earlier_has_slid_out() -> None:
    """A dishonesty record (5) and a judgment (3) make 8, the threshold: a second before 30
    days apart they warn (reaching it is enough); exactly 30 days apart the first is out."""
    inside = ScoreBook(WindowSpec("sliding", MONTH), THRESHOLD)
    assert inside.add(USCC, 0.0, WEIGHTS["dishonesty"]) is None
    crossing = inside.add(USCC, MONTH - 1, WEIGHTS["judgment"])
    assert crossing is not None and (crossing.score_before, crossing.score_after) == (5.0, 8.0)

    edge = ScoreBook(WindowSpec("sliding", MONTH), THRESHOLD)
    assert edge.add(USCC, 0.0, WEIGHTS["dishonesty"]) is None
    assert edge.add(USCC, MONTH, WEIGHTS["judgment"]) is None
    assert edge.score(USCC, MONTH) == 3.0

    read = ScoreBook(WindowSpec("sliding", MONTH), THRESHOLD)
    read.add(USCC, 0.0, WEIGHTS["dishonesty"])
    assert read.score(USCC, MONTH - 1) == 5.0
    assert read.score(USCC, MONTH) == 0.0


def test_a_hopping_score_warns_in_the_earliest_window_that_reaches_it() -> None:
    """30-day windows every 10 days. A judgment at 12, a failed inspection at 15, a complaint
    at 21 and a judgment at 28 make 9 in [0, 30) and in [10, 40): one warning, for [0, 30)."""
    book = ScoreBook(WindowSpec("hopping", MONTH, 10 * DAY), THRESHOLD)
    answers = feed(
        book, [(12, "judgment"), (15, "inspection-failed"), (21, "complaint"), (28, "judgment")]
    )
    assert answers[:3] == [None, None, None]
    assert answers[3] == Crossing(USCC, 28 * DAY, (0.0, MONTH - 0.1), 6.0, 9.0, THRESHOLD)
    assert book.score(USCC, 28 * DAY) == 4.0  # [20, 50), the window faust's .current() reads


def test_a_hopping_warning_skips_windows_already_over_the_threshold() -> None:
    """Windows that reached 8 earlier do not warn again; the first window reaching it now
    does: [10, 40) at the dishonesty record on day 18."""
    book = ScoreBook(WindowSpec("hopping", MONTH, 10 * DAY), THRESHOLD)
    first, second, third, fourth = feed(
        book, [(5, "dishonesty"), (8, "judgment"), (15, "judgment"), (18, "dishonesty")]
    )
    assert first is None and third is None
    assert second is not None and second.window == (-20 * DAY, 10 * DAY - 0.1)
    assert fourth == Crossing(USCC, 18 * DAY, (10 * DAY, 40 * DAY - 0.1), 3.0, 8.0, THRESHOLD)


def test_hopping_events_within_a_size_of_each_other_need_not_share_a_window() -> None:
    """A dishonesty record on day 5 and a judgment on day 31 are 26 days apart, 8 together, but
    no 30-day window starting on a tenth day holds both; a sliding window does."""
    events = [(5, "dishonesty"), (31, "judgment")]
    book = ScoreBook(WindowSpec("hopping", MONTH, 10 * DAY), THRESHOLD)
    assert feed(book, events) == [None, None]
    assert book.score(USCC, 31 * DAY) == 3.0
    sliding = feed(ScoreBook(WindowSpec("sliding", MONTH), THRESHOLD), events)
    assert sliding[1] is not None and sliding[1].score_after == 8.0


def test_a_window_warns_once() -> None:
    """More events in a window already over the threshold do not warn again; the next window
    warns afresh."""
    book = ScoreBook(WindowSpec("tumbling", MONTH), THRESHOLD)
    answers = feed(
        book,
        [
            (1, "dishonesty"),
            (2, "judgment"),
            (3, "complaint"),
            (4, "dishonesty"),
            (31, "dishonesty"),
            (32, "judgment"),
        ],
    )
    assert [answer is not None for answer in answers] == [False, True, False, False, False, True]
    assert book.score(USCC, 32 * DAY) == 8.0


def test_a_sliding_score_warns_again_only_after_falling_below() -> None:
    """Over 8 on day 1; a complaint on day 2 finds it still over and does not warn. On day 31
    the first two have slid out and a complaint finds 6, under 8. On day 32 the day-2 complaint,
    exactly 30 days before, is out too: a judgment finds 6 and, taking it to 9, warns again."""
    book = ScoreBook(WindowSpec("sliding", MONTH), THRESHOLD)
    answers = feed(
        book,
        [
            (0, "dishonesty"),
            (1, "judgment"),
            (2, "complaint"),
            (20, "dishonesty"),
            (31, "complaint"),
            (32, "judgment"),
        ],
    )
    assert [answer is not None for answer in answers] == [False, True, False, False, False, True]
    assert answers[5] is not None
    assert (answers[5].score_before, answers[5].score_after) == (6.0, 9.0)


def test_reaching_the_threshold_warns_and_being_there_does_not() -> None:
    """The one rule both engines use: from under it to at or over it."""
    assert crosses(7.0, 8.0, 8.0)
    assert crosses(7.9, 12.0, 8.0)
    assert not crosses(8.0, 9.0, 8.0)
    assert not crosses(6.0, 7.9, 8.0)


def test_what_the_kafka_engine_keeps_for_a_sliding_score_stays_one_window_long() -> None:
    """`slide` drops what has slid out, so the plain table's list of pairs does not grow."""
    recent: list[tuple[float, float]] = []
    for day in range(365):
        recent, before, after = slide(recent, day * DAY, 1.0, MONTH)
        assert len(recent) == min(day + 1, 30)
        assert after == before + 1.0 == sliding_score(recent, day * DAY, MONTH)
    assert [time for time, _ in recent] == [day * DAY for day in range(335, 365)]


# Expiry


def _year(seed: int) -> list[tuple[str, float, float]]:
    """A year of events over a few entities, some going quiet for months."""
    rng = random.Random(seed)
    events, t = [], 0.0
    while t < 365 * DAY:
        t += rng.expovariate(1 / (DAY / 3))
        month = int(t // MONTH)
        key = rng.choice(["A", "B", "C"] if month % 3 else ["A", "D"])
        events.append((key, t, rng.choice(list(WEIGHTS.values()))))
    return events


@pytest.mark.parametrize(
    "spec",
    [
        WindowSpec("tumbling", MONTH),
        WindowSpec("hopping", MONTH, 10 * DAY),
        WindowSpec("sliding", MONTH),
    ],
)
def test_expiring_changes_no_answer_and_bounds_what_is_held(spec: WindowSpec) -> None:
    """Calling `expire_before(now)` daily gives the same warnings and scores as never calling
    it, and what is held stays within a window's worth per entity."""
    kept, expiring = ScoreBook(spec, THRESHOLD), ScoreBook(spec, THRESHOLD)
    events = _year(seed=3)
    next_expiry, held = DAY, []
    for key, at, weight in events:
        if at >= next_expiry:
            expiring.expire_before(next_expiry)
            next_expiry += DAY
        assert expiring.add(key, at, weight) == kept.add(key, at, weight)
        assert expiring.score(key, at) == kept.score(key, at)
        held.append(len(expiring))
    if spec.kind == "sliding":
        # the events of the window, and of the day not yet expired before it
        bound = max(
            sum(1 for _, t, _ in events if at - MONTH - DAY < t <= at) for _, at, _ in events
        )
    else:
        bound = 4 * int(spec.size // (spec.step or spec.size) + 1)  # four entities' windows
    assert max(held) <= bound < len(events) / 4
    assert len(expiring) < len(kept)


@pytest.mark.parametrize(
    "spec",
    [
        WindowSpec("tumbling", MONTH),
        WindowSpec("hopping", MONTH, 10 * DAY),
        WindowSpec("sliding", MONTH),
    ],
)
def test_an_entity_gone_quiet_is_forgotten(spec: WindowSpec) -> None:
    """An entity last seen in January holds nothing once its windows have ended, and its next
    event scores as if from nothing, as it would have anyway."""
    book = ScoreBook(spec, THRESHOLD)
    for day in range(5):
        book.add("A", day * DAY, 1.0)
    book.add("B", 95 * DAY, 1.0)
    before = len(book)
    book.expire_before(100 * DAY)
    assert "A" not in book and "B" in book
    assert len(book) < before
    assert book.score("A", 100 * DAY) == 0.0
    assert book.add("A", 101 * DAY, 8.0) is not None


def test_an_event_closes_its_entity_s_ended_windows() -> None:
    """Without `expire_before`, an active entity still holds only its open windows."""
    book = ScoreBook(WindowSpec("hopping", MONTH, 10 * DAY), THRESHOLD)
    for day in range(365):
        book.add(USCC, day * DAY, 0.5)
        assert len(book) == 3  # the three windows holding the day


# Refusals


@pytest.mark.parametrize(
    ("kind", "size", "step", "message"),
    [
        ("weekly", 10, None, "tumbling, hopping or sliding"),
        ("tumbling", 0, None, "positive"),
        ("tumbling", -10, None, "positive"),
        ("sliding", math.inf, None, "positive"),
        ("tumbling", math.nan, None, "positive"),
        ("tumbling", 10, 10, "only a hopping window has a step"),
        ("sliding", 10, 5, "only a hopping window has a step"),
        ("hopping", 10, None, "needs a step"),
        ("hopping", 10, 0, "more than 0 and at most its size"),
        ("hopping", 10, -5, "more than 0 and at most its size"),
        ("hopping", 10, 11, "more than 0 and at most its size"),
        ("tumbling", 10.5, None, "whole seconds"),
        ("hopping", 10, 2.5, "whole seconds"),
        ("hopping", 10.5, 5, "whole seconds"),
    ],
)
def test_a_window_faust_could_not_keep_is_refused(
    kind: str, size: float, step: float | None, message: str
) -> None:
    """A bad window is refused when declared, not when its first event lands."""
    with pytest.raises(ValueError, match=message):
        WindowSpec(kind, size, step)  # type: ignore[arg-type]


def test_a_sliding_window_may_be_fractional() -> None:
    """Only faust's stepping needs whole seconds."""
    assert WindowSpec("sliding", 0.5).ranges(2.0) == [(1.5, 2.0)]


def test_an_entity_s_events_out_of_order_are_refused() -> None:
    """Its earlier windows may be gone; another entity keeps its own order."""
    book = ScoreBook(WindowSpec("tumbling", MONTH), THRESHOLD)
    book.add("A", 10 * DAY, 1.0)
    book.add("A", 10 * DAY, 1.0)
    book.add("B", 2 * DAY, 1.0)
    with pytest.raises(ValueError, match="time order"):
        book.add("A", 9 * DAY, 1.0)
    with pytest.raises(ValueError, match="time order"):
        book.score("A", 9 * DAY)
    with pytest.raises(ValueError, match="time order"):
        slide([(10.0, 1.0)], 9.0, 1.0, 30.0)


def test_events_before_an_expiry_are_refused() -> None:
    """What they would count against has been forgotten."""
    book = ScoreBook(WindowSpec("sliding", MONTH), THRESHOLD)
    book.expire_before(40 * DAY)
    with pytest.raises(ValueError, match="expire_before"):
        book.add("A", 39 * DAY, 1.0)
    with pytest.raises(ValueError, match="expire_before"):
        book.score("A", 39 * DAY)
    assert book.add("A", 40 * DAY, 1.0) is None


@pytest.mark.parametrize("at", [-1.0, -0.5, math.nan, math.inf])
def test_a_time_before_the_epoch_is_refused(at: float) -> None:
    """faust truncates toward zero: at -0.5 it would put the event in two tumbling windows."""
    with pytest.raises(ValueError, match="never negative"):
        WindowSpec("tumbling", 10).ranges(at)
    with pytest.raises(ValueError, match="never negative"):
        ScoreBook(WindowSpec("sliding", 10), THRESHOLD).add("A", at, 1.0)


@pytest.mark.parametrize("weight", [-1.0, math.nan, math.inf])
def test_a_weight_that_is_not_a_count_is_refused(weight: float) -> None:
    """A window's score only rises, which is why it warns once."""
    with pytest.raises(ValueError, match="weight"):
        ScoreBook(WindowSpec("tumbling", 10), THRESHOLD).add("A", 0.0, weight)


@pytest.mark.parametrize("threshold", [0.0, -1.0, math.nan])
def test_a_threshold_an_empty_window_meets_is_refused(threshold: float) -> None:
    """An empty window scores 0."""
    with pytest.raises(ValueError, match="threshold"):
        ScoreBook(WindowSpec("tumbling", 10), threshold)
