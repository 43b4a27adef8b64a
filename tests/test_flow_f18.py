"""F18: the enterprise-service platform. A policy pushed to every enterprise its rule matches,
one request per enterprise, the share reached counted over the enterprises; an enterprise's
request routed to its department, settled, and answered by the platform."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flow_kit import answer_value, field_names, generate, strings_in, walk_case

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.ledger import unit_metric
from govstream.scenario.loader import load_scenario, parse_scenario
from processors import FLOWS
from processors.events import Emit
from processors.flow import CaseView
from processors.orchestrator import SKIPPED, Orchestrator, Progress
from producers.enterprise_services import EnterpriseServiceMix, matches
from producers.identifiers import uscc_is_valid

FLOW = FLOWS["F18"]
ON = dt.date(2021, 6, 1)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "enterprise-services.yaml"
ANSWERS = ("answer-industry", "answer-amr", "answer-tax", "answer-hrss")


def triggers(count: int, seed: int = 1, **mix: Any) -> list[dict[str, Any]]:
    return generate(FLOW, count, seed=seed, on=ON, **mix)


def policy(rule: dict[str, list[str]] | None = None, **mix: Any) -> dict[str, Any]:
    (trigger,) = triggers(1, seed=5, policy_share=1.0, enterprises=60, **mix)
    if rule is not None:
        trigger["policy"]["rule"] = rule
    return trigger


def request(department: str) -> dict[str, Any]:
    for trigger in triggers(200, seed=9, policy_share=0.0):
        if trigger["request"]["department"] == department:
            return trigger
    raise AssertionError(f"no request to {department} in 200 draws")


def run_case(trigger: dict[str, Any]) -> tuple[list[Emit], Progress]:
    """Walk a case to completion, answering every request; returns every request sent."""
    turns, progress = walk_case(FLOW, trigger)
    return [emit for turn in turns for emit in turn], progress


# -- the platform's events -------------------------------------------------------------------


def test_triggers_round_trip_and_name_valid_enterprises(codec: AvroCodec) -> None:
    for trigger in triggers(300, policy_share=0.2, enterprises=50):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger
        is_policy = trigger["kind"] == "POLICY_PUBLISHED"
        assert (trigger["policy"] is not None) == is_policy == (trigger["directory"] is not None)
        assert (trigger["request"] is None) == is_policy
        enterprises = trigger["directory"] or [trigger["request"]["enterprise"]]
        assert all(uscc_is_valid(e["uscc"]) for e in enterprises)


def test_a_run_s_policies_and_requests_concern_one_directory() -> None:
    drawn = triggers(400, policy_share=0.1, enterprises=30)
    directories = {tuple(e["uscc"] for e in t["directory"]) for t in drawn if t["directory"]}
    (directory,) = directories
    assert len(directory) == 30
    asking = {t["request"]["enterprise"]["uscc"] for t in drawn if t["request"]}
    assert asking <= set(directory)


def test_requests_go_to_departments_by_the_population_s_weights() -> None:
    drawn = Counter(t["request"]["department"] for t in triggers(2000, policy_share=0.0, seed=2))
    assert 0.36 < drawn["industry-department"] / 2000 < 0.44
    only_tax = triggers(50, policy_share=0.0, department_weights=(0, 0, 1, 0))
    assert {t["request"]["department"] for t in only_tax} == {"tax"}


def test_the_mix_refuses_what_cannot_be() -> None:
    with pytest.raises(ValueError, match="policy_share"):
        EnterpriseServiceMix(policy_share=2.0)
    with pytest.raises(ValueError, match="department_weights"):
        EnterpriseServiceMix(department_weights=(1.0,))
    with pytest.raises(ValueError, match="enterprises"):
        EnterpriseServiceMix(enterprises=0)


# -- the push, per enterprise ----------------------------------------------------------------


def test_the_rule_picks_the_items_one_request_each() -> None:
    trigger = policy({"industries": ["J", "F"], "sizes": ["MICRO"], "sub_districts": []})
    expected = [
        e for e in trigger["directory"] if e["industry"] in ("J", "F") and e["size"] == "MICRO"
    ]
    assert expected, "the directory of 60 has micro firms in finance or retail"
    opened = Orchestrator(FLOW).open(None, trigger, 0.0, 0.0)
    assert {str(e.step) for e in opened.emits} == {"push"}
    pushed = sorted(e.value["uscc"] for e in opened.emits)
    assert pushed == sorted(e["uscc"] for e in expected)
    for step in (*ANSWERS, "feedback"):
        assert opened.state["done"][step]["status"] == SKIPPED


def test_an_empty_rule_reaches_the_whole_directory_and_a_narrow_one_none() -> None:
    assert matches(
        {"industries": [], "sizes": [], "sub_districts": []},
        {"industry": "J"} | {"size": "LARGE", "sub_district": "大坪街道"},
    )
    everyone = policy({"industries": [], "sizes": [], "sub_districts": []})
    assert len(FLOW.step("push").each.items(CaseView("", everyone, {}))) == 60
    nobody = policy({"industries": ["no-such-section"], "sizes": [], "sub_districts": []})
    assert not FLOW.step("push").concerns(nobody)


def test_each_push_carries_its_own_enterprise_alone() -> None:
    trigger = policy()
    sent, _ = run_case(trigger)
    others = {e["uscc"] for e in trigger["directory"]}
    for emit in sent:
        seen = set(strings_in(dict(emit.value)))
        assert len(seen & others) == 1, "one enterprise per push, never the directory"
        assert emit.value["policy_no"] == trigger["policy"]["policy_no"]


def test_push_latency_is_kept_per_industry() -> None:
    each = FLOW.step("push").each
    assert each is not None
    enterprise = policy()["directory"][0]
    name = each.name(enterprise)
    assert unit_metric(f"push/{name}", each) == f"push@{each.group(name)}"
    assert unit_metric("push/J-91500103MA5U0000X1", each) == "push@finance"
    assert unit_metric("bank-freeze/102", FLOWS["F19"].step("bank-freeze").each) == (
        "bank-freeze@102"
    ), "a step that does not group keeps each item's own"


def test_an_unreachable_enterprise_rejects_the_policy_s_push() -> None:
    trigger = policy({"industries": [], "sizes": [], "sub_districts": []})
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, trigger, 0.0, 0.0)
    first, *rest = progress.emits
    rng = random.Random(1)
    progress = orchestrator.record(progress.state, answer_value(FLOW, first, rng, "void"), 1.0)
    assert progress.transition.joined == ("push",)
    for at, emit in enumerate(rest, start=2):
        progress = orchestrator.record(progress.state, answer_value(FLOW, emit, rng), float(at))
    assert progress.completion is not None and progress.completion.rejected == ("push",)


# -- the request, routed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("department", "step"),
    [
        ("industry-department", "answer-industry"),
        ("amr", "answer-amr"),
        ("tax", "answer-tax"),
        ("hrss", "answer-hrss"),
    ],
)
def test_a_request_goes_to_its_department_then_the_feedback(department: str, step: str) -> None:
    sent, last = run_case(request(department))
    assert [str(e.step) for e in sent] == [step, "feedback"]
    assert str(sent[0].recipient) == department
    for other in set(ANSWERS) - {step}:
        assert last.state["done"][other]["status"] == SKIPPED
    assert last.state["done"]["push"]["status"] == SKIPPED


def test_the_feedback_carries_the_department_s_answer_and_only_it_the_contact() -> None:
    trigger = request("tax")
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, trigger, 0.0, 0.0)
    (asked,) = opened.emits
    answer = answer_value(FLOW, asked, random.Random(2))
    assert answer["reply"]["resolution"] in ("RESOLVED", "EXPLAINED", "REFERRED")
    answer["reply"] = {"resolution": "EXPLAINED"}
    (feedback,) = orchestrator.record(opened.state, answer, 1.0).emits
    assert feedback.value["resolution"] == "EXPLAINED"
    phone = trigger["request"]["enterprise"]["contact_phone"]
    assert phone in set(strings_in(dict(feedback.value)))
    assert phone not in set(strings_in(dict(asked.value)))


def test_every_request_fits_its_contract(codec: AvroCodec) -> None:
    for trigger in triggers(40, policy_share=0.2, enterprises=40):
        sent, _ = run_case(trigger)
        for emit in sent:
            assert set(emit.value) == field_names(emit.topic), emit.step
            decoded = codec.decode(codec.encode(emit.topic, emit.value), emit.topic).value
            assert decoded == emit.value


# -- the share reached, counted over the enterprises on the sim engine -----------------------

PUSHES = """
name: pushes-by-hand
flow: F18
seed: 4
start: 2021-06-01T09:00:00+08:00
duration: 3d
drain: 1d
arrivals: {{process: poisson, rate: 4/d}}
population: {{enterprises: 50, policy_share: 1.0}}
steps:
  push: {{service_time: {{dist: constant, value: 1s}}, reject_probability: {reject}}}
