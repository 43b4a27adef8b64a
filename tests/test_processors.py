"""The flows' pure logic: who gets a request, and when a case counts as complete.

Expected recipients are derived here from the trigger's content (what the company or property
holds), not by asking the fan-out, so a projection that forgets a recipient or invents one fails.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any

from processors import FLOWS, flow
from processors.case_tracker import CaseState, CaseTracker
from processors.fanout import FanOut
from producers import SOURCES
from producers.amr import CompanyDeregistrationGenerator, DeregistrationMix
from producers.real_estate import PropertyTransferGenerator, PropertyTransferMix

F03 = flow("F03")
F10 = flow("F10")
ON = dt.date(2021, 6, 1)
GENERATED = 400
"""Enough triggers that every holding pattern of the default mixes occurs (checked below)."""


# -- triggers written by hand ---------------------------------------------------------------


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


def recipients_of(emits: list[Any]) -> list[str]:
    return [emit.recipient for emit in emits]


# -- what each trigger should produce, from its content ---------------------------------------


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


def generated(source_flow: str, count: int, seed: int = 7, **mix: Any) -> list[dict[str, Any]]:
    make = SOURCES[source_flow].generator(random.Random(seed), mix)
    return [make(f"{source_flow}-{n:07d}", ON) for n in range(1, count + 1)]


# -- FanOut ---------------------------------------------------------------------------------


def test_flows_registry_holds_f03_and_f10() -> None:
    assert set(FLOWS) == {"F03", "F10"}
    assert F03.recipients == ("police", "bank", "housing-fund")
    assert F10.recipients == ("water", "power", "gas")


def test_hand_made_f03_trigger_gets_one_request_per_recipient() -> None:
    emits = FanOut(F03).process(f03_trigger())
    # Two bank accounts are still one request to the bank: one request per recipient.
    assert sorted(recipients_of(emits)) == ["bank", "housing-fund", "police"]
    by_recipient = {emit.recipient: emit for emit in emits}
    assert len(by_recipient["bank"].value["accounts"]) == 2
    for emit in emits:
        assert emit.key == "F03-0000001"
        assert emit.value["case_id"] == "F03-0000001"
        assert emit.topic == F03.route(emit.recipient).topic


def test_company_without_bank_accounts_has_no_bank_request() -> None:
    trigger = f03_trigger(bank_accounts=[])
    fanout = FanOut(F03)
    assert sorted(recipients_of(fanout.process(trigger))) == ["housing-fund", "police"]
    assert fanout.expected_recipients(trigger) == {"police", "housing-fund"}


def test_company_without_housing_fund_has_no_housing_fund_request() -> None:
    trigger = f03_trigger(housing_fund_account=None)
    assert sorted(recipients_of(FanOut(F03).process(trigger))) == ["bank", "police"]


def test_company_with_only_seals_goes_to_police_alone() -> None:
    trigger = f03_trigger(bank_accounts=[], housing_fund_account=None)
    assert recipients_of(FanOut(F03).process(trigger)) == ["police"]


def test_hand_made_f10_trigger_goes_to_each_connected_utility() -> None:
    emits = FanOut(F10).process(f10_trigger())
    assert sorted(recipients_of(emits)) == ["gas", "power", "water"]
    for emit in emits:
        utility = emit.recipient
        assert emit.value["utility"] == utility.upper()
        assert emit.value["account_number"] == f10_trigger()["utility_accounts"][utility]


def test_property_without_gas_has_no_gas_request() -> None:
    emits = FanOut(F10).process(f10_trigger(gas=None))
    assert sorted(recipients_of(emits)) == ["power", "water"]


def test_property_without_any_utility_has_no_request() -> None:
    trigger = f10_trigger(water=None, power=None, gas=None)
    assert FanOut(F10).process(trigger) == []
    assert FanOut(F10).expected_recipients(trigger) == frozenset()


def test_generated_f03_triggers_fan_out_to_exactly_their_holders() -> None:
    fanout = FanOut(F03)
    seen: set[frozenset[str]] = set()
    for trigger in generated("F03", GENERATED):
        recipients = recipients_of(fanout.process(trigger))
        assert len(recipients) == len(set(recipients)), "one request per recipient"
        assert set(recipients) == f03_expected(trigger)
        assert fanout.expected_recipients(trigger) == f03_expected(trigger)
        seen.add(frozenset(recipients))
    # The default mix has companies with and without bank and fund accounts: all four occur.
    assert seen == {
        frozenset({"police", "bank", "housing-fund"}),
        frozenset({"police", "bank"}),
        frozenset({"police", "housing-fund"}),
        frozenset({"police"}),
    }


def test_generated_f03_population_without_accounts_never_asks_bank_or_fund() -> None:
    triggers = generated("F03", 100, bank_account_weights=[1.0], housing_fund_probability=0.0)
    for trigger in triggers:
        assert recipients_of(FanOut(F03).process(trigger)) == ["police"]


def test_generated_f10_triggers_fan_out_to_exactly_their_utilities() -> None:
    fanout = FanOut(F10)
    gas_seen = {True: 0, False: 0}
    for trigger in generated("F10", GENERATED):
        recipients = recipients_of(fanout.process(trigger))
        assert len(recipients) == len(set(recipients))
        assert set(recipients) == f10_expected(trigger)
        gas_seen["gas" in recipients] += 1
    assert gas_seen[True] and gas_seen[False], "the default mix has properties with and without gas"


def test_generators_accept_explicit_mixes() -> None:
    """The producers' own classes, as the engine would build them through SOURCES."""
    no_gas = PropertyTransferGenerator(random.Random(1), PropertyTransferMix(gas_probability=0.0))
    for n in range(50):
        trigger = no_gas.generate(f"F10-{n:07d}", ON)
        assert "gas" not in recipients_of(FanOut(F10).process(trigger))
    all_held = CompanyDeregistrationGenerator(
        random.Random(1),
        DeregistrationMix(bank_account_weights=(0.0, 1.0), housing_fund_probability=1.0),
    )
    for n in range(50):
        trigger = all_held.generate(f"F03-{n:07d}", ON)
        assert sorted(recipients_of(FanOut(F03).process(trigger))) == [
            "bank",
            "housing-fund",
            "police",
        ]


