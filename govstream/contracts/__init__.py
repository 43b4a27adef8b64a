"""The contracts of the wire: topic catalog, single-object Avro codec, schema evolution checks."""

from govstream.contracts.catalog import (
    Catalog,
    CatalogError,
    TopicSpec,
    UnknownTopicError,
    load_catalog,
)
from govstream.contracts.codec import (
    AvroCodec,
    CodecError,
    DecodedMessage,
    EncodeError,
    MalformedBodyError,
    NotSingleObjectError,
    SchemaMismatchError,
    UnknownFingerprintError,
    fingerprint,
)
from govstream.contracts.compatibility import (
    CompatibilityResult,
    check,
    check_backward,
    check_forward,
    check_full,
)

__all__ = [
    "AvroCodec",
    "Catalog",
    "CatalogError",
    "CodecError",
    "CompatibilityResult",
    "DecodedMessage",
    "EncodeError",
    "MalformedBodyError",
    "NotSingleObjectError",
    "SchemaMismatchError",
    "TopicSpec",
    "UnknownFingerprintError",
    "UnknownTopicError",
    "check",
    "check_backward",
    "check_forward",
    "check_full",
    "fingerprint",
    "load_catalog",
]
