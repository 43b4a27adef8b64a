"""The Avro single-object codec, registered with faust once per topic contract.

faust picks a codec by name for each topic; a per-topic codec lets the outbound topics encode
plain dicts with exactly their contract's schema (and refuse anything else).
"""

from __future__ import annotations

from typing import Any

from faust.serializers import codecs

from govstream.contracts.codec import AvroCodec


class AvroTopicCodec(codecs.Codec):
    def __init__(self, codec: AvroCodec, topic: str) -> None:
        super().__init__(topic=topic)
        self.avro = codec
        self.topic = topic

    def _dumps(self, obj: Any) -> bytes:
        return self.avro.encode(self.topic, obj)

    def _loads(self, s: bytes) -> Any:
        return self.avro.decode(s, expected_topic=self.topic).value


def register_topic_codecs(codec: AvroCodec, topics: list[str]) -> dict[str, str]:
    """Registers `avro:<topic>` for each topic; returns topic → codec name for faust topics."""
    names = {}
    for topic in topics:
        name = f"avro:{topic}"
        codecs.register(name, AvroTopicCodec(codec, topic))
        names[topic] = name
    return names
