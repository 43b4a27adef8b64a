"""An AsyncAPI 3.0 document of every topic, for other tools: code generators, catalogues, docs.

Each topic is a channel (its address is the topic name) with one message: the Avro payload as
the contract file holds it, the key (the case id), and the headers every message carries, the
CloudEvents attributes in binary content mode plus govstream's trace marks. Every producer has
a `send` operation on the channel and every consumer a `receive`, so the document says who
writes and who reads each topic, as the catalog does, and as which principal each connects to
a secure cluster. An outcome topic has one sender, the agency (or the platform's wait timer)
whose answers it carries.

A request topic says which step of which flow it asks for, and the agency's `receive`
operation on it names, as its `reply`, the outcome channel the answer goes to and the reply
fields later steps read. Given the agencies a run treats as external (`--external`), their
operations are marked `x-govstream-external`: what a system outside govstream must implement,
with the rules every answer is checked against (`ANSWER_RULES`).
"""

from __future__ import annotations

import re
from typing import Any

from govstream import __version__
from govstream.contracts.access import principal_of
from govstream.contracts.catalog import (
    OUTCOME_SCHEMA,
    PROGRESS_SCHEMA,
    Catalog,
    TopicSpec,
)
from govstream.engines.kafka import headers as h
from processors import FLOWS
from processors.orchestrator import REFUSALS

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
LOCAL_BOOTSTRAP = "127.0.0.1:19092"
"""Where `govstream kafka up` serves by default."""

CLOUD_EVENTS = {
    "ce_specversion": "CloudEvents version, 1.0",
    "ce_id": "the event's id: the request id, or the case id for a trigger",
    "ce_source": "who sent it: the source agency, the flow's orchestrator or the agency pool",
    "ce_type": "the event type: the topic it was written to",
    "ce_subject": "the case id",
    "ce_time": "when it was sent (RFC 3339)",
    "content-type": "application/avro: the value is Avro single-object encoded",
}
TRACE = {
    h.RUN: "the run the message belongs to",
    h.T0: "wall time (epoch seconds) at business second 0 of the run",
    h.SPEEDUP: "business seconds per wall second",
    h.INTENDED: "the trigger's intended emit time (epoch seconds): latency counts from it",
    h.EMITTED: "when the generator emitted the trigger",
    h.FLOW: "the flow, e.g. F03",
    h.STEP: "the step the request or outcome is for",
    h.ORCH_IN: "when the orchestrator took the message that made this step due",
    h.ORCH_OUT: "when the orchestrator sent this step's request",
    h.AGENCY_WALL: "wall seconds the case has spent at agencies and waits so far",
    h.AGENCY_BUSINESS: "business seconds those stays at agencies and waits stood for",
    h.EXCHANGE: "business seconds of the exchange's drawn delays along the case's path so far",
    h.POOL: "the pool of clerks that acted (an outcome)",
    h.DELIVERED: "when the agency received the request (an outcome)",
    h.ACTED: "when the agency sent its answer (an outcome)",
    h.B_DELIVERED: "business second the request reached its pool (an outcome)",
    h.B_TAKEN: "business second a clerk took it up (an outcome)",
    h.B_STARTED: "business second the work began (an outcome)",
    h.B_DONE: "business second the work was done (an outcome)",
    h.WORK: "business seconds of office time worked (an outcome)",
    h.UNCERTAIN: "business seconds its place in the pool's queue may be off (an outcome)",
    h.RECORDED: "when the orchestrator took the trigger or answer (a progress record)",
    h.WARM_UP: "present on start-up traffic, which agencies answer at once",
}
DEAD_LETTER_HEADERS = {
    h.DLQ_REASON: "why: not-single-object, unknown-schema, malformed-body, unexpected-schema, "
    f"invalid-value, processing-failed, {h.MISSING_TRACE} (an external agency's answer "
    "without its request's trace), or an answer the orchestrator refused: " + ", ".join(REFUSALS),
    h.DLQ_ERROR: "the error, for people",
    h.DLQ_TOPIC: "the topic the message came from",
    h.DLQ_PARTITION: "its partition there",
    h.DLQ_OFFSET: "its offset there",
}

