"""The scenario file's JSON Schema: generated from the model, shipped beside the scenarios, and
true to them: every shipped scenario is valid, and what the model refuses on its own fields the
schema refuses too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cli_runner import ROOT, govstream

from govstream.scenario.json_schema import SCHEMA_FILE, scenario_json_schema

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


class TextDates(yaml.SafeLoader):
    """YAML as an editor's schema check reads it: a timestamp stays text."""


TextDates.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=TextDates)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_shipped_schema_file_is_current() -> None:
    shipped = json.loads((ROOT / "scenarios" / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert shipped == scenario_json_schema(), "run: govstream scenario-schema --out " + (
        f"scenarios/{SCHEMA_FILE}"
    )
    printed = govstream("scenario-schema")
    assert printed.returncode == 0
    assert json.loads(printed.stdout) == shipped


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_is_valid(
    validator: jsonschema.Draft202012Validator, path: Path
) -> None:
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(load(path))]
    assert errors == []


def _outage() -> dict[str, Any]:
    return load(ROOT / "scenarios" / "deregistration-bank-outage.yaml")


def _misspelt(data: dict[str, Any]) -> None:
    data["agencies"]["bank"]["severs"] = 6


def _both_forms(data: dict[str, Any]) -> None:
    data["flows"] = {"F03": {"arrivals": data["arrivals"]}}


def _unknown_flow(data: dict[str, Any]) -> None:
    data["flow"] = "F99"


def _no_flow(data: dict[str, Any]) -> None:
    del data["flow"]


def _bad_stat(data: dict[str, Any]) -> None:
    data["targets"][0]["stat"] = "p95"


def _bad_calendar(data: dict[str, Any]) -> None:
    data["agencies"]["police"]["calendar"] = "weekdays"


def _bad_distribution(data: dict[str, Any]) -> None:
    data["transport"]["latency"] = {"dist": "gamma", "shape": 2}


@pytest.mark.parametrize(
    "edit",
    [
        _misspelt,
        _both_forms,
        _unknown_flow,
        _no_flow,
        _bad_stat,
        _bad_calendar,
        _bad_distribution,
    ],
)
def test_what_the_model_refuses_the_schema_refuses(
    validator: jsonschema.Draft202012Validator, edit: Any, tmp_path: Path
) -> None:
    data = _outage()
    edit(data)
    assert list(validator.iter_errors(data)), edit.__name__
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert govstream("validate", path).returncode == 2  # and so does the model


def test_a_target_may_name_its_step_as_recipient(
    validator: jsonschema.Draft202012Validator,
) -> None:
    data = _outage()
    assert any("recipient" in target for target in data["targets"])
    assert not list(validator.iter_errors(data))
