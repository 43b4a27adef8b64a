"""`govstream contracts`: schema changes against released versions (named by field), the lock,
the AsyncAPI document (validated against the AsyncAPI 3.0 JSON schema), decode and sample."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import avro.schema
import jsonschema
import pytest
import yaml
from cli_runner import ENV, ROOT, govstream

from govstream.contracts.asyncapi import asyncapi_document
from govstream.contracts.catalog import (
    catalog_document,
    load_catalog,
    parse_catalog,
)
from govstream.contracts.codec import AvroCodec, canonical_form, fingerprint
from govstream.contracts.decoding import DecodeInputError, decode_message
from govstream.contracts.evolution import (
    check_catalog,
    check_topic,
    field_changes,
    next_topic_version,
)
from govstream.contracts.lock import (
    Released,
    ReleasedSchema,
    default_lock_path,
    full_name,
    lock_text,
    read_lock,
    released_from_catalog,
)
from govstream.contracts.samples import sample_value
from processors import FLOWS
from processors.orchestrator import REFUSALS

HOUSING_FUND = "housing-fund.account-closure-request.v1"
HOUSING_FUND_FILE = "f03/HousingFundClosureRequest.avsc"
ASYNCAPI_SCHEMA = ROOT / "tests" / "data" / "asyncapi-3.0.0.schema.json"


def schemas_copy(tmp_path: Path) -> Path:
    """The shipped schema files, copied where a test may edit them."""
    target = tmp_path / "schemas"
    shutil.copytree(Path(str(files("schemas"))), target)
    return target


def edit_schema(folder: Path, schema_file: str, edit: Any) -> None:
    path = folder / schema_file
    schema = json.loads(path.read_text(encoding="utf-8"))
    edit(schema)
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")


def the_issue_s_change(schema: dict[str, Any]) -> None:
    """int → long for `employees`, string → nullable for `company_name`."""
    for field in schema["fields"]:
        if field["name"] == "employees":
            field["type"] = "long"
        if field["name"] == "company_name":
            field["type"] = ["null", "string"]


def released(definition: dict[str, Any], schema_file: str = "x.avsc") -> ReleasedSchema:
    from govstream.contracts.codec import canonical_form

    return ReleasedSchema(
        schema_file, "x", fingerprint(definition).hex(), canonical_form(definition), definition
    )


# -- check --------------------------------------------------------------------------------------


def test_the_shipped_schemas_are_the_released_ones() -> None:
    checks = check_catalog(load_catalog(), read_lock(default_lock_path()))
    assert {c.status for c in checks} == {"unchanged"}
    assert len(checks) == len(load_catalog().topics)
    done = govstream("contracts", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(checks)} unchanged" in done.stdout


def test_the_issue_s_change_is_caught_and_named_by_field(tmp_path: Path) -> None:
    folder = schemas_copy(tmp_path)
    edit_schema(folder, HOUSING_FUND_FILE, the_issue_s_change)
    done = govstream("contracts", "check", "--schemas", folder)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert f"{HOUSING_FUND} ({HOUSING_FUND_FILE}): backward only compatibility" in out
    assert "forward BREAKS" in out
    assert "needs a new topic version, housing-fund.account-closure-request.v2" in out
    assert "field company_name: type string → null | string — backward only" in out
    assert "field employees: type int → long — backward only" in out
    assert "/fields/" not in out  # places are named, not indexed
    assert f"{len(load_catalog().topics) - 1} unchanged, 1 breaking" in out


def test_each_field_s_change_is_judged_alone() -> None:
    catalog = load_catalog()
    old = catalog.schema_json(HOUSING_FUND)
    new = copy.deepcopy(old)
    the_issue_s_change(new)
    changes = {c.field: c for c in field_changes(old, new)}
    assert set(changes) == {"company_name", "employees"}
    for change in changes.values():
        assert (change.backward, change.forward) == (True, False)
        assert "consumer on the released schema cannot read new data" in change.why
    assert "null" in changes["company_name"].why
    assert "long" in changes["employees"].why
    # the whole-schema check agrees on each direction
    check = check_topic(HOUSING_FUND, released(old), released(new))
    assert (check.backward, check.forward, check.status) == (True, False, "breaking")
    assert check.next_version == "housing-fund.account-closure-request.v2"
    assert check.messages == []  # every problem is explained by a named field


def test_a_compatible_change_may_stay_on_its_topic(tmp_path: Path) -> None:
    folder = schemas_copy(tmp_path)
    note = {"name": "note", "type": ["null", "string"], "default": None}
    edit_schema(folder, HOUSING_FUND_FILE, lambda s: s["fields"].append(note))
    done = govstream("contracts", "check", "--schemas", folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "full compatibility (backward ok, forward ok)" in done.stdout
    assert "may go out on the same topic" in done.stdout
    assert "field note: added with a default — full" in done.stdout


RECORD = {
    "type": "record",
    "name": "R",
    "namespace": "t",
    "fields": [
        {"name": "id", "type": "string"},
        {
            "name": "applicant",
            "type": {
                "type": "record",
                "name": "Applicant",
                "fields": [{"name": "phone", "type": "string"}, {"name": "age", "type": "int"}],
            },
        },
        {
            "name": "items",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Item",
                    "fields": [{"name": "code", "type": "int"}],
                },
            },
        },
        {"name": "kept", "type": "string", "default": ""},
    ],
}


def _edited(edit: Any) -> dict[str, Any]:
    changed = copy.deepcopy(RECORD)
    edit(changed)
    return changed


@pytest.mark.parametrize(
    ("edit", "field", "change", "backward", "forward"),
    [
        (
            lambda s: s["fields"].append({"name": "seal", "type": "string"}),
            "seal",
            "added without a default",
            False,
            True,
        ),
        (
            lambda s: s["fields"].pop(0),
            "id",
            "removed",
            True,
            False,
        ),
        (
            lambda s: s["fields"].pop(3),
            "kept",
            "removed",
            True,
            True,
        ),
        (
            lambda s: s["fields"][1]["type"]["fields"][1].update(type="long"),
            "applicant.age",
            "type int → long",
            True,
            False,
        ),
        (
            lambda s: s["fields"][2]["type"]["items"]["fields"][0].update(type="string"),
            "items[].code",
            "type int → string",
            False,
            False,
        ),
        (
            lambda s: s["fields"][0].update(name="case_id", aliases=["id"]),
            "case_id",
            "renamed from id (alias)",
            True,
            False,
        ),
    ],
)
def test_fields_are_named_where_they_sit(
    edit: Any, field: str, change: str, backward: bool, forward: bool
) -> None:
    new = _edited(edit)
    (found,) = field_changes(RECORD, new)
    assert (found.field, found.change) == (field, change)
    assert (found.backward, found.forward) == (backward, forward)
    check = check_topic("t.r.v1", released(RECORD), released(new))
    assert (check.backward, check.forward) == (backward, forward)


def test_a_new_topic_version_replaces_the_released_one() -> None:
    """The workflow's last step: the breaking change goes out on the topic's next version."""
    f03 = FLOWS["F03"]
    steps = tuple(
        dataclasses.replace(step, topic=next_topic_version(step.topic))
        if step.topic == HOUSING_FUND
        else step
        for step in f03.steps
    )
    flows = [dataclasses.replace(f03, steps=steps) if f is f03 else f for f in FLOWS.values()]
    source = files("schemas")

    def read(relative: str) -> str:
        text = source.joinpath(*relative.split("/")).read_text(encoding="utf-8")
        if relative == HOUSING_FUND_FILE:
            schema = json.loads(text)
            the_issue_s_change(schema)
            return json.dumps(schema)
        return text

    catalog = parse_catalog(catalog_document(flows), read)
    checks = {c.topic: c for c in check_catalog(catalog, read_lock(default_lock_path()))}
    bumped = checks["housing-fund.account-closure-request.v2"]
    assert (bumped.status, bumped.replaces) == ("new version", HOUSING_FUND)
    assert checks[HOUSING_FUND].status == "retired"
    assert checks[HOUSING_FUND].messages == ["replaced by housing-fund.account-closure-request.v2"]
    assert not any(c.needs_new_version for c in checks.values())


def test_check_against_a_git_ref(tmp_path: Path) -> None:
    inside = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
    )
    if inside.returncode != 0:
        pytest.skip("not a git checkout")
    folder = schemas_copy(tmp_path)
    edit_schema(folder, HOUSING_FUND_FILE, the_issue_s_change)
    done = govstream("contracts", "check", "--against", "HEAD", "--schemas", folder)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the schema files at HEAD" in done.stdout
    assert "field company_name" in done.stdout
    unknown = govstream("contracts", "check", "--against", "no-such-ref-anywhere")
    assert unknown.returncode == 2
    assert "no-such-ref-anywhere" in unknown.stderr and "Traceback" not in unknown.stderr


def test_check_as_json(tmp_path: Path) -> None:
    folder = schemas_copy(tmp_path)
    edit_schema(folder, HOUSING_FUND_FILE, the_issue_s_change)
    done = govstream("contracts", "check", "--schemas", folder, "--json")
    assert done.returncode == 1
    (breaking,) = [c for c in json.loads(done.stdout) if c["status"] == "breaking"]
    assert breaking["topic"] == HOUSING_FUND
    assert [f["field"] for f in breaking["fields"]] == ["company_name", "employees"]
    assert breaking["compatibility"] == "backward only" and breaking["needs_new_version"]


# -- lock ---------------------------------------------------------------------------------------


def test_the_shipped_lock_is_what_lock_writes() -> None:
    expected = lock_text(released_from_catalog(load_catalog()))
    assert default_lock_path().read_text(encoding="utf-8") == expected


def test_lock_releases_and_refuses_a_breaking_change(tmp_path: Path) -> None:
    lock = tmp_path / "released.lock"
    first = govstream("contracts", "lock", "--lock", lock)
    assert first.returncode == 0 and "released" in first.stdout
    assert lock.read_text(encoding="utf-8") == default_lock_path().read_text(encoding="utf-8")
    folder = schemas_copy(tmp_path)
    edit_schema(folder, HOUSING_FUND_FILE, the_issue_s_change)
    refused = govstream("contracts", "lock", "--lock", lock, "--schemas", folder)
    assert refused.returncode == 1
    assert HOUSING_FUND in refused.stderr
    forced = govstream("contracts", "lock", "--lock", lock, "--schemas", folder, "--force")
    assert forced.returncode == 0
    assert govstream("contracts", "check", "--lock", lock, "--schemas", folder).returncode == 0


OUTCOME_FILE = "common/StepOutcome.avsc"
PROGRESS_FILE = "common/CaseProgress.avsc"
COMPLETED_FILE = "common/CaseCompleted.avsc"


def release_of_shared_outcomes() -> Released:
    """The release before each answerer had an outcome topic of its own: one outcome topic per
    flow that every answerer wrote, no progress records, and CaseCompleted without `cancelled`."""
    current = read_lock(default_lock_path())
    topics = {
        topic: schema_file
        for topic, schema_file in current.topics.items()
        if schema_file not in (OUTCOME_FILE, PROGRESS_FILE)
    }
    topics |= {f"{flow.prefix}.step-outcome.v1": OUTCOME_FILE for flow in FLOWS.values()}
    completed = copy.deepcopy(current.schemas[COMPLETED_FILE].definition)
    completed["fields"] = [f for f in completed["fields"] if f["name"] != "cancelled"]
    schemas = {name: s for name, s in current.schemas.items() if name != PROGRESS_FILE}
    schemas[COMPLETED_FILE] = ReleasedSchema(
        COMPLETED_FILE,
        full_name(completed),
        fingerprint(completed).hex(),
        canonical_form(completed),
        completed,
    )
    return Released(topics=topics, schemas=schemas)


def test_the_shared_outcome_topics_retire_and_each_answerer_s_is_new(tmp_path: Path) -> None:
    """How the move to an outcome topic per answerer was released: nothing breaks, so the lock
    is written without --force."""
    lock = tmp_path / "released.lock"
    lock.write_text(lock_text(release_of_shared_outcomes()), encoding="utf-8")
    done = govstream("contracts", "check", "--lock", lock)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for flow in FLOWS.values():
        assert (
            f"{flow.prefix}.step-outcome.v1: retired; released, and no longer in the catalog: "
            "its consumers get nothing more"
        ) in out
        for topic in (*flow.outcome_topics.values(), flow.progress_topic):
            assert f"{topic}: new topic, fingerprint" in out
        assert (
            f"{flow.completed_topic} ({COMPLETED_FILE}): full compatibility (backward ok, "
            "forward ok)"
        ) in out
    assert out.count("field cancelled: added with a default — full") == len(FLOWS)
    new = sum(len(flow.outcome_topics) + 1 for flow in FLOWS.values())
    unchanged = len(load_catalog().topics) - new - len(FLOWS)
    assert f"{unchanged} unchanged, {new} new, {len(FLOWS)} changed, {len(FLOWS)} retired" in out
    released = govstream("contracts", "lock", "--lock", lock)
    assert released.returncode == 0, released.stderr
    assert lock.read_text(encoding="utf-8") == default_lock_path().read_text(encoding="utf-8")


def test_a_lock_edited_by_hand_is_refused(tmp_path: Path) -> None:
    document = json.loads(default_lock_path().read_text(encoding="utf-8"))
    document["schemas"][HOUSING_FUND_FILE]["canonical"] = '{"type":"string"}'
    broken = tmp_path / "released.lock"
    broken.write_text(json.dumps(document), encoding="utf-8")
    done = govstream("contracts", "check", "--lock", broken)
    assert done.returncode == 2
    assert "edited by hand" in done.stderr
    missing = govstream("contracts", "check", "--lock", tmp_path / "none.lock")
    assert missing.returncode == 2 and "govstream contracts lock" in missing.stderr


# -- AsyncAPI -----------------------------------------------------------------------------------


def _resolve(document: dict[str, Any], reference: str) -> Any:
    node: Any = document
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_the_asyncapi_document_validates_against_the_asyncapi_3_schema() -> None:
    document = asyncapi_document(load_catalog())
    schema = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    # the validator does catch what AsyncAPI 3.0 forbids
    broken = copy.deepcopy(document)
    next(iter(broken["operations"].values()))["action"] = "publish"  # AsyncAPI 2's word
    assert list(validator.iter_errors(broken))


def test_the_asyncapi_document_holds_every_topic_its_parties_and_payload() -> None:
    catalog = load_catalog()
    document = asyncapi_document(catalog)
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {*catalog.topics, catalog.dead_letter_topic}
    for operation in document["operations"].values():
        channel = _resolve(document, operation["channel"]["$ref"])
        for message in operation["messages"]:
            assert _resolve(document, message["$ref"])["$ref"].startswith("#/components/")
        spec = catalog.topics.get(channel["address"])
        assert spec is not None
        parties = spec.producers if operation["action"] == "send" else spec.consumers
        assert operation["x-govstream-party"] in parties
    for name, spec in catalog.topics.items():
        channel = next(c for c in document["channels"].values() if c["address"] == name)
        (reference,) = channel["messages"].values()
        message = _resolve(document, reference["$ref"])
        assert message["payload"]["schema"] == catalog.schema_json(name)
        avro.schema.parse(json.dumps(message["payload"]["schema"]))
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        assert {"ce_id", "ce_subject", "ce_type"} <= set(message["headers"]["properties"])
        sends = [
            o
            for o in document["operations"].values()
            if o["channel"]["$ref"].endswith(
                "/" + next(k for k, c in document["channels"].items() if c["address"] == name)
            )
        ]
        assert {o["x-govstream-party"] for o in sends if o["action"] == "send"} == set(
            spec.producers
        )


def _operations_on(document: dict[str, Any], topic: str) -> dict[str, set[tuple[str, str]]]:
    """`send` and `receive` on the topic's channel -> {(party, principal)}."""
    found: dict[str, set[tuple[str, str]]] = {"send": set(), "receive": set()}
    for operation in document["operations"].values():
        if _resolve(document, operation["channel"]["$ref"])["address"] == topic:
            party = (operation["x-govstream-party"], operation["x-govstream-principal"])
            found[operation["action"]].add(party)
    return found


