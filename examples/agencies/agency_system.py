"""A reference agency system outside govstream: it answers an agency's requests on Kafka.

It knows govstream only through the published contracts: the AsyncAPI document that
`govstream contracts asyncapi` writes (the channels the agency receives, the reply each
request expects, the Avro payloads). It needs kafka-python and fastavro, and imports nothing
of govstream. `bank.py` and `housing_fund.py` are the agencies' programs; this module serves
any agency (`--agency police`).

What an answer must be (the AsyncAPI document's `x-govstream-external` operations say it too):

- a StepOutcome on the agency's outcome channel of the request's flow (the receive
  operation's `reply`), keyed by the request's key (the case id);
- Avro single-object encoded: C3 01, the writer schema's CRC-64-AVRO fingerprint (8 bytes,
  little-endian), the Avro binary body;
- naming the request's case_id and request_id, its flow (`gs_flow` header), its step
  (`gs_step` header), the agency, COMPLETED or REJECTED, and for a completed answer to a step
  with reply fields (`x-govstream-reply-fields`) every one of them in `reply`;
- carrying back every `gs_` header of the request unchanged; `gs_delivered` and `gs_acted`
  (epoch seconds) say when the system took the request and answered.

`--fault` makes it misbehave in one of the ways govstream's conformance report counts.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import io
import itertools
import json
import re
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form
from kafka import KafkaConsumer, KafkaProducer

MAGIC = b"\xc3\x01"
JOIN_SECONDS = 20.0
"""How long a consumer may take to be given its partitions before a new one asks again."""
FAULTS = ("wrong-field", "silent", "late", "duplicate", "foreign-step")
Reply = Callable[[str, Mapping[str, Any]], str]
"""A reply field's value, from the field's name and the request."""


# -- the contracts ------------------------------------------------------------------------------


@dataclass
class Schema:
    """One Avro schema of the contracts, parsed, with its single-object fingerprint."""

    data: dict[str, Any]
    parsed: Any
    fingerprint: bytes

    @classmethod
    def of(cls, data: dict[str, Any]) -> Schema:
        canonical = to_parsing_canonical_form(data)
        return cls(
            data, fastavro.parse_schema(data), bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
        )

    def encode(self, record: Mapping[str, Any]) -> bytes:
        body = io.BytesIO()
        fastavro.schemaless_writer(body, self.parsed, dict(record))
        return MAGIC + self.fingerprint + body.getvalue()


@dataclass
class Request:
    """A request channel the agency receives: its steps and where each is answered."""

    topic: str
    schema: Schema
    steps: list[dict[str, Any]]
    """`flow`, `step`, `agency`, `reply_fields`, `outcome_topic`, as the channel lists them."""


@dataclass
class Contracts:
    """What the AsyncAPI document says one agency receives and how it answers."""

    agency: str
    requests: dict[str, Request]
    outcomes: dict[str, Schema]
    """Outcome topic -> its StepOutcome schema."""
    steps_of_flow: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Every flow's steps, of every agency (for `--fault foreign-step`)."""

    @classmethod
    def load(cls, path: Path, agency: str) -> Contracts:
        document = read_document(path)
        channels = document["channels"]

        def schema_of(channel: dict[str, Any]) -> Schema:
            (reference,) = channel["messages"].values()
            name = reference["$ref"].rsplit("/", 1)[1]
            return Schema.of(document["components"]["messages"][name]["payload"]["schema"])

        requests: dict[str, Request] = {}
        outcomes: dict[str, Schema] = {}
        for operation in document["operations"].values():
            if operation.get("x-govstream-party") != agency or "reply" not in operation:
                continue
            channel = channels[operation["channel"]["$ref"].rsplit("/", 1)[1]]
            steps = [s for s in channel.get("x-govstream-steps", []) if s["agency"] == agency]
            requests[channel["address"]] = Request(channel["address"], schema_of(channel), steps)
            outcome = channels[operation["reply"]["channel"]["$ref"].rsplit("/", 1)[1]]
            outcomes[outcome["address"]] = schema_of(outcome)
        if not requests:
            raise SystemExit(f"{path}: no channel that {agency} receives and answers")
        steps_of_flow: dict[str, list[dict[str, Any]]] = {}
        for channel in channels.values():
            for step in channel.get("x-govstream-steps", []):
                steps_of_flow.setdefault(step["flow"], []).append(step)
        return cls(agency, requests, outcomes, steps_of_flow)

    def decode(self, topic: str, data: bytes) -> dict[str, Any]:
        schema = self.requests[topic].schema
        if data[:2] != MAGIC or data[2:10] != schema.fingerprint:
            raise ValueError(f"not a {topic} request: header {data[:10].hex()}")
        return fastavro.schemaless_reader(io.BytesIO(data[10:]), schema.parsed)


