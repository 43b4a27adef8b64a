"""F13's windowed aggregation on the sim engine: a score crosses its threshold at the signal
the windows say, by hand, and every crossing is a case that runs to its end.

One market entity (`population_size: 1`), so every signal weighs on the same score; the signals
come from replayed timestamps, so their times are known to the second. Weights are the
author's (`producers.supervision.SIGNAL_WEIGHTS`): a judgment 3, a listing as dishonest 5, a
complaint 1; the threshold is 10. The run starts at 08:00 in Beijing, midnight UTC, so its days
are the days faust's windows count from the Unix epoch.

    judgment    at  0h and 24h (the second exactly a day after the first)
    dishonesty  at 10h and 40h
    complaint   at 30h and 47:59:59

Tumbling windows of a day: the first day holds 3 + 5 = 8; the second day 3, 4, 9 and 10 at the
complaint at 47:59:59, which crosses. The judgment at 24h opens the second day; counted in the
first, it would have crossed there (11).
Hopping windows of two days starting every day: [0, 2d) reaches 11 at the judgment at 24h, its
first crossing; [1d, 3d) reaches 10 at the complaint at 47:59:59, its own.
A sliding window of a day: at 24h the window (0h, 24h] no longer holds the judgment at 0h, so
the score is 5 + 3 = 8, not 11; the complaint at 47:59:59 finds (23:59:59, 47:59:59] holding
3 + 1 + 5 + 1 = 10, and crosses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from signal_streams import (
    CROSSING,
    DAY,
    QUIET,
    TARGET_LINE,
    WINDOWS,
    H,
    signal_scenario,
    signal_text,
)

from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.scoring import Scorer
from govstream.pipeline.windows import WindowSpec
from govstream.result import RunResult
from govstream.scenario.estimate import estimate
from govstream.scenario.loader import ScenarioError, load_scenario, parse_scenario
from govstream.scenario.model import Scenario
from govstream.sla import judge_rate
from processors import FLOWS


def run(tmp_path: Path, window: str, stream: dict[str, list[float]]) -> RunResult:
    return SimEngine(signal_scenario(tmp_path, window, stream)).run()


@pytest.mark.parametrize("kind", sorted(WINDOWS))
def test_a_score_crosses_at_the_hand_computed_signal(tmp_path: Path, kind: str) -> None:
    window, expected = WINDOWS[kind]
    result = run(tmp_path, window, CROSSING)
    assert result.crossed == {"F13": expected}
    assert result.signals == {"F13": {"complaint": 2, "dishonesty": 2, "judgment": 2}}
    c = result.counts
    assert c.signals_received == 6 and c.signals_unscored == 0
    assert c.crossings == c.cases_started == c.cases_completed == len(expected)
    assert c.lost == 0 and all(check.holds for check in result.books)
    # each case ran warning then lead, from the crossing signal's time
    assert result.latency["F13/acted:warning"]["max"] == pytest.approx(600.0)
    assert result.latency["F13/span:crossing-to-lead"]["max"] == pytest.approx(600.0 + H)
    (verdict,) = result.targets
    assert (verdict.verdict, verdict.due, verdict.observed) == ("met", len(expected), 1.0)


@pytest.mark.parametrize("kind", sorted(WINDOWS))
def test_a_stream_that_stays_under_the_threshold_starts_no_case(tmp_path: Path, kind: str) -> None:
    result = run(tmp_path, WINDOWS[kind][0], QUIET)
    assert result.counts.signals_received == 5
    assert result.crossed == {} and result.counts.cases_started == 0
    (verdict,) = result.targets
    assert verdict.verdict == "no data"


def test_the_warning_names_the_window_score_and_its_signals() -> None:
    """The scorer's crossing, as the trigger carries it: the window that reached the threshold
    (faust's label), the score with the crossing signal, and the signals the window held, the
    judgment at 0h not among them."""
    scoring = FLOWS["F13"].scoring
    assert scoring is not None
    scorer = Scorer(scoring, WindowSpec("tumbling", DAY), 10.0)
    epoch = 1_622_505_600.0  # 2021-06-01 00:00 UTC, a whole number of days

    def signal(kind: str, n: int) -> dict[str, Any]:
        return {"event_id": f"{kind}-{n}", "uscc": "U", "company_name": "某公司"}

    made = [
        scorer.take(kind, signal(kind, n), epoch + at)
        for at, kind, n in sorted(
            (at, kind, n) for kind, times in CROSSING.items() for n, at in enumerate(times, start=1)
        )
    ]
    crossed = [m for m in made if m is not None]
    assert len(crossed) == 1 and made[-1] is crossed[0]
    warning = crossed[0]
    assert warning.window == (epoch + DAY, epoch + 2 * DAY - 0.1)
    assert warning.score == 10.0 and warning.threshold == 10.0
    assert warning.signals == (
        ("judgment", "judgment-2"),
        ("complaint", "complaint-1"),
        ("dishonesty", "dishonesty-2"),
        ("complaint", "complaint-2"),
    )


def test_a_passed_inspection_weighs_nothing() -> None:
    scoring = FLOWS["F13"].scoring
    assert scoring is not None
    scorer = Scorer(scoring, WindowSpec("tumbling", DAY), 1.0)
    passed = {"event_id": "i-1", "uscc": "U", "company_name": "某公司", "passed": True}
    assert scorer.take("inspection", passed, 10.0) is None
    assert "U" not in scorer.book
    failed = {**passed, "event_id": "i-2", "passed": False}
    assert scorer.take("inspection", failed, 20.0) is not None


# -- rates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "failed", "open_", "limit", "verdict"),
    [
        (10, 0, 0, 1.0, "met"),
        (9, 1, 0, 1.0, "missed"),
        (9, 0, 1, 1.0, "undecided"),  # the open case decides it
        (9, 1, 1, 1.0, "missed"),  # failed already, whatever the open one does
        (95, 3, 2, 0.95, "met"),  # 95 % even if the open ones fail
        (94, 3, 3, 0.95, "undecided"),
        (90, 8, 2, 0.95, "missed"),  # 92 % at best
        (0, 0, 0, 1.0, "no data"),
    ],
)
def test_a_rate_is_met_only_when_the_open_cases_cannot_tip_it(
    done: int, failed: int, open_: int, limit: float, verdict: str
) -> None:
    assert judge_rate(done, failed, open_, limit) == verdict


def test_rejected_and_cancelled_steps_count_against_a_rate(tmp_path: Path) -> None:
    """The platform refusing to issue half the warnings: each refused warning counts against
    its rate, and the lead it cancelled against the lead's."""
    scenario = signal_scenario(tmp_path, WINDOWS["hopping"][0], CROSSING)
    scenario = scenario.model_copy(
        update={
            "agencies": {
                **scenario.agencies,
                "supervision-platform": scenario.agencies["supervision-platform"].model_copy(
                    update={"reject_probability": 1.0}
                ),
            }
        }
    )
    result = SimEngine(scenario).run()
    assert result.rates["F13/rate:lead"] == {"done": 0, "failed": 2, "open": 0}
    (verdict,) = result.targets
    assert verdict.verdict == "missed" and verdict.observed == 0.0


# -- what a scenario may say ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"window": "{kind: rolling, size: 1d}"}, r"window\.kind.*'tumbling', 'hopping'"),
        ({"window": "{kind: hopping, size: 1d}"}, "a hopping window needs a step"),
        ({"window": "{kind: tumbling, size: 1.5s}"}, "whole seconds"),
        ({"threshold": "0"}, "threshold"),
        ({"target": "{of: rate, step: lead}"}, "at_least"),
        ({"target": "{of: rate, step: lead, at_least: 120%}"}, "at most 100 %"),
        ({"target": "{of: rate, step: lead, at_least: 100%, within: 1d}"}, "not 'within'"),
        ({"target": "{of: rate, at_least: 100%}"}, "on one step"),
        ({"target": "{of: acted, step: lead, at_least: 100%, within: 1d}"}, "not 'at_least'"),
        (
            {"target": "{of: rate, step: lead, at_least: 90%, source: plan, measure: M33}"},
            r"at_least: 90% is less than the plan's M33",
        ),
        (
            {"target": "{of: rate, step: warning, at_least: 100%, source: plan, measure: M33}"},
            "is on step lead",
        ),
    ],
)
def test_a_bad_scoring_setting_is_refused_naming_its_field(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    text = signal_text(tmp_path, WINDOWS["tumbling"][0], CROSSING)
    if "window" in change:
        text = text.replace("window: {kind: tumbling, size: 1d}", f"window: {change['window']}")
    if "threshold" in change:
        text = text.replace("threshold: 10", f"threshold: {change['threshold']}")
    if "target" in change:
        target = change["target"].replace("{", "{id: t, flow: F13, source: author, ", 1)
        if "source: plan" in target:
            target = target.replace("source: author, ", "")
        text = text.replace(TARGET_LINE, f"  - {target}")
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text)