def test_the_asyncapi_document_gives_each_answerer_s_channel_one_sender() -> None:
    document = asyncapi_document(load_catalog())
    channels = {c["address"]: c for c in document["channels"].values()}
    for flow in FLOWS.values():
        orchestrator = (flow.orchestrator, "platform")
        for answerer, topic in flow.outcome_topics.items():
            sender = (
                (f"{flow.prefix}-timer", "platform") if answerer == "timer" else (answerer,) * 2
            )
            assert _operations_on(document, topic) == {"send": {sender}, "receive": {orchestrator}}
            description = channels[topic]["description"]
            assert f"Written by {sender[0]} only" in description
            assert all(reason in description for reason in REFUSALS)
        assert _operations_on(document, flow.progress_topic) == {
            "send": {orchestrator},
            "receive": {("collector", "collector")},
        }
        assert f"{flow.prefix}.step-outcome.v1" not in channels, "retired"
    dead_letter = document["components"]["messages"][
        next(k for k in document["components"]["messages"] if k.startswith("govstream.dead"))
    ]
    reasons = dead_letter["headers"]["properties"]["dlq_reason"]["description"]
    assert all(reason in reasons for reason in REFUSALS)


def test_asyncapi_command_writes_json_and_yaml(tmp_path: Path) -> None:
    out = tmp_path / "asyncapi.json"
    done = govstream("contracts", "asyncapi", "--out", out)
    assert done.returncode == 0
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(
        json.dumps(asyncapi_document(load_catalog()))
    )
    as_yaml = govstream("contracts", "asyncapi", "--format", "yaml")
    assert yaml.safe_load(as_yaml.stdout)["asyncapi"] == "3.0.0"


