"""A schema change judged against the released version, field by field.

For each topic: is the change backward compatible (consumers on the new schema read data the
released one wrote), forward compatible (consumers still on the released schema read data the
new one writes), both (full), or neither; which fields say so, by name; and whether the topic
needs a new version.

govstream's topics have producers and consumers in different agencies, deployed on their own
schedules, and a topic keeps messages of both versions while they roll out. So a change may go
out on the same topic only when it is fully compatible; anything less needs the next topic
version (`….v2`), which consumers move to when they are ready.

The reference library's checker decides each direction for the whole schema. Its messages
merge problems and their places (`/fields/6/type` for a problem in field 3), so each field's
change is also checked on its own, with the rest of the schema as released, which names the
field exactly.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from govstream.contracts.catalog import SCHEMA_PACKAGE, Catalog
from govstream.contracts.codec import canonical_form, fingerprint
from govstream.contracts.compatibility import check
from govstream.contracts.lock import Released, ReleasedSchema, full_name, released_from_catalog

Schema = dict[str, Any]
Rebuild = Callable[[Any], Schema]
"""The released schema with one place (a field's type) replaced by the given type."""

_VERSION = re.compile(r"^(?P<base>.*)\.v(?P<number>\d+)$")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field's change and what it does to each direction."""

    field: str
    """`company_name`; nested fields are dotted (`applicant.phone`), array items `items[]`."""
    change: str
    backward: bool
    forward: bool
    why: str = ""

    @property
    def compatibility(self) -> str:
        return _level(self.backward, self.forward)


@dataclass(frozen=True, slots=True)
class TopicCheck:
    topic: str
    schema_file: str
    status: str
    """`unchanged`, `changed` (compatible in both directions), `breaking` (needs a new topic
    version), `new`, `new version` (of a released topic), or `retired` (released, gone)."""
    backward: bool = True
    forward: bool = True
    fields: list[FieldChange] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    """What the whole-schema check found that no field explains (a renamed record, say)."""
    released_fingerprint: str | None = None
    fingerprint: str | None = None
    next_version: str | None = None
    replaces: str | None = None

    @property
    def compatibility(self) -> str:
        return _level(self.backward, self.forward)

    @property
    def needs_new_version(self) -> bool:
        return self.status == "breaking"


def _level(backward: bool, forward: bool) -> str:
    return {
        (True, True): "full",
        (True, False): "backward only",
        (False, True): "forward only",
        (False, False): "none",
    }[backward, forward]


def next_topic_version(topic: str) -> str:
    """`f03.x.v1` → `f03.x.v2`; a topic without a version gets `.v2`."""
    match = _VERSION.match(topic)
    if match is None:
        return f"{topic}.v2"
    return f"{match['base']}.v{int(match['number']) + 1}"


def _predecessors(topic: str) -> Iterator[str]:
    match = _VERSION.match(topic)
    if match is not None:
        for number in range(int(match["number"]) - 1, 0, -1):
            yield f"{match['base']}.v{number}"


# -- fields -------------------------------------------------------------------------------------


def _type_text(avro_type: Any) -> str:
    if isinstance(avro_type, str):
        return avro_type
    if isinstance(avro_type, list):
        return " | ".join(_type_text(branch) for branch in avro_type)
    if isinstance(avro_type, dict):
        kind = avro_type.get("type")
        if avro_type.get("logicalType"):
            return f"{avro_type['logicalType']} ({kind})"
        if kind == "array":
            return f"array<{_type_text(avro_type.get('items'))}>"
        if kind == "map":
            return f"map<{_type_text(avro_type.get('values'))}>"
        if kind == "enum":
            return f"enum {avro_type.get('name')} {{{', '.join(avro_type.get('symbols', []))}}}"
        return str(avro_type.get("name") or kind)
    return str(avro_type)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(_without_docs(a), sort_keys=True) == json.dumps(
        _without_docs(b), sort_keys=True
    )


def _without_docs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_docs(v) for k, v in value.items() if k != "doc"}
    if isinstance(value, list):
        return [_without_docs(v) for v in value]
    return value


def _is_record(avro_type: Any) -> bool:
    return isinstance(avro_type, dict) and avro_type.get("type") in ("record", "error")


_PLACE = re.compile(r"\s*\([^();]*; at [^()]*\)")
"""The checker's `(type_mismatch; at /fields/6/type)`: merged across problems, so not shown
where a field is named."""


