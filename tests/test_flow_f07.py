"""F07: an application at the Yuzhong counter for an item handled elsewhere, routed by its data
to the handling region over that region's link where the item is 通办 on the day, or the
applicant travelling there where it is not yet; the go-live dates are the source's knobs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from flow_kit import answer_value, by_step, field_names, generate, strings_in, walk_case

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.plan.targets import targets_of
from govstream.report.tables import sla_summary
from govstream.scenario.loader import ScenarioError, load_scenario
from processors import FLOWS
from processors.events import Emit
from processors.f07_m22_tongban import ROUTES
from processors.orchestrator import SKIPPED, Orchestrator, Progress
from producers.gov_services_tongban import (
    ALWAYS_LIVE,
    CROSS_DISTRICT,
    CROSS_PROVINCE,
    SICHUAN_CHONGQING,
    TongbanMix,
    route_of,
)

FLOW = FLOWS["F07"]
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "tongban.yaml"
BEFORE = dt.date(2021, 10, 30)
"""The day before the plan's 川渝 batch 2 date: every new batch still not live."""
AFTER = dt.date(2021, 12, 31)
"""The plan's last date: every new batch live."""
ROUTE = {route.value: route for route in ROUTES}


def triggers(count: int, on: dt.date, seed: int = 1, **mix: Any) -> list[dict[str, Any]]:
    return generate(FLOW, count, seed=seed, on=on, **mix)


def one(route: str, live: bool, on: dt.date = BEFORE) -> dict[str, Any]:
    for trigger in triggers(300, on, seed=7):
        if trigger["route"] == route and trigger["live"] == live:
            return trigger
    raise AssertionError(f"no {route} application, live={live}, in 300 draws on {on}")


def run_case(trigger: dict[str, Any]) -> tuple[list[list[str]], dict[str, Emit], Progress]:
    """Walk a case, answering each request as it comes: the steps requested at each turn,
    every request by step, and the last progress."""
    turns, progress = walk_case(FLOW, trigger)
    sent = by_step([emit for turn in turns for emit in turn])
    return [[str(e.step) for e in turn] for turn in turns], sent, progress


# -- the source: routed by its data, live by its day ----------------------------------------


def test_the_route_is_the_handling_regions_and_live_is_the_days() -> None:
    for trigger in triggers(300, BEFORE):
        division = trigger["handling_region"]["division"]
        assert trigger["route"] == route_of(division)
        assert division != "500103", "nothing Yuzhong handles itself is 通办"
        assert trigger["live"] == (trigger["accepted_on"] >= trigger["item"]["live_from"])


def test_the_triggers_fit_their_contract(codec: AvroCodec) -> None:
    for trigger in triggers(200, AFTER):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger


def test_route_of_reads_the_division_code() -> None:
    assert route_of("500106") == CROSS_DISTRICT
    assert route_of("510107") == SICHUAN_CHONGQING
    assert route_of("440305") == CROSS_PROVINCE
    with pytest.raises(ValueError, match="Yuzhong"):
        route_of("500103")


def test_the_default_go_live_dates_are_the_plans() -> None:
    assert TongbanMix().live_from() == {
        CROSS_DISTRICT: dt.date(2021, 12, 31),  # 2021年12月底
        SICHUAN_CHONGQING: dt.date(2021, 10, 31),  # 今年10月底前
        CROSS_PROVINCE: dt.date(2021, 12, 31),  # 年内
    }


def test_a_new_batch_is_live_from_its_date_and_the_old_batches_all_year() -> None:
    def live_by_batch(on: dt.date, **mix: Any) -> dict[str, set[bool]]:
        found: dict[str, set[bool]] = {}
        for trigger in triggers(600, on, seed=5, **mix):
            found.setdefault(trigger["item"]["batch"], set()).add(trigger["live"])
        return found

    before = live_by_batch(BEFORE)
    assert before["川渝通办第二批"] == {False}
    assert before["跨区县通办第三批"] == {False}
    assert before["跨省通办2021年74项"] == {False}
    assert before["川渝通办第一批"] == before["跨区县通办第一批"] == {True}
    on_the_day = live_by_batch(dt.date(2021, 10, 31))
    assert on_the_day["川渝通办第二批"] == {True}
    assert on_the_day["跨区县通办第三批"] == {False}
    assert set().union(*live_by_batch(AFTER).values()) == {True}
    # the knob moves the date: 川渝 batch 2 live from 1 July
    early = live_by_batch(BEFORE, chuanyu_batch2_live_from=20210701)
    assert early["川渝通办第二批"] == {True} and early["跨省通办2021年74项"] == {False}
    old = [t for t in triggers(300, BEFORE) if not t["item"]["batch"].endswith(("二批", "三批"))]
    assert all(t["item"]["live_from"] == ALWAYS_LIVE for t in old if "74" not in t["item"]["batch"])


