"""The faust app for a scenario: the topics, the `cases` table and the agents, wired.

The agents (`agents/`) only move bytes and time; what they decide comes from the same pure
orchestrator and agency model the sim engine runs (`Orchestrator`, `AgencyPool`, `Waits`). One
orchestrator agent reads every flow's triggers and outcomes (all keyed by case id, so a case's
messages meet in one partition and its state in one table row) and emits the requests of the
steps now due. One endpoint agent per agency pool reads every request topic that pool serves,
so a shared agency's clerks (agent concurrency) serve all its flows from one queue. Inbound
topics are read raw and decoded in the agent: anything that is not valid single-object Avro
goes to the dead-letter topic with its reason instead of stopping a stream. `build_app` makes
each agent's dependency object and registers the agents and the workers' timers.

On a secure cluster a faust app has one client identity, so each role runs as an app of its own
(``build_app(..., role=...)``): the platform's orchestrator and wait timer as ``platform``, and
each agency's endpoints as that agency, in a consumer group only that agency may join.

An external agency (`agencies.<id>.external`) has no endpoint and no role here: a system outside
govstream reads its request topics and answers on its outcome topics, and the orchestrator
checks each answer as it checks any other, and that it carries back its request's trace.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import faust

from govstream.contracts.access import PLATFORM, agency_group_prefix
from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka.access import role_principal, settings
from govstream.engines.kafka.agents.beside import BesideDeps, beside
from govstream.engines.kafka.agents.endpoint import EndpointDeps, endpoint, served_by
from govstream.engines.kafka.agents.orchestrator import (
    OrchestratorDeps,
    forget_the_last,
    orchestrator,
    resend_owed,
)
from govstream.engines.kafka.agents.scorer import ScorerDeps, scorer, signal_time
from govstream.engines.kafka.agents.shared import Outbox, RawTopic, personal_fields
from govstream.engines.kafka.agents.subscriber import SubscriberDeps, subscriber
from govstream.engines.kafka.agents.wait_timer import WaitTimerDeps, wait_timer
from govstream.engines.kafka.arrival import ArrivalStampedSchema
from govstream.engines.kafka.business_clock import Clerks
from govstream.engines.kafka.faust_codec import register_topic_codecs
from govstream.engines.kafka.owed import resend_when_idle
from govstream.engines.kafka.resync import resync_stalled_partitions
from govstream.engines.kafka.topics import Changelog
from govstream.engines.kafka.transport import SCHEME
from govstream.pipeline.agencies import AgencyPool, Waits, agency_pools
from govstream.pipeline.conformance import external_agencies
from govstream.pipeline.exchange import Exchange
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.flow import FlowSpec, Step, Subscriber

APP_ID = "govstream"

STREAM_BUFFER_MAXSIZE = 32768
"""faust pauses fetching a partition at 80 % of this (26,214 requests in one agent's buffer)."""

SESSION_TIMEOUT_SECONDS = 6.0
"""How long the group waits for a silent worker before its partitions move to the others.
faust's default of 60 s stalled a run for over a minute after a worker was killed; 6 s is the
smallest a broker accepts by default (`group.min.session.timeout.ms`)."""
HEARTBEAT_SECONDS = 1.0
"""A third of the session timeout or less, as Kafka advises, so one late heartbeat is no loss."""
REBALANCE_TIMEOUT_SECONDS = 20.0
"""How long the surviving workers have to rejoin the group once a rebalance starts."""


def app_id(scenario: Scenario) -> str:
    """One consumer group per set of flows, so runs of different flows do not share offsets;
    named in sorted order, so a scenario file written back in another order names the same."""
    return f"{APP_ID}-{flow_names(scenario)}"


def flow_names(scenario: Scenario) -> str:
    return "-".join(sorted(flow_id.lower() for flow_id in scenario.flows))


def role_app_id(scenario: Scenario, role: str | None) -> str:
    """The platform's app id is the plain one; an agency's is in a group prefix only it may
    use (``govstream.<agency>.<flows>``)."""
    if role is None or role == PLATFORM:
        return app_id(scenario)
    return f"{agency_group_prefix(role)}{flow_names(scenario)}"


def roles(scenario: Scenario) -> list[str]:
    """The apps a secure run starts: the platform, then every agency with a pool in it that
    govstream serves itself (an external agency's system is started by its developer)."""
    pools = agency_pools(scenario, scenario_calendar(scenario))
    external = set(external_agencies(scenario))
    agencies = {pool.agency for pool in pools.values() if pool.agency not in external}
    return [PLATFORM, *sorted(agencies)]


def served_here(scenario: Scenario, step: Step) -> bool:
    """Whether govstream's own workers read the step's requests: not an external agency's."""
    agency = scenario.agencies.get(step.agency or "")
    return agency is None or not agency.external


def consumer_groups(scenario: Scenario, *, by_role: bool) -> dict[str, list[str]]:
    """Each consumer group of a run and the topics it reads: one group for everything, or, when
    every role runs as an app of its own, the platform's and each agency's."""
    if not by_role:
        return {app_id(scenario): group_topics(scenario)}
    platform: list[str] = []
    for flow_id in scenario.flows:
        flow = FLOWS[flow_id]
        platform += [flow.source_topic, *([flow.wait_topic] if flow.waits else [])]
        platform += flow.outcome_topics.values()
        platform += beside_topics(flow)
        platform += signal_topics(flow_id)
    groups = {app_id(scenario): platform}
    for role in roles(scenario)[1:]:
        groups[role_app_id(scenario, role)] = list(
            dict.fromkeys(
                [
                    *(
                        step.topic
                        for flow_id in scenario.flows
                        for step in FLOWS[flow_id].steps_of(role)
                        if step.topic and served_here(scenario, step)
                    ),
                    *(
                        s.checks
                        for flow_id in scenario.flows
                        if (publication := FLOWS[flow_id].publication) is not None
                        for s in publication.subscribers
                        if s.agency == role
                    ),
                ]
            )
        )
    return groups


def beside_topics(flow: FlowSpec) -> list[str]:
    """What the platform reads beside a flow's cases: subscribers' accounts of their checks,
    and the events it counts."""
    uses = [s.uses for s in flow.publication.subscribers] if flow.publication else []
    return [*uses, *(tally.topic for tally in flow.tallies)]


def broker_urls(bootstrap: str) -> list[str]:
    """The brokers on the project's transport (`transport.py`), faust's own with a safer commit."""
    return [f"{SCHEME}://{address.strip()}" for address in bootstrap.split(",") if address.strip()]


def clerks_per_worker(servers: int, workers: int) -> int:
    """Each of ``workers`` processes runs its share of a pool's clerks, rounded up."""
    return max(1, math.ceil(servers / workers))


def signal_topics(flow_id: str) -> list[str]:
    """A scoring flow's signal topics, which its scorer reads; none for any other flow."""
    scoring = FLOWS[flow_id].scoring
    return list(scoring.topics) if scoring is not None else []


def group_topics(scenario: Scenario) -> list[str]:
    """Every topic the workers consume: triggers, signals, requests, waits and outcomes."""
    topics: list[str] = []
    for flow_id in scenario.flows:
        flow = FLOWS[flow_id]
        topics.append(flow.source_topic)
        topics += signal_topics(flow_id)
        topics += dict.fromkeys(
            step.topic for step in flow.steps if step.topic and served_here(scenario, step)
        )
        if flow.waits:
            topics.append(flow.wait_topic)
        topics += flow.outcome_topics.values()
        if flow.publication is not None:
            topics += [s.checks for s in flow.publication.subscribers]
        topics += beside_topics(flow)
    return topics


def scenario_topics(scenario: Scenario) -> list[str]:
    """Every topic a run of the scenario uses, the dead-letter topic included."""
    catalog = load_catalog()
    names = [spec.name for f in scenario.flows for spec in catalog.topics_for_flow(f)]
    return [*names, catalog.dead_letter_topic]


def build_app(
    scenario: Scenario,
    bootstrap: str,
    *,
    workers: int = 1,
    replication_factor: int = 1,
    on_ready: Callable[[], None] | None = None,
    role: str | None = None,
) -> faust.App:
    """The scenario's agents as one faust app; with ``role``, only that role's agents (the
    platform's, or one agency's endpoints), connected as that role's principal."""
    catalog = load_catalog()
    runs_platform = role is None or role == PLATFORM
    codec = AvroCodec(catalog)
    flows = {flow_id: FLOWS[flow_id] for flow_id in scenario.flows}
    partitions = catalog.topic(next(iter(flows.values())).source_topic).partitions
    app = faust.App(
        role_app_id(scenario, role),
        broker=broker_urls(bootstrap),
        broker_credentials=settings(bootstrap, role_principal(role)).faust_credentials(),
        # The leader topic serves only leader-elected timers, which no agent here uses; an
        # agency's app leaves it out, having no right to create topics on a secure cluster.
        topic_disable_leader=not runs_platform,
        store="memory://",
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        topic_replication_factor=replication_factor,
        topic_partitions=partitions,
        topic_allow_declare=True,
        broker_commit_every=100,
        broker_commit_interval=0.5,
        # A rebalance does not wait for the work in hand (faust's default would): what is not
        # finished is not committed either, and the worker given its partition does it again.
        stream_wait_empty=False,
        # An agency's backlog waits in its agent's buffer, where its arrival is stamped
        # (see arrival.py); only what overflows the buffer waits in Kafka unstamped.
        stream_buffer_maxsize=STREAM_BUFFER_MAXSIZE,
        broker_session_timeout=SESSION_TIMEOUT_SECONDS,
        broker_heartbeat_interval=HEARTBEAT_SECONDS,
        broker_rebalance_timeout=REBALANCE_TIMEOUT_SECONDS,
        # faust's exactly_once is refused when a scenario is validated (see README, Reliability).
        processing_guarantee="at_least_once",
    )
    outbound = [spec.name for spec in catalog.topics.values() if spec.flow in flows]
    codec_names = register_topic_codecs(codec, outbound)
    outbox = Outbox(
        topics={
            name: RawTopic(app, name)
            if catalog.topic(name).compacted
            else app.topic(name, value_serializer=codec_names[name], internal=False)
            for name in outbound
        },
        dead_letters=raw_topic(app, catalog.dead_letter_topic),
        codec=codec,
        personal=personal_fields(catalog),
    )

    if runs_platform:
        cases = table(app, "cases", partitions)
        platform = OrchestratorDeps(
            flows,
            cases,
            outbox,
            codec,
            resends_owed=role is None,
            joins={flow_id: scenario.joins(flow_id) for flow_id in flows},
            exchange=Exchange(scenario),
            external=frozenset(external_agencies(scenario)),
        )

        @app.on_before_shutdown.connect
        async def _forget_the_last(sender: Any, **kwargs: Any) -> None:
            await forget_the_last(platform)

        app.agent(raw_topic(app, *platform.topics), name="orchestrator")(orchestrator(platform))
        if platform.resends_owed:
            resend_when_idle(app, set(platform.topics), partial(resend_owed, platform))
        told = BesideDeps(flows, table(app, "counted", partitions), outbox, codec)
        if told.topics:
            app.agent(raw_topic(app, *told.topics), name="beside")(beside(told))
        for flow_id in scenario.scoring_flows():
            scoring = scorer_deps(app, scenario, flow_id, outbox, codec, partitions)
            app.agent(raw_topic(app, *scoring.topics), name=scoring.flow.scorer)(scorer(scoring))

    exchange = Exchange(scenario)
    external = set(external_agencies(scenario))
    for pool in agency_pools(scenario, scenario_calendar(scenario)).values():
        if pool.agency in external:
            continue  # a system outside govstream answers for it
        if role is None or pool.agency == role:
            pool.rng = random.Random()  # each worker its own stream
            desk = EndpointDeps(
                pool,
                served_by(pool, flows),
                outbox,
                codec,
                speedup=scenario.kafka.speedup,
                exchange=exchange,
                clerks=Clerks(clerks_per_worker(pool.servers, workers)),
            )
            if desk.serves:
                requests = app.topic(*desk.serves, schema=ArrivalStampedSchema(), internal=False)
                app.agent(requests, name=f"{pool.name}-endpoint")(endpoint(desk))
            for flow_id, subscribed in subscriptions(pool, flows):
                records = table(app, f"{flow_id.lower()}-{pool.agency}-records", partitions)
                keeps = SubscriberDeps(desk, flows[flow_id], subscribed, records)
                name = f"{flow_id.lower()}-{pool.name}-subscriber"
                app.agent(raw_topic(app, *keeps.topics), name=name)(subscriber(keeps))

    wait_flows = {flow.wait_topic: flow for flow in flows.values() if flow.waits}
    if wait_flows and runs_platform:
        timer = WaitTimerDeps(
            Waits(scenario), wait_flows, outbox, codec, speedup=scenario.kafka.speedup
        )
        app.agent(raw_topic(app, *wait_flows), name="wait-timer")(wait_timer(timer))

    resync_stalled_partitions(app)

    if on_ready is not None:

        @app.on_rebalance_complete.connect
        async def _ready(sender: Any, **kwargs: Any) -> None:
            on_ready()

    return app


def table_changelogs(
    scenario: Scenario, bootstrap: str, roles_: Sequence[str | None]
) -> list[Changelog]:
    """The changelog topic of every table the given roles' apps keep (None: the one app of a
    plain cluster), as faust would declare it: compacted, and a windowed table's also
    deleted after its windows expire (`topics.ensure_changelogs`)."""
    changelogs: list[Changelog] = []
    for role in roles_:
        app = build_app(scenario, bootstrap, role=role)
        for kept in app.tables.values():
            topic = kept.changelog_topic
            policy = [
                p for p, on in (("compact", topic.compacting), ("delete", topic.deleting)) if on
            ]
            config = {"cleanup.policy": ",".join(policy)} if policy else {}
            if topic.deleting and topic.retention:
                config["retention.ms"] = str(int(topic.retention * 1000))
            name = topic.get_topic_name()
            changelogs.append((name, topic.partitions or kept.partitions or 1, config))
    return changelogs


def subscriptions(pool: AgencyPool, flows: dict[str, FlowSpec]) -> list[tuple[str, Subscriber]]:
    """The publications among the pool's flows its agency subscribes to."""
    return [
        (flow_id, s)
        for flow_id in pool.flows
        if (publication := flows[flow_id].publication) is not None
        for s in publication.subscribers
        if s.agency == pool.agency
    ]


def table(app: faust.App, name: str, partitions: int, default: Any = None) -> faust.TableT:
    """A table kept in memory, its changelog in Kafka, its keys and values JSON."""
    return app.Table(
        name,
        default=default,
        partitions=partitions,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )


def scorer_deps(
    app: faust.App,
    scenario: Scenario,
    flow_id: str,
    outbox: Outbox,
    codec: AvroCodec,
    partitions: int,
) -> ScorerDeps:
    """A scoring flow's scorer and its faust windowed table: tumbling or hopping as the
    scenario says (a sliding window is refused before a run: faust's tables keep none), its
    windows placed on each signal's business time. A window is kept for a size after it ends,
    then expired: no signal of a run in business order can still count in it."""
    flow = FLOWS[flow_id]
    window = scenario.window(flow_id)
    scores = table(app, f"{flow.prefix}-scores", partitions, default=dict)
    expires = 2 * window.size
    if window.kind == "tumbling":
        windowed = scores.tumbling(window.size, expires=expires)
    elif window.kind == "hopping":
        assert window.step is not None
        windowed = scores.hopping(window.size, window.step, expires=expires)
    else:
        raise ValueError(f"{flow_id}: faust's tables keep no {window.kind} window")
    return ScorerDeps(
        flow,
        windowed.relative_to(signal_time),
        outbox,
        codec,
        scenario.threshold(flow_id),
        exchange=Exchange(scenario),
    )


def raw_topic(app: faust.App, *names: str) -> faust.TopicT:
    """Topics read (or written) as bytes: an agent decodes, so junk reaches dead letters."""
    return app.topic(*names, value_serializer="raw", internal=False)
