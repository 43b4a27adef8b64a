"""The flows' pure logic: which steps a case needs, in what order, and when it is complete.

The generic tests run over every discovered flow. What a case should need is derived here from
each step's own `applies` and `after`, and checked against what the orchestrator actually did
when the case was walked to its end; the F03 and F10 tests then derive the expected recipients
from the trigger's content (what the company or property holds), not from the flow, so a
projection that forgets a recipient or invents one fails.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import importlib
import pkgutil
import random
from collections.abc import Callable
from typing import Any

import pytest

import processors
from processors import FLOW_MODULE, FLOWS, flow, fold_started_by
from processors.agency import outcome_for
from processors.events import Emit
from processors.flow import (
    TRIGGER,
    CaseView,
    FlowSpec,
    Handover,
    StartedBy,
    item_unit,
    request_id,
    unit_of,
)
from processors.orchestrator import (
    CANCELLED,
    COMPLETED,
    NOT_RUN,
    REJECTED,
    SKIPPED,
    Orchestrator,
    case_marks,
)
from producers.amr import CompanyDeregistrationGenerator, DeregistrationMix
from producers.real_estate import PropertyTransferGenerator, PropertyTransferMix

ON = dt.date(2021, 6, 1)
GENERATED = 400
"""Enough triggers that every holding pattern of the default mixes occurs (checked below)."""


# -- every flow: the declaration ------------------------------------------------------------


def test_every_flow_module_is_discovered() -> None:
    """Each flow as its module declares it, with the hand-overs other flows say they are
    started by added after its own, and nothing else changed."""
    modules = [m.name for m in pkgutil.iter_modules(processors.__path__)]
    flow_modules = [name for name in modules if FLOW_MODULE.match(name)]
    assert len(flow_modules) == len(FLOWS) > 0
    declared = {}
    for name in flow_modules:
        spec = importlib.import_module(f"processors.{name}").FLOW
        declared[spec.id] = spec
        assert name.startswith(f"{spec.prefix}_m")
    for flow_id, spec in declared.items():
        started_here = tuple(
            other.handover(downstream.id)
            for downstream in declared.values()
            for other in downstream.started_by
            if other.flow == flow_id
        )
        if not started_here:
            assert FLOWS[flow_id] is spec
        else:
            effective = dataclasses.replace(spec, handovers=(*spec.handovers, *started_here))
            assert FLOWS[flow_id] == effective
    with pytest.raises(KeyError, match="implemented flows"):
        flow("F00")


def _hand_made(flow_id: str, **declared: Any) -> FlowSpec:
    """F14's steps under another id, handing over and started only as `declared` says."""
    fields: dict[str, Any] = {"handovers": (), "started_by": (), **declared}
    return dataclasses.replace(FLOWS["F14"], id=flow_id, **fields)


def _to_next(case: CaseView, case_id: str) -> dict[str, Any]:
    return {**case.trigger, "case_id": case_id}


def test_a_flow_started_by_another_is_folded_into_that_flows_hand_overs() -> None:
    upstream = _hand_made("T01")
    downstream = _hand_made(
        "T02", started_by=(StartedBy("T01", TRIGGER, _to_next, title="on opening"),)
    )
    folded = fold_started_by({"T01": upstream, "T02": downstream})
    assert folded["T01"].handovers == (Handover("T02", TRIGGER, _to_next, title="on opening"),)
    assert folded["T02"] is downstream and folded["T01"].steps == upstream.steps
    assert upstream.handovers == (), "the declaring modules' own specs stay as written"


@pytest.mark.parametrize(
    ("upstream", "declared", "message"),
    [
        (_hand_made("T01"), StartedBy("T09", TRIGGER, _to_next), "T09, which is not a flow"),
        (_hand_made("T01"), StartedBy("T01", "nothing.acted", _to_next), "no mark"),
        (
            _hand_made("T01", handovers=(Handover("T02", "completed", _to_next),)),
            StartedBy("T01", TRIGGER, _to_next),
            "declare the hand-over once",
        ),
    ],
)
def test_a_hand_over_declared_downstream_must_name_a_flow_and_mark_and_be_declared_once(
    upstream: FlowSpec, declared: StartedBy, message: str
) -> None:
    downstream = _hand_made("T02", started_by=(declared,))
    with pytest.raises(ImportError, match=message):
        fold_started_by({"T01": upstream, "T02": downstream})


