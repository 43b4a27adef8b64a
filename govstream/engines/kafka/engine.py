"""The kafka engine: a scenario through real Kafka, faust workers and an open-loop generator.

Business time runs `speedup` times faster than the wall clock: agencies act for their service
time divided by speedup, and measured wall latencies are scaled back up for the business
report. Platform latencies (wall-clock milliseconds) are reported beside them.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import structlog

from govstream.agency_hours import describe_outage
from govstream.calendar import scenario_calendar
from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines import RunSettings
from govstream.engines.kafka.access import access_for
from govstream.engines.kafka.app import (
    clerks_per_worker,
    consumer_groups,
    roles,
    scenario_topics,
)
from govstream.engines.kafka.collector import Collector
from govstream.engines.kafka.generator import OpenLoopGenerator
from govstream.engines.kafka.queue_depth import peak_queue
from govstream.engines.kafka.topics import admin_client, consumer_lag, ensure_topics, skip_stale
from govstream.engines.kafka.workers import start_workers, stop_workers, wait_ready
from govstream.engines.results import build_result, package_versions
from govstream.pipeline.agencies import agency_pools
from govstream.pipeline.book import LatencyBook, scenario_spans
from govstream.pipeline.series import SeriesBook
from govstream.pipeline.tally import Tally
from govstream.result import AgencyLoad, EngineInfo, RunResult
from govstream.scenario.model import Scenario
from processors import FLOWS

log = structlog.get_logger(__name__)

START_DELAY_SECONDS = 3.0
"""Time for the warm-up triggers to pass through the workers before the schedule starts."""
MIN_DRAIN_WALL_SECONDS = 5.0


def default_bootstrap() -> str:
    from govstream.broker import launcher

    info = launcher.status()
    if info is None:
        raise RuntimeError(
            "no Kafka cluster given and none started here: run `govstream kafka up` first, "
            "or pass --bootstrap HOST:PORT of a running cluster"
        )
    return info.bootstrap


def run_on_kafka(scenario: Scenario, settings: RunSettings) -> RunResult:
    bootstrap = settings.bootstrap or default_bootstrap()
    speedup = scenario.kafka.speedup
    worker_count = scenario.kafka.workers
    flow_ids = list(scenario.flows)
    catalog = load_catalog()
    codec = AvroCodec(catalog)
    admin = admin_client(bootstrap)
    try:
        ensure_topics(admin, catalog, scenario_topics(scenario))
    finally:
        admin.close()

    # On a secure cluster every role runs as its own principal, in its own consumer group.
    access = access_for(bootstrap)
    groups = consumer_groups(scenario, by_role=access.secure)
    identities = access.identities(roles(scenario)) if access.secure else None
    # This run's cases start behind nothing: what an interrupted earlier run left unconsumed
    # belongs to no one still listening, and would otherwise be worked through first.
    stale = sum(skip_stale(bootstrap, group, topics) for group, topics in groups.items())
    directory = settings.work_dir or Path(tempfile.mkdtemp(prefix="govstream-kafka-"))
    calendar = scenario_calendar(scenario)
    book = LatencyBook(calendar, scenario_spans(scenario))
    tally = Tally(flow_ids)
    series = SeriesBook(scenario.duration.clock_seconds() + scenario.drain.clock_seconds())
    workers = start_workers(scenario, bootstrap, directory, identities)
    try:
        wait_ready(workers)
        run_id = uuid.uuid4().hex[:10]
        t0 = time.time() + START_DELAY_SECONDS
        collector = Collector(
            bootstrap=bootstrap,
            run_id=run_id,
            flows=flow_ids,
            codec=codec,
            dead_letter_topic=catalog.dead_letter_topic,
            t0=t0,
            speedup=speedup,
            book=book,
            tally=tally,
            series=series,
        )
        collector.start()
        generator = OpenLoopGenerator(
            scenario, codec, bootstrap=bootstrap, run_id=run_id, t0=t0, speedup=speedup
        )
        generator.run(collector.expect, settings.progress)
        drain = max(MIN_DRAIN_WALL_SECONDS, scenario.drain.clock_seconds() / speedup)
        deadline = time.monotonic() + drain
        while (
            collector.error is None
            and time.monotonic() < deadline
            and not (collector.all_complete() and collector.dead_lettered >= generator.corrupted)
        ):
            time.sleep(0.1)
        time.sleep(0.5)  # late duplicates still count as duplicates
        collector.stop()
        collector.join(timeout=10)
        if collector.error is not None:
            raise RuntimeError(f"the collector failed: {collector.error!r}")
        ended = time.time()
        lag = sum(consumer_lag(bootstrap, group, topics) for group, topics in groups.items())
    finally:
        stop_workers(workers)
    if settings.work_dir is None:
        shutil.rmtree(directory, ignore_errors=True)  # kept above only for a failure's logs
    collector.censor_open((ended - t0) * speedup)

    # Requests still unanswered when every worker has consumed everything were lost; while
    # the workers still have a backlog they are in flight.
    unanswered: Counter[str] = Counter()
    unanswered_at: Counter[str] = Counter()
    pools = agency_pools(scenario, calendar)
    pool_of = {(f, pool.agency): name for name, pool in pools.items() for f in pool.flows}
    for watch in collector.cases.values():
        missing = watch.expected - watch.answered
        unanswered[watch.flow] += len(missing)
        for step in missing:
            agency = FLOWS[watch.flow].step(step).agency
            if agency is not None:
                unanswered_at[pool_of[watch.flow, agency]] += 1

    def lost(flow_id: str) -> int:
        return unanswered[flow_id] if lag == 0 else 0

    flow_counts = {
        f: tally.counts(f, in_flight=unanswered[f] - lost(f), lost=lost(f)) for f in flow_ids
    }
    counts = tally.counts(
        None,
        in_flight=sum(unanswered.values()) - sum(map(lost, flow_ids)),
        lost=sum(map(lost, flow_ids)),
        dead_lettered=collector.dead_lettered,
    )
    agencies = {
        # On Kafka the queue at the end is every request still unanswered, wherever it waits.
        name: AgencyLoad(
            agency=pool.agency,
            servers=pool.servers,
            max_queue=peak_queue(
                collector.spans.get(name, ()),
                clerks_per_worker(pool.servers, worker_count) * worker_count,
            ),
            queue_at_end=unanswered_at[name],
            outages=[describe_outage(outage) for outage in pool.spec.outages],
            requests={f: collector.taken.get(name, Counter())[f] for f in pool.flows},
        )
        for name, pool in pools.items()
    }
    options = {
        "bootstrap": bootstrap,
        "security": "SASL_SSL, per-role principals" if access.secure else "plaintext",
        "workers": worker_count,
        "speedup": speedup,
        "generator_max_behind_ms": round(generator.behind_max * 1000, 1),
        "corrupted_triggers_sent": generator.corrupted,
        "undecodable_at_collector": collector.undecodable,
        "stale_messages_skipped": stale,
        "dead_letter_reasons": dict(collector.dead_letter_reasons),
    }
    log.info(
        "kafka run finished",
        run_id=run_id,
        cases=counts.cases_started,
        completed=counts.cases_completed,
    )
    return build_result(
        scenario=scenario,
        scenario_file=settings.scenario_file,
        overrides=list(settings.overrides),
        engine=EngineInfo(
            name="kafka",
            versions={
                **package_versions("faust-streaming", "kafka-python", "aiokafka"),
                "kafka-broker": _broker_version(),
            },
            options=options,
        ),
        business_seconds=(ended - t0) * speedup,
        counts=counts,
        flow_counts=flow_counts,
        tally=tally,
        book=book,
        agencies=agencies,
        platform_ms=collector.platform_ms,
        series=series,
    )


def _broker_version() -> str:
    try:
        from govstream.broker.jars import KAFKA_VERSION
    except ImportError:
        return "unknown"
    return f"{KAFKA_VERSION} (launcher default)"