def test_only_a_scoring_flow_has_signals_and_it_has_no_arrivals(tmp_path: Path) -> None:
    text = signal_text(tmp_path, WINDOWS["tumbling"][0], CROSSING)
    with pytest.raises(ScenarioError, match=r"flows\.F13\.arrivals: .*signals\.<kind>\.arrivals"):
        parse_scenario(text.replace("    signals:", "    arrivals: {rate: 1/d}\n    signals:"))
    with pytest.raises(ScenarioError, match=r"flows\.F13\.signals\.rumour: .*allowed: judgment"):
        parse_scenario(text.replace("      judgment:", "      rumour:"))
    f03 = (
        "name: x\nduration: 1d\nflows:\n  F03:\n    arrivals: {rate: 1/d}\n"
        "    threshold: 3\nagencies:\n"
        "  police: {service_time: {dist: constant, value: 1h}}\n"
        "  bank: {service_time: {dist: constant, value: 1h}}\n"
        "  housing-fund: {service_time: {dist: constant, value: 1h}}\n"
    )
    with pytest.raises(ScenarioError, match=r"flows\.F03\.threshold: only a flow .*\(F13\)"):
        parse_scenario(f03)


def test_a_scoring_scenario_reads_back_as_written(tmp_path: Path) -> None:
    """A worker reads the scenario back from its data, defaults spelt out: a rate target and
    the window must survive that."""
    scenario = signal_scenario(tmp_path, WINDOWS["hopping"][0], CROSSING)
    again = Scenario.model_validate(scenario.to_data())
    assert again == scenario
    assert again.window("F13") == WindowSpec("hopping", DAY * 2, DAY)
    assert again.targets[0].at_least == 1.0
    district = load_scenario(Path(__file__).parents[1] / "scenarios" / "district-2021.yaml")
    assert Scenario.model_validate(district.to_data()) == district


FLOOD = "complaint: {arrivals: {process: poisson, rate: 100/s}}"


def test_a_scoring_flow_s_signals_count_in_the_run_s_estimate(tmp_path: Path) -> None:
    """Signals are the run's messages too: a rate of them no run could finish is refused."""
    scenario = signal_scenario(tmp_path, WINDOWS["tumbling"][0], CROSSING)
    assert estimate(scenario).events == sum(len(times) for times in CROSSING.values())
    text = signal_text(tmp_path, WINDOWS["tumbling"][0], CROSSING)
    flood = text.replace("complaint: {arrivals: {process: replay,", "complaint: {arrivals: {x: 1,")
    flood = re.sub(r"complaint: \{arrivals: \{x: 1, file: [^}]*\}\}", FLOOD, flood)
    assert estimate(parse_scenario(flood)).large
