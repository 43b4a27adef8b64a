"""Steps per item and flows that start flows, on the sim engine, one case at a time.

With one case, every latency of the run is that case's own, so each join and each span across
a hand-over can be worked out from the run's other figures: a join of k banks falls at the k-th
bank's freeze, a span from the bankruptcy ruling to the accounts closed in the F03 case it
started is the ruling's deregistration plus that case's bank closure, and an e-licence case
that an establishment starts at its trigger opens at the establishment's own time. (The same
shapes on Kafka: `tests/kafka/test_kafka_engine.py`, against the sim engine.)
"""

from __future__ import annotations

from typing import Any

import pytest

from govstream.engines.sim.engine import SimEngine
from govstream.result import RunResult
from govstream.scenario.loader import parse_scenario
from govstream.scenario.model import Scenario

INSTANT = "{dist: constant, value: 0}"

ONE_ENFORCEMENT = f"""
name: one-enforcement
flow: F19
seed: 5
duration: 1d
drain: 60d
arrivals: {{process: constant, rate: 2/d}}
population:
  bank_weights: [0, 0, 0, 0, 1]   # four banks hold the debtor's accounts
  property_probability: 0
  movables_probability: 0
steps:
  bank-freeze: {{service_time: {{dist: exponential, mean: 3h}}}}
  property-freeze: {{service_time: {INSTANT}}}
  disposal-preparation: {{service_time: {INSTANT}}}
  first-auction: {{duration: {INSTANT}}}
  second-auction: {{duration: {INSTANT}}}
transport: {{latency: {INSTANT}}}
platform: {{service_time: {INSTANT}}}
agencies:
  bank: {{servers: 10, calendar: always}}
  real-estate: {{servers: 1, calendar: always}}
  court: {{servers: 1, calendar: always}}
"""


def run(text: str, *overrides: str) -> RunResult:
    scenario: Scenario = parse_scenario(text)
    if overrides:
        from govstream.scenario.loader import apply_override

        data: dict[str, Any] = scenario.to_data()
        for override in overrides:
            apply_override(data, override, "test")
        scenario = Scenario.model_validate(data)
    return SimEngine(scenario).run()


def only(result: RunResult, name: str) -> float:
    summary = result.latency[name]
    assert summary["count"] == 1, (name, summary["count"])
    return float(summary["max"])


@pytest.mark.parametrize(("join", "kth"), [("all", 4), ("first", 1), ("{at_least: 2}", 2)])
def test_a_step_per_item_joins_at_the_kth_items_answer(join: str, kth: int) -> None:
    """Four banks freeze in their own times; the step is done at the k-th of them, and the case
    completes only once the last has answered."""
    result = run(ONE_ENFORCEMENT, f"flows.F19.steps.bank-freeze.join={join}")
    banks = sorted(
        only(result, name) for name in result.latency if name.startswith("F19/acted:bank-freeze@")
    )
    assert len(banks) == 4 and len(set(banks)) == 4
    assert only(result, "F19/acted:bank-freeze") == pytest.approx(banks[kth - 1], abs=1e-6)
    assert only(result, "F19/case") == pytest.approx(banks[-1], abs=1e-6)
    c = result.counts
    assert c.requests_emitted == 4 and c.outcomes_recorded == 4 and c.cases_completed == 1


ONE_BANKRUPTCY = f"""
name: one-bankruptcy
seed: 3
duration: 1d
drain: 60d
flows:
  F16:
    arrivals: {{process: constant, rate: 2/d}}
    population:
      liquidation_probability: 1
      bank_account_weights: [0, 1]
    steps:
      register-notice: {{service_time: {{dist: constant, value: 1h}}}}
      tax-handling: {{service_time: {{dist: constant, value: 5h}}}}
      credit-repair: {{service_time: {{dist: constant, value: 1h}}}}
      insurance-transfer: {{service_time: {{dist: constant, value: 2h}}}}
      bank-notice: {{service_time: {{dist: constant, value: 3h}}}}
      deregistration: {{service_time: {{dist: constant, value: 7h}}}}
  F03:
    steps:
      police: {{service_time: {{dist: constant, value: 30min}}}}
      bank: {{service_time: {{dist: constant, value: 11h}}}}
      housing-fund: {{service_time: {{dist: constant, value: 1h}}}}
transport: {{latency: {INSTANT}}}
platform: {{service_time: {INSTANT}}}
agencies:
  amr: {{servers: 5, calendar: always}}
  tax: {{servers: 5, calendar: always}}
  drc: {{servers: 5, calendar: always}}
  hrss: {{servers: 5, calendar: always}}
  bank: {{servers: 5, calendar: always}}
  police: {{servers: 5, calendar: always}}
  housing-fund: {{servers: 5, calendar: always}}
"""


def test_a_span_runs_across_the_hand_over() -> None:
    """The ruling's deregistration (after the 5 h tax handling, then 7 h) starts an F03 case
    whose bank closes the accounts 11 h later: 23 h from the ruling, measured on F16's span."""
    result = run(ONE_BANKRUPTCY)
    assert result.flow_counts["F03"].cases_started == 1, "the deregistration started F03"
    assert only(result, "F16/acted:deregistration") == pytest.approx(12 * 3600)
    assert only(result, "F03/acted:bank") == pytest.approx(11 * 3600)
    assert only(result, "F16/span:ruling-to-accounts-closed") == pytest.approx(23 * 3600)
    assert result.counts.cases_completed == 2 and result.counts.lost == 0


