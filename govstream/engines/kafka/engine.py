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
from pathlib import Path

import structlog
from kafka.errors import KafkaError

from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines import RunSettings, engine_problem
from govstream.engines.kafka.access import access_for
from govstream.engines.kafka.app import consumer_groups, roles, scenario_topics, table_changelogs
from govstream.engines.kafka.collector import Collector
from govstream.engines.kafka.generator import OpenLoopGenerator
from govstream.engines.kafka.queue_depth import peak_queue
from govstream.engines.kafka.topics import (
    admin_client,
    consumer_lag,
    ensure_changelogs,
    ensure_topics,
    skip_stale,
)
from govstream.engines.kafka.watch import RunWatch
from govstream.engines.kafka.workers import (
    WorkerProcess,
    WorkerStartError,
    start_workers,
    stop_workers,
    wait_ready,
)
from govstream.engines.results import build_result, package_versions
from govstream.engines.stopped import INTERRUPTED, RunStopped, mark_incomplete
from govstream.pipeline.agencies import agency_pools
from govstream.pipeline.ledger import Ledger
from govstream.result import EngineInfo, RunResult
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.model import Scenario

log = structlog.get_logger(__name__)

START_DELAY_SECONDS = 3.0
"""Time for the warm-up triggers to pass through the workers before the schedule starts."""
MIN_DRAIN_WALL_SECONDS = 5.0
LAG_POLL_SECONDS = 0.5
STOP_GRACE = 20.0
"""Seconds a worker has to shut down cleanly after a run that ended as planned."""
STOP_GRACE_FAILED = 3.0
"""After an interrupt or a lost broker: a worker whose broker is gone can hang in shutdown."""


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
    unfit = engine_problem(scenario, "kafka")
    if unfit:
        raise ValueError(unfit)
    bootstrap = settings.bootstrap or default_bootstrap()
    catalog = load_catalog()
    # On a secure cluster every role runs as its own principal, in its own consumer group.
    access = access_for(bootstrap)
    admin = admin_client(bootstrap)
    try:
        replication = ensure_topics(admin, catalog, scenario_topics(scenario))
        apps = roles(scenario) if access.secure else [None]
        ensure_changelogs(admin, table_changelogs(scenario, bootstrap, apps), replication)
    finally:
        admin.close()
    groups = consumer_groups(scenario, by_role=access.secure)
    identities = access.identities(roles(scenario)) if access.secure else None
    # This run's cases start behind nothing: what an interrupted earlier run left unconsumed
    # belongs to no one still listening, and would otherwise be worked through first.
    stale = sum(skip_stale(bootstrap, group, topics) for group, topics in groups.items())
    run = KafkaRun(
        scenario,
        settings,
        bootstrap,
        stale,
        groups=groups,
        identities=identities,
    )
    return run.execute()


