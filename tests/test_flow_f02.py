"""F02: the e-business-licence and e-seal issued on establishment, started by F01 as a company's
establishment opens, then accepted by the housing fund, the company's bank and the real-estate
register when the company first uses them there."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from cli_runner import govstream
from flow_kit import answer_value, by_step, field_names, generate, run_case, strings_in

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.flow import TRIGGER, CaseView, handover_case_id
from processors.orchestrator import CANCELLED, SKIPPED, Orchestrator
from producers.amr_e_licence import MORTGAGE_PROBABILITY, ELicenceMix

FLOW = FLOWS["F02"]
F01 = FLOWS["F01"]
ON = dt.date(2021, 6, 1)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "e-licence.yaml"
WAITS = {
    "first-deposit": "deposit-acceptance",
    "account-visit": "account-opening",
    "mortgage-application": "mortgage-acceptance",
}
"""Each place's wait for the company, and the acceptance that follows it."""


def triggers(count: int, seed: int = 1, **mix: Any) -> list[dict[str, Any]]:
    return generate(FLOW, count, seed=seed, on=ON, **mix)


def company(*, employees: bool, mortgages: bool) -> dict[str, Any]:
    """A generated trigger with or without employees and a mortgage."""
    for trigger in triggers(400, seed=11, mortgage_probability=1.0 if mortgages else 0.0):
        if bool(trigger["employee_count"]) == employees:
            return trigger
    raise AssertionError("no such company in 400 draws")


# -- the trigger, from the register or from F01 ---------------------------------------------


def test_triggers_round_trip_through_their_contract(codec: AvroCodec) -> None:
    for trigger in triggers(200):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger


def test_f01_hands_every_establishment_over_at_its_trigger() -> None:
    """Declared by F02 and folded into F01's hand-overs: F01's own module declares none."""
    (handover,) = [h for h in F01.handovers if h.flow == "F02"]
    assert handover.at == TRIGGER and handover.step is None
    assert [(s.flow, s.at) for s in FLOW.started_by] == [("F01", TRIGGER)]


def test_an_establishment_hands_over_the_company_as_the_register_recorded_it(
    codec: AvroCodec,
) -> None:
    orchestrator = Orchestrator(F01, downstream={"F02": FLOW.source_topic})
    mortgaged = 0
    established = generate(F01, 400, seed=5, on=ON)
    for trigger in established:
        opened = orchestrator.open(None, trigger, opened_at=7.0, now=7.5)
        (started,) = opened.started
        value = dict(started.emit.value)
        case_id = handover_case_id("F02", str(trigger["case_id"]))
        assert (started.flow, started.at, started.emit.key) == ("F02", 7.0, case_id)
        assert started.emit.topic == FLOW.source_topic and value["case_id"] == case_id
        assert codec.decode(codec.encode(FLOW.source_topic, value), FLOW.source_topic)
        for name in ("uscc", "company_name", "legal_form", "established_on"):
            assert value[name] == trigger[name], name
        assert (
            value["legal_representative"]["id_number"]
            == (trigger["legal_representative"]["id_number"])
        )
        assert value["account_bank"] == trigger["account_bank"]
        assert value["employee_count"] == len(trigger["employees"])
        # what the employees are is F01's business, not the e-licence's
        employees = {e["id_number"] for e in trigger["employees"]}
        assert not employees & set(strings_in(value))
        mortgaged += value["mortgages_property"]
        again = Orchestrator(F01, downstream={"F02": FLOW.source_topic}).open(None, trigger, 7, 7)
        assert again.started[0].emit.value == value, "the same company whichever engine asks"
    expected = MORTGAGE_PROBABILITY * len(established)
    assert 0 < mortgaged < 3 * expected


def test_the_mix_refuses_a_probability_past_one() -> None:
    with pytest.raises(ValueError, match="mortgage_probability"):
        ELicenceMix(mortgage_probability=1.5)
    with pytest.raises(ValueError, match="size_weights"):
        ELicenceMix(size_weights=(1.0, 1.0))


# -- the steps ------------------------------------------------------------------------------


def test_every_request_fits_its_contract_and_carries_only_its_fields(codec: AvroCodec) -> None:
    for trigger in triggers(60, mortgage_probability=0.5):
        sent, _ = run_case(FLOW, trigger)
        for emit in sent.values():
            if FLOW.step(str(emit.step)).is_wait:
                continue
            assert set(emit.value) == field_names(emit.topic), emit.step
            decoded = codec.decode(codec.encode(emit.topic, emit.value), emit.topic).value
            assert decoded == emit.value


