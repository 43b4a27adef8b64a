"""Bad scenario files fail before any simulation, with a message a person can act on.

Each case breaks one thing in a copy of a shipped scenario and runs the real command. A useful
message names the file, the field's path, the value that was given and what would be allowed;
it never shows a Python traceback. Exit code 2 is the CLI's documented "bad input".

All commands are started together by one fixture (each is a fresh interpreter, so they are
independent) and every test then reads the outcome of its own command.
"""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest
from cli_runner import ROOT, govstream

from govstream.scenario.loader import ScenarioError, load_scenario

SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
BASE = ROOT / "scenarios" / "deregistration-fanout.yaml"
EXIT_BAD_INPUT = 2

POLICE = """  police:                # seal cancellation at the public security sub-bureau
    servers: 3
    calendar: office
    service_time: {dist: lognormal, median: 10min, p95: 40min}
"""
BANK = """  bank:                  # account closure at the company's banks
    servers: 6
    calendar: office
    service_time: {dist: lognormal, median: 20min, p95: 90min}
"""
ALL_DISTS = ("constant", "exponential", "lognormal", "uniform", "empirical")
BROKEN_YAML_LINE = (
    BASE.read_text(encoding="utf-8").splitlines().index("name: deregistration-fanout")
)
"""0-based index of the line the invalid-YAML case breaks; messages count lines from 1."""

EDITS: dict[str, tuple[str, str]] = {
    "misspelt": (POLICE, POLICE.replace("servers:", "servrs:")),
    "dist-param": ("median: 10min, p95: 40min", "median: 10min, p59: 40min"),
    "dist": ("dist: lognormal, median: 10min", "dist: lognormall, median: 10min"),
    "agency": ("  police:   ", "  polize:   "),
    "missing-agency": (BANK, ""),
    "duration": ("duration: 250d ", "duration: 3 hourz "),
    "working-days": ("median: 10min, p95: 40min", "median: 1wd, p95: 2wd"),
    "rate": ("rate: 40/d", "rate: -40/d"),
    "flow": ("flow: F03", "flow: F99"),
    "measure": ("    measure: M5\n", ""),
    "target-recipient": ("recipient: all\n    stat: p90", "recipient: gas\n    stat: p90"),
    "yaml": ("name: deregistration-fanout\n", "name: a: b\n"),
}
"""Bad files: one replacement of text in the base scenario each."""

SETS: dict[str, list[str]] = {
    "set-valid": ["name=renamed-by-set", "agencies.bank.servers=4"],
    "set-invalid-value": ["agencies.bank.servers=0"],
    "set-misspelt": ["agencies.bank.servrs=4"],
    "set-index": ["targets.9.within=1s"],
    "set-no-value": ["agencies.bank.servers"],
    "set-through-value": ["name.first=x"],
}
"""`--set` overrides applied to the unchanged base scenario."""


class Ran(NamedTuple):
    path: Path
    result: subprocess.CompletedProcess[str]


def edited(directory: Path, name: str, old: str, new: str) -> Path:
    """A copy of the base scenario with one piece of text replaced (exactly once)."""
    text = BASE.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the base scenario no longer contains {old!r} once"
    path = directory / f"{name}.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    directory = tmp_path_factory.mktemp("scenarios")
    commands: dict[str, tuple[Path, list[str | Path]]] = {}
    for name, (old, new) in EDITS.items():
        path = edited(directory, name, old, new)
        commands[name] = (path, ["validate", path])
    for name, overrides in SETS.items():
        sets = [arg for override in overrides for arg in ("--set", override)]
        commands[name] = (BASE, ["validate", BASE, *sets])
    missing = directory / "no-such-scenario.yaml"
    commands["missing-file"] = (missing, ["validate", missing])
    bad_run = edited(directory, "run", "flow: F03", "flow: F99")
    commands["run"] = (bad_run, ["run", bad_run, "--out", directory / "run-out"])
    for path in SHIPPED:
        commands[f"shipped:{path.stem}"] = (path, ["validate", path])
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = {name: pool.submit(govstream, *args) for name, (_, args) in commands.items()}
        return {name: Ran(commands[name][0], future.result()) for name, future in futures.items()}


def rejected(ran: dict[str, Ran], name: str, *fragments: str) -> str:
    """Exit 2, no traceback, the file named, every fragment present; returns the message."""
    path, result = ran[name]
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_BAD_INPUT, output
    assert "Traceback" not in output
    message = " ".join(result.stderr.split())  # undo any line wrapping of the terminal
    for fragment in (str(path), *fragments):
        assert fragment in message, f"{fragment!r} missing from:\n{result.stderr}"
    return message


def test_base_scenario_blocks_are_as_these_tests_expect() -> None:
    text = BASE.read_text(encoding="utf-8")
    assert POLICE in text and BANK in text


def test_misspelt_field_lists_the_allowed_fields(ran: dict[str, Ran]) -> None:
    message = rejected(ran, "misspelt", "agencies.police.servrs")
    allowed = re.search(r"agencies\.police\.servrs: unknown field; allowed: ([\w, ]+)", message)
    assert allowed, message
    names = set(allowed.group(1).replace(",", " ").split())
    assert {"servers", "service_time", "calendar", "outages"} <= names