def test_request_ids_are_deterministic_and_distinct() -> None:
    fanout = FanOut(F03)
    first = {e.recipient: e.value["request_id"] for e in fanout.process(f03_trigger())}
    again = {e.recipient: e.value["request_id"] for e in fanout.process(f03_trigger())}
    # A redelivered trigger must give the same ids, or duplicates could not be recognised.
    assert first == again
    assert len(set(first.values())) == 3
    other_case = {
        e.recipient: e.value["request_id"] for e in fanout.process(f03_trigger("F03-0000002"))
    }
    assert not set(first.values()) & set(other_case.values())
    # Ids do not depend on anything but the case and the recipient (not, e.g., on the event id).
    redelivered = f03_trigger(event_id="00000000-0000-4000-8000-00000000ffff")
    assert {e.recipient: e.value["request_id"] for e in fanout.process(redelivered)} == first


def test_fanout_does_not_mutate_the_trigger() -> None:
    for trigger, processor in ((f03_trigger(), FanOut(F03)), (f10_trigger(), FanOut(F10))):
        before = copy.deepcopy(trigger)
        processor.process(trigger)
        assert trigger == before


# -- CaseTracker ----------------------------------------------------------------------------


def outcome(recipient: str, case_id: str = "C1", status: str = "COMPLETED") -> dict[str, Any]:
    return {
        "case_id": case_id,
        "request_id": f"{case_id}:{recipient}",
        "flow": "F03",
        "recipient": recipient,
        "status": status,
        "reason": None,
    }


def test_case_completes_only_when_every_expected_recipient_acted() -> None:
    tracker = CaseTracker(F03)
    result = tracker.open(None, "C1", ["police", "bank", "housing-fund"], opened_at=100.0)
    assert result.completion is None
    result = tracker.record(result.state, outcome("police"), acted_at=110.0)
    assert result.completion is None
    result = tracker.record(result.state, outcome("housing-fund"), acted_at=150.0)
    assert result.completion is None
    result = tracker.record(result.state, outcome("bank"), acted_at=130.0)
    done = result.completion
    assert done is not None
    assert done.case_id == "C1"
    # The case is done when its last recipient acted, whatever the order outcomes arrived in.
    assert done.completed_at == 150.0
    assert done.latency == 50.0
    assert dict(done.recipient_latency) == {"police": 10.0, "bank": 30.0, "housing-fund": 50.0}
    assert done.rejected == ()
    assert done.emit.topic == F03.completed_topic
    assert sorted(done.emit.value["recipients"]) == ["bank", "housing-fund", "police"]


def test_rejection_is_reported_on_completion() -> None:
    tracker = CaseTracker(F03)
    state = tracker.open(None, "C1", ["police", "bank"], opened_at=0.0).state
    state = tracker.record(state, outcome("bank", status="REJECTED"), acted_at=5.0).state
    done = tracker.record(state, outcome("police"), acted_at=7.0).completion
    assert done is not None
    assert done.rejected == ("bank",)
    assert done.emit.value["rejected"] == ["bank"]


def test_outcome_before_open_is_kept_and_counted() -> None:
    tracker = CaseTracker(F03)
    early = tracker.record(None, outcome("police"), acted_at=20.0)
    assert early.completion is None and not early.duplicate and not early.unexpected
    opened = tracker.open(early.state, "C1", ["police", "bank"], opened_at=10.0)
    assert opened.completion is None
    done = tracker.record(opened.state, outcome("bank"), acted_at=40.0).completion
    assert done is not None
    assert dict(done.recipient_latency) == {"police": 10.0, "bank": 30.0}
    assert done.latency == 30.0


