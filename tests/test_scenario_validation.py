"""Bad scenario files fail before any simulation, with a message a person can act on.

Each file case breaks one thing in a copy of a shipped scenario and runs the real command. A
useful message names the file, the field's path, the value that was given and what would be
allowed; it never shows a Python traceback. Exit code 2 is the CLI's documented "bad input".
All commands are started together by one fixture (each is a fresh interpreter, so they are
independent) and every test then reads the outcome of its own command.

Scenarios of several flows are checked in-process: each breaks one thing in a valid scenario
built here from discovered flows, and the loader's error must name the field and the values
that would be allowed.
"""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from cli_runner import ROOT, govstream
from pydantic import ValidationError

import processors
from govstream.scenario.loader import ScenarioError, load_scenario, parse_scenario
from govstream.scenario.model import Agency, Outage
from processors import FLOWS
from processors.flow import FlowSpec, Source, Step

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
    "target-step": ("recipient: all\n    stat: p90", "recipient: gas\n    stat: p90"),
    "yaml": ("name: deregistration-fanout\n", "name: a: b\n"),
    "outage-empty": (POLICE, POLICE + "    outages: [{start: 5d, end: 5d}]\n"),
    "outage-reversed": (POLICE, POLICE + "    outages: [{start: 5d, end: 4d}]\n"),
}
"""Bad files: one replacement of text in the base scenario each."""