ANSWER_RULES = (
    "Read every request topic the agency receives (as its own principal on a secure cluster, "
    "in a consumer group whose id starts with `govstream.<agency>.`). Answer each request "
    "once, on the agency's outcome channel of the request's flow (the operation's `reply`), "
    "with a StepOutcome in Avro single-object encoding (C3 01, the writer schema's 8-byte "
    "CRC-64-AVRO fingerprint, the Avro binary body), keyed by the request's key (the case "
    "id). The outcome names the request's `case_id` and `request_id`, its flow, the step "
    f"(the request's `{h.STEP}` header), the agency's own id, COMPLETED or REJECTED, and, "
    "for a completed answer to a step with reply fields, every one of them in `reply`. "
    f"The answer carries back every `{h.PREFIX}` header of its request unchanged (at least "
    f"{', '.join(h.ECHOED_REQUIRED)}); it may add `{h.DELIVERED}` and `{h.ACTED}` (epoch "
    "seconds on its own clock when it took the request and sent the answer). Each answer is "
    "checked: an answer that does not decode as the contract, lacks the trace or the reply "
    "fields, answers a request not sent to this agency, or repeats one already recorded is "
    "dead-lettered or dropped with its reason, and the case waits on; its time is judged "
    "against the scenario's targets. A request with a `gs_warm_up` header is start-up "
    "traffic: answer it at once."
)
"""What a system outside govstream must do with each request (README, Testing your agency's
system)."""

_ID = re.compile(r"[^\w.\-]")


def _id(text: str) -> str:
    """A component or operation key: letters, digits, `.`, `-` and `_` only."""
    return _ID.sub("_", text)


def _headers(described: dict[str, str], required: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            name: {"type": "string", "description": text} for name, text in described.items()
        },
        "required": list(required),
    }


def _reply(outcome_topic: str) -> dict[str, Any]:
    """An AsyncAPI reply: the outcome channel the answer to a request goes to."""
    channel_id, message_id = _id(outcome_topic), _id(outcome_topic + ".message")
    return {
        "channel": {"$ref": f"#/channels/{channel_id}"},
        "messages": [{"$ref": f"#/channels/{channel_id}/messages/{message_id}"}],
    }


def _answers_on(spec: TopicSpec, party: str) -> bool:
    """Whether `spec` is the outcome topic `party` writes its answers on."""
    return spec.schema_file == OUTCOME_SCHEMA and spec.producers == (party,)


def _description(spec: TopicSpec) -> str:
    writers, readers = ", ".join(spec.producers), ", ".join(spec.consumers)
    if spec.schema_file == OUTCOME_SCHEMA:
        (answerer,) = spec.producers
        whose = (
            f"the ends of {spec.flow}'s waits outside any agency, as the platform's wait timer "
            f"({answerer}) answers them"
            if principal_of(answerer) != answerer
            else f"answers to the steps of {spec.flow} that {answerer} acts on"
        )
        return (
            f"{spec.flow}: {whose}. Written by {answerer} only: on a secure "
            f"cluster the broker's ACLs let no other agency write it, and on any cluster the "
            f"orchestrator refuses, and dead-letters, an answer whose agency does not own the "
            f"step or that answers no request it sent ({', '.join(REFUSALS)}). Read by "
            f"{readers} only."
        )
    if spec.schema_file == PROGRESS_SCHEMA:
        return (
            f"{spec.flow}: the platform's record of every transition of the flow's cases "
            f"(opened, an answer recorded, a duplicate dropped, an answer refused), from which "
            f"a run is measured. Written by {writers}; read by {readers} only."
        )
    return (
        f"{spec.flow}: written by {writers}; read by {readers} only (the catalog is the access "
        "list)."
    )


def _message(catalog: Catalog, spec: TopicSpec) -> dict[str, Any]:
    schema = catalog.schema_json(spec.name)
    full_name = f"{schema.get('namespace', '')}.{schema['name']}".lstrip(".")
    required: tuple[str, ...] = ("ce_specversion", "ce_id", "ce_source", "ce_type")
    if spec.schema_file == OUTCOME_SCHEMA:
        required = h.ECHOED_REQUIRED  # an answer carries back its request's trace
    return {
        "name": full_name,
        "title": schema["name"],
        "summary": str(schema.get("doc") or f"{full_name} on {spec.name}"),
        "contentType": "application/avro",
        "headers": _headers({**CLOUD_EVENTS, **TRACE}, required),
        "payload": {"schemaFormat": AVRO_FORMAT, "schema": schema},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"the {spec.key}"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-govstream-schema-file": f"schemas/{spec.schema_file}",
        "x-govstream-encoding": "Avro single-object encoding: C3 01, the writer schema's "
        "8-byte CRC-64-AVRO fingerprint, the Avro binary body",
    }


