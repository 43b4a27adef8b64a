"""A trigger drawn as far as it is read (`producers/lazy.py`): the sim engine's triggers are
the Kafka engine's, field for field, however few of their fields it reads."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from cli_runner import ROOT

from govstream.engines.sim.engine import SimEngine
from govstream.scenario.loader import load_scenario
from producers import lazy
from producers.amr import CompanyDeregistrationGenerator
from producers.ids import case_id

ON = dt.date(2021, 9, 1)


def test_a_lazy_deregistration_is_the_whole_one_whether_or_not_the_others_were_read() -> None:
    """Two generators on one seed: one makes whole triggers (the Kafka engine's), the other
    lazy ones, of which only every third is read past its routing facts. Each is the same
    record: a company's names and numbers come from its own stream, not from the order."""
    whole = CompanyDeregistrationGenerator(random.Random(5))
    drawn = CompanyDeregistrationGenerator(random.Random(5))
    lazies = []
    for n in range(1, 301):
        record = drawn.lazy(case_id("F03", n), ON)
        if n % 3 == 0:
            assert record["company_name"]  # read past the routing facts
        lazies.append(record)
    for n, record in enumerate(lazies, start=1):
        assert dict(record) == whole.generate(case_id("F03", n), ON)
    names = {record["company_name"] for record in lazies}
    assert len(names) > 250, "each company its own name"


def test_a_lazy_record_reads_as_a_dict() -> None:
    record = lazy.LazyRecord({"a": 1}, lambda: {"b": 2})
    assert record["a"] == 1 and record.get("c") is None and "b" in record
    assert dict(record) == {"a": 1, "b": 2} and len(record) == 2
    with pytest.raises(KeyError):
        record["c"]


def test_the_sim_engine_routes_f03_without_drawing_a_company(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the lever is for: a sim run of F03 reads no trigger past its routing facts."""
    drawn: list[str] = []
    whole = lazy.LazyRecord._whole

    def counted(self: lazy.LazyRecord) -> dict:
        if self._rest is not None:
            drawn.append(self._known["case_id"])
        return whole(self)

    monkeypatch.setattr(lazy.LazyRecord, "_whole", counted)
    scenario = load_scenario(ROOT / "scenarios" / "deregistration-fanout.yaml", ["duration=5d"])
    result = SimEngine(scenario).run()
    assert result.counts.cases_completed > 50
    assert drawn == []