def test_misspelt_field_inside_a_distribution_lists_its_parameters(ran: dict[str, Ran]) -> None:
    rejected(
        ran,
        "dist-param",
        "agencies.police.service_time.p59: unknown field; allowed: dist, median, p95",
    )


def test_unknown_distribution_lists_the_allowed_ones(ran: dict[str, Ran]) -> None:
    message = rejected(ran, "dist", "agencies.police.service_time.dist", "'lognormall'")
    allowed = message.split("'lognormall'", 1)[1]
    for dist in ALL_DISTS:
        assert re.search(rf"\b{dist}\b", allowed), dist


def test_unknown_agency_lists_the_flows_recipients(ran: dict[str, Ran]) -> None:
    rejected(ran, "agency", "agencies", "'polize'", "allowed: police, bank, housing-fund")


def test_missing_agency_names_it(ran: dict[str, Ran]) -> None:
    message = rejected(ran, "missing-agency", "agencies", "F03")
    assert re.search(r"agencies: .*\bbank\b", message)


def test_bad_duration_shows_the_value_and_the_units(ran: dict[str, Ran]) -> None:
    message = rejected(ran, "duration", "duration: '3 hourz'")
    for unit in ("ms", "s", "min", "h", "d", "wd"):
        assert re.search(rf"\b{unit}\b", message), unit


def test_working_days_are_refused_where_clock_time_is_needed(ran: dict[str, Ran]) -> None:
    rejected(
        ran,
        "working-days",
        "agencies.police.service_time.median",
        "'1wd'",
        "working days",
        "clock duration",
    )


def test_negative_rate_is_refused(ran: dict[str, Ran]) -> None:
    rejected(ran, "rate", "arrivals.rate", "'-40/d'", "negative", "200/d")


def test_unknown_flow_lists_the_implemented_ones(ran: dict[str, Ran]) -> None:
    rejected(ran, "flow", "flow", "'F99'", "F03", "F10")


def test_plan_target_without_measure_says_which_measures_exist(ran: dict[str, Ran]) -> None:
    rejected(ran, "measure", "targets[0].measure", "'plan'", "allowed: M5")


def test_target_for_a_recipient_outside_the_flow_is_refused(ran: dict[str, Ran]) -> None:
    rejected(ran, "target-recipient", "recipient", "'gas'", "police, bank, housing-fund")


def test_invalid_yaml_gives_the_line(ran: dict[str, Ran]) -> None:
    rejected(ran, "yaml", "YAML", f"line {BROKEN_YAML_LINE + 1}")


def test_missing_file_is_bad_input(ran: dict[str, Ran]) -> None:
    rejected(ran, "missing-file", "cannot read")


def test_run_refuses_a_bad_file_and_writes_nothing(ran: dict[str, Ran]) -> None:
    path, _ = ran["run"]
    rejected(ran, "run", "'F99'")
    assert not (path.parent / "run-out").exists()


# -- --set overrides ------------------------------------------------------------------------


def test_set_override_changes_the_value(ran: dict[str, Ran]) -> None:
    assert load_scenario(BASE).agencies["bank"].servers == 6
    changed = load_scenario(BASE, SETS["set-valid"] + ["targets.0.within=2s"])
    assert changed.agencies["bank"].servers == 4
    assert changed.name == "renamed-by-set"
    assert changed.targets[0].within.clock_seconds() == 2.0
    result = ran["set-valid"].result
    assert result.returncode == 0, result.stderr
    assert "renamed-by-set" in result.stdout


def test_set_override_is_validated_like_the_file(ran: dict[str, Ran]) -> None:
    rejected(ran, "set-invalid-value", "agencies.bank.servers", "greater than or equal to 1", "0")


def test_set_with_a_misspelt_path_lists_the_allowed_fields(ran: dict[str, Ran]) -> None:
    rejected(ran, "set-misspelt", "agencies.bank.servrs", "unknown field", "servers")


def test_set_with_an_index_out_of_range_says_how_many_there_are(ran: dict[str, Ran]) -> None:
    rejected(ran, "set-index", "targets.9.within", "'9'", "below 3")


def test_set_without_a_value_shows_the_form(ran: dict[str, Ran]) -> None:
    rejected(ran, "set-no-value", "agencies.bank.servers", "=value")


def test_set_through_a_value_is_refused(ran: dict[str, Ran]) -> None:
    rejected(ran, "set-through-value", "name.first", "'name'")


def test_loader_error_names_the_source_and_every_problem(tmp_path: Path) -> None:
    path = edited(tmp_path, "two", "flow: F03", "flow: F03\nspeed: 3")
    text = path.read_text(encoding="utf-8").replace("rate: 40/d", "rate: fast")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    joined = "\n".join(caught.value.problems)
    assert "speed: unknown field" in joined
    assert "arrivals.rate" in joined and "'fast'" in joined


# -- the shipped scenarios ------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_validate(ran: dict[str, Ran], path: Path) -> None:
    result = ran[f"shipped:{path.stem}"].result
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "Traceback" not in result.stderr


def test_there_are_shipped_scenarios_for_both_flows() -> None:
    assert {load_scenario(path).flow for path in SHIPPED} == {"F03", "F10"}