# -- decode and sample --------------------------------------------------------------------------


@pytest.mark.parametrize("topic", sorted(load_catalog().topics))
def test_every_topic_s_sample_round_trips_through_decode(topic: str) -> None:
    codec = AvroCodec()
    value = sample_value(topic)
    data = codec.encode(topic, value)
    for given, form in ((data, "raw"), (data.hex().encode(), "hex"), (data, "auto")):
        decoded = decode_message(given, form, topic=topic)
        assert topic in decoded["topics"]
        assert decoded["fingerprint"] == data[2:10].hex()
        assert codec.encode(topic, _from_json(topic, decoded["record"])) == data


def _from_json(topic: str, record: dict[str, Any]) -> dict[str, Any]:
    """The JSON record back in Avro's Python types (dates, times), to encode it again."""
    import datetime as dt

    schema = load_catalog().schema_json(topic)
    value = dict(record)
    for field in schema["fields"]:
        kind = field["type"]
        logical = kind.get("logicalType") if isinstance(kind, dict) else None
        if logical == "date" and value.get(field["name"]) is not None:
            value[field["name"]] = dt.date.fromisoformat(value[field["name"]])
        if logical == "timestamp-millis" and isinstance(value.get(field["name"]), str):
            value[field["name"]] = dt.datetime.fromisoformat(value[field["name"]])
    return value


