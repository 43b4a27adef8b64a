"""A secure cluster from the launcher: who gets in, what each principal may do, and a run on it.

One throw-away 1-node cluster (``kafka up --secure`` in a temporary state dir) serves the
module: its ACLs are exactly the catalog's (an extra grant is noticed), the bank's principal
cannot read the police's requests, write the source agency's topic or answer for the police,
the collector cannot read the bank's answers, clients without valid credentials are refused,
and a kafka run passes with every role connected as its own principal, its logs and
dead-letter headers free of the personal data it carried.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaTimeoutError, TopicAuthorizationFailedError
from test_kafka_engine import scenario_of, shortened

from govstream.broker import ClusterInfo
from govstream.broker.acls import AclEntry, _acl, cluster_acls, expected_acls, sync_acls
from govstream.contracts.access import grants
from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.contracts.personal import marked_fields, personal_values
from govstream.engines import RunSettings
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.access import Access, register
from govstream.engines.kafka.engine import run_on_kafka
from govstream.engines.kafka.tail import TopicTail
from govstream.pipeline.schedule import case_id, schedule, trigger_date, trigger_makers
from govstream.scenario.model import Scenario
from processors import FLOWS

pytestmark = pytest.mark.kafka

POLICE_REQUESTS = "police.seal-cancellation-request.v1"
BANK_REQUESTS = "bank.account-closure-request.v1"
F03_SOURCE = "amr.company-deregistered.v1"
F03_BANK_OUTCOMES = "f03.bank.step-outcome.v1"
F03_POLICE_OUTCOMES = "f03.police.step-outcome.v1"
REFUSAL_TIMEOUT_MS = 5000


def client(info: ClusterInfo, principal: str) -> dict[str, Any]:
    return info.security.settings(principal).kafka_python()


@pytest.fixture(scope="module")
def admin(kafka_secure_cluster: ClusterInfo) -> Iterator[KafkaAdminClient]:
    admin = KafkaAdminClient(request_timeout_ms=30_000, **client(kafka_secure_cluster, "admin"))
    existing = set(admin.list_topics())
    wanted = [POLICE_REQUESTS, BANK_REQUESTS, F03_SOURCE, F03_BANK_OUTCOMES, F03_POLICE_OUTCOMES]
    admin.create_topics([NewTopic(t, 6, 1) for t in wanted if t not in existing])
    yield admin
    admin.close()


def test_the_cluster_holds_exactly_the_catalogs_acls_and_a_widened_one_shows(
    admin: KafkaAdminClient,
) -> None:
    expected = expected_acls(grants(load_catalog()))
    assert cluster_acls(admin) == expected
    widened = AclEntry("User:bank", "topic", POLICE_REQUESTS, "literal", "read", "allow", "*")
    admin.create_acls([_acl(widened)])
    try:
        # ACL changes go through the metadata log: a broker sees them a moment later.
        assert eventually(lambda: cluster_acls(admin) - expected == {widened}), (
            "an extra grant is seen"
        )
    finally:
        created, deleted = sync_acls(admin, grants(load_catalog()))
    assert (created, deleted) == (0, 1), "the launcher's sync takes it away again"
    assert eventually(lambda: cluster_acls(admin) == expected)


def eventually(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def read_partition(info: ClusterInfo, principal: str, topic: str, polls: int = 6) -> list[bytes]:
    consumer = KafkaConsumer(**client(info, principal), enable_auto_commit=False)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        got: list[bytes] = []
        for _ in range(polls):
            for records in consumer.poll(timeout_ms=500).values():
                got += [record.value for record in records]
        return got
    finally:
        consumer.close()


def test_the_bank_cannot_read_police_requests_write_the_source_topic_or_answer_for_the_police(
    kafka_secure_cluster: ClusterInfo, admin: KafkaAdminClient
) -> None:
    info = kafka_secure_cluster
    marker = f"seal-{uuid.uuid4().hex}".encode()
    platform = KafkaProducer(**client(info, "platform"))
    try:
        platform.send(POLICE_REQUESTS, marker, partition=0).get(timeout=30)
    finally:
        platform.close()
    assert marker in read_partition(info, "police", POLICE_REQUESTS), "police read their own"
    assert read_partition(info, "bank", POLICE_REQUESTS) == []

    answer = f"answer-{uuid.uuid4().hex}".encode()
    bank = KafkaProducer(**client(info, "bank"), max_block_ms=10_000)
    try:
        bank.send(F03_BANK_OUTCOMES, answer, partition=0).get(timeout=30)
        with pytest.raises(TopicAuthorizationFailedError):
            bank.send(F03_SOURCE, b"a forged deregistration").get(timeout=30)
        with pytest.raises(TopicAuthorizationFailedError):
            bank.send(F03_POLICE_OUTCOMES, b"a forged police answer").get(timeout=30)
    finally:
        bank.close()
    assert answer in read_partition(info, "platform", F03_BANK_OUTCOMES), "the platform reads it"
    assert read_partition(info, "collector", F03_BANK_OUTCOMES) == [], "the collector does not"
    as_bank = KafkaAdminClient(request_timeout_ms=10_000, **client(info, "bank"))
    try:
        visible = set(as_bank.list_topics())
    finally:
        as_bank.close()
    assert BANK_REQUESTS in visible
    assert POLICE_REQUESTS not in visible and F03_SOURCE not in visible


@pytest.mark.parametrize("who", ["plaintext", "tls-without-sasl", "wrong-password", "stranger"])
def test_clients_without_valid_credentials_are_refused(
    kafka_secure_cluster: ClusterInfo, admin: KafkaAdminClient, who: str
) -> None:
    good = client(kafka_secure_cluster, "bank")
    settings = {
        "plaintext": {"bootstrap_servers": good["bootstrap_servers"]},
        "tls-without-sasl": {
            "bootstrap_servers": good["bootstrap_servers"],
            "security_protocol": "SSL",
            "ssl_cafile": good["ssl_cafile"],
        },
        "wrong-password": {**good, "sasl_plain_password": "not-the-password"},
        "stranger": {**good, "sasl_plain_username": "mallory"},
    }[who]
    with pytest.raises(KafkaTimeoutError):
        KafkaAdminClient(bootstrap_timeout_ms=REFUSAL_TIMEOUT_MS, **settings)
    KafkaAdminClient(bootstrap_timeout_ms=REFUSAL_TIMEOUT_MS, **good).close()  # the control


def generated_personal_values(scenario: Scenario) -> set[str]:
    """Every personal value the run's triggers carried (warm-up ones included), regenerated
    from the scenario as the load generator made them."""
    catalog = load_catalog()
    found: set[str] = set()
    for salt, count in (("population", None), ("warm-up", 20)):
        makers = trigger_makers(scenario, salt=salt)
        if count is None:
            arrivals = [
                (a.flow, a.number, trigger_date(scenario, a.at)) for a in schedule(scenario)
            ]
        else:
            arrivals = [(f, n, scenario.start.date()) for f in makers for n in range(count)]
        for flow_id, number, on in arrivals:
            topic = FLOWS[flow_id].source_topic
            trigger = makers[flow_id](case_id(flow_id, number, "run"), on)
            found |= personal_values(marked_fields(catalog.schema_json(topic)), trigger)
    return {value for value in found if len(value) >= 2}


def dead_letter_headers(info: ClusterInfo, run_id_of: set[str]) -> list[str]:
    consumer = KafkaConsumer(**client(info, "collector"), enable_auto_commit=False)
    topic = load_catalog().dead_letter_topic
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(parts)
        texts: list[str] = []
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            assert time.monotonic() < deadline, "dead letters not read back in time"
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    marks = h.read(record.headers)
                    run_id_of.add(marks.get(h.RUN, ""))
                    texts.append(" ".join(f"{k}={v}" for k, v in marks.items()))
        return texts
    finally:
        consumer.close()


def test_a_kafka_run_passes_with_each_role_as_its_own_principal_and_leaks_nothing(
    kafka_secure_cluster: ClusterInfo,
    admin: KafkaAdminClient,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    info = kafka_secure_cluster
    register(Access(info.bootstrap, principals_dir=info.security.principals_dir))
    scenario = shortened(scenario_of("F03"), "kafka.corrupt_fraction=0.05", "kafka.speedup=2000")
    result = run_on_kafka(scenario, RunSettings(bootstrap=info.bootstrap, work_dir=tmp_path))
    counts = result.counts
    assert counts.cases_started > 200
    assert counts.cases_completed == counts.cases_started
    assert counts.lost == 0
    assert counts.requests_acted == counts.requests_emitted
    corrupted = result.engine.options["corrupted_triggers_sent"]
    assert corrupted > 0
    assert counts.dead_lettered == corrupted
    assert result.engine.options["security"].startswith("SASL_SSL")
    logs = {p.name for p in tmp_path.glob("worker-*.log")}
    assert logs == {
        f"worker-{role}-0.log" for role in ("platform", "police", "bank", "housing-fund")
    }

    secrets = generated_personal_values(scenario)
    assert len(secrets) > 500, "the run carried names, identity and account numbers"
    runs: set[str] = set()
    texts = [p.read_text(errors="replace") for p in tmp_path.glob("*.log")]
    texts += dead_letter_headers(info, runs)
    texts.append("".join(capfd.readouterr()))
    assert len(runs) >= 1 and any(h.DLQ_REASON in text for text in texts)
    leaked = {secret for secret in secrets if any(secret in text for text in texts)}
    assert not leaked, f"{len(leaked)} personal values in logs or dead-letter headers"


class Forger(TopicTail):
    """A client connected as the bank, as a careless or compromised bank system might be: for
    every bank request of a run it reads, it answers that case's police step as completed,
    first on the police's outcome topic, then on its own. It reads the bank's partitions from
    their ends as they are when it is made, before the run starts, joining no group (a join
    on a busy machine can take longer than the run's start)."""

    def __init__(self, info: ClusterInfo) -> None:
        super().__init__(info.bootstrap, [BANK_REQUESTS], name="forger", principal="bank")
        self.codec = AvroCodec(load_catalog())
        self.producer = KafkaProducer(**client(info, "bank"), max_block_ms=10_000)
        self.partitions = len(self._consumer.assignment())
        self.forged = self.refused_by_broker = self.taken_by_broker = 0

    def take(self, record: Any, seen: float) -> None:
        self.forge(record)

    def forge(self, record: Any) -> None:
        trace = h.read(record.headers)
        if h.RUN not in trace or h.WARM_UP in trace:
            return
        case = self.codec.decode(record.value, expected_topic=BANK_REQUESTS).value["case_id"]
        answer = {
            "case_id": case,
            "request_id": f"{case}/police",
            "flow": "F03",
            "step": "police",
            "agency": "police",
            "status": "COMPLETED",
            "reason": None,
            "reply": None,
        }
        headers = h.encode(h.carry(trace))
        if self.refused_by_broker + self.taken_by_broker < 3:  # each refusal takes a while
            try:
                raw = self.codec.encode(F03_POLICE_OUTCOMES, answer)
                self.producer.send(F03_POLICE_OUTCOMES, raw, key=record.key, headers=headers).get(
                    timeout=30
                )
                self.taken_by_broker += 1
            except TopicAuthorizationFailedError:
                self.refused_by_broker += 1
        raw = self.codec.encode(F03_BANK_OUTCOMES, answer)
        self.producer.send(F03_BANK_OUTCOMES, raw, key=record.key, headers=headers).get(30)
        self.forged += 1

    def close(self) -> None:
        self.stop()
        self.join(timeout=10)
        self.producer.close()


def test_an_agency_answering_for_another_is_refused_and_the_case_waits_for_the_real_answer(
    kafka_secure_cluster: ClusterInfo, admin: KafkaAdminClient, tmp_path: Path
) -> None:
    """The police are closed for the first three business hours, while every deregistration of
    the run's first hour comes in. A client connected as the bank answers the police's step of
    every case it sees as completed. The broker refuses it on the police's outcome topic; on
    the bank's own, the orchestrator refuses it (not the step's agency), dead-letters it with
    that reason and records it: every forgery is counted, and no police step is done before
    the police come back and act."""
    info = kafka_secure_cluster
    register(Access(info.bootstrap, principals_dir=info.security.principals_dir))
    scenario = shortened(
        scenario_of("F03"),
        "duration=1h",
        "agencies.police.outages=[{start: 0s, end: 3h}]",
        "kafka.speedup=2000",
    )
    forger = Forger(info)
    forger.start()
    try:
        assert forger.partitions > 0, "the forger found no bank partitions"
        result = run_on_kafka(scenario, RunSettings(bootstrap=info.bootstrap, work_dir=tmp_path))
    finally:
        forger.close()
    counts = result.counts
    assert forger.forged > 30, "the forger saw the run's bank requests"
    assert (forger.refused_by_broker, forger.taken_by_broker) == (3, 0)
    assert counts.refused == forger.forged
    assert result.dead_letters.by_reason == {"not-the-step-owner": forger.forged}
    assert result.dead_letters.by_source_topic == {F03_BANK_OUTCOMES: forger.forged}
    assert counts.cases_completed == counts.cases_started and counts.lost == 0
    # The police acted on every case themselves, and none before they came back at 3h:
    # a case opened within the first hour waited at least two.
    police = result.latency["F03/acted:police"]
    assert police["count"] == counts.cases_started
    assert result.agencies["police"].requests == {"F03": counts.cases_started}
    assert result.curves is not None
    assert result.curves.latency["F03/acted:police"][0] >= 2 * 3600


def test_the_reference_bank_system_cannot_answer_a_housing_fund_step(
    kafka_secure_cluster: ClusterInfo, admin: KafkaAdminClient, tmp_path: Path
) -> None:
    """The example in examples/agencies/, connected as the bank with the launcher's principal
    file, may write its own outcome topic (where the orchestrator refuses an answer to another
    agency's step, as the test above shows); the broker refuses its answer to a housing-fund
    step on the fund's topic, and the bank cannot read the fund's requests."""
    import json
    import sys

    from govstream.contracts.asyncapi import asyncapi_document

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "agencies"))
    import agency_system

    info = kafka_secure_cluster
    bank_out, fund_out = "f01.bank.step-outcome.v1", "f01.housing-fund.step-outcome.v1"
    fund_requests = "housing-fund.unit-account-opening-request.v1"
    existing = set(admin.list_topics())
    wanted = [bank_out, fund_out, fund_requests]
    admin.create_topics([NewTopic(t, 6, 1) for t in wanted if t not in existing])
    document = tmp_path / "asyncapi.json"
    document.write_text(json.dumps(asyncapi_document(load_catalog(), ("bank",))))
    contracts = agency_system.Contracts.load(document, "bank")
    settings = agency_system.client_settings(None, info.security.client_properties("bank"))
    assert settings["sasl_plain_username"] == "bank"
    answer = contracts.outcomes[bank_out].encode(
        {
            "case_id": "F01-0000001",
            "request_id": "F01-0000001/housing-fund",
            "flow": "F01",
            "step": "housing-fund",
            "agency": "housing-fund",
            "status": "COMPLETED",
            "reason": None,
            "reply": None,
        }
    )
    producer = KafkaProducer(**settings, max_block_ms=10_000)
    try:
        producer.send(bank_out, answer, key=b"F01-0000001").get(timeout=30)
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(fund_out, answer, key=b"F01-0000001").get(timeout=30)
    finally:
        producer.close()
    assert fund_requests not in contracts.requests, "nor do the contracts give it the fund's"
    assert read_partition(info, "bank", fund_requests) == []
