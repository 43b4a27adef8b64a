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
from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka.app import app_id, clerks_per_worker
from govstream.engines.kafka.collector import Collector
from govstream.engines.kafka.generator import OpenLoopGenerator
from govstream.engines.kafka.queue_depth import peak_queue
from govstream.engines.kafka.topics import (
    admin_client,
    consumer_lag,
    ensure_topics,
    skip_stale,
)
from govstream.engines.kafka.worker import flow_topics
from govstream.engines.kafka.workers import start_workers, stop_workers, wait_ready
from govstream.engines.results import build_result, package_versions
from govstream.engines.sim.engine import scenario_calendar
from govstream.progress import ProgressCallback
from govstream.result import AgencyLoad, Counts, EngineInfo, RunResult
from govstream.runner import KafkaSettings
from govstream.scenario.model import Scenario
from processors import flow as flow_by_id

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


def run_on_kafka(
    scenario: Scenario,
    *,
    scenario_file: str,
    overrides: list[str],
    settings: KafkaSettings,
    progress: ProgressCallback | None = None,
    work_dir: Path | None = None,
) -> RunResult:
    bootstrap = settings.bootstrap or default_bootstrap()
    speedup = settings.speedup or scenario.kafka.speedup
    worker_count = settings.workers or scenario.kafka.workers
    flow = flow_by_id(scenario.flow)
    catalog = load_catalog()
    codec = AvroCodec(catalog)
    admin = admin_client(bootstrap)
    try:
        ensure_topics(admin, catalog, flow_topics(scenario))
    finally:
        admin.close()

    group_topics = [flow.source_topic, *(route.topic for route in flow.routes)]
    group_topics.append(flow.outcome_topic)
    # This run's cases start behind nothing: what an interrupted earlier run left unconsumed
    # belongs to no one still listening, and would otherwise be worked through first.
    stale = skip_stale(bootstrap, app_id(flow), group_topics)
    directory = work_dir or Path(tempfile.mkdtemp(prefix="govstream-kafka-"))
    workers = start_workers(scenario, bootstrap, worker_count, directory)
    try:
        wait_ready(workers)
        run_id = uuid.uuid4().hex[:10]
        t0 = time.time() + START_DELAY_SECONDS
        collector = Collector(
            bootstrap=bootstrap,
            run_id=run_id,
            flow=flow,
            codec=codec,
            dead_letter_topic=catalog.dead_letter_topic,
            t0=t0,
            speedup=speedup,
            calendar=scenario_calendar(scenario),
        )
        collector.start()
        generator = OpenLoopGenerator(
            scenario, flow, codec, bootstrap=bootstrap, run_id=run_id, t0=t0, speedup=speedup
        )
        generator.run(collector.expect, progress)
        started = generator.emitted - generator.corrupted
        drain = max(MIN_DRAIN_WALL_SECONDS, scenario.drain.clock_seconds() / speedup)
        deadline = time.monotonic() + drain
        while (
            collector.error is None
            and time.monotonic() < deadline
            and not (
                collector.all_complete(started) and collector.dead_lettered >= generator.corrupted
            )
        ):
            time.sleep(0.1)
        time.sleep(0.5)  # late duplicates still count as duplicates
        collector.stop()
        collector.join(timeout=10)
        if collector.error is not None:
            raise RuntimeError(f"the collector failed: {collector.error!r}")
        ended = time.time()
        lag = consumer_lag(bootstrap, app_id(flow), group_topics)
    finally:
        stop_workers(workers)
    if work_dir is None:
        shutil.rmtree(directory, ignore_errors=True)  # kept above only for a failure's logs

    expected = sum(len(watch.expected) for watch in collector.cases.values())
    unanswered = expected - collector.answered
    # Requests still unanswered when every worker has consumed everything were lost; while
    # the workers still have a backlog they are in flight.
    lost = unanswered if lag == 0 else 0
    counts = Counts(
        cases_started=started,
        cases_completed=collector.completed,
        cases_open=started - collector.completed,
        requests_emitted=expected,
        requests_delivered=collector.answered,
        requests_acted=collector.answered,
        requests_in_flight=unanswered - lost,
        outcomes_recorded=collector.answered,
        lost=lost,
        duplicates=collector.duplicates,
        unexpected=collector.unexpected,
        dead_lettered=collector.dead_lettered,
    )
    unanswered_at: Counter[str] = Counter()
    for watch in collector.cases.values():
        unanswered_at.update(watch.expected - watch.answered)
    agencies = {
        # On Kafka the queue at the end is every request still unanswered, wherever it waits.
        name: AgencyLoad(
            servers=spec.servers,
            max_queue=peak_queue(
                collector.spans.get(name, ()),
                clerks_per_worker(spec.servers, worker_count) * worker_count,
            ),
            queue_at_end=unanswered_at[name],
            outages=[describe_outage(outage) for outage in spec.outages],
        )
        for name, spec in scenario.agencies.items()
    }
    options = {
        "bootstrap": bootstrap,
        "workers": worker_count,
        "speedup": speedup,
        "generator_max_behind_ms": round(generator.behind_max * 1000, 1),
        "corrupted_triggers_sent": generator.corrupted,
        "undecodable_at_collector": collector.undecodable,
        "stale_messages_skipped": stale,
        "dead_letter_reasons": dict(collector.dead_letter_reasons),
    }
    log.info("kafka run finished", run_id=run_id, cases=started, completed=collector.completed)
    return build_result(
        scenario=scenario,
        scenario_file=scenario_file,
        overrides=overrides,
        flow=flow,
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
        latency=collector.latency,
        working_days=collector.working_days,
        agencies=agencies,
        platform_ms=collector.platform_ms,
    )


def _broker_version() -> str:
    try:
        from govstream.broker.jars import KAFKA_VERSION
    except ImportError:
        return "unknown"
    return f"{KAFKA_VERSION} (launcher default)"