def test_all_outcomes_before_open_complete_the_case_on_open() -> None:
    tracker = CaseTracker(F03)
    state = tracker.record(None, outcome("police"), acted_at=20.0).state
    state = tracker.record(state, outcome("bank"), acted_at=25.0).state
    done = tracker.open(state, "C1", ["bank", "police"], opened_at=10.0).completion
    assert done is not None
    assert done.latency == 15.0


def test_duplicate_outcome_is_flagged_and_changes_nothing() -> None:
    tracker = CaseTracker(F03)
    state = tracker.open(None, "C1", ["police", "bank"], opened_at=0.0).state
    state = tracker.record(state, outcome("police"), acted_at=5.0).state
    again = tracker.record(state, outcome("police"), acted_at=9.0)
    assert again.duplicate
    assert again.completion is None
    assert again.state["acted"]["police"]["at"] == 5.0, "the first outcome stands"


def test_outcome_after_completion_is_a_duplicate() -> None:
    tracker = CaseTracker(F03)
    state = tracker.open(None, "C1", ["police"], opened_at=0.0).state
    result = tracker.record(state, outcome("police"), acted_at=3.0)
    assert result.completion is not None
    late = tracker.record(result.state, outcome("police"), acted_at=4.0)
    assert late.duplicate and late.completion is None


def test_opening_twice_is_a_duplicate() -> None:
    tracker = CaseTracker(F03)
    state = tracker.open(None, "C1", ["police", "bank"], opened_at=0.0).state
    again = tracker.open(state, "C1", ["police"], opened_at=50.0)
    assert again.duplicate
    assert again.state["expected"] == ["bank", "police"]
    assert again.state["opened_at"] == 0.0


def test_unexpected_recipient_is_flagged_and_not_counted() -> None:
    tracker = CaseTracker(F03)
    state = tracker.open(None, "C1", ["police"], opened_at=0.0).state
    stray = tracker.record(state, outcome("housing-fund"), acted_at=2.0)
    assert stray.unexpected
    assert stray.completion is None
    assert "housing-fund" not in stray.state["acted"]
    done = tracker.record(stray.state, outcome("police"), acted_at=3.0).completion
    assert done is not None and dict(done.recipient_latency) == {"police": 3.0}


def test_zero_recipient_case_completes_at_once_with_zero_latency() -> None:
    tracker = CaseTracker(F10)
    result = tracker.open(None, "F10-0000009", [], opened_at=1234.5)
    done = result.completion
    assert done is not None
    assert done.latency == 0.0
    assert done.completed_at == 1234.5
    assert dict(done.recipient_latency) == {}
    assert done.emit.value["recipients"] == []


def unchanged_after(call: Any, given: CaseState) -> Any:
    """Run one transition and check the caller's state (a table row) is left as it was."""
    before = copy.deepcopy(given)
    result = call(given)
    assert given == before
    assert result.state is not given
    return result


def test_open_does_not_mutate_the_state_given() -> None:
    tracker = CaseTracker(F03)
    early = {"case_id": "C1", "acted": {"bank": {"at": 1.0, "status": "COMPLETED"}}}
    result = unchanged_after(lambda s: tracker.open(s, "C1", ["bank", "police"], 0.0), early)
    assert result.state["expected"] == ["bank", "police"]


def test_record_does_not_mutate_the_state_given() -> None:
    tracker = CaseTracker(F03)
    state = tracker.open(None, "C1", ["police", "bank", "housing-fund"], 0.0).state
    result = unchanged_after(lambda s: tracker.record(s, outcome("bank"), 2.0), state)
    assert "bank" in result.state["acted"]


def test_completing_record_does_not_mutate_the_state_given() -> None:
    tracker = CaseTracker(F03)
    state = tracker.open(None, "C1", ["police", "bank"], 0.0).state
    state = tracker.record(state, outcome("police"), 1.0).state
    result = unchanged_after(lambda s: tracker.record(s, outcome("bank"), 2.0), state)
    assert result.completion is not None


def test_duplicate_and_unexpected_do_not_mutate_the_state_given() -> None:
    tracker = CaseTracker(F03)
    state = tracker.open(None, "C1", ["police", "bank"], 0.0).state
    state = tracker.record(state, outcome("police"), 1.0).state
    assert unchanged_after(lambda s: tracker.record(s, outcome("police"), 2.0), state).duplicate
    stray = unchanged_after(lambda s: tracker.record(s, outcome("water"), 2.0), state)
    assert stray.unexpected


def test_unexpected_recipient_before_open_is_flagged() -> None:
    tracker = CaseTracker(F03)
    stray = tracker.record(None, outcome("water"), acted_at=1.0)
    opened = tracker.open(stray.state, "C1", ["police"], opened_at=0.0)
    assert opened.unexpected
    assert "water" not in opened.state["acted"]
    done = tracker.record(opened.state, outcome("police"), acted_at=2.0)
    assert done.completion is not None
    assert done.completion.recipient_latency == {"police": 2.0}
