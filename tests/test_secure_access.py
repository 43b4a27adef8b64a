"""The secure cluster's parts that need no broker: the ACLs derived from the catalog, the
broker's security settings, the certificates, and the client settings files.

The ACL checks read the catalog themselves, as an oracle independent of the code that
generates the grants: a grant wider than what the catalog says (another agency's topic, a
prefix that covers a contract topic, an operation nobody needs) fails here.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from govstream.broker.clients import ClientConfigError, ClientSettings
from govstream.broker.config import ClusterSpec, parse_properties, server_properties
from govstream.broker.security import SUPER_USERS, SecureLayout, prepare, server_overrides
from govstream.broker.tls import issue
from govstream.contracts.access import (
    COLLECTOR,
    CREATE,
    GROUP,
    LITERAL,
    PLATFORM,
    PLATFORM_PREFIX,
    PREFIXED,
    READ,
    TOPIC,
    WRITE,
    Grant,
    agency_group_prefix,
    allowed,
    grants,
    principal_of,
    principals,
    readers,
)
from govstream.contracts.catalog import (
    COMPLETED_SCHEMA,
    OUTCOME_SCHEMA,
    PROGRESS_SCHEMA,
    Catalog,
    load_catalog,
)
from govstream.engines.kafka.access import Access, access_for
from processors import FLOWS

POLICE_REQUESTS = "police.seal-cancellation-request.v1"
F03_SOURCE = "amr.company-deregistered.v1"
F03_BANK_OUTCOMES = "f03.bank.step-outcome.v1"
F03_POLICE_OUTCOMES = "f03.police.step-outcome.v1"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def rules(catalog: Catalog) -> frozenset[Grant]:
    return grants(catalog)


def catalog_permits(catalog: Catalog, grant: Grant) -> bool:
    """Whether the catalog itself justifies a grant (the oracle)."""
    dead_letter = catalog.dead_letter_topic
    consumers = {principal_of(c) for s in catalog.topics.values() for c in s.consumers}
    if grant.resource == GROUP:
        if grant.pattern != PREFIXED or grant.operation != READ:
            return False
        if grant.principal == PLATFORM:
            return grant.name == PLATFORM_PREFIX
        return grant.name == agency_group_prefix(grant.principal) and grant.principal in consumers
    if grant.resource != TOPIC:
        return False
    if grant.pattern == PREFIXED:
        if grant.principal == PLATFORM:
            return grant.name == PLATFORM_PREFIX
        # A subscriber keeps its table's changelog under its own prefix.
        return grant.name == agency_group_prefix(grant.principal) and grant.principal in (
            table_keepers(catalog)
        )
    if grant.name == dead_letter:
        return (grant.operation, grant.principal in consumers) == (WRITE, True) or (
            grant.operation,
            grant.principal,
        ) == (READ, COLLECTOR)
    spec = catalog.topic(grant.name)
    if grant.operation == WRITE:
        return grant.principal in {principal_of(p) for p in spec.producers}
    if grant.operation == READ:
        return grant.principal in {principal_of(c) for c in spec.consumers}
    return False


def table_keepers(catalog: Catalog) -> set[str]:
    """The agencies that read a compacted topic into a table of their own."""
    return {principal_of(c) for s in catalog.topics.values() if s.compacted for c in s.consumers}


def outcome_owner(topic: str) -> str:
    """The principal an outcome topic's name says answers on it: `f03.bank.step-outcome.v1`
    is the bank's, `f04.timer.step-outcome.v1` the platform's wait timer's."""
    _flow, answerer, kind, _version = topic.split(".")
    assert kind == "step-outcome", topic
    return PLATFORM if answerer == "timer" else answerer


def topic_writers(rules: frozenset[Grant], topic: str) -> tuple[str, ...]:
    return tuple(
        sorted({r.principal for r in rules if r.operation == WRITE and r.covers(TOPIC, topic)})
    )


def forged_answers(catalog: Catalog, rules: frozenset[Grant]) -> list[tuple[str, str]]:
    """Every (principal, outcome topic) pair the rules let write where the principal is not
    the topic's answerer."""
    outcomes = [s.name for s in catalog.topics.values() if s.schema_file == OUTCOME_SCHEMA]
    return [
        (principal, topic)
        for principal in principals(catalog)
        for topic in outcomes
        if allowed(rules, principal, WRITE, topic) and principal != outcome_owner(topic)
    ]


