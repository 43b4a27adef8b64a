"""A trigger drawn as far as it is read (`producers/lazy.py`): the sim engine's triggers are
the Kafka engine's, field for field, however few of their fields it reads."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from cli_runner import ROOT

from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.agency import outcome_for
from processors.f09_m26_property_tax_certificate import TAX_STEP
from processors.orchestrator import Orchestrator
from producers import lazy
from producers.amr import CompanyDeregistrationGenerator
from producers.amr_establishment import CompanyEstablishmentGenerator
from producers.finance_bureau import AwardNoticeGenerator
from producers.gov_services import UtilityConnectionGenerator
from producers.hrss import UnemploymentClaimGenerator
from producers.ids import case_id
from producers.real_estate import PropertyTransferGenerator
from producers.real_estate_registration import RegistrationApplicationGenerator

ON = dt.date(2021, 9, 1)


LAZY_SOURCES = [
    (CompanyDeregistrationGenerator, "F03"),
    (CompanyEstablishmentGenerator, "F01"),
    (UtilityConnectionGenerator, "F04"),
    (RegistrationApplicationGenerator, "F09"),
    (PropertyTransferGenerator, "F10"),
    (UnemploymentClaimGenerator, "F14"),
    (AwardNoticeGenerator, "F17"),
]
"""Every source whose triggers are drawn as far as they are read, and its flow."""


@pytest.mark.parametrize(("generator", "flow_id"), LAZY_SOURCES)
def test_a_lazy_trigger_is_the_whole_one_whether_or_not_the_others_were_read(
    generator: type, flow_id: str
) -> None:
    """Two generators on one seed: one makes whole triggers (the Kafka engine's), the other
    lazy ones, of which only every third is read past its routing facts. Each is the same
    record: a case's names and numbers come from its own stream, not from the order."""
    whole = generator(random.Random(5))
    drawn = generator(random.Random(5))
    lazies = []
    for n in range(1, 301):
        record = drawn.lazy(case_id(flow_id, n), ON)
        if n % 3 == 0:
            assert record["event_id"]  # read past the routing facts
        lazies.append(record)
    for n, record in enumerate(lazies, start=1):
        assert dict(record) == whole.generate(case_id(flow_id, n), ON)
    # the kafka engine's id of the same case carries its run's id: the case's draws do not
    again = generator(random.Random(5))
    for n, record in enumerate(lazies, start=1):
        on_kafka = again.generate(case_id(flow_id, n).replace("-", "-9f2c1a77e0-"), ON)
        assert {**on_kafka, "case_id": record["case_id"]} == dict(record)
    events = {record["event_id"] for record in lazies}
    assert len(events) == 300, "each case its own draws"


def _plain(value: object) -> bool:
    """Whether a value is plain dicts and lists all the way down, nothing left to draw."""
    if isinstance(value, dict):
        return type(value) is dict and all(_plain(v) for v in value.values())
    if isinstance(value, list):
        return type(value) is list and all(_plain(v) for v in value)
    return not isinstance(value, lazy.LazyRecord | lazy.LaterList)


@pytest.mark.parametrize(("generator", "flow_id"), LAZY_SOURCES)
def test_a_trigger_read_inside_first_is_whole_plain_and_valid(
    generator: type, flow_id: str
) -> None:
    """A field known by its shape read inside before anything else (a power application's
    capacity, a supplier's name) draws the trigger once: the whole is then the one drawn at
    once, plain all the way down and valid for the source's contract."""
    codec = AvroCodec(load_catalog())
    inside_first, whole = generator(random.Random(11)), generator(random.Random(11))
    read_inside = 0
    for n in range(1, 201):
        record = inside_first.lazy(case_id(flow_id, n), ON)
        for value in list(record._known.values()):
            if isinstance(value, lazy.LazyRecord) and value:
                assert list(value)  # every field of it, the ones not known at once too
                read_inside += 1
            elif isinstance(value, lazy.LaterList) and value:
                assert value[0]
                read_inside += 1
        drawn = dict(record)
        assert drawn == whole.generate(case_id(flow_id, n), ON)
        assert _plain(drawn)
        codec.encode(FLOWS[flow_id].source_topic, drawn)
    if flow_id not in ("F09", "F10"):  # whose triggers hold nothing known only by its shape
        assert read_inside > 0


def test_a_lazy_record_reads_as_a_dict() -> None:
    record = lazy.LazyRecord({"a": 1}, lambda: {"b": 2})
    assert record["a"] == 1 and record.get("c") is None and "b" in record
    assert dict(record) == {"a": 1, "b": 2} and len(record) == 2
    with pytest.raises(KeyError):
        record["c"]


def test_a_field_known_by_its_shape_is_drawn_with_the_rest_when_read_inside() -> None:
    """A list known by its length, a record known to be there: what routes a case is read
    without drawing, and reading inside either draws the rest once, for both."""
    drawn: list[int] = []

    def rest() -> dict:
        drawn.append(1)
        return {"name": "x", "accounts": ["a", "b"], "fund": {"number": 7, "a": 0}}

    record = lazy.LazyRecord({"id": 1}, rest, lists={"accounts": 2}, records={"fund": {"a": 0}})
    accounts, fund = record["accounts"], record["fund"]
    assert len(accounts) == 2 and bool(accounts) and record.get("fund") is not None
    assert fund["a"] == 0  # known at once, though the rest's fund says otherwise
    assert drawn == []
    assert accounts[1] == "b" and list(accounts) == ["a", "b"] and fund["number"] == 7
    assert drawn == [1]
    assert dict(record) == {
        "id": 1,
        "name": "x",
        "accounts": ["a", "b"],
        "fund": {"number": 7, "a": 0},
    }
    assert type(record["accounts"]) is list and type(record["fund"]) is dict


@pytest.mark.parametrize(
    ("scenario_file", "days"),
    [
        ("deregistration-fanout.yaml", 5),
        ("company-establishment.yaml", 5),
        ("utility-connection.yaml", 10),
        ("property-registration-tax.yaml", 5),
        ("property-transfer-utilities.yaml", 5),
        ("unemployment-benefit.yaml", 5),
        ("procurement-lifecycle.yaml", 14),
    ],
)
def test_the_sim_engine_routes_a_flow_without_drawing_its_triggers(
    scenario_file: str, days: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the lever is for: a sim run reads no trigger past its routing facts, and builds
    no request/reply step's body nor its answer, which no later step reads on that engine."""
    drawn: list[str] = []
    whole = lazy.LazyRecord._whole

    def counted(self: lazy.LazyRecord) -> dict:
        if self._rest is not None:
            drawn.append(repr(self))
        return whole(self)

    monkeypatch.setattr(lazy.LazyRecord, "_whole", counted)
    scenario = load_scenario(ROOT / "scenarios" / scenario_file, [f"duration={days}d"])
    result = SimEngine(scenario).run()
    assert result.counts.cases_completed > 50
    assert drawn == []


def test_an_answer_not_built_is_the_one_built_when_read() -> None:
    """F09's tax answer, on the sim engine: the request's body and the certificate are drawn
    only when the certificate is read, and are then what the Kafka engine's agency draws from
    the whole request."""
    flow = FLOWS["F09"]
    step = flow.step(TAX_STEP)
    made = RegistrationApplicationGenerator(random.Random(3))
    opened = Orchestrator(flow, bodies=False).open(None, made.lazy("F09-00000001", ON), 0.0, 0.0)
    (request,) = [emit.value for emit in opened.emits if emit.step == TAX_STEP]
    assert isinstance(request, lazy.LazyRecord) and not request.drawn
    reply = outcome_for(flow, step, request, random.Random(9)).value["reply"]
    assert "tax_certificate_no" in reply and not request.drawn
    sent = Orchestrator(flow).open(None, made.generate("F09-00000001", ON), 0.0, 0.0)
    (whole,) = [emit.value for emit in sent.emits if emit.step == TAX_STEP]
    assert dict(request) == whole
    answered = outcome_for(flow, step, whole, random.Random(9)).value["reply"]
    assert reply["tax_certificate_no"] == answered["tax_certificate_no"]
    assert request.drawn
