"""An agency two flows share is one queue: its wait is Erlang C at the sum of their loads.

Two discovered flows that reach the same agency, each with exactly one step there, run
together in a scenario built so that this agency is the only queue that matters: every other
agency serves instantly with many clerks, every wait outside an agency takes no time, there is
no transport, the platform is instant and everything is always open. Cases arrive as Poisson
streams; a step applies to a case independently of the arrival times, so the requests reaching
the shared agency from each flow are Poisson too (thinning), at rate λ1 and λ2. With one clerk
and exponential service the shared pool is then M/M/1 at λ1 + λ2 (Erlang C with c = 1: an
arrival waits with probability ρ), and its mean wait must match Wq = ρ/(μ − λ).

Given each flow a desk of its own (`agencies.<a>.desks`), the same agency becomes two pools,
each M/M/1 at its own flow's rate, with a far shorter wait.

Tolerances are 3.5 standard errors of the mean wait over the customers measured, from the
asymptotic variance of the M/M/1 mean wait (Daley 1968), as tests/test_queueing_theory.py
derives it. The rate in the formula is the one realised (requests over the arrival window),
itself checked against the rate the scenario asked for.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from test_queueing_theory import mmc_wait, relative_standard_error

from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import agency_key, step_key
from govstream.pipeline.schedule import case_id
from govstream.scenario.loader import parse_scenario
from processors import FLOWS
from processors.flow import FlowSpec, Step

MINUTE = 60.0
RATE_PER_FLOW = 0.3
"""Requests per minute each flow sends the shared agency; one clerk serving one a minute."""
REQUESTS = 30_000
"""Requests the shared agency should see in total over the arrival window."""
SIGMAS = 3.5
CLERKS = 1
INSTANT = {"dist": "constant", "value": 0}


@dataclass(frozen=True)
class Sharing:
    """Two flows, the agency they share, each flow's one step there and how often it applies."""

    agency: str
    flows: tuple[str, str]
    steps: dict[str, str]
    applies: dict[str, float]


def only_step_at(spec: FlowSpec, agency: str) -> Step | None:
    """The flow's one step at the agency, sending one request a case (not one per item)."""
    steps = spec.steps_of(agency)
    return steps[0] if len(steps) == 1 and steps[0].each is None else None


def share_applying(spec: FlowSpec, step: Step, count: int = 3000) -> float:
    make = spec.source.generator(random.Random(f"sharing:{spec.id}"), {})
    triggers = [make(case_id(spec.id, n), dt.date(2021, 6, 1)) for n in range(1, count + 1)]
    return sum(bool(step.applies(t)) for t in triggers) / count


def linked(first: str, second: str) -> bool:
    """Whether one flow starts the other's cases: run together, the shared agency would also
    get the requests of the cases handed over, which follow the other flow's arrivals and are
    no Poisson stream of their own."""
    return any(h.flow == second for h in FLOWS[first].handovers) or any(
        h.flow == first for h in FLOWS[second].handovers
    )


def find_sharing() -> Sharing:
    """The agency, and the two flows reaching it, where both flows need it most often."""
    best: Sharing | None = None
    for agency in sorted({a for spec in FLOWS.values() for a in spec.agencies}):
        candidates: list[tuple[float, str, str]] = []
        for spec in FLOWS.values():
            step = only_step_at(spec, agency)
            if step is not None and spec.scoring is None:  # its cases come from its arrivals
                candidates.append((share_applying(spec, step), spec.id, step.id))
        candidates.sort(reverse=True)
        pairs = [
            (first, second)
            for index, first in enumerate(candidates)
            for second in candidates[index + 1 :]
            if not linked(first[1], second[1])
        ]
        if not pairs:
            continue
        (p1, f1, s1), (p2, f2, s2) = max(pairs, key=lambda pair: min(pair[0][0], pair[1][0]))
        if best is None or min(p1, p2) > min(best.applies.values()):
            best = Sharing(agency, (f1, f2), {f1: s1, f2: s2}, {f1: p1, f2: p2})
    assert best is not None, "no two discovered flows reach one agency with one step each"
    assert min(best.applies.values()) >= 0.2, f"{best}: the shared step rarely applies"
    return best