SETS: dict[str, list[str]] = {
    "set-valid": ["name=renamed-by-set", "agencies.bank.servers=4"],
    "set-invalid-value": ["agencies.bank.servers=0"],
    "set-misspelt": ["agencies.bank.servrs=4"],
    "set-index": ["targets.9.within=1s"],
    "set-no-value": ["agencies.bank.servers"],
    "set-through-value": ["name.first=x"],
    "set-exactly-once": ["kafka.guarantee=exactly_once"],
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


@pytest.mark.parametrize(("name", "end"), [("outage-empty", "5d"), ("outage-reversed", "4d")])
def test_an_outage_must_end_after_it_starts(ran: dict[str, Ran], name: str, end: str) -> None:
    """An outage of no length would close the agency for nothing, and one ending before it
    starts is a typo: either is refused with the outage named, not run as no outage."""
    rejected(ran, name, f"agencies.police.outages[0]: outage end ({end}) must be after its start")


def test_unknown_flow_lists_the_implemented_ones(ran: dict[str, Ran]) -> None:
    rejected(ran, "flow", "flows", "'F99'", f"allowed: {', '.join(FLOWS)}")


def test_plan_target_without_measure_says_which_measures_exist(ran: dict[str, Ran]) -> None:
    rejected(ran, "measure", "targets[0] ('shared-in-real-time').measure", "'plan'", "allowed: M5")


def test_target_for_a_step_outside_the_flow_is_refused(ran: dict[str, Ran]) -> None:
    rejected(ran, "target-step", "step", "'gas'", "allowed: all, police, bank, housing-fund")


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


def test_exactly_once_is_refused_with_its_reason(ran: dict[str, Ran]) -> None:
    """faust-streaming's exactly_once does not hold under a worker kill (README, Reliability):
    a scenario that asks for it is bad input, told what is allowed and why."""
    message = rejected(
        ran,
        "set-exactly-once",
        "kafka.guarantee:",
        "only 'at_least_once' is allowed",
        "'exactly_once'",
    )
    assert "separate transactions" in message and "loses nothing" in message
    assert message.count("kafka.guarantee") == 1, message


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


def test_every_flow_has_a_shipped_scenario(
    flow_spec: FlowSpec, shipped: dict[str, tuple[str, ...]]
) -> None:
    assert any(flow_spec.id in flows for flows in shipped.values()), (
        f"no scenario in scenarios/ runs {flow_spec.id}"
    )


# -- scenarios of several flows -------------------------------------------------------------

MINUTE = {"dist": "constant", "value": "1min"}


def several(*flow_ids: str) -> dict[str, Any]:
    """A valid scenario running the given flows: every agency they reach, every wait timed."""
    data: dict[str, Any] = {"name": "several", "duration": "5d", "flows": {}, "agencies": {}}
    for flow_id in flow_ids:
        spec = FLOWS[flow_id]
        steps = {wait.id: {"duration": {"dist": "constant", "value": "1h"}} for wait in spec.waits}
        data["flows"][flow_id] = {"arrivals": {"rate": "10/d"}, "steps": steps}
        if spec.scoring is not None:  # its cases start at its signals' scores
            signals = {kind: {"arrivals": {"rate": "10/d"}} for kind in spec.scoring.kinds}
            data["flows"][flow_id] = {"signals": signals, "steps": steps}
        for agency in spec.agencies:
            data["agencies"][agency] = {"service_time": MINUTE}
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(yaml.safe_dump(data, allow_unicode=True), "several.yaml")
    assert str(caught.value).startswith("several.yaml: invalid scenario")
    return caught.value.problems


def one_problem(data: dict[str, Any], *fragments: str) -> str:
    found = problems(data)
    assert len(found) == 1, found
    for fragment in fragments:
        assert fragment in found[0], f"{fragment!r} missing from {found[0]!r}"
    return found[0]


def apart() -> tuple[str, str, str]:
    """Two flows and an agency the first reaches and the second does not."""
    for first in FLOWS.values():
        for second in FLOWS.values():
            missing = [a for a in first.agencies if a not in second.agencies]
            if first is not second and missing:
                return first.id, second.id, missing[0]
    raise AssertionError("every flow reaches the same agencies")


def allowed(names: Any) -> str:
    return f"allowed: {', '.join(names)}"


def test_a_scenario_of_every_flow_is_valid() -> None:
    scenario = parse_scenario(yaml.safe_dump(several(*FLOWS), allow_unicode=True))
    assert list(scenario.flows) == list(FLOWS)
    needed = {agency for spec in FLOWS.values() for agency in spec.agencies}
    assert set(scenario.agencies) == needed


def test_unknown_flow_in_flows_lists_the_implemented_ones() -> None:
    first, second, _ = apart()
    data = several(first, second)
    data["flows"]["F99"] = {"arrivals": {"rate": "1/d"}}
    one_problem(data, "flows", "'F99'", allowed(FLOWS))


def test_target_without_flow_in_a_scenario_of_several_flows() -> None:
    first, second, _ = apart()
    data = several(first, second)
    data["targets"] = [{"id": "t", "of": "case", "within": "5wd", "source": "author"}]
    one_problem(data, "targets[0] ('t').flow", "required", allowed([first, second]))


def test_target_on_a_flow_the_scenario_does_not_run() -> None:
    first, second, _ = apart()
    other = next(f for f in FLOWS if f not in (first, second))
    data = several(first, second)
    data["targets"] = [
        {"id": "t", "flow": other, "of": "case", "within": "5wd", "source": "author"}
    ]
    one_problem(data, "targets[0] ('t').flow", repr(other), allowed([first, second]))


def test_target_on_a_step_of_another_flow() -> None:
    first, second, agency = apart()
    step = FLOWS[first].steps_of(agency)[0].id
    steps = [s.id for s in FLOWS[second].steps]
    if step in steps:
        pytest.skip(f"{second} has a step named {step} too")
    data = several(first, second)
    data["targets"] = [
        {"id": "t", "flow": second, "of": "acted", "step": step, "within": "1d", "source": "author"}
    ]
    one_problem(data, "targets[0] ('t').step", repr(step), allowed(["all", *steps]))


def test_step_that_is_not_in_the_flow() -> None:
    first, second, _ = apart()
    data = several(first, second)
    data["flows"][first]["steps"]["no-such-step"] = {"service_time": MINUTE}
    steps = [s.id for s in FLOWS[first].steps]
    one_problem(data, f"flows.{first}.steps.no-such-step", f"not a step of {first}", allowed(steps))


def test_agency_step_given_a_duration_and_wait_given_a_service_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = flow_with_a_wait(monkeypatch)
    wait, step = spec.waits[0], next(s for s in spec.steps if not s.is_wait)
    data = several(spec.id)
    data["flows"][spec.id]["steps"][step.id] = {"duration": MINUTE}
    one_problem(data, f"flows.{spec.id}.steps.{step.id}", "'service_time', not a 'duration'")
    data = several(spec.id)
    data["flows"][spec.id]["steps"][wait.id]["service_time"] = MINUTE
    one_problem(data, f"flows.{spec.id}.steps.{wait.id}", "'duration', not a 'service_time'")


def flow_with_a_wait(monkeypatch: pytest.MonkeyPatch) -> FlowSpec:
    """A discovered flow with a wait, or (if none has one yet) a small one registered here."""
    for spec in FLOWS.values():
        if spec.waits and any(not step.is_wait for step in spec.steps):
            return spec
    source = next(iter(FLOWS.values())).source
    spec = FlowSpec(
        "F98",
        "order, then wait for delivery",
        ("M0",),
        Source(source.agency, "t.order.v1", source.schema, source.mix_type, source.build),
        (
            Step(
                "order",
                "place the order",
                agency="purchaser",
                topic="purchaser.order.v1",
                schema="t/Order.avsc",
                request=lambda case: {},
            ),
            Step(
                "delivery", "the supplier delivers", agency=None, party="supplier", after=("order",)
            ),
        ),
    )
    monkeypatch.setitem(processors.FLOWS, spec.id, spec)
    return spec


def test_wait_step_without_duration(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = flow_with_a_wait(monkeypatch)
    wait = spec.waits[0]
    data = several(spec.id)
    del data["flows"][spec.id]["steps"][wait.id]
    one_problem(data, f"flows.{spec.id}.steps.{wait.id}.duration", "required", wait.actor)


def test_desk_for_a_flow_that_does_not_reach_the_agency() -> None:
    first, second, agency = apart()
    reaching = [f for f in (first, second) if agency in FLOWS[f].agencies]
    data = several(first, second)
    data["agencies"][agency]["desks"] = {second: {"servers": 2}}
    one_problem(data, f"agencies.{agency}.desks.{second}", f"reaches {agency}", allowed(reaching))


def test_desk_for_a_flow_outside_the_scenario() -> None:
    first, second, agency = apart()
    data = several(first)
    data["agencies"][agency]["desks"] = {second: {"servers": 2}}
    one_problem(data, f"agencies.{agency}.desks.{second}", allowed([first]))


def test_desk_for_a_flow_that_reaches_the_agency_is_valid() -> None:
    first, second, agency = apart()
    data = several(first, second)
    data["agencies"][agency]["desks"] = {first: {"servers": 2}}
    scenario = parse_scenario(yaml.safe_dump(data, allow_unicode=True))
    assert scenario.agencies[agency].desks[first].servers == 2


def test_both_flow_and_flows() -> None:
    first, second, _ = apart()
    data = several(first, second)
    data["flow"] = first
    one_problem(data, "'flow'", "'flows'", "not both")


def test_agency_no_flow_of_the_scenario_reaches() -> None:
    _, second, agency = apart()
    data = several(second)
    data["agencies"][agency] = {"service_time": MINUTE}
    needed = FLOWS[second].agencies
    one_problem(data, "agencies", repr(agency), allowed(needed))


def test_population_knob_of_another_flow() -> None:
    first, second, _ = apart()
    knobs = FLOWS[first].source.mix_fields()
    foreign = next(k for k in FLOWS[second].source.mix_fields() if k not in knobs)
    data = several(first, second)
    data["flows"][first]["population"] = {foreign: 0.5}
    one_problem(data, f"flows.{first}.population.{foreign}", allowed(knobs))


def test_every_flow_given_by_the_shorthand_or_in_full_is_the_same(flow_spec: FlowSpec) -> None:
    full = several(flow_spec.id)
    short = {key: value for key, value in full.items() if key != "flows"}
    short |= {"flow": flow_spec.id.lower(), **full["flows"][flow_spec.id]}
    dump = yaml.safe_dump
    assert parse_scenario(dump(short, allow_unicode=True)) == parse_scenario(
        dump(full, allow_unicode=True)
    )


# -- outages --------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end"), [("5d", "5d"), ("5d", "4d"), ("1h", "0s")])
def test_an_outage_that_does_not_end_after_its_start_is_refused(start: str, end: str) -> None:
    with pytest.raises(ValidationError, match=rf"outage end \({end}\) must be after its start"):
        Outage.model_validate({"start": start, "end": end})
    # In an agency, the error is on the outage's place in its list.
    with pytest.raises(ValidationError) as raised:
        Agency.model_validate(
            {"outages": [{"start": "0s", "end": "1d"}, {"start": start, "end": end}]}
        )
    assert [error["loc"] for error in raised.value.errors()] == [("outages", 1)]


def test_an_outage_of_any_length_is_valid() -> None:
    outage = Outage.model_validate({"start": "5d", "end": "432001s"})
    assert outage.end.seconds - outage.start.seconds == 1.0