def test_sample_piped_into_decode_on_the_command_line(tmp_path: Path) -> None:
    hexed = govstream("contracts", "sample", HOUSING_FUND)
    assert hexed.returncode == 0
    assert hexed.stdout.startswith("c301")
    decoded = subprocess.run(
        [*_cli(), "contracts", "decode", "--topic", HOUSING_FUND],
        input=hexed.stdout,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    assert decoded.returncode == 0, decoded.stderr
    shown = json.loads(decoded.stdout)
    assert shown["schema"] == "govstream.f03.HousingFundClosureRequest"
    assert shown["writer_schema"]["name"] == "HousingFundClosureRequest"
    as_json = json.loads(govstream("contracts", "sample", HOUSING_FUND, "--format", "json").stdout)
    assert shown["record"] == as_json
    raw = tmp_path / "message.bin"
    raw.write_bytes(bytes.fromhex(hexed.stdout.strip()))
    from_file = govstream("contracts", "decode", raw)
    assert from_file.returncode == 0 and json.loads(from_file.stdout)["record"] == as_json


def _cli() -> list[str]:
    import sys

    return [sys.executable, "-m", "govstream"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "no input"),
        (b"   \n", "no input"),
        (b'{"case_id": "F03-1"}', "not hex text"),
        (b"zz11", "not hex text"),
        (b"c301abc", "not hex text"),
        (bytes.fromhex("c3010011223344556677") + b"\x02", "unknown writer schema fingerprint"),
        (b"\x00\x01\x02\xff\xfe", "neither a single-object message"),
    ],
)
def test_decode_says_what_is_wrong(data: bytes, says: str) -> None:
    with pytest.raises(DecodeInputError) as caught:
        decode_message(data)
    assert says in str(caught.value)