def _readable(reader: Schema, writer: Schema, *, places: bool = True) -> tuple[bool, str]:
    result = check(reader, writer)
    messages = result.messages if places else [_PLACE.sub("", m) for m in result.messages]
    return result.compatible, "; ".join(messages)


def _type_change(
    name: str, old_type: Any, new_type: Any, released: Schema, rebuild: Rebuild
) -> list[FieldChange]:
    """A field whose type changed: nested records are followed field by field; any other type
    is judged whole, in the released schema with only this type replaced."""
    if _is_record(old_type) and _is_record(new_type) and old_type["name"] == new_type["name"]:
        return _record_changes(old_type, new_type, released, rebuild, f"{name}.")
    for kind, key in (("array", "items"), ("map", "values")):
        if (
            isinstance(old_type, dict)
            and isinstance(new_type, dict)
            and old_type.get("type") == new_type.get("type") == kind
        ):

            def inner(replacement: Any, key: str = key) -> Schema:
                return rebuild({**new_type, key: replacement})

            suffix = "[]" if kind == "array" else "{}"
            return _type_change(f"{name}{suffix}", old_type[key], new_type[key], released, inner)
    try:
        changed = rebuild(new_type)
        backward, why_back = _readable(changed, released, places=False)
        forward, why_fwd = _readable(released, changed, places=False)
    except Exception as error:  # the type alone may not parse (a name defined elsewhere)
        return [FieldChange(name, "type changed", True, True, f"not checked alone: {error}")]
    why = []
    if not backward:
        why.append(f"a consumer on the new schema cannot read released data: {why_back}")
    if not forward:
        why.append(f"a consumer on the released schema cannot read new data: {why_fwd}")
    change = f"type {_type_text(old_type)} → {_type_text(new_type)}"
    return [FieldChange(name, change, backward, forward, "; ".join(why))]


def _record_changes(
    old: Schema, new: Schema, released: Schema, rebuild_record: Rebuild, prefix: str = ""
) -> list[FieldChange]:
    """Field by field, by name (aliases followed), in the new schema's order, then removals."""
    old_fields = {f["name"]: (index, f) for index, f in enumerate(old.get("fields", []))}
    changes: list[FieldChange] = []
    matched: set[str] = set()
    for new_field in new.get("fields", []):
        name = new_field["name"]
        known = [name, *new_field.get("aliases", [])]
        source = next((n for n in known if n in old_fields), None)
        label = prefix + name
        if source is None:
            has_default = "default" in new_field
            changes.append(
                FieldChange(
                    label,
                    "added" + (" with a default" if has_default else " without a default"),
                    backward=has_default,
                    forward=True,
                    why=""
                    if has_default
                    else "a consumer on the new schema finds no value for it in released "
                    "data: give it a default",
                )
            )
            continue
        matched.add(source)
        index, old_field = old_fields[source]
        if source != name:
            had_default = "default" in old_field
            changes.append(
                FieldChange(
                    label,
                    f"renamed from {prefix}{source} (alias)",
                    backward=True,
                    forward=had_default,
                    why=""
                    if had_default
                    else f"a consumer on the released schema looks for {source}, which new "
                    "data no longer carries under that name",
                )
            )
        if not _same(old_field["type"], new_field["type"]):

            def rebuild(replacement: Any, index: int = index) -> Schema:
                record = copy.deepcopy(old)
                record["fields"][index]["type"] = replacement
                return rebuild_record(record)

            changes += _type_change(label, old_field["type"], new_field["type"], released, rebuild)
        old_default, new_default = old_field.get("default", ...), new_field.get("default", ...)
        if old_default != new_default:
            # A default only fills a field the writer lacks; between these two versions both
            # have it, so no direction breaks (it matters to the versions that add or drop it).
            what = (
                "default removed"
                if new_default is ...
                else "default added"
                if old_default is ...
                else f"default {json.dumps(old_default)} → {json.dumps(new_default)}"
            )
            changes.append(FieldChange(label, what, backward=True, forward=True))
    for name, (_, old_field) in old_fields.items():
        if name in matched:
            continue
        had_default = "default" in old_field
        changes.append(
            FieldChange(
                prefix + name,
                "removed",
                backward=True,
                forward=had_default,
                why=""
                if had_default
                else "a consumer on the released schema needs it and it has no default there",
            )
        )
    return changes