def test_no_hand_over_no_span_and_a_reorganisation_starts_nothing() -> None:
    """Without F03 in the run there is nothing to hand over to; a reorganised company is not
    deregistered at all."""
    alone = parse_scenario(ONE_BANKRUPTCY).to_data()
    alone["flows"].pop("F03")
    for agency in ("police", "housing-fund"):
        alone["agencies"].pop(agency)
    result = SimEngine(Scenario.model_validate(alone)).run()
    assert result.flow_ids == ["F16"]
    assert "F16/span:ruling-to-accounts-closed" not in result.latency
    reorganised = run(ONE_BANKRUPTCY, "flows.F16.population.liquidation_probability=0")
    assert reorganised.flow_counts["F03"].cases_started == 0
    assert "F16/span:ruling-to-accounts-closed" not in reorganised.latency


def test_a_flow_fed_only_by_hand_overs_needs_a_flow_that_hands_over() -> None:
    data = parse_scenario(ONE_BANKRUPTCY).to_data()
    data["flows"].pop("F16")
    for agency in ("amr", "tax", "drc", "hrss"):
        data["agencies"].pop(agency)
    with pytest.raises(ValueError, match=r"flows\.F03\.arrivals: required, or run a flow"):
        Scenario.model_validate(data)


HOP = 10.0
"""Every crossing of the exchange in ONE_ESTABLISHMENT, in seconds; the platform takes 1 s."""

ONE_ESTABLISHMENT = f"""
name: one-establishment
seed: 4
duration: 1d
drain: 30d
flows:
  F01:
    arrivals: {{process: constant, rate: 2/d}}
    population: {{size_weights: [1, 0, 0, 0], micro_employee_weights: [0, 1]}}
    steps:
      bank-reservation: {{service_time: {{dist: constant, value: 1s}}}}
      social-insurance: {{service_time: {{dist: constant, value: 1h}}}}
      tax-registration: {{service_time: {{dist: constant, value: 1h}}}}
      housing-fund: {{service_time: {{dist: constant, value: 1h}}}}
  F02:
    steps:
      issue: {{service_time: {{dist: constant, value: 3h}}}}
      first-deposit: {{duration: {{dist: constant, value: 1d}}}}
      deposit-acceptance: {{service_time: {{dist: constant, value: 1h}}}}
      account-visit: {{duration: {{dist: constant, value: 2d}}}}
      account-opening: {{service_time: {{dist: constant, value: 2h}}}}
      mortgage-application: {{duration: {{dist: constant, value: 3d}}}}
      mortgage-acceptance: {{service_time: {{dist: constant, value: 3h}}}}
transport: {{latency: {{dist: constant, value: {HOP:g}s}}}}
platform: {{service_time: {{dist: constant, value: 1s}}}}
agencies:
  amr: {{servers: 5, calendar: always}}
  bank: {{servers: 5, calendar: always}}
  hrss: {{servers: 5, calendar: always}}
  tax: {{servers: 5, calendar: always}}
  housing-fund: {{servers: 5, calendar: always}}
  real-estate: {{servers: 5, calendar: always}}
"""


def run_told(scenario: Scenario) -> tuple[RunResult, list[tuple[str, str, float]]]:
    """The run, and every case the engine told the books it started: flow, case, opened at."""
    engine = SimEngine(scenario)
    told: list[tuple[str, str, float]] = []
    started = engine.ledger.started

    def telling(flow_id: str, case_id: str, trigger: Any, at: float) -> None:
        told.append((flow_id, case_id, at))
        started(flow_id, case_id, trigger, at)

    engine.ledger.started = telling  # type: ignore[method-assign]
    return engine.run(), told


def test_an_establishment_starts_its_e_licence_case_at_the_establishment() -> None:
    """F01's one company starts one F02 case, named after it and opened at its establishment,
    before the platform has even opened F01's case. From there the licence takes the
    establishment's way to the platform (a hop, 1 s there), F02's trigger's (the same), the
    request's hop, 3 h at the register and the answer's hop: 3 h 42 s. The bank accepts it
    after the company's 2-day wait: the request's hop, 2 h, the answer's hop."""
    result, told = run_told(parse_scenario(ONE_ESTABLISHMENT))
    (f01, f01_case, established), (f02, f02_case, opened) = told
    assert (f01, f02) == ("F01", "F02")
    assert f02_case == f"F02.{f01_case}" and f01_case.startswith("F01-")
    assert opened == established
    assert only(result, "F02/span:establishment-to-issued") == pytest.approx(
        HOP + 1 + HOP + 1 + HOP + 3 * 3600 + HOP
    )
    assert only(result, "F02/span:issued-to-account") == pytest.approx(
        2 * 86400 + HOP + 2 * 3600 + HOP
    )
    c = result.counts
    assert c.cases_started == c.cases_completed == 2 and c.lost == 0


def test_no_e_licence_case_without_f02_in_the_run() -> None:
    alone = parse_scenario(ONE_ESTABLISHMENT).to_data()
    alone["flows"].pop("F02")
    for agency in ("amr", "real-estate"):
        alone["agencies"].pop(agency)
    result, told = run_told(Scenario.model_validate(alone))
    assert [flow_id for flow_id, _, _ in told] == ["F01"]
    assert result.flow_ids == ["F01"] and result.counts.cases_completed == 1
    assert not [name for name in result.latency if name.startswith("F02/")]