def requested_steps(catalog: Catalog) -> dict[str, list[dict[str, Any]]]:
    """Each request topic -> the steps it asks for: flow, step, agency, the reply fields a
    completed answer must carry, and the topic the answer goes to."""
    found: dict[str, list[dict[str, Any]]] = {}
    for spec in catalog.topics.values():
        flow = FLOWS.get(spec.flow)
        if flow is None:
            continue
        for step in flow.steps:
            if step.topic != spec.name or step.agency is None or step.published is not None:
                continue
            found.setdefault(spec.name, []).append(
                {
                    "flow": flow.id,
                    "step": step.id,
                    "agency": step.agency,
                    "reply_fields": list(step.reply_fields),
                    "outcome_topic": flow.outcome_topic(step.agency),
                }
            )
    return found


def asyncapi_document(catalog: Catalog, external: tuple[str, ...] = ()) -> dict[str, Any]:
    """The document; `external` are the agencies whose operations a system outside govstream
    must implement, marked so."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    steps = requested_steps(catalog)
    for spec in catalog.topics.values():
        channel_id, message_id = _id(spec.name), _id(spec.name + ".message")
        messages[message_id] = _message(catalog, spec)
        channels[channel_id] = {
            "address": spec.name,
            "title": spec.name,
            "description": _description(spec),
            "messages": {message_id: {"$ref": f"#/components/messages/{message_id}"}},
            "bindings": {
                "kafka": {
                    "topic": spec.name,
                    "partitions": spec.partitions,
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
            "x-govstream-flow": spec.flow,
        }
        if spec.name in steps:
            channels[channel_id]["x-govstream-steps"] = steps[spec.name]
        reference = [{"$ref": f"#/channels/{channel_id}/messages/{message_id}"}]
        for action, parties in (("send", spec.producers), ("receive", spec.consumers)):
            for party in parties:
                verb = "writes" if action == "send" else "reads"
                operation: dict[str, Any] = {
                    "action": action,
                    "channel": {"$ref": f"#/channels/{channel_id}"},
                    "messages": reference,
                    "summary": f"{party} {verb} {spec.name}",
                    "x-govstream-party": party,
                    "x-govstream-principal": principal_of(party),
                }
                answered = [s for s in steps.get(spec.name, ()) if s["agency"] == party]
                if action == "receive" and answered:
                    operation["reply"] = _reply(answered[0]["outcome_topic"])
                    operation["x-govstream-reply-fields"] = sorted(
                        {f for s in answered for f in s["reply_fields"]}
                    )
                if party in external and (answered or _answers_on(spec, party)):
                    operation["x-govstream-external"] = True
                    operation["description"] = ANSWER_RULES
                operations[_id(f"{party}.{action}.{spec.name}")] = operation
    dead = catalog.dead_letter_topic
    dead_id = _id(dead)
    messages[_id(dead + ".message")] = {
        "name": "dead-letter",
        "title": "A message that could not be used",
        "summary": "The original bytes, unchanged, with the reason in the headers.",
        "contentType": "application/octet-stream",
        "headers": _headers({**DEAD_LETTER_HEADERS, **CLOUD_EVENTS, **TRACE}, (h.DLQ_REASON,)),
        "payload": {"type": "string", "format": "binary"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "the original message's key"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    channels[dead_id] = {
        "address": dead,
        "title": dead,
        "description": "Anything that cannot be decoded or handled, with the reason.",
        "messages": {
            _id(dead + ".message"): {"$ref": f"#/components/messages/{_id(dead + '.message')}"}
        },
        "bindings": {
            "kafka": {
                "topic": dead,
                "partitions": catalog.dead_letter_partitions,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    info_extra = {"x-govstream-external": list(external)} if external else {}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "govstream: the Yuzhong 2021 plan's data-sharing topics",
            "version": __version__,
            "description": "Every topic of every implemented flow: its Avro contract, who "
            "writes and who reads it, its key and headers. Generated by "
            "`govstream contracts asyncapi` from the topic catalog."
            + (
                f" Operations marked x-govstream-external are what the systems of "
                f"{', '.join(external)} must implement: {ANSWER_RULES}"
                if external
                else ""
            ),
            **info_extra,
        },
        "defaultContentType": "application/avro",
        "servers": {
            "local": {
                "host": LOCAL_BOOTSTRAP,
                "protocol": "kafka",
                "description": "the cluster `govstream kafka up` starts on this machine",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