def field_changes(released: Schema, current: Schema) -> list[FieldChange]:
    """Every field that differs between the released and the current record, by name."""
    if not (_is_record(released) and _is_record(current)):
        return []
    return _record_changes(released, current, released, lambda record: record)


# -- topics -------------------------------------------------------------------------------------


def check_topic(topic: str, released: ReleasedSchema, current: ReleasedSchema) -> TopicCheck:
    if released.definition == current.definition:
        return TopicCheck(
            topic,
            current.schema_file,
            "unchanged",
            released_fingerprint=released.fingerprint,
            fingerprint=current.fingerprint,
        )
    backward, why_back = _readable(current.definition, released.definition)
    forward, why_fwd = _readable(released.definition, current.definition)
    fields = field_changes(released.definition, current.definition)
    messages = []
    explained_back = any(not f.backward for f in fields)
    explained_fwd = any(not f.forward for f in fields)
    if not backward and not explained_back:
        messages.append(f"backward: {why_back}")
    if not forward and not explained_fwd:
        messages.append(f"forward: {why_fwd}")
    if released.name != current.name:
        messages.append(f"the record is renamed: {released.name} → {current.name}")
    breaking = not (backward and forward)
    return TopicCheck(
        topic,
        current.schema_file,
        "breaking" if breaking else "changed",
        backward=backward,
        forward=forward,
        fields=fields,
        messages=messages,
        released_fingerprint=released.fingerprint,
        fingerprint=current.fingerprint,
        next_version=next_topic_version(topic) if breaking else None,
    )


def check_catalog(catalog: Catalog, released: Released) -> list[TopicCheck]:
    """Every current topic against its released version, then the released topics now gone."""
    current = released_from_catalog(catalog)
    checks = []
    for topic, schema_file in current.topics.items():
        schema = current.schemas[schema_file]
        if topic in released.topics:
            checks.append(check_topic(topic, released.schema_of(topic), schema))
            continue
        before = next((t for t in _predecessors(topic) if t in released.topics), None)
        checks.append(
            TopicCheck(
                topic,
                schema_file,
                "new version" if before else "new",
                fingerprint=schema.fingerprint,
                replaces=before,
            )
        )
    successors = {c.replaces: c.topic for c in checks if c.replaces}
    for topic, schema_file in released.topics.items():
        if topic not in current.topics:
            after = successors.get(topic)
            checks.append(
                TopicCheck(
                    topic,
                    schema_file,
                    "retired",
                    released_fingerprint=released.schemas[schema_file].fingerprint,
                    messages=[f"replaced by {after}"]
                    if after
                    else ["released, and no longer in the catalog: its consumers get nothing more"],
                )
            )
    return checks


# -- a git ref as the release -------------------------------------------------------------------


class RefError(ValueError):
    """The git ref cannot be read (not a checkout, unknown ref)."""


def _git(directory: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise RefError("git is not installed") from None
    if done.returncode != 0:
        raise RefError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def released_at_ref(catalog: Catalog, ref: str, schemas_dir: Path | None = None) -> Released:
    """The current catalog's topics with their schema files as they were at `ref`; a file
    that did not exist there makes its topics new."""
    directory = schemas_dir or Path(str(files(SCHEMA_PACKAGE)))
    try:
        _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except RefError:
        raise RefError(f"{ref!r} is not a commit in the git checkout at {directory}") from None
    prefix = _git(directory, "rev-parse", "--show-prefix").strip()
    top = Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    schemas: dict[str, ReleasedSchema] = {}
    topics: dict[str, str] = {}
    current = released_from_catalog(catalog)
    missing: set[str] = set()
    for topic, schema_file in current.topics.items():
        if schema_file not in schemas and schema_file not in missing:
            try:
                text = _git(top, "show", f"{ref}:{prefix}{schema_file}")
            except RefError:
                missing.add(schema_file)
                continue
            definition = json.loads(text)
            schemas[schema_file] = ReleasedSchema(
                schema_file=schema_file,
                name=full_name(definition),
                fingerprint=fingerprint(definition).hex(),
                canonical=canonical_form(definition),
                definition=definition,
            )
        if schema_file in schemas:
            topics[topic] = schema_file
    return Released(topics=topics, schemas=schemas)
