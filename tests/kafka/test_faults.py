"""Faults on the project's own launcher clusters, each bounded to a couple of minutes.

A worker SIGKILLed mid-run, one broker of three SIGKILLed, the only broker SIGKILLed, 10,000
malformed messages from another producer, and Ctrl-C. What each must show: every case
completes with nothing lost where the platform can survive the fault; a clean failure with a
partial result where it cannot; every dead letter counted. No test asserts how long anything
took, which a busy machine would decide: each checks what happened (the group settled on the
surviving worker while the run went on, the run stopped on its watch's finding rather than a
client's timeout), prints the times it measured, and guards only against a hang, with limits
far above what the settings under test (session timeout, the watch's grace, stop grace) allow.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from test_kafka_engine import ROOT, shortened

from govstream.broker import BrokerError, ClusterInfo, temporary_cluster
from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines import RunSettings
from govstream.engines.kafka.app import (
    REBALANCE_TIMEOUT_SECONDS,
    SESSION_TIMEOUT_SECONDS,
    app_id,
)
from govstream.engines.kafka.engine import START_DELAY_SECONDS, STOP_GRACE_FAILED, run_on_kafka
from govstream.engines.kafka.watch import BROKER_GRACE_SECONDS
from govstream.pipeline.schedule import trigger_makers
from govstream.result import RunResult
from govstream.scenario.model import Scenario
from processors import FLOWS

pytestmark = pytest.mark.kafka

BASE = ROOT / "scenarios" / "deregistration-fanout.yaml"
SOURCE_TOPIC = FLOWS["F03"].source_topic
READY_TIMEOUT = 180.0
ENV = {**os.environ, "COLUMNS": "400", "PYTHONIOENCODING": "utf-8"}

HANG_SECONDS = 10 * (BROKER_GRACE_SECONDS + STOP_GRACE_FAILED) + 120.0
"""A guard against a hang, not a bound on speed: ten times what the watch's grace and the
workers' stop grace allow, and two minutes more for a slow machine. Before the watch, a lost
broker took about two minutes and three tracebacks; the watch stops a run within seconds,
which the message shows (it quotes its grace) and the test prints."""


def fault_scenario(*overrides: str) -> Scenario:
    """About 330 deregistrations over 8 business hours: some 15 s of arrivals at 2000×, long
    enough to strike mid-run, light enough for a busy two-core machine."""
    return shortened(
        BASE, "duration=8h", "flows.F03.arrivals={process: poisson, rate: 40/h}", *overrides
    )


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen within {timeout:.0f} s")
        time.sleep(0.1)


def ready_pids(directory: Path, workers: int) -> list[int]:
    files = [directory / f"worker-{i}.ready" for i in range(workers)]
    wait_for(
        lambda: all(f.exists() and f.read_text().strip() for f in files),
        READY_TIMEOUT,
        "every worker ready",
    )
    return [int(f.read_text()) for f in files]


def every_case_completed(result: RunResult) -> None:
    counts = result.counts
    assert result.incomplete is None
    assert counts.cases_started > 100
    assert counts.cases_completed == counts.cases_started
    assert counts.lost == 0 and counts.requests_in_flight == 0
    assert counts.requests_acted == counts.requests_emitted
    assert counts.refused == 0


class WorkerKiller(threading.Thread):
    """SIGKILLs worker 0 a few seconds into the schedule, then times the failover: from the
    kill to the group being stable again with the one worker left holding every partition.
    It watches until the run ends (`run_over`), so a failover is one seen during the run."""

    def __init__(self, directory: Path, bootstrap: str, group: str) -> None:
        super().__init__(daemon=True)
        self.directory, self.bootstrap, self.group = directory, bootstrap, group
        self.failover: float | None = None
        self.error: BaseException | None = None
        self.run_over = threading.Event()

    def run(self) -> None:
        try:
            victim, _ = ready_pids(self.directory, 2)
            time.sleep(START_DELAY_SECONDS + 4.0)
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
            # faust's own assignment format is not the consumer protocol's: the admin client
            # says so at every look, which is noise here (only members and state are read).
            logging.getLogger("kafka.admin").setLevel(logging.ERROR)
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
            try:
                while not self.run_over.is_set():
                    group = admin.describe_groups([self.group])[self.group]
                    if group["group_state"] == "Stable" and len(group["members"]) == 1:
                        self.failover = time.monotonic() - killed
                        return
                    self.run_over.wait(0.2)
            finally:
                admin.close()
        except BaseException as error:  # reported by the test
            self.error = error


def test_a_worker_killed_mid_run_hands_over_its_partitions(
    kafka_bootstrap: str, tmp_path: Path, record_property
) -> None:
    guarantee = "at_least_once"
    scenario = fault_scenario("kafka.workers=2")
    killer = WorkerKiller(tmp_path, kafka_bootstrap, app_id(scenario))
    killer.start()
    try:
        result = run_on_kafka(scenario, RunSettings(bootstrap=kafka_bootstrap, work_dir=tmp_path))
    finally:
        killer.run_over.set()
    killer.join(timeout=HANG_SECONDS)
    assert killer.error is None, killer.error
    # The session timeout finds the dead worker and the rebalance gives its partitions away
    # while the run goes on: the surviving worker then completes every case, whatever faust's
    # rebalance does (see the README's reliability section for what the workers repair).
    assert killer.failover is not None, "the group never settled on the surviving worker"
    every_case_completed(result)
    # Work the dead worker had done but not committed is done again: the orchestrator drops
    # the repeated answers (a case never advances twice) and the report counts them. One that
    # comes after its case completed and was forgotten is dead-lettered as `no-open-case`, and
    # counted as the repeat it is.
    assert result.counts.duplicates == sum(c.duplicates for c in result.flow_counts.values())
    late = result.dead_letters.by_reason
    assert set(late) <= {"no-open-case"} and result.counts.dead_lettered == sum(late.values())
    assert result.counts.duplicates >= result.counts.dead_lettered
    record_property("failover_seconds", round(killer.failover, 1))
    record_property("duplicates", result.counts.duplicates)
    print(
        f"\n{guarantee}: failover {killer.failover:.1f} s (session timeout "
        f"{SESSION_TIMEOUT_SECONDS:.0f} s, rebalance timeout {REBALANCE_TIMEOUT_SECONDS:.0f} s), "
        f"duplicates "
        f"{result.counts.duplicates} of {result.counts.outcomes_recorded} outcomes, "
        f"case p99 {result.platform_ms['F03/case']['p99'] / 1000:.1f} s (platform)"
    )


def test_one_broker_of_three_killed_loses_nothing(
    kafka_cluster3: ClusterInfo, tmp_path: Path
) -> None:
    """RF 3 with min.insync.replicas 2: a node's partitions move to the other two, the
    clients follow, and `kafka status` says the cluster is degraded (exit 1)."""
    info = kafka_cluster3
    status = [sys.executable, "-m", "govstream", "kafka", "status", "--state-dir"]
    assert subprocess.run([*status, str(info.state_dir)], capture_output=True).returncode == 0
    scenario = fault_scenario()
    victim = info.members[0].pid
    assert victim is not None

    def kill_a_broker() -> None:
        ready_pids(tmp_path, 1)
        time.sleep(START_DELAY_SECONDS + 4.0)
        os.kill(victim, signal.SIGKILL)

    killer = threading.Thread(target=kill_a_broker, daemon=True)
    killer.start()
    result = run_on_kafka(scenario, RunSettings(bootstrap=info.bootstrap, work_dir=tmp_path))
    killer.join(timeout=10)
    every_case_completed(result)
    print(
        f"\none broker of three killed: {result.counts.cases_completed} cases completed, "
        f"lost {result.counts.lost}, duplicates {result.counts.duplicates}"
    )
    done = subprocess.run([*status, str(info.state_dir)], capture_output=True, text=True)
    assert done.returncode == 1, done.stdout
    assert "degraded" in done.stdout


def start_run(bootstrap: str, out: Path, temp: Path) -> subprocess.Popen[str]:
    """A month of F03 on Kafka at 20,000×, as a user starts it, its temporary folder in `temp`."""
    command = [sys.executable, "-m", "govstream", "run", str(BASE), "--engine", "kafka"]
    command += ["--bootstrap", bootstrap, "--speedup", "20000", "--set", "duration=30d"]
    command += ["--out", str(out), "--quiet"]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**ENV, "TMPDIR": str(temp)},
    )


def wait_until_worker_ready(temp: Path) -> list[Path]:
    """The ready file of the run's first worker, once it is there."""
    wait_for(
        lambda: any(temp.glob("govstream-kafka-*/worker-0.ready")),
        READY_TIMEOUT,
        "the run's worker ready",
    )
    return list(temp.glob("govstream-kafka-*/worker-0.ready"))