def test_every_grant_is_one_the_catalog_justifies(
    catalog: Catalog, rules: frozenset[Grant]
) -> None:
    wider = sorted(grant for grant in rules if not catalog_permits(catalog, grant))
    assert not wider, f"grants the catalog does not justify: {wider}"


def test_every_reader_and_writer_of_the_catalog_is_granted(
    catalog: Catalog, rules: frozenset[Grant]
) -> None:
    for spec in catalog.topics.values():
        for party in spec.consumers:
            assert allowed(rules, principal_of(party), READ, spec.name), (party, spec.name)
        for party in spec.producers:
            assert allowed(rules, principal_of(party), WRITE, spec.name), (party, spec.name)


def test_each_agency_reads_only_its_own_requests(catalog: Catalog, rules: frozenset[Grant]) -> None:
    assert not allowed(rules, "bank", READ, POLICE_REQUESTS)
    widened = {*rules, Grant("bank", TOPIC, POLICE_REQUESTS, LITERAL, READ)}
    assert allowed(widened, "bank", READ, POLICE_REQUESTS), "the check can tell"
    assert not catalog_permits(catalog, Grant("bank", TOPIC, POLICE_REQUESTS, LITERAL, READ))
    assert not allowed(rules, "bank", WRITE, F03_SOURCE)
    assert allowed(rules, "bank", READ, "bank.account-closure-request.v1")
    assert allowed(rules, "bank", WRITE, F03_BANK_OUTCOMES)
    assert not allowed(rules, "bank", WRITE, F03_POLICE_OUTCOMES)
    assert not allowed(rules, "bank", WRITE, "f03.step-outcome.v1"), "retired"
    for spec in catalog.topics.values():
        expected = {principal_of(c) for c in spec.consumers}
        assert readers(rules, spec.name) == tuple(sorted(expected)), spec.name


# -- an agency answers only for itself ------------------------------------------------------


def test_each_outcome_topic_is_written_by_its_answerer_and_read_by_the_platform(
    catalog: Catalog, rules: frozenset[Grant]
) -> None:
    """A wait's answers are the platform's wait timer's."""
    for flow in FLOWS.values():
        for answerer, topic in flow.outcome_topics.items():
            owner = PLATFORM if answerer == "timer" else answerer
            assert topic_writers(rules, topic) == (owner,), topic
            assert readers(rules, topic) == (PLATFORM,), topic
    assert topic_writers(rules, "f04.timer.step-outcome.v1") == (PLATFORM,)
    assert topic_writers(rules, F03_BANK_OUTCOMES) == ("bank",)


def test_no_agency_may_write_another_agency_s_outcome_topic(
    catalog: Catalog, rules: frozenset[Grant]
) -> None:
    """Every principal against every outcome topic: only its answerer may write it."""
    outcomes = [s.name for s in catalog.topics.values() if s.schema_file == OUTCOME_SCHEMA]
    assert len(outcomes) == sum(len(f.outcome_topics) for f in FLOWS.values())
    assert forged_answers(catalog, rules) == []
    forging = Grant("bank", TOPIC, F03_POLICE_OUTCOMES, LITERAL, WRITE)
    assert forged_answers(catalog, rules | {forging}) == [("bank", F03_POLICE_OUTCOMES)], (
        "the check can tell"
    )
    assert not catalog_permits(catalog, forging)
    for principal in principals(catalog):
        own = {t for t in outcomes if outcome_owner(t) == principal}
        assert {t for t in outcomes if allowed(rules, principal, WRITE, t)} == own, principal


def test_the_progress_topic_is_written_by_the_platform_and_read_by_the_collector_alone(
    catalog: Catalog, rules: frozenset[Grant]
) -> None:
    for flow in FLOWS.values():
        assert catalog.topic(flow.progress_topic).schema_file == PROGRESS_SCHEMA
        assert topic_writers(rules, flow.progress_topic) == (PLATFORM,), flow.id
        assert readers(rules, flow.progress_topic) == (COLLECTOR,), flow.id