def test_a_flow_is_not_started_by_itself_nor_twice_by_one_flow() -> None:
    once = StartedBy("T01", TRIGGER, _to_next)
    for started_by in ((StartedBy("T02", TRIGGER, _to_next),), (once, once)):
        with pytest.raises(ValueError, match="names each other flow once"):
            _hand_made("T02", started_by=started_by)


def test_flow_lookup_ignores_case(flow_spec: FlowSpec) -> None:
    assert flow(flow_spec.id.lower()) is flow_spec
    assert FLOW_MODULE.match(f"{flow_spec.prefix}_m01_x")


def test_declaration_is_complete(flow_spec: FlowSpec) -> None:
    """Every agency step says where its request goes and how it is built; a wait says neither
    (though the party waited on may answer with data, like a supplier's invoice number)."""
    assert flow_spec.steps, "a flow has at least one step"
    assert flow_spec.measures and all(m.startswith("M") for m in flow_spec.measures)
    for step in flow_spec.steps:
        assert step.title, step.id
        if step.is_wait:
            assert step.topic is None and step.schema is None and step.request is None, step.id
        else:
            assert step.topic and step.schema and step.request is not None, step.id
        assert bool(step.reply) == bool(step.reply_fields), (
            f"{step.id}: a reply and its declared fields come together"
        )
        assert step.join in ("all", "any")
        assert len(set(step.after)) == len(step.after), step.id
    for target in flow_spec.plan_targets:
        assert target.measure in flow_spec.measures
        assert target.quote_zh and target.meaning
    assert len({rule.id for rule in flow_spec.rules}) == len(flow_spec.rules)
    assert len({span.id for span in flow_spec.spans}) == len(flow_spec.spans)


def test_agencies_and_waits_follow_the_steps(flow_spec: FlowSpec) -> None:
    steps = flow_spec.steps
    assert flow_spec.agencies == tuple(dict.fromkeys(s.agency for s in steps if s.agency))
    assert [s.id for s in flow_spec.waits] == [s.id for s in steps if s.is_wait]
    assert flow_spec.is_fan_out == all(not s.after for s in steps)
    for agency in flow_spec.agencies:
        assert all(s.agency == agency for s in flow_spec.steps_of(agency))
    marks = flow_spec.marks()
    assert marks[0] == TRIGGER
    per_item = [f"{s.id}.first" for s in steps if s.each is not None]
    assert len(marks) == 1 + 2 * len(steps) + len(per_item)
    assert set(per_item) <= set(marks), "a step done per item marks its first item done"


# -- every flow: generated cases walked through the orchestrator ----------------------------


def test_every_generated_case_completes(flow_spec: FlowSpec, walked: Any) -> None:
    for case in walked:
        done = case.completion
        assert done is not None, f"{case.trigger['case_id']} never completed"
        assert set(case.state["done"]) == {s.id for s in flow_spec.steps}
        assert done.case_id == case.trigger["case_id"]
        assert done.rejected == ()
        assert done.emit.topic == flow_spec.completed_topic
        assert done.emit.key == done.case_id


def test_skipped_steps_are_those_that_do_not_apply(flow_spec: FlowSpec, walked: Any) -> None:
    for case in walked:
        applies = {s.id for s in flow_spec.steps if s.concerns(case.trigger)}
        assert set(case.requested_steps) == applies
        one_each = [str(e.step) for e in case.requests if flow_spec.step(str(e.step)).each is None]
        assert len(one_each) == len(set(one_each)), "one request per step not done per item"
        assert set(case.skipped) == {s.id for s in flow_spec.steps} - applies
        statuses = {step: done["status"] for step, done in case.state["done"].items()}
        assert statuses == {
            s.id: COMPLETED if s.id in applies else SKIPPED for s in flow_spec.steps
        }
        value = case.completion.emit.value
        assert sorted(value["steps"]) == sorted(applies)
        assert sorted(value["skipped"]) == sorted(case.skipped)


def test_every_step_is_reached_by_the_default_population(flow_spec: FlowSpec, walked: Any) -> None:
    """Otherwise a step's request would never be built, encoded or checked by these tests."""
    requested = {step for case in walked for step in case.requested_steps}
    missing = [s.id for s in flow_spec.steps if s.id not in requested]
    assert not missing, f"no generated case of {flow_spec.id} needs {missing}"