def test_decode_of_a_broken_body_and_of_the_wrong_topic() -> None:
    data = AvroCodec().encode(HOUSING_FUND, sample_value(HOUSING_FUND))
    with pytest.raises(DecodeInputError, match="does not decode"):
        decode_message(data[:-5], "raw")
    with pytest.raises(DecodeInputError, match="trailing bytes"):
        decode_message(data + b"\x00", "raw")
    with pytest.raises(DecodeInputError, match="carries"):
        decode_message(data, "raw", topic="police.seal-cancellation-request.v1")
    done = govstream("contracts", "decode", "--format", "raw", "--topic", "no.such.v1")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_decode_falls_back_on_a_released_version(tmp_path: Path) -> None:
    """A message written before a change: its fingerprint is only in the lock."""
    folder = schemas_copy(tmp_path)
    edit_schema(folder, HOUSING_FUND_FILE, the_issue_s_change)
    lock = tmp_path / "released.lock"
    assert govstream("contracts", "lock", "--lock", lock, "--schemas", folder).returncode == 0
    old_schema = json.loads((folder / HOUSING_FUND_FILE).read_text(encoding="utf-8"))
    from io import BytesIO

    from fastavro import parse_schema, schemaless_writer

    value = sample_value(HOUSING_FUND)
    body = BytesIO()
    schemaless_writer(body, parse_schema(old_schema), value)
    message = b"\xc3\x01" + fingerprint(old_schema) + body.getvalue()
    decoded = decode_message(message, "raw", lock=lock)
    assert decoded["released_only"] is True
    assert decoded["topics"] == [HOUSING_FUND]
    assert decoded["record"]["employees"] == value["employees"]
    with pytest.raises(DecodeInputError, match="nor any released version"):
        decode_message(message, "raw", lock=default_lock_path())