def test_the_collector_reads_nothing_an_agency_wrote(
    catalog: Catalog, rules: frozenset[Grant]
) -> None:
    """No outcome (whose replies carry account numbers), request, trigger or completion: the
    platform's progress records, a scorer's records of the signals it counted (never the
    signals themselves), what the platform passes on of subscribers' checks and the counts it
    keeps, and the dead letters it counts."""
    read = {name for name in catalog.topics if allowed(rules, COLLECTOR, READ, name)}
    scored = {flow.scored_topic for flow in FLOWS.values() if flow.scoring is not None}
    assert scored, "a flow scores signals"
    beside = {
        *(f.publication.uses_told for f in FLOWS.values() if f.publication),
        *(tally.counted for f in FLOWS.values() for tally in f.tallies),
    }
    assert beside, "the check covers what the platform passes on beside its cases"
    assert read == {flow.progress_topic for flow in FLOWS.values()} | scored | beside
    assert allowed(rules, COLLECTOR, READ, catalog.dead_letter_topic)
    for name in read:
        assert topic_writers(rules, name) == (PLATFORM,), name
    requests_and_triggers = {
        topic
        for flow in FLOWS.values()
        for topic in (flow.source_topic, *(step.topic for step in flow.steps if step.topic))
    }
    for spec in catalog.topics.values():
        agency_wrote = any(principal_of(p) != PLATFORM for p in spec.producers)
        answer_or_end = spec.schema_file in (OUTCOME_SCHEMA, COMPLETED_SCHEMA)
        if agency_wrote or answer_or_end or spec.name in requests_and_triggers:
            assert not allowed(rules, COLLECTOR, READ, spec.name), spec.name
    measuring_outcomes = {*rules, Grant(COLLECTOR, TOPIC, F03_BANK_OUTCOMES, LITERAL, READ)}
    assert allowed(measuring_outcomes, COLLECTOR, READ, F03_BANK_OUTCOMES), "the check can tell"
    assert not catalog_permits(catalog, Grant(COLLECTOR, TOPIC, F03_BANK_OUTCOMES, LITERAL, READ))


def test_prefixes_cover_no_contract_topic_and_only_the_collector_reads_dead_letters(
    catalog: Catalog, rules: frozenset[Grant]
) -> None:
    prefixed = [g for g in rules if g.pattern == PREFIXED and g.resource == TOPIC]
    for name in (*catalog.topics, catalog.dead_letter_topic):
        assert not any(g.covers(TOPIC, name) for g in prefixed), name
    assert readers(rules, catalog.dead_letter_topic) == (COLLECTOR,)
    assert not [g for g in rules if g.principal == COLLECTOR and g.operation != READ]
    keepers = table_keepers(catalog)
    assert keepers == {"bank", "finance-bureau"}
    assert {g.principal for g in rules if g.operation == CREATE} == {PLATFORM, *keepers}


def test_principals_are_the_platform_the_collector_and_every_agency(catalog: Catalog) -> None:
    names = principals(catalog)
    assert names[:2] == (PLATFORM, COLLECTOR)
    assert {"amr", "bank", "police", "housing-fund", "water", "purchaser"} <= set(names)
    assert not [n for n in names if n.endswith(("-orchestrator", "-timer"))]


# -- the brokers' side ----------------------------------------------------------------------


def test_a_secure_node_has_no_plaintext_listener_and_denies_by_default(tmp_path: Path) -> None:
    spec = ClusterSpec(client_ports=(29092,), controller_ports=(29192,), secure=True)
    layout = SecureLayout(tmp_path / "secure")
    prepare(layout, spec, ["platform", "bank"])
    props = server_properties(spec, 0, tmp_path / "data")
    props.update(server_overrides(spec, 0, layout))
    assert "PLAINTEXT" not in props["listener.security.protocol.map"].replace("SASL_", "")
    assert props["listeners"].startswith("SASL_SSL://")
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == ";".join(f"User:{name}" for name in SUPER_USERS)
    assert SUPER_USERS == ("broker", "admin")
    assert props["auto.create.topics.enable"] == "false"


def test_certificates_chain_to_the_cluster_ca_and_keys_stay_private(tmp_path: Path) -> None:
    files = issue(tmp_path, "127.0.0.1")
    ca = x509.load_pem_x509_certificate(files.ca_certificate.read_bytes())
    chain = x509.load_pem_x509_certificates(files.node_keystore.read_bytes())
    node = chain[0]
    node.verify_directly_issued_by(ca)
    names = node.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    load_pem_private_key(files.node_keystore.read_bytes(), password=None)
    assert stat.S_IMODE(files.node_keystore.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ca.pem", "node.pem"], (
        "the CA's key is never written"
    )