SHARING = find_sharing()


def scenario_data(sharing: Sharing, *, desks: bool) -> dict[str, Any]:
    window = REQUESTS / (2 * RATE_PER_FLOW)  # minutes
    flows: dict[str, Any] = {}
    agencies: dict[str, Any] = {}
    for flow_id in sharing.flows:
        spec = FLOWS[flow_id]
        rate = RATE_PER_FLOW / sharing.applies[flow_id]
        waits = {wait.id: {"duration": INSTANT} for wait in spec.waits}
        flows[flow_id] = {"arrivals": {"process": "poisson", "rate": f"{rate}/min"}, "steps": waits}
        for agency in spec.agencies:
            agencies[agency] = {"servers": 64, "calendar": "always", "service_time": INSTANT}
    shared: dict[str, Any] = {
        "servers": CLERKS,
        "calendar": "always",
        "service_time": {"dist": "exponential", "mean": "1min"},
    }
    if desks:
        shared["desks"] = {flow_id: {"servers": CLERKS} for flow_id in sharing.flows}
    agencies[sharing.agency] = shared
    return {
        "name": f"shared-{sharing.agency}{'-desks' if desks else ''}",
        "seed": 4242,
        "duration": f"{window:.6f}min",
        "drain": "1800d",  # long enough for any queue; the holiday data covers it
        "flows": flows,
        "transport": {"latency": INSTANT},
        "platform": {"servers": 64, "service_time": INSTANT},
        "agencies": agencies,
    }


def simulate(text: str) -> dict[str, Any]:
    """One run; plain data back, so it can come from a worker process."""
    scenario = parse_scenario(text, "<shared-agency>")
    result = SimEngine(scenario).run()
    return {
        "window": scenario.duration.clock_seconds(),
        "counts": {f: c.model_dump() for f, c in result.flow_counts.items()},
        "latency": result.latency,
        "agencies": {name: load.model_dump() for name, load in result.agencies.items()},
    }


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, Any]]:
    texts = {
        kind: yaml.safe_dump(scenario_data(SHARING, desks=kind == "desks"), allow_unicode=True)
        for kind in ("shared", "desks")
    }
    with ProcessPoolExecutor(max_workers=2) as pool:
        done = dict(zip(texts, pool.map(simulate, texts.values()), strict=True))
    return done


def count(run: dict[str, Any], key: str) -> int:
    summary = run["latency"].get(key)
    return int(summary["count"]) if summary else 0


def mean_minutes(run: dict[str, Any], key: str) -> float:
    return float(run["latency"][key]["mean"]) / MINUTE


def check_wait(run: dict[str, Any], pool: str, requests: int, what: str) -> None:
    """The pool's mean wait against M/M/c at the rate its requests arrived at."""
    rate = requests / (run["window"] / MINUTE)
    analytic = mmc_wait(rate, 1.0, CLERKS)
    tolerance = SIGMAS * relative_standard_error(rate / CLERKS, requests)
    simulated = mean_minutes(run, agency_key("wait", pool))
    assert simulated == pytest.approx(analytic, rel=tolerance), (
        f"{what}: Wq simulated {simulated:.4f} min, analytic {analytic:.4f} min at "
        f"λ = {rate:.4f}/min (tolerance {tolerance:.1%})"
    )


def test_the_shared_step_applies_as_estimated() -> None:
    """The arrival rates are set from these shares, so they must be what the flows do."""
    for flow_id, share in SHARING.applies.items():
        assert 0.2 <= share <= 1.0, flow_id
    assert SHARING.flows[0] != SHARING.flows[1]
    assert not linked(*SHARING.flows), "each flow's requests come from its own arrivals alone"