def test_only_the_register_learns_the_holders_identity_number_and_phone() -> None:
    trigger = company(employees=True, mortgages=True)
    holder = trigger["legal_representative"]
    sent, _ = run_case(FLOW, trigger)
    assert sorted(sent) == sorted(s.id for s in FLOW.steps)
    for step, emit in sent.items():
        seen = set(strings_in(dict(emit.value)))
        private = {holder["id_number"], holder["phone"]} & seen
        assert private == ({holder["id_number"], holder["phone"]} if step == "issue" else set())
    assert holder["name"] in set(strings_in(dict(sent["account-opening"].value)))
    assert holder["name"] not in set(strings_in(dict(sent["deposit-acceptance"].value)))


def test_each_place_checks_the_licence_and_seal_the_register_issued() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, company(employees=True, mortgages=True), 0.0, 0.0)
    assert [e.step for e in opened.emits] == ["issue"], "nothing to use before the issuance"
    issued = answer_value(FLOW, opened.emits[0], random.Random(2))
    assert set(issued["reply"]) == {"licence_id", "e_seal_code"}
    issued["reply"] = {"licence_id": "EL-BY-HAND", "e_seal_code": "5001039999999"}
    after = orchestrator.record(opened.state, issued, 1.0, 0.5)
    assert sorted(by_step(after.emits)) == sorted(WAITS), "every place's wait, no acceptance"
    state = after.state
    for at, (wait, acceptance) in enumerate(WAITS.items(), start=2):
        waited = answer_value(FLOW, by_step(after.emits)[wait], random.Random(at))
        progress = orchestrator.record(state, waited, float(at))
        (request,) = progress.emits
        assert request.step == acceptance
        assert request.value["licence_id"] == "EL-BY-HAND"
        assert request.value["e_seal_code"] == "5001039999999"
        state = progress.state


def test_a_company_without_employees_or_property_skips_the_fund_and_the_register() -> None:
    sent, last = run_case(FLOW, company(employees=False, mortgages=False))
    assert sorted(sent) == ["account-opening", "account-visit", "issue"]
    skipped = ["first-deposit", "deposit-acceptance", "mortgage-application", "mortgage-acceptance"]
    for step in skipped:
        assert last.state["done"][step]["status"] == SKIPPED
    assert last.completion is not None
    assert sorted(last.completion.emit.value["skipped"]) == sorted(skipped)


def test_a_refused_issuance_leaves_nothing_to_use() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, company(employees=True, mortgages=True), 0.0, 0.0)
    refused = answer_value(FLOW, opened.emits[0], random.Random(1), "no")
    done = orchestrator.record(opened.state, refused, 1.0)
    assert done.emits == [] and done.completion is not None
    assert done.completion.rejected == ("issue",)
    assert set(done.transition.cancelled) == set(WAITS) | set(WAITS.values())
    assert all(done.state["done"][s]["status"] == CANCELLED for s in done.transition.cancelled)


# -- who starts it, as `govstream flows --graph` draws it -------------------------------------


def test_the_graphs_show_the_hand_over_on_both_sides() -> None:
    upstream = govstream("flows", "--graph", "F01")
    assert upstream.returncode == 0, upstream.stderr
    assert "⇒ F02 at trigger" in upstream.stdout
    downstream = govstream("flows", "--graph", "F02")
    assert downstream.returncode == 0, downstream.stderr
    assert "started also by: F01 at trigger" in downstream.stdout
    listed = govstream("flows")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("│ F02 "))
    assert row.rstrip(" │").endswith("yes"), row


# -- the shipped scenario -------------------------------------------------------------------


def test_scenario_runs_and_every_establishment_gets_its_e_licence() -> None:
    scenario = load_scenario(SCENARIO, ["duration=5d"])
    result = SimEngine(scenario).run()
    f01, f02 = result.flow_counts["F01"], result.flow_counts["F02"]
    assert f01.cases_started > 50
    assert f02.cases_started == f01.cases_started, "F02 runs on F01's hand-overs alone"
    assert result.counts.cases_completed == result.counts.cases_started
    assert result.counts.lost == 0
    issued = result.latency["F02/span:establishment-to-issued"]
    assert issued["count"] == f02.cases_started
    assert result.latency["F02/span:issued-to-account"]["count"] == f02.cases_started
    verdict = {t.id: t for t in result.targets}["issued-on-establishment"]
    assert verdict.source == "plan" and verdict.measure == "M3"
    assert verdict.quote and "设立即免费发放" in verdict.quote
    assert verdict.observed is not None


def test_a_hand_over_case_is_named_after_the_establishment() -> None:
    view = CaseView("F01-0000042", generate(F01, 1, seed=3, on=ON)[0], {})
    (handover,) = [h for h in F01.handovers if h.flow == "F02"]
    built = handover.trigger(view, handover_case_id("F02", view.case_id))
    assert built["case_id"] == "F02.F01-0000042"
