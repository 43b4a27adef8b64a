"""F13 on a real broker: the scores kept in a faust windowed table cross at the hand-computed
signals, as on the sim engine, and the cases they start run to their end."""

from __future__ import annotations

from pathlib import Path

import pytest
from signal_streams import CROSSING, WINDOWS, signal_scenario

from govstream.engines import RunSettings
from govstream.engines.kafka.engine import run_on_kafka
from govstream.engines.sim.engine import SimEngine

pytestmark = pytest.mark.kafka

SPEEDUP = 20_000.0
"""Two business days of signals in nine seconds; an entity's signals are still six business
hours (a second of wall time) apart or more, so Kafka hands them to the scorer in order."""


def test_hopping_windows_in_a_faust_table_cross_where_the_hand_computed(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Hopping windows of two days every day, one entity: [0, 2d) reaches 11 at the judgment
    at 24h, the edge of the second day; [1d, 3d) reaches 10 at the complaint a second before
    48h. faust names the windows and counts the signals on their business time; both crossings
    start a case, which the platform warns on and amr acts on, and nothing is lost."""
    window, expected = WINDOWS["hopping"]
    scenario = signal_scenario(tmp_path, window, CROSSING)
    scenario = scenario.model_copy(
        update={"kafka": scenario.kafka.model_copy(update={"speedup": SPEEDUP})}
    )
    sim = SimEngine(scenario).run()
    work = tmp_path / "run"
    work.mkdir()
    kafka = run_on_kafka(scenario, RunSettings(bootstrap=kafka_bootstrap, work_dir=work))
    run_id = kafka.engine.options["run_id"]
    assert sim.crossed == {"F13": expected}
    assert kafka.crossed == {"F13": [case.replace("-", f"-{run_id}-", 1) for case in expected]}
    c = kafka.counts
    assert c.signals_received == 6 and c.signals_unscored == 0
    assert c.crossings == c.cases_started == c.cases_completed == len(expected)
    assert c.lost == 0 and c.requests_in_flight == 0 and c.dead_lettered == 0
    assert c.requests_emitted == c.outcomes_recorded == 2 * len(expected)
    assert [check.identity for check in kafka.books if not check.holds] == []
    (verdict,) = kafka.targets
    assert (verdict.verdict, verdict.due) == ("met", len(expected))
    # each case from its crossing signal: the warning's ten minutes, then the lead's hour, on
    # the business clock, plus what the platform itself took, scaled up
    acted = kafka.latency["F13/span:crossing-to-lead"]
    assert acted["count"] == len(expected)
    assert acted["p50"] >= 4200.0 * 0.999  # HdrHistogram keeps three significant digits


def test_a_sliding_window_is_refused_on_kafka_naming_the_field(tmp_path: Path) -> None:
    """faust's tables keep no sliding window: bad input before any broker is asked."""
    scenario = signal_scenario(tmp_path, WINDOWS["sliding"][0], CROSSING)
    with pytest.raises(ValueError, match=r"flows\.F13\.window\.kind: sliding"):
        run_on_kafka(scenario, RunSettings(bootstrap="localhost:1"))