def test_each_step_falls_due_when_its_dependencies_finish(flow_spec: FlowSpec, walked: Any) -> None:
    """`after` with join all starts a step at the last dependency, join any at the first."""
    for case in walked:
        due, done = case.state["due"], case.state["done"]
        for step in flow_spec.steps:
            if not step.after:
                assert due[step.id] == 0.0, f"{step.id} depends on the trigger only"
                continue
            finished = [done[dep]["at"] for dep in step.after if dep != step.until]
            expected = max(finished) if step.join == "all" else min(finished)
            if step.until is not None:  # all of the others, unless the deadline came first
                expected = min(expected, done[step.until]["at"])
            assert due[step.id] == expected, (case.trigger["case_id"], step.id)
            assert done[step.id]["at"] >= due[step.id]


def test_requests_are_addressed_to_their_step(flow_spec: FlowSpec, walked: Any) -> None:
    for case in walked:
        case_id = str(case.trigger["case_id"])
        for emit in case.requests:
            step = flow_spec.step(str(emit.step))
            assert emit.key == case_id
            assert emit.value["case_id"] == case_id
            # Deterministic, so a redelivered request has the same id and shows as a duplicate.
            unit = step.id
            if step.each is not None:  # one request per item, named by the item
                items = step.each.items(CaseView(case_id, case.trigger, {}))
                names = [step.each.name(item) for item in items]
                unit = item_unit(step.id, unit_of(emit.value).split("/", 1)[1])
                assert unit_of(emit.value).split("/", 1)[1] in names
            assert emit.value["request_id"] == request_id(case_id, unit)
            assert emit.recipient == step.agency
            assert emit.topic == (flow_spec.wait_topic if step.is_wait else step.topic)
            assert list(emit.value)[:2] == ["request_id", "case_id"]


def test_replies_reach_the_case(flow_spec: FlowSpec, walked: Any) -> None:
    """A request/reply step answers with exactly its declared fields, kept for later steps."""
    for case in walked:
        for outcome in case.outcomes:
            step = flow_spec.step(str(outcome.step))
            reply = outcome.value["reply"]
            if step.reply is None:
                assert reply is None
                continue
            assert set(reply) == set(step.reply_fields), step.id
            assert all(isinstance(v, str) for v in reply.values())
            # kept under what it answered: the step, or one item of a step done per item
            assert case.state["replies"][unit_of(outcome.value)] == reply


def test_marks_are_the_times_steps_finished(flow_spec: FlowSpec, walked: Any) -> None:
    for case in walked:
        marks = case_marks(case.state)
        ran = [s for s in flow_spec.steps if case.state["done"][s.id]["status"] not in NOT_RUN]
        expected = {TRIGGER: 0.0}
        for step in ran:
            acted = case.state["done"][step.id]["at"]
            expected[f"{step.id}.acted"] = acted
            if not step.is_wait:
                expected[f"{step.id}.delivered"] = acted - 0.5
            items = case.state["items"].get(step.id, {})
            if items:  # every item delivered; with a join of k, some after the step finished
                expected[f"{step.id}.delivered"] = max(a["at"] for a in items.values()) - 0.5
            done = [a["at"] for a in items.values() if a["status"] == COMPLETED]
            if done:  # a step done per item: its first item done
                expected[f"{step.id}.first"] = min(done)
        assert marks == expected


def test_rules_answer_yes_no_or_not_applicable(flow_spec: FlowSpec, walked: Any) -> None:
    for rule in flow_spec.rules:
        verdicts = {rule.check(case.trigger) for case in walked}
        assert verdicts <= {True, False, None}, rule.id


def rejecting(step_id: str) -> Callable[[FlowSpec, Emit, random.Random], Emit]:
    def respond(spec: FlowSpec, emit: Emit, rng: random.Random) -> Emit:
        step = spec.step(str(emit.step))
        reason = "refused in the test" if step.id == step_id else None
        return outcome_for(spec, step, emit.value, rng, rejected_reason=reason)

    return respond