def _no_broker(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"no Kafka broker under CI: {reason}", pytrace=False)
    pytest.skip(f"no Kafka broker: {reason}")


def test_the_only_broker_killed_is_a_clean_failure_with_a_partial_result(
    tmp_path: Path,
) -> None:
    """Its own broker (the shared one must live on): killed while a run is under way, the run
    must stop within seconds, say which broker and what to do, write what it measured marked
    incomplete, exit 1, and leave no temporary folder behind."""
    temp, out = tmp_path / "tmp", tmp_path / "out"
    temp.mkdir()
    try:
        cluster = temporary_cluster(1, state_dir=tmp_path / "broker")
        info = cluster.__enter__()
    except BrokerError as error:
        _no_broker(str(error))
        return
    try:
        process = start_run(info.bootstrap, out, temp)
        try:
            wait_until_worker_ready(temp)
            time.sleep(START_DELAY_SECONDS + 3.0)
            assert process.poll() is None, process.communicate()
            os.kill(info.members[0].pid, signal.SIGKILL)
            killed = time.monotonic()
            stdout, stderr = process.communicate(timeout=HANG_SECONDS)
            took = time.monotonic() - killed
        finally:
            if process.poll() is None:
                process.kill()
    finally:
        cluster.__exit__(None, None, None)
    output = stdout + stderr
    assert process.returncode == 1, output
    assert "Traceback" not in output
    message = " ".join(stderr.split())
    # The run's watch stopped it (no client timeout did): its message quotes the watch's grace.
    assert f"lost the Kafka broker at {info.bootstrap}" in message, message
    assert f"for {BROKER_GRACE_SECONDS:.0f} s" in message, message
    assert "govstream kafka up" in message and "marked incomplete" in message
    result = RunResult.read(out / "result.json")
    assert result.incomplete and "lost the Kafka broker" in result.incomplete
    assert result.counts.cases_started > 0 and result.counts.lost == 0
    assert "INCOMPLETE" in (out / "summary.md").read_text(encoding="utf-8")
    assert not list(temp.glob("govstream-kafka-*")), "the run's temporary folder is left"
    print(
        f"\nthe only broker killed: exit 1 after {took:.1f} s, {result.counts.cases_started} "
        "cases in the partial result"
    )


