"""What the unit tests share: every discovered flow as a parameter, and one way to walk a case.

A test that takes a `flow_spec` argument runs once per flow in `processors.FLOWS`, with the
flow's id as the test id, so a flow is tested the moment its module is added. The walk drives
the real orchestrator through a case's whole step graph, answering each request the way a
simulated agency does (`processors.agency.outcome_for`), in an order drawn from a seeded
random stream so that joins see their dependencies finish in different orders.

The helpers reach tests as fixtures rather than imports: `tests/kafka` has a conftest of its
own, so `import conftest` could name either file.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import random
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from govstream.contracts.codec import AvroCodec
from govstream.pipeline.schedule import case_id
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.agency import outcome_for
from processors.events import Emit, Record
from processors.flow import FlowSpec, unit_of
from processors.orchestrator import CaseCompletion, CaseState, Orchestrator, Transition

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FLOW_IDS = sorted(FLOWS)
ON = dt.date(2021, 6, 1)
WALKED = 300
"""Generated triggers walked per flow: enough that the default mixes reach every step."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "flow_spec" in metafunc.fixturenames:
        metafunc.parametrize("flow_spec", [FLOWS[f] for f in FLOW_IDS], ids=FLOW_IDS)


def generated_triggers(
    flow: FlowSpec, count: int, seed: str = "tests", population: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """`count` triggers from the flow's own source, seeded, with the population's defaults."""
    make = flow.source.generator(random.Random(f"{seed}:{flow.id}"), population or {})
    return [make(case_id(flow.id, n), ON) for n in range(1, count + 1)]


@dataclass
class WalkedCase:
    """Everything one case produced on its way through the orchestrator."""

    trigger: Record
    requests: list[Emit] = field(default_factory=list)
    """Agency requests and waits, in the order the orchestrator emitted them."""
    outcomes: list[Emit] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Steps skipped by the case's data."""
    cancelled: list[str] = field(default_factory=list)
    """Steps cancelled by a rejection before them."""
    transitions: list[Transition] = field(default_factory=list)
    """What each transition did, as the books are told it."""
    completion: CaseCompletion | None = None
    state: CaseState | None = None

    @property
    def requested_steps(self) -> list[str]:
        """Each step requested, once however many items it was requested for."""
        return list(dict.fromkeys(str(emit.step) for emit in self.requests))


Answer = Callable[[FlowSpec, Emit, random.Random], Emit]


def answer(flow: FlowSpec, emit: Emit, rng: random.Random) -> Emit:
    """What a simulated agency (or a party waited on) says to the request."""
    return outcome_for(flow, flow.step(str(emit.step)), emit.value, rng)


def walk(
    flow: FlowSpec,
    trigger: Record,
    rng: random.Random,
    respond: Answer = answer,
    *,
    bodies: bool = True,
) -> WalkedCase:
    """Open the case, then answer one outstanding request at a time until none is left.

    Times are the answer's position (1, 2, ...), so marks are easy to read; a request reaches
    its agency half a unit before it is answered, and a wait has no delivery. `bodies=False`
    walks it as the sim engine does (requests carry a body only where an answer reads it).
    """
    orchestrator = Orchestrator(flow, bodies=bodies)
    progress = orchestrator.open(None, trigger, opened_at=0.0, now=0.0)
    case = WalkedCase(trigger)
    pending: list[Emit] = []
    clock = 0.0
    while True:
        assert not progress.duplicate and not progress.refused, progress
        # A deadline withdrawn is no request: its wait, still pending, is answered in its turn.
        emits = [e for e in progress.emits if not e.value.get("withdrawn")]
        assert list(progress.transition.requested) == [unit_of(e.value) for e in emits]
        case.transitions.append(progress.transition)
        case.requests += emits
        case.skipped += progress.transition.skipped
        case.cancelled += progress.transition.cancelled
        pending += emits
        if progress.completion is not None:
            assert case.completion is None, "a case completes once"
            assert not pending, f"completed with requests outstanding: {pending}"
            case.completion = progress.completion
        case.state = progress.state
        if not pending:
            return case
        emit = pending.pop(rng.randrange(len(pending)))
        outcome = respond(flow, emit, rng)
        case.outcomes.append(outcome)
        clock += 1.0
        delivered = None if emit.recipient is None else clock - 0.5
        given = progress.state
        before = copy.deepcopy(given)
        progress = orchestrator.record(given, outcome.value, clock, delivered)
        assert given == before, "a transition must not change the state it was given"
        assert progress.transition.step == unit_of(emit.value)


@functools.cache
def walked_cases(flow_id: str) -> tuple[WalkedCase, ...]:
    """The generated triggers of one flow, each walked to its end (computed once per run)."""
    flow = FLOWS[flow_id]
    rng = random.Random(f"walk:{flow_id}")
    return tuple(walk(flow, trigger, rng) for trigger in generated_triggers(flow, WALKED))


@pytest.fixture
def walked(flow_spec: FlowSpec) -> tuple[WalkedCase, ...]:
    """The flow's generated cases, walked."""
    return walked_cases(flow_spec.id)


@pytest.fixture(scope="session")
def all_walked() -> dict[str, tuple[WalkedCase, ...]]:
    """Every discovered flow's generated cases, walked."""
    return {flow_id: walked_cases(flow_id) for flow_id in FLOW_IDS}


@pytest.fixture(scope="session")
def walk_case() -> Callable[..., WalkedCase]:
    """`walk_case(flow, trigger, rng, respond=...)`: one case through the orchestrator."""
    return walk


@pytest.fixture(scope="session")
def make_triggers() -> Callable[..., list[dict[str, Any]]]:
    """`make_triggers(flow, count, seed=..., population=...)`: the flow's own triggers."""
    return generated_triggers


@pytest.fixture(scope="session")
def shipped() -> dict[str, tuple[str, ...]]:
    """Each shipped scenario file's stem and the flows it runs."""
    return {
        path.stem: tuple(load_scenario(path).flows) for path in sorted(SCENARIOS.glob("*.yaml"))
    }


@pytest.fixture(scope="session")
def codec() -> AvroCodec:
    """The catalog's codec; its schemas are parsed once for the whole session."""
    return AvroCodec()


class InlinePool:
    """Stands in for ProcessPoolExecutor: runs each task at once in this process and records
    the pool size it was asked for, so a test can see how many processes a run would use."""

    sizes: ClassVar[list[int]] = []

    def __init__(self, max_workers: int, **_: Any) -> None:
        InlinePool.sizes.append(max_workers)

    def __enter__(self) -> InlinePool:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def submit(self, task: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(task(*args))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        return None


@pytest.fixture
def inline_pool(monkeypatch: pytest.MonkeyPatch) -> type[InlinePool]:
    """Replications and sweeps run in this process; `InlinePool.sizes` lists the pools asked."""
    import govstream.studies.executors

    InlinePool.sizes = []
    monkeypatch.setattr(govstream.studies.executors, "ProcessPoolExecutor", InlinePool)
    return InlinePool