def read_document(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml  # only for a YAML document

        return yaml.safe_load(text)
    return json.loads(text)


# -- connecting -----------------------------------------------------------------------------


def client_settings(bootstrap: str | None, properties: Path | None) -> dict[str, Any]:
    """kafka-python settings: plaintext at `bootstrap`, or a Java client properties file as
    the launcher writes one per principal (SASL/SCRAM-SHA-512 over TLS, a PEM trust store)."""
    if properties is None:
        if not bootstrap:
            raise SystemExit("give --bootstrap HOST:PORT or --client-properties FILE")
        return {"bootstrap_servers": bootstrap.split(",")}
    props: dict[str, str] = {}
    for line in properties.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = value.strip()
    settings: dict[str, Any] = {
        "bootstrap_servers": (bootstrap or props["bootstrap.servers"]).split(",")
    }
    if props.get("security.protocol", "PLAINTEXT") == "SASL_SSL":
        jaas = props.get("sasl.jaas.config", "")
        user = re.search(r'username="([^"]*)"', jaas)
        password = re.search(r'password="([^"]*)"', jaas)
        if user is None or password is None:
            raise SystemExit(f"{properties}: sasl.jaas.config must give username and password")
        settings.update(
            security_protocol="SASL_SSL",
            sasl_mechanism=props.get("sasl.mechanism", "SCRAM-SHA-512"),
            sasl_plain_username=user.group(1),
            sasl_plain_password=password.group(1),
            ssl_cafile=props["ssl.truststore.location"],
            ssl_check_hostname=True,
        )
    return settings


# -- answering ------------------------------------------------------------------------------


def digits(text: str, count: int = 12) -> str:
    """A stable number from a text: the same request gets the same number again."""
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[-count:]


def any_reply(name: str, request: Mapping[str, Any]) -> str:
    """A reply field's value where the agency's program gives none of its own."""
    return digits(f"{request.get('request_id')}/{name}")


@dataclass
class Options:
    service_time: float = 0.2
    fault: str | None = None
    fault_every: int = 1
    late_by: float = 10.0


@dataclass(order=True)
class Due:
    at: float
    seq: int
    topic: str = field(compare=False)
    key: bytes | None = field(compare=False)
    value: bytes = field(compare=False)
    headers: list[tuple[str, bytes]] = field(compare=False)


class AgencySystem:
    """Reads the agency's requests and answers each after its service time."""

    def __init__(
        self,
        contracts: Contracts,
        settings: dict[str, Any],
        options: Options,
        replies: Mapping[str, Reply] | None = None,
        group: str | None = None,
    ) -> None:
        self.contracts = contracts
        self.options = options
        self.replies = dict(replies or {})
        self.agency = contracts.agency
        self.settings = settings
        self.group = group or f"govstream.{self.agency}.external"
        self.consumer = self.subscribed()
        self.producer = KafkaProducer(**settings, acks="all", linger_ms=2)
        self.started = time.time()
        self.due: list[Due] = []
        self.seq = itertools.count()
        self.stats = {"requests": 0, "answers": 0, "faulted": 0, "skipped_old": 0}
        self.stopping = False

    def subscribed(self) -> KafkaConsumer:
        """A consumer in the agency's group, reading its request topics."""
        consumer = KafkaConsumer(
            **self.settings,
            group_id=self.group,
            auto_offset_reset="earliest",
            metadata_max_age_ms=1000,  # topics a run creates are found within a second
        )
        consumer.subscribe(list(self.contracts.requests))
        self.joining = time.monotonic()
        return consumer

    def serve(self) -> None:
        ready = False
        while not self.stopping:
            if not ready and time.monotonic() - self.joining > JOIN_SECONDS:
                # A join a busy cluster never completed: a new consumer asks again.
                print(f"{self.agency}: no partitions yet, joining again", file=sys.stderr)
                self.consumer.close()
                self.consumer = self.subscribed()
            wait = 0.2
            if self.due:
                wait = min(wait, max(0.0, self.due[0].at - time.time()))
            for records in self.consumer.poll(timeout_ms=int(wait * 1000)).values():
                for record in records:
                    self.take(record)
            self.send_due()
            if not ready and self.consumer.assignment():
                ready = True
                print(f"{self.agency}: ready", file=sys.stderr, flush=True)
        self.send_due(everything=True)
        self.producer.flush(timeout=10)
        self.consumer.close()
        self.producer.close(timeout=10)

    def take(self, record: Any) -> None:
        """One request: its answer scheduled after the service time, or misbehaved."""
        if record.timestamp / 1000 < self.started - 1.0:
            self.stats["skipped_old"] += 1  # sent before this system served: not its business
            return
        received = time.time()
        headers = {key: (value or b"").decode() for key, value in record.headers or []}
        trace = {key: value for key, value in headers.items() if key.startswith("gs_")}
        request = self.contracts.decode(record.topic, record.value)
        channel = self.contracts.requests[record.topic]
        step = next(
            (s for s in channel.steps if s["step"] == trace.get("gs_step")), channel.steps[0]
        )
        warm_up = "gs_warm_up" in trace
        if not warm_up:
            self.stats["requests"] += 1
        fault = None
        every = self.options.fault_every
        if self.options.fault and not warm_up and self.stats["requests"] % every == 0:
            fault = self.options.fault
            self.stats["faulted"] += 1
        if fault == "silent":
            return
        outcome = {
            "case_id": request["case_id"],
            "request_id": request["request_id"],
            "flow": trace.get("gs_flow", step["flow"]),
            "step": step["step"],
            "agency": self.agency,
            "status": "COMPLETED",
            "reason": None,
            "reply": {
                name: self.replies.get(name, any_reply)(name, request)
                for name in step["reply_fields"]
            }
            or None,
        }
        schema = self.contracts.outcomes[step["outcome_topic"]]
        if fault == "wrong-field":
            schema, outcome = wrong_field(schema, outcome, step)
        if fault == "foreign-step":
            outcome = self.foreign(outcome, step)
        delay = 0.0 if warm_up else self.options.service_time
        if fault == "late":
            delay += self.options.late_by
        trace["gs_delivered"] = repr(received)
        copies = 2 if fault == "duplicate" else 1
        for _ in range(copies):
            heapq.heappush(
                self.due,
                Due(
                    received + delay,
                    next(self.seq),
                    step["outcome_topic"],
                    record.key,
                    schema.encode(outcome),
                    [(k, v.encode()) for k, v in trace.items()],
                ),
            )

    def foreign(self, outcome: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
        """The answer names a step of the same case that another agency acts on."""
        others = [
            s
            for s in self.contracts.steps_of_flow.get(own["flow"], [])
            if s["agency"] != self.agency
        ]
        other = others[0] if others else {"step": "foreign", "agency": "foreign"}
        return {**outcome, "step": other["step"], "agency": other["agency"], "reply": None}

    def send_due(self, *, everything: bool = False) -> None:
        now = time.time()
        while self.due and (everything or self.due[0].at <= now):
            answer = heapq.heappop(self.due)
            headers = [*answer.headers, ("gs_acted", repr(time.time()).encode())]
            self.producer.send(answer.topic, answer.value, key=answer.key, headers=headers)
            self.stats["answers"] += 1

    def stop(self, *_: Any) -> None:
        self.stopping = True


def wrong_field(
    schema: Schema, outcome: dict[str, Any], step: dict[str, Any]
) -> tuple[Schema, dict[str, Any]]:
    """A field under the wrong name: in the reply, where the step has reply fields; else in
    the record itself, which then no longer matches the contract's schema."""
    if step["reply_fields"]:
        return schema, {**outcome, "reply": {f"{k}_no": v for k, v in outcome["reply"].items()}}
    data = json.loads(json.dumps(schema.data))
    for field_ in data["fields"]:
        if field_["name"] == "agency":
            field_["name"] = "agency_id"
    renamed = {("agency_id" if k == "agency" else k): v for k, v in outcome.items()}
    return Schema.of(data), renamed


# -- the program ----------------------------------------------------------------------------


def seconds(text: str) -> float:
    """`250ms`, `2s` or `2` (seconds)."""
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    return float(text.removesuffix("s"))


def arguments(agency: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=f"Answer {agency or 'an agency'}'s requests from govstream on Kafka, as that "
        "agency's own system would, knowing only the published contracts."
    )
    if agency is None:
        parser.add_argument("--agency", required=True, help="the agency id, e.g. police")
    parser.add_argument(
        "--contracts",
        type=Path,
        default=Path("asyncapi.json"),
        help="the AsyncAPI document (`govstream contracts asyncapi --out FILE`; default "
        "asyncapi.json)",
    )
    parser.add_argument("--bootstrap", help="HOST:PORT of a plaintext cluster")
    parser.add_argument(
        "--client-properties",
        type=Path,
        help="a secure cluster's client properties for the agency's principal (the launcher's "
        "<state dir>/secure/principals/<agency>.properties)",
    )
    parser.add_argument("--group", help="consumer group (default govstream.<agency>.external)")
    parser.add_argument(
        "--service-time", type=seconds, default=0.2, help="time to answer (default 200ms)"
    )
    parser.add_argument("--fault", choices=FAULTS, help="misbehave in this way")
    parser.add_argument(
        "--fault-every",
        type=int,
        default=1,
        metavar="N",
        help="misbehave on every Nth request (default 1: every one)",
    )
    parser.add_argument(
        "--late-by", type=seconds, default=10.0, help="how late `--fault late` is (default 10s)"
    )
    return parser


def main(agency: str | None = None, replies: Mapping[str, Reply] | None = None) -> int:
    args = arguments(agency).parse_args()
    agency = agency or args.agency
    contracts = Contracts.load(args.contracts, agency)
    options = Options(args.service_time, args.fault, max(1, args.fault_every), args.late_by)
    system = AgencySystem(
        contracts,
        client_settings(args.bootstrap, args.client_properties),
        options,
        replies,
        args.group,
    )
    signal.signal(signal.SIGTERM, system.stop)
    signal.signal(signal.SIGINT, system.stop)
    print(
        f"{agency}: serving {', '.join(contracts.requests)}"
        + (f" (fault: {args.fault} every {options.fault_every})" if args.fault else ""),
        file=sys.stderr,
        flush=True,
    )
    system.serve()
    print(json.dumps({"agency": agency, "fault": args.fault, **system.stats}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