def test_the_mix_refuses_a_date_that_is_no_day_and_shares_past_one() -> None:
    with pytest.raises(ValueError, match="YYYYMMDD"):
        TongbanMix(chuanyu_batch2_live_from=20211032)
    with pytest.raises(ValueError, match="new_batch_shares"):
        TongbanMix(new_batch_shares=(0.3, 1.5, 0.5))
    with pytest.raises(ValueError, match="new_batch_shares"):
        TongbanMix(new_batch_shares=(0.3, 0.5))


# -- the steps: one route, one of its two paths ---------------------------------------------


@pytest.mark.parametrize("route", [CROSS_DISTRICT, SICHUAN_CHONGQING, CROSS_PROVINCE])
def test_a_live_item_is_forwarded_handled_returned_and_recognised(route: str) -> None:
    r = ROUTE[route]
    turns, sent, last = run_case(one(route, live=True))
    assert turns == [[r.forward], [r.handle], [r.give_back], ["recognise"]]
    assert sent[r.forward].recipient == r.link and sent[r.give_back].recipient == r.link
    assert sent[r.handle].recipient == r.region
    assert sent[r.handle].value["channel"] == "FORWARDED"
    assert sent[r.handle].value["accepted_by"] == "500103"
    skipped = {s.id for s in FLOW.steps} - set(sent)
    assert len(skipped) == 12  # the other two routes' five steps, and this route's journey
    assert all(last.state["done"][s]["status"] == SKIPPED for s in skipped)


@pytest.mark.parametrize("route", [CROSS_DISTRICT, SICHUAN_CHONGQING, CROSS_PROVINCE])
def test_an_item_not_live_sends_the_applicant_to_the_region(route: str) -> None:
    r = ROUTE[route]
    trigger = one(route, live=False)
    turns, sent, last = run_case(trigger)
    assert turns == [[r.travel], [r.in_person]]
    assert sent[r.travel].recipient is None and FLOW.step(r.travel).party == "applicant"
    assert sent[r.in_person].recipient == r.region
    assert sent[r.in_person].value["channel"] == "IN_PERSON"
    assert sent[r.in_person].value["accepted_by"] == trigger["handling_region"]["division"]
    assert last.state["done"]["recognise"]["status"] == SKIPPED
    assert last.state["done"][r.forward]["status"] == SKIPPED


def test_the_region_s_result_comes_back_and_is_what_the_counter_recognises() -> None:
    r = ROUTE[SICHUAN_CHONGQING]
    trigger = one(SICHUAN_CHONGQING, live=True, on=AFTER)
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, trigger, 0.0, 0.0)
    for at, step in enumerate([r.forward, r.handle, r.give_back], start=1):
        answer = answer_value(FLOW, by_step(progress.emits)[step], random.Random(at))
        if step == r.handle:
            assert set(answer["reply"]) == {"result_number"}
            answer["reply"] = {"result_number": "CY-2-004-BY-HAND"}
        progress = orchestrator.record(progress.state, answer, float(at))
        if step == r.handle:
            assert by_step(progress.emits)[r.give_back].value["result_number"] == (
                "CY-2-004-BY-HAND"
            )
    counter = by_step(progress.emits)["recognise"].value
    assert counter["result_number"] == "CY-2-004-BY-HAND"
    assert counter["handling_region_name"] == trigger["handling_region"]["region_name"]