def test_sample_refuses_what_has_no_contract() -> None:
    unknown = govstream("contracts", "sample", "no.such.topic.v1")
    assert unknown.returncode == 2 and "the catalog declares" in unknown.stderr
    dead = govstream("contracts", "sample", load_catalog().dead_letter_topic)
    assert dead.returncode == 2 and "no contract" in dead.stderr


# -- schemas --json -----------------------------------------------------------------------------


def test_schemas_as_json() -> None:
    catalog = load_catalog()
    codec = AvroCodec(catalog)
    done = govstream("schemas", "--json")
    assert done.returncode == 0
    listed = json.loads(done.stdout)
    assert [t["topic"] for t in listed["topics"]] == list(catalog.topics)
    for entry in listed["topics"]:
        assert entry["fingerprint"] == codec.fingerprint_of(entry["topic"]).hex()
        assert entry["definition"] == catalog.schema_json(entry["topic"])
    assert listed["dead_letter"]["topic"] == catalog.dead_letter_topic
    police = json.loads(govstream("schemas", "--json", "--agency", "police").stdout)
    assert police["topics"] and all("police" in t["consumers"] for t in police["topics"])
    assert [t["topic"] for t in police["writes"]] == ["f03.police.step-outcome.v1"]
    assert police["writes"][0]["producers"] == ["police"]
    one = json.loads(govstream("schemas", "--json", "--topic", HOUSING_FUND).stdout)
    assert [t["topic"] for t in one["topics"]] == [HOUSING_FUND]
    assert govstream("schemas", "--json", "--topic", "nope").returncode == 2