def test_a_rejection_cancels_or_lets_run_the_steps_after_it_as_declared(
    flow_spec: FlowSpec, walked: Any, walk_case: Callable[..., Any]
) -> None:
    """Any one step refused: the case still completes; a direct dependent is cancelled unless
    the flow lets it run without the refused step's answer, and a cancelled step asks nobody."""
    rng = random.Random(f"reject:{flow_spec.id}")
    for rejected in flow_spec.steps:
        dependents = [s for s in flow_spec.steps if rejected.id in s.after]
        cases = [c for c in walked if rejected.concerns(c.trigger)][:30]
        assert cases, f"no generated case needs {rejected.id}"
        for original in cases:
            case = walk_case(flow_spec, original.trigger, rng, rejecting(rejected.id))
            done = case.completion
            assert done is not None, f"{rejected.id} refused: the case never completed"
            assert done.rejected == (rejected.id,)
            status = {step: d["status"] for step, d in case.state["done"].items()}
            assert status[rejected.id] == REJECTED
            for step in dependents:
                if step.after_rejection == "skip" and step.join == "all":
                    # Skipped by the case's data whatever came before it; else cancelled.
                    expected = CANCELLED if step.concerns(case.trigger) else SKIPPED
                    assert status[step.id] == expected, (rejected.id, step.id)
                if step.after_rejection == "run":
                    assert status[step.id] != CANCELLED, (rejected.id, step.id)
            cancelled = {step for step, st in status.items() if st == CANCELLED}
            assert not cancelled & set(case.requested_steps)
            assert not {m.split(".")[0] for m in case_marks(case.state)} & cancelled
            assert cancelled == set(done.emit.value["cancelled"]) == set(case.cancelled)
            assert not cancelled & set(done.emit.value["skipped"])


