"""The exchange's delays and the other draws made per case and step, and `transport: measured`."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from govstream.cli import main
from govstream.pipeline.agencies import Waits, agency_pools
from govstream.pipeline.draws import KeyedDraws
from govstream.pipeline.exchange import Crossing, Exchange
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.loader import ScenarioError, load_scenario
from producers.ids import run_free

ROOT = Path(__file__).resolve().parents[1]
FANOUT = ROOT / "scenarios" / "deregistration-fanout.yaml"
PROCUREMENT = ROOT / "scenarios" / "procurement-lifecycle.yaml"


def test_a_case_is_the_same_case_whichever_run_id_it_carries() -> None:
    assert run_free("F03-0000042") == run_free("F03-9f2c1a77e0-0000042") == "F03-0000042"
    assert run_free("F03-9f2c1a77e0-warm-up-0000042") == "F03-0000042"


def test_a_message_draws_the_same_delay_whatever_came_before_it() -> None:
    exchange = Exchange(load_scenario(FANOUT))
    first = exchange.delay(Crossing.REQUEST, "F03-0000007", "bank")
    for n in range(100):  # other messages drawn in between change nothing
        exchange.delay(Crossing.REQUEST, f"F03-{n:07d}", "police")
    assert exchange.delay(Crossing.REQUEST, "F03-abc-0000007", "bank") == first
    assert exchange.delay(Crossing.OUTCOME, "F03-0000007", "bank") != first
    assert exchange.delay(Crossing.REQUEST, "F03-0000007", "police") != first


def test_the_delays_follow_the_scenarios_distribution() -> None:
    """The deregistration study's exchange: lognormal, median 150 ms, p95 1 s."""
    exchange = Exchange(load_scenario(FANOUT))
    delays = sorted(exchange.delay(Crossing.TRIGGER, f"F03-{n:07d}") for n in range(20_000))
    assert statistics.median(delays) == pytest.approx(0.15, rel=0.05)
    assert delays[int(0.95 * len(delays))] == pytest.approx(1.0, rel=0.08)


def test_service_rejection_and_wait_draws_are_the_cases_own() -> None:
    scenario = load_scenario(PROCUREMENT, ["agencies.purchaser.reject_probability=0.5"])
    pools = agency_pools(scenario, scenario_calendar(scenario))
    again = agency_pools(scenario, scenario_calendar(scenario))
    purchaser, other = pools["purchaser"], again["purchaser"]
    other.service_time("F17", "acceptance", "F17-0000001")  # a draw the first never made
    assert purchaser.service_time("F17", "contract-signing", "F17-0000002") == (
        other.service_time("F17", "contract-signing", "F17-run-0000002")
    )
    waits = Waits(scenario)
    first = {"request_id": "F17-0000003/delivery", "case_id": "F17-0000003"}
    again = {"request_id": "F17-x-0000003/delivery", "case_id": "F17-x-0000003"}
    assert waits.duration("F17", "delivery", first) == Waits(scenario).duration(
        "F17", "delivery", again
    )
    refusals = KeyedDraws(scenario.seed, "rejection")
    share = sum(refusals.uniform(f"F17-{n:07d}", "acceptance") < 0.5 for n in range(4000))
    assert 1850 < share < 2150


def test_measured_transport_takes_no_model_and_draws_nothing() -> None:
    scenario = load_scenario(FANOUT, ["transport=measured"])
    assert scenario.transport.measured
    assert Exchange(scenario).delay(Crossing.REQUEST, "F03-0000001", "bank") == 0.0
    with pytest.raises(ScenarioError, match="measured takes no latency"):
        load_scenario(FANOUT, ["transport={measured: true, latency: {dist: constant, value: 1s}}"])
    with pytest.raises(ScenarioError, match="'wire' is not a transport"):
        load_scenario(FANOUT, ["transport=wire"])


def test_measured_transport_is_bad_input_on_the_sim_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(FANOUT), "--set", "transport=measured", "--out", str(tmp_path)])
    assert code == 2
    assert "only the kafka engine has" in capsys.readouterr().err
    assert not (tmp_path / "result.json").exists()