JUNK = 10_000


def junk(n: int) -> bytes:
    """Three kinds of garbage: not single-object encoded, an unknown fingerprint, and a known
    fingerprint with its body cut short."""
    kind = n % 3
    if kind == 0:
        return b'{"not": "avro", "n": %d}' % n
    if kind == 1:
        return b"\xc3\x01" + (n + 1).to_bytes(8, "little") + b"junk"
    return CUT_SHORT


def _cut_short() -> bytes:
    codec = AvroCodec(load_catalog())
    make = trigger_makers(fault_scenario())["F03"]
    payload = codec.encode(SOURCE_TOPIC, make("F03-junk-0000001", date(2021, 6, 1)))
    return payload[: len(payload) // 2]


CUT_SHORT = _cut_short()


def test_ten_thousand_malformed_messages_are_all_dead_lettered_and_counted(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Another producer writes 10,000 broken messages to the flow's source topic during a
    run: each goes to the dead-letter topic with its reason and is counted, by reason and by
    source topic, while every good case still completes."""
    scenario = fault_scenario()
    sent: list[float] = []

    def send_junk() -> None:
        ready_pids(tmp_path, 1)
        time.sleep(START_DELAY_SECONDS + 1.0)
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
        for n in range(JUNK):
            producer.send(SOURCE_TOPIC, key=f"junk-{n}".encode(), value=junk(n))
        producer.flush(timeout=60)
        producer.close()
        sent.append(time.monotonic())

    sender = threading.Thread(target=send_junk, daemon=True)
    sender.start()
    result = run_on_kafka(scenario, RunSettings(bootstrap=kafka_bootstrap, work_dir=tmp_path))
    sender.join(timeout=60)
    assert sent, "the junk was not sent"
    every_case_completed(result)
    assert result.counts.dead_lettered == JUNK
    assert result.dead_letters.by_source_topic == {SOURCE_TOPIC: JUNK}
    assert sum(result.dead_letters.by_reason.values()) == JUNK
    assert set(result.dead_letters.by_reason) == {
        "not-single-object",
        "unknown-schema",
        "malformed-body",
    }
    print(
        f"\n{JUNK} malformed: dead-lettered {result.counts.dead_lettered} "
        f"{dict(result.dead_letters.by_reason)}; {result.counts.cases_completed} cases completed"
    )


def test_ctrl_c_on_the_kafka_engine_stops_within_seconds(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    temp, out = tmp_path / "tmp", tmp_path / "out"
    temp.mkdir()
    process = start_run(kafka_bootstrap, out, temp)
    try:
        (ready,) = wait_until_worker_ready(temp)
        worker = int(ready.read_text())
        time.sleep(START_DELAY_SECONDS + 3.0)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        stdout, stderr = process.communicate(timeout=HANG_SECONDS)
        took = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stdout + stderr
    print(f"\nCtrl-C: exit 130 after {took:.1f} s")
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted (Ctrl-C)"), lines
    result = RunResult.read(out / "result.json")
    assert result.incomplete and result.counts.cases_started > 0
    assert not list(temp.glob("govstream-kafka-*")), "the run's temporary folder is left"
    assert (
        not Path(f"/proc/{worker}").exists()
        or b"govstream" not in Path(f"/proc/{worker}/cmdline").read_bytes()
    ), "the run's worker still runs"