def test_walking_leaves_the_trigger_untouched(
    flow_spec: FlowSpec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """Triggers travel in messages and may be redelivered: no transition may change one.

    (The walk itself checks that no transition changes the state it was given.)
    """
    for trigger in make_triggers(flow_spec, 40, seed="untouched"):
        before = copy.deepcopy(trigger)
        walk_case(flow_spec, trigger, random.Random(1))
        assert trigger == before


def test_a_case_takes_the_same_path_whether_requests_carry_their_bodies_or_not(
    flow_spec: FlowSpec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """The sim engine builds a request's body only for a step that answers from it: every
    step, answer, reply and mark must be what the full requests give."""
    for n, trigger in enumerate(make_triggers(flow_spec, 30, seed="bodies")):
        full = walk_case(flow_spec, trigger, random.Random(n))
        lean = walk_case(flow_spec, trigger, random.Random(n), bodies=False)
        assert lean.requested_steps == full.requested_steps
        assert [o.value for o in lean.outcomes] == [o.value for o in full.outcomes]
        assert lean.completion == full.completion and lean.state == full.state
        for lean_request, full_request in zip(lean.requests, full.requests, strict=True):
            step = flow_spec.step(str(full_request.step))
            if step.is_wait or step.reply is not None:
                assert lean_request.value == full_request.value
            else:
                ids = {key: full_request.value[key] for key in ("request_id", "case_id")}
                assert dict(lean_request.value) == ids


def test_redelivered_trigger_and_outcomes_are_duplicates(flow_spec: FlowSpec, walked: Any) -> None:
    orchestrator = Orchestrator(flow_spec)
    for case in walked[:40]:
        final = case.state
        snapshot = copy.deepcopy(final)
        for outcome in case.outcomes:
            again = orchestrator.record(final, outcome.value, 99.0)
            assert again.duplicate and again.completion is None and not again.emits
        reopened = orchestrator.open(final, case.trigger, 50.0, 50.0)
        assert reopened.duplicate and not reopened.emits and reopened.completion is None
        assert final == snapshot, "a duplicate changes nothing"


# -- F03: the deregistration fan-out (its own contract) --------------------------------------

F03 = flow("F03")
F10 = flow("F10")


def f03_trigger(case_id: str = "F03-0000001", **changes: Any) -> dict[str, Any]:
    """A deregistration holding two bank accounts, a housing-fund account and two seals."""
    trigger: dict[str, Any] = {
        "event_id": "00000000-0000-4000-8000-000000000001",
        "case_id": case_id,
        "uscc": "91500103MA5U000001",
        "company_name": "重庆渝中测试贸易有限公司",
        "legal_representative": {"name": "张三", "id_number": "500103199001011234"},
        "registered_address": "重庆市渝中区解放碑街道民族路1号",
        "deregistration_type": "SIMPLIFIED",
        "deregistered_on": ON,
        "seals": [
            {"seal_no": "5001030000001", "kind": "OFFICIAL"},
            {"seal_no": "5001030000002", "kind": "FINANCE"},
        ],
        "bank_accounts": [
            {
                "bank_name": "中国工商银行",
                "bank_code": "102",
                "account_number": "3100021109024900001",
                "account_kind": "BASIC",
            },
            {
                "bank_name": "中国建设银行",
                "bank_code": "105",
                "account_number": "50050110360000000002",
                "account_kind": "GENERAL",
            },
        ],
        "housing_fund_account": {"unit_account_number": "CQ5001030000001", "employees": 7},
    }
    trigger.update(changes)
    return trigger


def f10_trigger(case_id: str = "F10-0000001", **utilities: str | None) -> dict[str, Any]:
    """A property transfer connected to water, power and gas unless `utilities` says otherwise."""
    accounts = {"water": "W500103000001", "power": "P0500103000001", "gas": "G50010300001"}
    accounts.update(utilities)
    return {
        "event_id": "00000000-0000-4000-8000-000000000002",
        "case_id": case_id,
        "certificate_no": "渝(2021)渝中区不动产权第000001号",
        "registered_on": ON,
        "property": {
            "address": "重庆市渝中区七星岗街道中山一路2号",
            "use": "RESIDENTIAL",
            "floor_area_m2": 85.0,
        },
        "seller": {
            "name": "李四",
            "id_kind": "RESIDENT_ID",
            "id_number": "500103198002023456",
            "phone": "13800000001",
        },
        "buyer": {
            "name": "王五",
            "id_kind": "RESIDENT_ID",
            "id_number": "500103199503037890",
            "phone": "13900000002",
        },
        "utility_accounts": accounts,
    }


def opened(spec: FlowSpec, trigger: dict[str, Any]) -> Any:
    return Orchestrator(spec).open(None, trigger, opened_at=0.0, now=0.0)


def recipients(spec: FlowSpec, trigger: dict[str, Any]) -> list[str]:
    """A fan-out emits every request it needs the moment the trigger arrives."""
    return [str(emit.recipient) for emit in opened(spec, trigger).emits]


def f03_expected(trigger: dict[str, Any]) -> set[str]:
    """Police close the seals, banks the accounts, the fund its unit account: only if held."""
    expected = set()
    if trigger["seals"]:
        expected.add("police")
    if trigger["bank_accounts"]:
        expected.add("bank")
    if trigger["housing_fund_account"] is not None:
        expected.add("housing-fund")
    return expected


def f10_expected(trigger: dict[str, Any]) -> set[str]:
    return {name for name, account in trigger["utility_accounts"].items() if account is not None}


def generated(spec: FlowSpec, count: int, seed: int = 7, **mix: Any) -> list[dict[str, Any]]:
    make = spec.source.generator(random.Random(seed), mix)
    return [make(f"{spec.id}-{n:07d}", ON) for n in range(1, count + 1)]


def test_f03_and_f10_are_fan_outs_to_their_recipients() -> None:
    assert F03.is_fan_out and F03.agencies == ("police", "bank", "housing-fund")
    assert F10.is_fan_out and F10.agencies == ("water", "power", "gas")


def test_hand_made_f03_trigger_gets_one_request_per_recipient() -> None:
    emits = opened(F03, f03_trigger()).emits
    # Two bank accounts are still one request to the bank: one request per recipient.
    assert sorted(str(e.recipient) for e in emits) == ["bank", "housing-fund", "police"]
    by_recipient = {emit.recipient: emit for emit in emits}
    assert len(by_recipient["bank"].value["accounts"]) == 2
    assert [s["seal_no"] for s in by_recipient["police"].value["seals"]] == [
        "5001030000001",
        "5001030000002",
    ]
    for emit in emits:
        assert emit.key == "F03-0000001"
        assert emit.topic == F03.step(str(emit.step)).topic


def test_company_without_bank_accounts_has_no_bank_request() -> None:
    progress = opened(F03, f03_trigger(bank_accounts=[]))
    assert sorted(str(e.recipient) for e in progress.emits) == ["housing-fund", "police"]
    assert progress.transition.skipped == ("bank",)


def test_company_without_housing_fund_has_no_housing_fund_request() -> None:
    progress = opened(F03, f03_trigger(housing_fund_account=None))
    assert sorted(str(e.recipient) for e in progress.emits) == ["bank", "police"]
    assert progress.transition.skipped == ("housing-fund",)


def test_company_with_only_seals_goes_to_police_alone() -> None:
    trigger = f03_trigger(bank_accounts=[], housing_fund_account=None)
    assert recipients(F03, trigger) == ["police"]


def test_hand_made_f10_trigger_goes_to_each_connected_utility() -> None:
    emits = opened(F10, f10_trigger()).emits
    assert sorted(str(e.recipient) for e in emits) == ["gas", "power", "water"]
    for emit in emits:
        utility = str(emit.recipient)
        assert emit.value["utility"] == utility.upper()
        assert emit.value["account_number"] == f10_trigger()["utility_accounts"][utility]


def test_property_without_gas_has_no_gas_request() -> None:
    progress = opened(F10, f10_trigger(gas=None))
    assert sorted(str(e.recipient) for e in progress.emits) == ["power", "water"]
    assert progress.transition.skipped == ("gas",)


def test_property_without_any_utility_completes_at_once() -> None:
    progress = Orchestrator(F10).open(
        None, f10_trigger(water=None, power=None, gas=None), opened_at=1234.5, now=1240.0
    )
    assert progress.emits == []
    assert progress.transition.skipped == ("water", "power", "gas")
    done = progress.completion
    assert done is not None and progress.transition.completed
    assert case_marks(progress.state) == {TRIGGER: 1234.5}
    assert done.emit.value["steps"] == []


def test_generated_f03_triggers_fan_out_to_exactly_their_holders() -> None:
    seen: set[frozenset[str]] = set()
    for trigger in generated(F03, GENERATED):
        found = recipients(F03, trigger)
        assert len(found) == len(set(found)), "one request per recipient"
        assert set(found) == f03_expected(trigger)
        seen.add(frozenset(found))
    # The default mix has companies with and without bank and fund accounts: all four occur.
    assert seen == {
        frozenset({"police", "bank", "housing-fund"}),
        frozenset({"police", "bank"}),
        frozenset({"police", "housing-fund"}),
        frozenset({"police"}),
    }


def test_generated_f03_population_without_accounts_never_asks_bank_or_fund() -> None:
    triggers = generated(F03, 100, bank_account_weights=[1.0], housing_fund_probability=0.0)
    for trigger in triggers:
        assert recipients(F03, trigger) == ["police"]


def test_generated_f10_triggers_fan_out_to_exactly_their_utilities() -> None:
    gas_seen = {True: 0, False: 0}
    for trigger in generated(F10, GENERATED):
        found = recipients(F10, trigger)
        assert len(found) == len(set(found))
        assert set(found) == f10_expected(trigger)
        gas_seen["gas" in found] += 1
    assert gas_seen[True] and gas_seen[False], "the default mix has properties with and without gas"


def test_generators_accept_explicit_mixes() -> None:
    """The producers' own classes, as the flow's source builds them."""
    no_gas = PropertyTransferGenerator(random.Random(1), PropertyTransferMix(gas_probability=0.0))
    for n in range(50):
        assert "gas" not in recipients(F10, no_gas.generate(f"F10-{n:07d}", ON))
    all_held = CompanyDeregistrationGenerator(
        random.Random(1),
        DeregistrationMix(bank_account_weights=(0.0, 1.0), housing_fund_probability=1.0),
    )
    for n in range(50):
        found = recipients(F03, all_held.generate(f"F03-{n:07d}", ON))
        assert sorted(found) == ["bank", "housing-fund", "police"]


def test_request_ids_do_not_depend_on_the_event() -> None:
    first = {e.recipient: e.value["request_id"] for e in opened(F03, f03_trigger()).emits}
    assert len(set(first.values())) == 3
    other_case = {
        e.recipient: e.value["request_id"] for e in opened(F03, f03_trigger("F03-0000002")).emits
    }
    assert not set(first.values()) & set(other_case.values())
    # Ids depend on nothing but the case and the step (not, e.g., on the event id).
    redelivered = f03_trigger(event_id="00000000-0000-4000-8000-00000000ffff")
    assert {e.recipient: e.value["request_id"] for e in opened(F03, redelivered).emits} == first


def test_f03_case_completes_when_its_last_recipient_acts() -> None:
    orchestrator = Orchestrator(F03)
    progress = orchestrator.open(None, f03_trigger(), opened_at=100.0, now=100.2)
    state = progress.state

    def outcome(step: str, status: str = "COMPLETED") -> dict[str, str]:
        case = "F03-0000001"
        return {
            "case_id": case,
            "request_id": f"{case}/{step}",
            "step": step,
            "agency": step,
            "status": status,
        }

    for step, at in (("police", 110.0), ("housing-fund", 150.0)):
        progress = orchestrator.record(state, outcome(step), at)
        assert progress.completion is None
        state = progress.state
    last = orchestrator.record(state, outcome("bank", "REJECTED"), 130.0)
    done = last.completion
    assert done is not None and last.transition.completed
    assert last.transition.rejected == ("bank",)
    # The acted marks the books take the case's end from: the last recipient's, at 150.
    assert max(v for k, v in case_marks(last.state).items() if k.endswith(".acted")) == 150.0
    assert done.rejected == ("bank",)
    assert done.emit.value["rejected"] == ["bank"]
