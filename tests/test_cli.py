"""The `govstream` command as a user meets it: help, the plan's flows, the contracts, a run.

Expected content comes from outside the code under test where it can: the plan's eighteen
flows, the catalog file and the .avsc files read directly, the scenario file's own targets.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cli_runner import ENV, ROOT, govstream

from govstream.cli import build_parser, main
from govstream.result import RunResult

SCHEMAS = ROOT / "schemas"
F10_SCENARIO = ROOT / "scenarios" / "property-transfer-utilities.yaml"
PLAN_FLOW_IDS = [f"F{n:02d}" for n in range(1, 19)]
"""The plan's information-sharing flows, F01 to F18."""
IMPLEMENTED = {"F03", "F10"}
EXIT_SLA_MISSED = 3


def catalog_topics() -> dict[str, dict[str, object]]:
    return yaml.safe_load((SCHEMAS / "catalog.yaml").read_text(encoding="utf-8"))["topics"]


def table_rows(output: str) -> list[list[str]]:
    """The cells of each row of a rich table (box-drawing separators), first lines only."""
    rows = []
    for line in output.splitlines():
        if line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
    return rows


def words(text: str) -> str:
    return " ".join(text.split())


# -- help -----------------------------------------------------------------------------------


def command_paths(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every subcommand, nested ones included, with its parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from command_paths(sub, (*prefix, name))


def test_top_level_help() -> None:
    result = govstream("--help")
    assert result.returncode == 0
    assert "usage: govstream" in result.stdout
    assert "Yuzhong" in result.stdout
    for name in ("run", "validate", "flows", "schemas"):
        assert name in result.stdout
    assert "exit codes" in result.stdout
    script = Path(sys.executable).with_name("govstream")
    if script.exists():  # the console script installed with the package
        installed = subprocess.run(
            [script, "--help"], capture_output=True, text=True, env=ENV, timeout=60
        )
        assert installed.returncode == 0 and installed.stdout == result.stdout


def test_the_core_subcommands_exist() -> None:
    names = {path[0] for path, _ in command_paths(build_parser())}
    assert {"run", "validate", "flows", "schemas"} <= names


@pytest.mark.parametrize("path", [path for path, _ in command_paths(build_parser())], ids=" ".join)
def test_every_subcommand_has_help_with_a_description(path: tuple[str, ...]) -> None:
    parser = dict(command_paths(build_parser()))[path]
    assert parser.description and parser.description.strip(), f"{path} has no description"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main([*path, "--help"])
    assert exited.value.code == 0
    assert "usage: govstream " + " ".join(path) in words(out.getvalue())
    assert words(parser.description) in words(out.getvalue())


# -- flows and schemas ----------------------------------------------------------------------


def test_flows_lists_all_eighteen_and_marks_the_implemented() -> None:
    result = govstream("flows")
    assert result.returncode == 0, result.stderr
    rows = {row[0]: row for row in table_rows(result.stdout) if row and row[0].startswith("F")}
    assert sorted(rows) == PLAN_FLOW_IDS
    implemented = {flow for flow, row in rows.items() if row[-1] == "yes"}
    assert implemented == IMPLEMENTED
    assert all(rows[flow][-1] in ("-", "") for flow in rows if flow not in IMPLEMENTED)
    assert "M5" in rows["F03"][1] and "M27" in rows["F10"][1]


def test_schemas_lists_every_catalog_topic() -> None:
    result = govstream("schemas")
    assert result.returncode == 0, result.stderr
    listed = {row[0] for row in table_rows(result.stdout) if row}
    assert set(catalog_topics()) <= listed
    dead_letter = yaml.safe_load((SCHEMAS / "catalog.yaml").read_text("utf-8"))["dead_letter"]
    assert dead_letter["topic"] in result.stdout


def test_schemas_topic_shows_its_fields() -> None:
    topic = "police.seal-cancellation-request.v1"
    schema_file = SCHEMAS / str(catalog_topics()[topic]["schema"])
    fields = [f["name"] for f in json.loads(schema_file.read_text("utf-8"))["fields"]]
    result = govstream("schemas", "--topic", topic)
    assert result.returncode == 0, result.stderr
    shown = [row[0] for row in table_rows(result.stdout) if row]
    assert shown == fields
    assert "police" in result.stdout
    assert "account_number" not in result.stdout


def test_schemas_unknown_topic_is_bad_input() -> None:
    result = govstream("schemas", "--topic", "police.no-such-topic.v1")
    assert result.returncode == 2
    assert "police.seal-cancellation-request.v1" in result.stderr, "the known topics are listed"
    assert "Traceback" not in result.stderr


def test_schemas_agency_shows_only_what_it_may_read() -> None:
    result = govstream("schemas", "--agency", "police")
    assert result.returncode == 0, result.stderr
    listed = {row[0] for row in table_rows(result.stdout) if row} & set(catalog_topics())
    assert listed == {"police.seal-cancellation-request.v1"}


# -- run ------------------------------------------------------------------------------------


def test_run_writes_result_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = govstream("run", F10_SCENARIO, "--out", out)
    assert result.returncode == 0, result.stderr
    run = RunResult.read(out / "result.json")
    scenario = yaml.safe_load(F10_SCENARIO.read_text(encoding="utf-8"))
    assert run.scenario_name == scenario["name"]
    assert run.flow.id == "F10" and run.engine.name == "sim"
    assert run.seed == scenario["seed"]
    assert run.counts.lost == 0 and run.counts.cases_started > 0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    target_rows = [line for line in summary.splitlines() if line.startswith("| ")]
    for target in scenario["targets"]:
        rows = [row for row in target_rows if row.startswith(f"| {target['id']} |")]
        assert rows, f"no SLA row for {target['id']}"
        assert all(("met" in row) or ("MISSED" in row) for row in rows)
        assert all(target["source"] in row for row in rows)
    # One verdict per target and recipient: 'all' expands to the flow's three utilities.
    assert len(run.targets) == 1 + 3
    assert "result.json" in result.stdout


def test_fail_on_sla_exits_3_when_a_target_is_missed(tmp_path: Path) -> None:
    impossible = "targets.0.within=1ms"
    failed = govstream(
        "run",
        F10_SCENARIO,
        "--out",
        tmp_path / "a",
        "--quiet",
        "--set",
        impossible,
        "--fail-on-sla",
    )
    assert failed.returncode == EXIT_SLA_MISSED, failed.stderr
    run = RunResult.read(tmp_path / "a" / "result.json")
    assert not run.targets_met
    assert [t.met for t in run.targets if t.id == "same-time-transfer"] == [False]
    # Without the flag the same run is not an error: the report says what was missed.
    reported = govstream(
        "run", F10_SCENARIO, "--out", tmp_path / "b", "--quiet", "--set", impossible
    )
    assert reported.returncode == 0, reported.stderr


def test_a_target_nothing_was_measured_for_is_not_met(tmp_path: Path) -> None:
    # one second of business time brings no case, so no target has any data
    run = govstream(
        "run", F10_SCENARIO, "--out", tmp_path, "--quiet", "--set", "duration=1s", "--fail-on-sla"
    )
    assert run.returncode == EXIT_SLA_MISSED, run.stderr
    result = RunResult.read(tmp_path / "result.json")
    assert result.counts.cases_started == 0
    assert result.targets and all(t.met is None for t in result.targets)
    assert not result.targets_met
    n = len(result.targets)
    summary = (tmp_path / "summary.md").read_text()
    assert f"**SLA: {n} of {n} targets without data (nothing measured).**" in summary