def test_every_request_fits_its_contract_and_carries_only_its_fields(codec: AvroCodec) -> None:
    for on in (BEFORE, AFTER):
        for trigger in triggers(40, on):
            _, sent, _ = run_case(trigger)
            for emit in sent.values():
                if FLOW.step(str(emit.step)).is_wait:
                    continue
                assert set(emit.value) == field_names(emit.topic), emit.step
                decoded = codec.decode(codec.encode(emit.topic, emit.value), emit.topic).value
                assert decoded == emit.value
                if emit.recipient in {"yukuaiban", "chuanyu-zone", "national-platform"}:
                    person = trigger["applicant"]
                    assert person["id_number"] not in set(strings_in(dict(emit.value)))


# -- the plan's dates: data, not latencies ---------------------------------------------------


def test_the_plan_s_dates_are_in_the_table_as_dates_no_run_can_check() -> None:
    dates = targets_of("F07", "M22")
    assert [(t.live_by, t.word) for t in dates] == [
        (dt.date(2021, 12, 31), "2021年12月底"),
        (dt.date(2021, 10, 31), "今年10月底前"),
        (dt.date(2021, 12, 31), "年内"),
    ]
    for entry in dates:
        assert entry.word in entry.quote and entry.number is None and not entry.checkable
        assert "go-live date, not a latency" in entry.cannot_check
        assert entry.cannot_check.count("_live_from") == 1
        knob = entry.cannot_check.split("knob ")[1].split(",")[0]
        assert knob in {f.name for f in dataclasses.fields(TongbanMix)}
        assert "live by" in entry.limit_text()


def test_a_plan_target_on_a_go_live_date_is_refused() -> None:
    with pytest.raises(ScenarioError, match="dates, not times a run can check"):
        load_scenario(
            SCENARIO,
            [
                "targets.0.source=plan",
                "targets.0.measure=M22",
            ],
        )


# -- the shipped scenario --------------------------------------------------------------------


def test_a_year_shows_live_against_in_person_and_names_the_dates_it_cannot_check() -> None:
    result = SimEngine(load_scenario(SCENARIO, ["duration=120d", "drain=200d"])).run()
    counts = result.flow_counts["F07"]
    assert counts.cases_started > 2000
    assert result.counts.cases_completed == result.counts.cases_started
    assert result.counts.lost == 0
    latency = result.latency
    live = sum(latency[f"F07/span:{r.name}-handled-live"]["count"] for r in ROUTES)
    in_person = sum(latency[f"F07/span:{r.name}-handled-in-person"]["count"] for r in ROUTES)
    assert live + in_person == counts.cases_started, "each case runs one path of one route"
    assert latency["F07/span:accepted-to-result"]["count"] == live
    for r in ROUTES:  # the journey costs more than the link, on every route
        assert (
            latency[f"F07/span:{r.name}-handled-in-person"]["mean"]
            > latency[f"F07/span:{r.name}-handled-live"]["mean"]
        )
    assert [u.what for u in result.not_checkable_plan_targets] == [
        t.what for t in targets_of("F07")
    ]
    assert all(u.reason for u in result.not_checkable_plan_targets)
    assert result.unchecked_plan_targets == []
    assert result.targets_met, "dates no target could check fail no run"
    summary = sla_summary(result)
    assert summary.startswith("all targets met; plan target no run can check: F07 M22 ")
    assert "F07 M22 川渝通办 batch 2 live (今年10月底前: live by 2021-10-31" in summary


def test_every_item_live_from_new_year_leaves_no_journey() -> None:
    early = [
        "duration=30d",
        "flows.F07.population.cross_district_batch3_live_from=20210101",
        "flows.F07.population.chuanyu_batch2_live_from=20210101",
        "flows.F07.population.cross_province_74_live_from=20210101",
    ]
    plan = SimEngine(load_scenario(SCENARIO, ["duration=30d"])).run()
    result = SimEngine(load_scenario(SCENARIO, early)).run()
    for r in ROUTES:
        assert result.latency.get(f"F07/span:{r.name}-handled-in-person", {}).get("count", 0) == 0
        assert plan.latency[f"F07/span:{r.name}-handled-in-person"]["count"] > 0
    started = result.flow_counts["F07"].cases_started
    assert result.latency["F07/span:accepted-to-result"]["count"] == started
    assert result.latency["F07/case"]["mean"] < plan.latency["F07/case"]["mean"]