class KafkaRun:
    """One run: its workers, collector, generator and watch, and how it ends.

    However it ends (done, Ctrl-C, the broker lost, every worker gone) the workers are
    stopped and the run's temporary folder removed, or kept and named when its worker logs
    explain a failure; a run that stopped early raises `RunStopped` with what it measured.
    """

    def __init__(
        self,
        scenario: Scenario,
        settings: RunSettings,
        bootstrap: str,
        stale: int,
        *,
        groups: dict[str, list[str]],
        identities: dict[str, Path] | None = None,
    ) -> None:
        self.scenario = scenario
        self.settings = settings
        self.bootstrap = bootstrap
        self.stale = stale
        self.groups = groups
        """Each consumer group of the run and the topics it reads (one per role when secure)."""
        self.identities = identities
        """Role -> client properties on a secure cluster; None on a plaintext one."""
        self.catalog = load_catalog()
        self.codec = AvroCodec(self.catalog)
        self.flow_ids = list(scenario.flows)
        self.calendar = scenario_calendar(scenario)
        self.pools = agency_pools(scenario, self.calendar)
        self.ledger = Ledger(scenario, self.calendar, self.pools)
        self.run_id = uuid.uuid4().hex[:10]
        self.t0 = 0.0
        self.ended: float | None = None
        """When the collector stopped reading: the run's end on the wall clock."""
        self.collector: Collector | None = None
        self.generator: OpenLoopGenerator | None = None
        self.lag: int | None = None

    def execute(self) -> RunResult:
        owned = self.settings.work_dir is None
        directory = self.settings.work_dir or Path(tempfile.mkdtemp(prefix="govstream-kafka-"))
        workers: list[WorkerProcess] = []
        watch = RunWatch(self.bootstrap, workers_gone=lambda: _all_gone(workers, directory))
        interrupted = keep_logs = False
        try:
            try:
                workers += start_workers(
                    self.scenario, self.bootstrap, directory, self.identities, run_id=self.run_id
                )
                watch.start()
                wait_ready(workers, stop=watch.stop)
                if watch.failure is None:
                    self._measure(watch)
            except KeyboardInterrupt:
                interrupted = True
            except (KafkaError, OSError) as error:
                if not watch.explains(error):
                    raise
            except WorkerStartError:
                keep_logs = True
                raise
            finally:
                watch.close()
                if self.collector is not None:
                    self.collector.stop()
                    self.collector.join(timeout=10)
                    self.ended = time.time()
                quick = interrupted or watch.failure is not None
                stop_workers(workers, grace=STOP_GRACE_FAILED if quick else STOP_GRACE)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            keep_logs = keep_logs or (watch.failure is not None and not watch.broker_lost)
            if owned and not keep_logs:
                shutil.rmtree(directory, ignore_errors=True)
        if interrupted or watch.failure is not None:
            reason = INTERRUPTED if interrupted else str(watch.failure)
            raise RunStopped(reason, self._partial(reason), interrupted=interrupted)
        if self.collector is not None and self.collector.error is not None:
            raise RuntimeError(f"the collector failed: {self.collector.error!r}")
        return self._result()

    def _measure(self, watch: RunWatch) -> None:
        scenario, speedup = self.scenario, self.scenario.kafka.speedup
        self.t0 = time.time() + START_DELAY_SECONDS
        collector = self.collector = Collector(
            bootstrap=self.bootstrap,
            run_id=self.run_id,
            flows=self.flow_ids,
            codec=self.codec,
            dead_letter_topic=self.catalog.dead_letter_topic,
            t0=self.t0,
            speedup=speedup,
            ledger=self.ledger,
        )
        collector.start()
        generator = self.generator = OpenLoopGenerator(
            scenario,
            self.codec,
            bootstrap=self.bootstrap,
            run_id=self.run_id,
            t0=self.t0,
            speedup=speedup,
        )
        generator.run(
            collector.expect,
            self.settings.progress,
            stop=watch.stop,
            on_signal=collector.expect_signal,
        )
        drain = max(MIN_DRAIN_WALL_SECONDS, scenario.drain.clock_seconds() / speedup)
        deadline = time.monotonic() + drain

        def running() -> bool:
            return (
                collector.error is None and not watch.stop.is_set() and time.monotonic() < deadline
            )

        while running() and not (
            collector.all_complete()
            and collector.dead_lettered_of_run >= generator.corrupted
            and collector.checks_told >= generator.checks_sent
        ):
            watch.stop.wait(0.1)
        # Whatever else reached the workers' topics meanwhile (junk from another producer
        # included) is worked off before the run ends, so its dead letters are counted.
        while running():
            self.lag = self._lag()
            if self.lag <= 0:
                break
            watch.stop.wait(LAG_POLL_SECONDS)
        watch.stop.wait(0.5)  # late duplicates still count as duplicates
        if not watch.stop.is_set():
            self.lag = self._lag()

    def _lag(self) -> int:
        """Messages not yet consumed, over every consumer group of the run."""
        return sum(
            consumer_lag(self.bootstrap, group, topics) for group, topics in self.groups.items()
        )

    def _partial(self, reason: str) -> RunResult | None:
        if self.collector is None or self.generator is None:
            return None
        return mark_incomplete(self._result(stopped=True), reason)

    def _result(self, *, stopped: bool = False) -> RunResult:
        scenario, collector, generator = self.scenario, self.collector, self.generator
        assert collector is not None and generator is not None
        speedup, worker_count = scenario.kafka.speedup, scenario.kafka.workers
        ended = self.ended if self.ended is not None else time.time()
        business_seconds = max(0.0, ended - self.t0) * speedup
        # Requests still unanswered when every worker has consumed everything were lost; while
        # the workers still have a backlog (or the run stopped early) they are in flight.
        settled = not stopped and self.lag is not None and self.lag <= 0
        with collector.lock:
            self.ledger.cut_off(business_seconds, lambda *_: not settled, deliveries_told=False)
        peaks = {name: peak_queue(collector.waiting.get(name, ())) for name in self.pools}
        options = {
            "run_id": self.run_id,
            "bootstrap": self.bootstrap,
            "security": "SASL_SSL, per-role principals" if self.identities else "plaintext",
            "workers": worker_count,
            "speedup": speedup,
            "guarantee": scenario.kafka.guarantee,
            "generator_max_behind_ms": round(generator.behind_max * 1000, 1),
            "corrupted_triggers_sent": generator.corrupted,
            "undecodable_at_collector": collector.undecodable,
            "stale_messages_skipped": self.stale,
        }
        log.info(
            "kafka run finished",
            run_id=self.run_id,
            **self.ledger.headline(),
        )
        return build_result(
            scenario=scenario,
            scenario_file=self.settings.scenario_file,
            overrides=list(self.settings.overrides),
            engine=EngineInfo(
                name="kafka",
                versions={
                    **package_versions("faust-streaming", "kafka-python", "aiokafka"),
                    "kafka-broker": _broker_version(),
                },
                options=options,
            ),
            business_seconds=business_seconds,
            ledger=self.ledger,
            agencies=self.ledger.agency_loads(peaks),
            speedup=speedup,
        )


def _all_gone(workers: list[WorkerProcess], directory: Path) -> str | None:
    """Said once every worker this run started has exited: nobody is left to do the work."""
    if not workers or any(worker.process.poll() is None for worker in workers):
        return None
    codes = ", ".join(str(worker.process.returncode) for worker in workers)
    return (
        f"every worker of the run exited (exit codes {codes}), so no case can go on; "
        f"their logs are kept in {directory}"
    )


def _broker_version() -> str:
    try:
        from govstream.broker.jars import KAFKA_VERSION
    except ImportError:
        return "unknown"
    return f"{KAFKA_VERSION} (launcher default)"
