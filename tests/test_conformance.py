"""External agencies' answers judged without a broker: the orchestrator's reply check, the
ledger's per-agency view (valid, invalid by reason, missing, late, duplicated), the result
model and its verdict, and the validation that keeps `external` to the kafka engine."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from govstream.engines import engine_problem
from govstream.pipeline.agencies import agency_pools
from govstream.pipeline.ledger import Ledger
from govstream.result import Conformance, RunResult
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.loader import load_scenario
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.agency import outcome_for
from processors.orchestrator import (
    ANSWERED,
    NOT_THE_OWNER,
    REFUSED,
    REPLY_FIELDS_MISSING,
    Orchestrator,
    Progress,
)

ROOT = Path(__file__).resolve().parents[1]
F01 = FLOWS["F01"]
SCENARIO = ROOT / "scenarios" / "company-establishment.yaml"


def scenario(*overrides: str) -> Scenario:
    return load_scenario(SCENARIO, ["calendar.holidays=none", *overrides])


def f01_case(case_id: str = "F01-0000001") -> dict[str, object]:
    import datetime as dt

    make = F01.source.generator(random.Random(3), {"micro_employee_weights": [0, 1]})
    return make(case_id, dt.date(2021, 6, 1))


def bank_answer(progress: Progress, **changes: object) -> dict[str, object]:
    emit = next(
        e for e in Orchestrator(F01).outstanding(progress.state) if e.step == "bank-reservation"
    )
    outcome = dict(
        outcome_for(F01, F01.step("bank-reservation"), emit.value, random.Random(1)).value
    )
    outcome.update(changes)
    return outcome


def test_a_completed_answer_without_the_reply_later_steps_read_is_refused_and_the_case_waits():
    orchestrator = Orchestrator(F01)
    opened = orchestrator.open(None, f01_case(), 0.0, 0.0)
    good = bank_answer(opened)
    assert set(good["reply"]) == {"reservation_number"}
    wrong = {**good, "reply": {"reservation_no": "1234"}}
    refused = orchestrator.record(opened.state, wrong, 1.0, answerer="bank")
    assert (refused.transition.event, refused.refused) == (REFUSED, REPLY_FIELDS_MISSING)
    assert refused.state is opened.state and not refused.emits
    recorded = orchestrator.record(opened.state, good, 2.0, answerer="bank")
    assert recorded.transition.event == ANSWERED
    assert {e.step for e in recorded.emits} >= {"tax-registration"}
    # a rejection carries no reply, and is no contract breach
    rejected = {**good, "status": "REJECTED", "reply": None, "reason": "no"}
    assert orchestrator.record(opened.state, rejected, 2.0, answerer="bank").refused is None


def test_the_ledger_judges_each_answer_of_an_external_agency() -> None:
    run = scenario(
        "agencies.bank.external=true",
        "targets=[{id: quick, of: acted, step: bank-reservation, stat: p99, within: 10s, "
        "source: author}]",
    )
    calendar = scenario_calendar(run)
    ledger = Ledger(run, calendar, agency_pools(run, calendar))
    orchestrator = Orchestrator(F01)
    late_case, quick_case, silent_case = "F01-0000001", "F01-0000002", "F01-0000003"
    states = {}
    for case_id in (late_case, quick_case, silent_case):
        trigger = f01_case(case_id)
        ledger.started("F01", case_id, trigger, 0.0)
        opened = orchestrator.open(None, trigger, 0.0, 0.0)
        ledger.transition("F01", opened.transition, 0.0)
        states[case_id] = opened
    late = orchestrator.record(
        states[late_case].state, bank_answer(states[late_case]), 30.0, answerer="bank"
    )
    ledger.transition("F01", late.transition, 30.0)
    quick = orchestrator.record(
        states[quick_case].state, bank_answer(states[quick_case]), 2.0, answerer="bank"
    )
    ledger.transition("F01", quick.transition, 2.0)
    again = orchestrator.record(quick.state, bank_answer(states[quick_case]), 3.0, answerer="bank")
    ledger.transition("F01", again.transition, 3.0)
    foreign = bank_answer(states[silent_case], step="housing-fund", agency="housing-fund")
    refused = orchestrator.record(states[silent_case].state, foreign, 4.0, answerer="bank")
    assert refused.refused == NOT_THE_OWNER
    ledger.transition("F01", refused.transition, 4.0)
    # what the orchestrator refused is dead-lettered too: counted once, from its transition
    ledger.dead_lettered(NOT_THE_OWNER, "f01.bank.step-outcome.v1")
    ledger.dead_lettered("unknown-schema", "f01.bank.step-outcome.v1")
    ledger.dead_lettered("unknown-schema", "f01.bank.step-outcome.v1", of_run=False)
    ledger.dead_lettered("unknown-schema", "f01.hrss.step-outcome.v1")  # not external
    ledger.cut_off(100.0, lambda *_: False)
    report = ledger.conformances()
    assert list(report) == ["bank"]
    bank = report["bank"]
    assert bank == Conformance(
        requests=3,
        valid=2,
        invalid={NOT_THE_OWNER: 1, "unknown-schema": 1},
        missing=1,
        late=1,
        late_by_target={"quick": 1},
        duplicated=1,
    )
    assert not bank.passed and bank.invalid_total == 2


def test_conformance_round_trips_in_result_json_and_fails_the_run(tmp_path: Path) -> None:
    from govstream.engines.sim.engine import SimEngine

    result = SimEngine(scenario("duration=1d", "targets=[]")).run()
    clean = result.model_copy(update={"conformance": {"bank": Conformance(requests=4, valid=4)}})
    path = tmp_path / "result.json"
    clean.write(path)
    assert RunResult.read(path).conformance == clean.conformance
    broken = Conformance(requests=4, valid=3, invalid={"unknown-schema": 1})
    assert clean.targets_met == result.targets_met
    failed = result.model_copy(update={"conformance": {"bank": broken}})
    assert not failed.targets_met
    from govstream.report.failing import failing_lines

    assert "NOT CONFORMANT bank: invalid 1 (unknown-schema 1); missing 0" in failing_lines(failed)
    assert not any(line.startswith("NOT CONFORMANT") for line in failing_lines(clean))


def test_external_is_for_the_kafka_engine_only_and_names_the_field() -> None:
    run = scenario("agencies.housing-fund.external=true")
    problem = engine_problem(run, "sim")
    assert problem is not None
    assert "agencies.housing-fund.external" in problem and "kafka" in problem
    assert engine_problem(run, "kafka") is None


@pytest.mark.parametrize("agency", ["bank", "nowhere"])
def test_run_external_names_the_allowed_agencies(agency: str, tmp_path: Path) -> None:
    from cli_runner import govstream

    done = govstream("run", SCENARIO, "--external", agency, "--out", tmp_path)
    assert done.returncode == 2, done.stderr
    err = " ".join(done.stderr.split())
    if agency == "nowhere":
        assert "--external nowhere" in err and "allowed: bank, hrss, tax, housing-fund" in err
    else:
        assert "agencies.bank.external" in err and "kafka engine" in err


def test_the_asyncapi_document_marks_what_an_external_agency_must_implement() -> None:
    import json

    import jsonschema

    from govstream.contracts.asyncapi import asyncapi_document
    from govstream.contracts.catalog import load_catalog

    document = asyncapi_document(load_catalog(), ("bank",))
    schema = json.loads((ROOT / "tests" / "data" / "asyncapi-3.0.0.schema.json").read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(document))
    assert errors == []
    marked = {
        key: operation
        for key, operation in document["operations"].items()
        if operation.get("x-govstream-external")
    }
    assert {operation["x-govstream-party"] for operation in marked.values()} == {"bank"}
    reserve = marked["bank.receive.bank.account-reservation-request.v1"]
    assert reserve["reply"]["channel"] == {"$ref": "#/channels/f01.bank.step-outcome.v1"}
    assert reserve["x-govstream-reply-fields"] == ["reservation_number"]
    assert "gs_run" in reserve["description"]
    assert "bank.send.f03.bank.step-outcome.v1" in marked
    channel = document["channels"]["bank.account-reservation-request.v1"]
    assert channel["x-govstream-steps"][0]["step"] == "bank-reservation"
    answers = document["components"]["messages"]["f01.bank.step-outcome.v1.message"]
    assert set(answers["headers"]["required"]) == {"gs_run", "gs_t0", "gs_intended"}
    # without --external nothing is marked, and every answer still names its reply
    plain = asyncapi_document(load_catalog())
    assert not any(o.get("x-govstream-external") for o in plain["operations"].values())
    assert (
        "reply"
        in plain["operations"]["housing-fund.receive.housing-fund.account-closure-request.v1"]
    )


def test_the_reference_agency_systems_import_nothing_of_govstream() -> None:
    """They are written against the published contracts alone: only the standard library,
    kafka-python, fastavro (and yaml for a YAML document), and each other."""
    import ast
    import sys

    allowed = {"kafka", "fastavro", "yaml", "agency_system", "__future__"}
    for path in sorted((ROOT / "examples" / "agencies").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or top in sys.stdlib_module_names, (path.name, name)


def test_no_worker_of_govstream_reads_an_external_agency_s_requests() -> None:
    from govstream.engines.kafka.app import consumer_groups, roles

    run = scenario("agencies.bank.external=true")
    assert "bank" not in roles(run) and "hrss" in roles(run)
    for by_role in (False, True):
        topics = {t for group in consumer_groups(run, by_role=by_role).values() for t in group}
        assert "bank.account-reservation-request.v1" not in topics
        assert "f01.bank.step-outcome.v1" in topics, "the platform reads the bank's answers"
        assert "hrss.social-insurance-registration-request.v1" in topics