def test_the_scenario_isolates_the_shared_agency() -> None:
    data = scenario_data(SHARING, desks=False)
    scenario = parse_scenario(yaml.safe_dump(data, allow_unicode=True))
    for name, agency in scenario.agencies.items():
        assert agency.calendar == "always"
        assert (agency.servers == CLERKS) == (name == SHARING.agency), name
    both = [f for f in scenario.flows if SHARING.agency in FLOWS[f].agencies]
    assert set(both) == set(SHARING.flows)


@pytest.mark.slow
def test_shared_pool_serves_both_flows_and_counts_each(runs: dict[str, Any]) -> None:
    run = runs["shared"]
    agency = SHARING.agency
    assert agency in run["agencies"], "one pool named after the agency"
    assert not [name for name in run["agencies"] if name.startswith(f"{agency}@")]
    load = run["agencies"][agency]
    assert set(load["requests"]) == set(SHARING.flows)
    for flow_id in SHARING.flows:
        counts = run["counts"][flow_id]
        assert counts["lost"] == 0 and counts["cases_open"] == 0
        step = SHARING.steps[flow_id]
        # What the pool took up from each flow is what that flow asked of it.
        delivered = count(run, step_key(flow_id, "delivered", step))
        assert load["requests"][flow_id] == delivered
        assert count(run, agency_key("wait", agency, flow_id)) == delivered
        expected = RATE_PER_FLOW * run["window"] / MINUTE
        assert abs(delivered - expected) < 5 * math.sqrt(expected), flow_id
    assert count(run, agency_key("wait", agency)) == sum(load["requests"].values())


@pytest.mark.slow
def test_shared_pool_waits_as_one_queue_at_the_summed_rate(runs: dict[str, Any]) -> None:
    run = runs["shared"]
    requests = sum(run["agencies"][SHARING.agency]["requests"].values())
    assert mean_minutes(run, agency_key("service-work", SHARING.agency)) == pytest.approx(
        1.0, abs=5 / math.sqrt(requests)
    )
    check_wait(run, SHARING.agency, requests, f"{SHARING.agency} shared by {SHARING.flows}")
    # Both flows queue in the same line, so each sees the same mean wait (PASTA); each mean
    # is over fewer customers, so its tolerance is wider.
    for flow_id in SHARING.flows:
        mine = count(run, agency_key("wait", SHARING.agency, flow_id))
        rate = requests / (run["window"] / MINUTE)
        tolerance = SIGMAS * relative_standard_error(rate / CLERKS, mine)
        own = mean_minutes(run, agency_key("wait", SHARING.agency, flow_id))
        assert own == pytest.approx(mmc_wait(rate, 1.0, CLERKS), rel=tolerance), flow_id


@pytest.mark.slow
def test_a_desk_per_flow_makes_separate_pools(runs: dict[str, Any]) -> None:
    run, shared = runs["desks"], runs["shared"]
    agency = SHARING.agency
    pools = {f: f"{agency}@{f}" for f in SHARING.flows}
    assert set(pools.values()) <= set(run["agencies"])
    assert agency not in run["agencies"], "no flow is left to share the agency's own pool"
    for flow_id, pool in pools.items():
        load = run["agencies"][pool]
        assert load["agency"] == agency and load["servers"] == CLERKS
        assert set(load["requests"]) == {flow_id}
        requests = load["requests"][flow_id]
        assert requests == count(run, step_key(flow_id, "delivered", SHARING.steps[flow_id]))
        check_wait(run, pool, requests, f"{pool} alone")
        # Same arrivals as the shared run (the streams are the scenario's), a shorter wait.
        assert requests == shared["agencies"][agency]["requests"][flow_id]
        assert mean_minutes(run, agency_key("wait", pool)) < mean_minutes(
            shared, agency_key("wait", agency)
        )