def test_passwords_survive_a_restart_and_new_principals_get_one(tmp_path: Path) -> None:
    spec = ClusterSpec(client_ports=(29092,), controller_ports=(29192,), secure=True)
    layout = SecureLayout(tmp_path / "secure")
    prepare(layout, spec, ["bank"])
    first = layout.settings("bank").password
    prepare(layout, spec, ["bank", "police"])
    assert layout.settings("bank").password == first
    assert layout.known_principals() == ("admin", "bank", "broker", "police")
    path = layout.client_properties("police")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- clients --------------------------------------------------------------------------------


def test_client_settings_round_trip_through_a_properties_file(tmp_path: Path) -> None:
    given = ClientSettings("127.0.0.1:29092", "bank", 'p"a\\ss', tmp_path / "ca.pem")
    path = tmp_path / "bank.properties"
    path.write_text(given.render())
    read = ClientSettings.from_properties(path)
    assert read == given
    props = parse_properties(path.read_text())
    assert props["security.protocol"] == "SASL_SSL"
    assert props["sasl.mechanism"] == "SCRAM-SHA-512"
    kwargs = read.kafka_python()
    assert kwargs["sasl_plain_username"] == "bank"
    assert kwargs["ssl_cafile"] == str(tmp_path / "ca.pem")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("security.protocol=SASL_SSL\n", "bootstrap.servers"),
        ("bootstrap.servers=h:1\nsecurity.protocol=SSL\n", "security.protocol"),
        ("bootstrap.servers=h:1\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n", "PLAIN"),
        (
            "bootstrap.servers=h:1\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
            'sasl.jaas.config=x required username="u" password="p";\n',
            "ssl.truststore.location",
        ),
    ],
)
def test_a_bad_client_properties_file_is_named_with_its_key(
    tmp_path: Path, text: str, names: str
) -> None:
    path = tmp_path / "c.properties"
    path.write_text(text)
    with pytest.raises(ClientConfigError) as raised:
        ClientSettings.from_properties(path)
    assert str(path) in str(raised.value)
    assert names in str(raised.value)


def test_an_unknown_cluster_is_plaintext_and_a_given_identity_is_the_only_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSTREAM_KAFKA_HOME", str(tmp_path / "none"))
    plain = access_for("127.0.0.1:1")
    assert not plain.secure
    assert plain.settings("bank").kafka_python() == {"bootstrap_servers": ["127.0.0.1:1"]}
    bank = ClientSettings("127.0.0.1:2", "bank", "pw", tmp_path / "ca.pem")
    only = Access("127.0.0.1:2", only=bank)
    assert only.secure
    assert only.settings("platform") == bank


# -- the worker command ---------------------------------------------------------------------

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "deregistration-fanout.yaml"


def test_worker_refuses_an_unknown_role_and_a_secure_cluster_without_one(tmp_path: Path) -> None:
    from cli_runner import govstream

    bad_role = govstream("worker", SCENARIO, "--bootstrap", "127.0.0.1:1", "--role", "tax")
    assert bad_role.returncode == 2
    assert "--role 'tax'" in bad_role.stderr and "platform, bank, housing-fund, police" in (
        bad_role.stderr
    )
    bank = ClientSettings("127.0.0.1:1", "bank", "pw", tmp_path / "ca.pem")
    path = tmp_path / "bank.properties"
    path.write_text(bank.render())
    no_role = govstream(
        "worker", SCENARIO, "--bootstrap", "127.0.0.1:1", "--client-properties", path
    )
    assert no_role.returncode == 2
    assert "secure cluster" in no_role.stderr and "give --role" in no_role.stderr
    path.write_text("bootstrap.servers=127.0.0.1:1\nsecurity.protocol=SASL_PLAINTEXT\n")
    bad_file = govstream(
        "worker", SCENARIO, "--bootstrap", "127.0.0.1:1", "--client-properties", path
    )
    assert bad_file.returncode == 2
    assert str(path) in bad_file.stderr and "security.protocol" in bad_file.stderr
