"""Reading a scenario file: YAML, `--set` overrides, validation, and errors a person can act on."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from govstream.scenario.encoding import NotText, decode_scenario
from govstream.scenario.model import Scenario, resolve_paths


class ScenarioError(Exception):
    """A scenario that cannot be used; the message names the file, the field and what is allowed."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{source}: invalid scenario\n{lines}")


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ScenarioError(source, [f"cannot read the file: {error.strerror or error}"]) from None
    try:
        text = decode_scenario(data)
    except NotText as error:
        raise ScenarioError(source, [str(error)]) from None
    return parse_scenario(text, source, overrides, base=Path(path).parent)


def parse_scenario(
    text: str,
    source: str = "<scenario>",
    overrides: Iterable[str] = (),
    *,
    base: Path | None = None,
) -> Scenario:
    """`base` is the directory files the scenario names are relative to (its own; default the
    current directory)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(source, [f"not valid YAML{where}: {problem}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError(source, ["the file must hold a mapping of settings (name, flow, ...)"])
    for override in overrides:
        apply_override(data, _one_flow_path(data, override), source)
    resolve_paths(data, base or Path.cwd())
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(source, describe_errors(error, data)) from None


FLOW_FIELDS = ("arrivals", "population", "steps")


def _one_flow_path(data: dict[str, Any], override: str) -> str:
    """A scenario of one flow may be written and overridden either way: `arrivals.rate=...`
    or `flows.F03.arrivals.rate=...` reach the same field."""
    path = override.partition("=")[0].strip()
    head = path.split(".", 1)[0]
    if "flow" in data and head == "flows":
        flow_id = str(data.pop("flow")).upper()
        data["flows"] = {flow_id: {key: data.pop(key) for key in FLOW_FIELDS if key in data}}
    elif head in FLOW_FIELDS and "flow" not in data:
        flows = data.get("flows")
        if isinstance(flows, dict) and len(flows) == 1:
            return f"flows.{next(iter(flows))}.{override.strip()}"
    return override


def apply_override(data: dict[str, Any], override: str, source: str) -> None:
    """`--set agencies.bank.servers=4`: the value is read as YAML, so numbers stay numbers."""
    path, sep, raw = override.partition("=")
    if not sep or not path.strip():
        raise ScenarioError(source, [f"--set {override!r}: write it as path.to.field=value"])
    keys = path.strip().split(".")
    node: Any = data
    for key in keys[:-1]:
        if isinstance(node, list):
            node = node[_index(key, node, override, source)]
            continue
        node = node.setdefault(key, {})
        if not isinstance(node, dict | list):
            raise ScenarioError(source, [f"--set {override!r}: {key!r} holds a value, not fields"])
    value = _override_value(raw, override, source)
    if isinstance(node, list):
        node[_index(keys[-1], node, override, source)] = value
    else:
        node[keys[-1]] = value


def _override_value(raw: str, override: str, source: str) -> Any:
    """The value of a `--set`, read as YAML; one that YAML cannot read is the argument's
    mistake, said in one line with where it went wrong, not a parser's multi-line report."""
    if not raw.strip():
        return ""
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = ""
        if mark is not None:
            where = f" at column {mark.column + 1}"
            if "\n" in raw.strip():
                where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context = getattr(error, "context", None)
        said = f"{context}: {problem}" if context else problem
        raise ScenarioError(
            source,
            [f"--set {override!r}: the value {raw.strip()!r} is not valid YAML{where} ({said})"],
        ) from None


def _index(key: str, items: list[Any], override: str, source: str) -> int:
    if not key.isdigit() or int(key) >= len(items):
        raise ScenarioError(
            source, [f"--set {override!r}: {key!r} is not an index below {len(items)}"]
        )
    return int(key)


def describe_errors(error: ValidationError, data: Mapping[str, Any]) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        location = item["loc"]
        path = _dotted(location)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            allowed = _allowed_fields(location[:-1], data)
            hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
            problems.append(f"{path}: unknown field{hint}")
        elif item["type"] == "missing":
            problems.append(f"{path}: required field is missing")
        elif item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            problems.append(_describe_tag(path, item, location))
        elif path:
            value = item.get("input")
            shown = f" (got {_shorten(repr(value))})" if _is_scalar(value) else ""
            problems.append(f"{path}: {message}{shown}")
        else:
            problems.append(message)
    return problems


def _describe_tag(path: str, item: Any, location: tuple[int | str, ...]) -> str:
    """Name the tag field itself (`service_time.dist`), the value given and the kinds that exist.

    Pydantic reports a bad discriminator at the union's location, in its own wording; a person
    editing the file needs the key they typed and the list to choose from.
    """
    ctx = item.get("ctx") or {}
    field = str(ctx.get("discriminator", "dist")).strip("'\"")
    allowed = ", ".join(_union_tags(location, field))
    if item["type"] == "union_tag_not_found":
        return f"{path}.{field}: required field is missing; allowed: {allowed}"
    return f"{path}.{field}: unknown kind {ctx.get('tag')!r}; allowed: {allowed}"


def _union_tags(location: tuple[int | str, ...], field: str) -> list[str]:
    """The tag values a discriminated union at `location` accepts, read from the model."""
    model: Any = Scenario
    for part in location:
        model = _step(model, part)
        if model is None:
            return []
    tags: list[str] = []
    for option in typing.get_args(_unwrap(model)):
        annotation = getattr(_unwrap(option), "model_fields", {}).get(field)
        if annotation is not None:
            tags.extend(str(tag) for tag in typing.get_args(annotation.annotation))
    return tags


def _dotted(location: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in {"constant", "exponential", "lognormal", "uniform", "empirical"} and parts:
            continue  # pydantic names the union member; the file does not
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text)} characters)"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _allowed_fields(location: tuple[int | str, ...], data: Mapping[str, Any]) -> list[str]:
    """Walk the model along the error's location to list the fields that would have been valid."""
    model: Any = Scenario
    node: Any = data
    for part in location:
        node = _child(node, part)
        model = _step(model, part)
        if model is None:
            return []
    model = _resolve_union(model, node)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _child(node: Any, part: int | str) -> Any:
    """The value at `part`; a union member's name (pydantic puts `exponential` in the location)
    is not a key of the file, so the node that carries the tag stays current."""
    if isinstance(node, Mapping):
        return node.get(part, node)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _step(model: Any, part: int | str) -> Any:
    model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        field = model.model_fields.get(str(part))
        return field.annotation if field else None
    origin = typing.get_origin(model)
    args = typing.get_args(model)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    if origin in (typing.Union, types.UnionType):
        for option in args:
            is_model = isinstance(option, type) and issubclass(option, BaseModel)
            if is_model and str(part) in option.model_fields:
                return option
            if str(part).lower() == getattr(option, "__name__", "").lower():
                return option
    return None


def _unwrap(model: Any) -> Any:
    """The type inside `Annotated[...]` and inside an optional `X | None`."""
    while True:
        origin = typing.get_origin(model)
        if origin is typing.Annotated:
            model = typing.get_args(model)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            present = [arg for arg in typing.get_args(model) if arg is not type(None)]
            if len(present) == 1:
                model = present[0]
                continue
        return model


def _resolve_union(model: Any, node: Any) -> Any:
    model = _unwrap(model)
    args = typing.get_args(model)
    if not args or not isinstance(node, Mapping):
        return model
    tag = node.get("dist")
    for option in args:
        option = _unwrap(option)
        field = getattr(option, "model_fields", {}).get("dist")
        if field is not None and tag in typing.get_args(field.annotation):
            return option
    return model