agencies:
  gov-services: {{servers: 100, service_time: {{dist: constant, value: 1s}}}}
  industry-department: {{service_time: {{dist: constant, value: 1h}}}}
  amr: {{service_time: {{dist: constant, value: 1h}}}}
  tax: {{service_time: {{dist: constant, value: 1h}}}}
  hrss: {{service_time: {{dist: constant, value: 1h}}}}
calendar: {{holidays: none}}
targets:
  - {{id: reached, of: rate, step: push, at_least: 50%, source: author}}
"""


@pytest.mark.parametrize(("reject", "verdict"), [(0.0, "met"), (1.0, "missed")])
def test_the_share_reached_counts_enterprises_not_policies(reject: float, verdict: str) -> None:
    result = SimEngine(parse_scenario(PUSHES.format(reject=reject))).run()
    policies = result.counts.cases_started
    assert result.counts.cases_completed == policies > 3
    counts = result.rates["F18/rate:push"]
    per_industry = sum(
        summary["count"]
        for key, summary in result.latency.items()
        if key.startswith("F18/acted:push@")
    )
    assert counts["done"] + counts["failed"] == per_industry > policies
    assert counts["open"] == 0
    assert (counts["done"], counts["failed"]) == (
        (per_industry, 0) if reject == 0 else (0, per_industry)
    )
    assert {t.id: t.verdict for t in result.targets}["reached"] == verdict


# -- the shipped scenario --------------------------------------------------------------------


def test_scenario_runs_and_completes_every_case() -> None:
    result = SimEngine(load_scenario(SCENARIO, ["duration=7d"])).run()
    counts = result.counts
    assert counts.cases_started > 40
    assert counts.cases_completed == counts.cases_started
    assert counts.lost == 0
    verdicts = {t.id: t for t in result.targets}
    settled = verdicts["requests-settled-on-time"]
    assert settled.source == "plan" and settled.measure == "M48"
    assert settled.quote and "按时办结" in settled.quote
    assert settled.observed is not None
    reached = verdicts["matched-enterprises-reached"]
    assert reached.due is not None and reached.due > counts.cases_started / 10
