"""The `govstream` command as a user meets it: help, the plan's flows, the contracts, a run.

Expected content comes from outside the code under test where it can: the plan's flows as
FLOWS.md lists them, the .avsc files read directly, the flows' own declarations, the scenario
file's own targets, and each run's result.json for the figures its report must show.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cli_runner import ENV, ROOT, every_flow_scenario, govstream, write_scenario

from govstream.cli import build_parser, main
from govstream.durations import format_seconds
from govstream.engines import engine_names
from govstream.report import render_markdown
from govstream.report.graph import draw_flow
from govstream.result import RunResult
from processors import FLOWS
from processors.flow import FlowSpec, Rule, Span, Step, always

SCHEMAS = ROOT / "schemas"
F10_SCENARIO = ROOT / "scenarios" / "property-transfer-utilities.yaml"
PLAN_FLOW_IDS = [f"F{n:02d}" for n in range(1, 22)]
"""The plan's information-sharing flows: F01 to F18 from its measures, F19 to F21 beside them."""
LATENCY_TITLE = "business latency from the intended emit time (clock time)"
EXIT_BAD_INPUT = 2
EXIT_SLA_MISSED = 3


def table_rows(output: str) -> list[list[str]]:
    """The cells of each row of a rich table (box-drawing separators), first lines only."""
    rows = []
    for line in output.splitlines():
        if line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
    return rows


def words(text: str) -> str:
    return " ".join(text.split())


def markdown_section(summary: str, title: str) -> list[list[str]]:
    """The cells of each row of the Markdown table under `## title`."""
    lines = summary.splitlines()
    start = lines.index(f"## {title}")
    rows = []
    for line in lines[start + 4 :]:
        if not line.startswith("| "):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


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
    for name in ("run", "validate", "flows", "schemas", "compare"):
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
    assert {"run", "validate", "flows", "schemas", "compare"} <= names


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


@pytest.mark.parametrize("path", [path for path, _ in command_paths(build_parser())], ids=" ".join)
def test_every_option_says_what_it_does(path: tuple[str, ...]) -> None:
    parser = dict(command_paths(build_parser()))[path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help and action.help.strip(), f"{path} {action.option_strings} has no help"


def test_run_offers_every_discovered_engine() -> None:
    run = dict(command_paths(build_parser()))[("run",)]
    engine = next(a for a in run._actions if "--engine" in a.option_strings)
    assert list(engine.choices or ()) == engine_names()
    assert {"sim", "kafka"} <= set(engine_names())


# -- flows ----------------------------------------------------------------------------------


def test_flows_lists_the_plan_and_marks_the_discovered_flows_implemented() -> None:
    result = govstream("flows")
    assert result.returncode == 0, result.stderr
    flows_table = result.stdout.split("The plan's time targets")[0]
    rows = {row[0]: row for row in table_rows(flows_table) if row and row[0].startswith("F")}
    assert set(PLAN_FLOW_IDS) <= set(rows)
    implemented = {flow for flow, row in rows.items() if row[-1] == "yes"}
    assert implemented == set(FLOWS)
    assert all(rows[flow][-1] in ("-", "") for flow in rows if flow not in FLOWS)
    # The measures as the plan numbers them (FLOWS.md).
    assert "M5" in rows["F03"][1] and "M27" in rows["F10"][1] and "M43" in rows["F19"][1]
    assert "--graph" in result.stdout


def step_line(output: str, step_id: str) -> tuple[int, str]:
    """The line that draws a step (`├─▶ police  agency police ...`) and its number."""
    found = [
        (number, line)
        for number, line in enumerate(output.splitlines())
        if re.search(rf"─▶ {re.escape(step_id)}(\s|$)", line)
    ]
    assert len(found) == 1, f"{step_id} is drawn {len(found)} times:\n{output}"
    return found[0]


def check_drawing(flow: FlowSpec, output: str) -> None:
    """Every step drawn once, under a step it depends on, saying who acts and how."""
    lines = output.splitlines()
    assert flow.id in lines[0] and flow.title in lines[0]
    trigger = next(n for n, line in enumerate(lines) if line.startswith("● trigger"))
    assert flow.source_agency in lines[trigger] and flow.source_topic in lines[trigger]
    for step in flow.steps:
        number, line = step_line(output, step.id)
        assert number > trigger
        actor = f"waits on {step.actor}" if step.is_wait else f"agency {step.agency}"
        assert actor in line, line
        assert step.title in line, line
        assert ("conditional" in line) == (step.applies is not always), line
        for field_name in step.reply_fields:
            assert field_name in line.partition("reply:")[2], line
        if not step.after:
            assert "after" not in line
            assert re.match(r"^[├└]─▶", line), f"{step.id} hangs from the trigger: {line}"
            continue
        drawn_after = [step_line(output, dep) for dep in step.after]
        assert any(
            dep_number < number and dep_line.index("─▶") < line.index("─▶")
            for dep_number, dep_line in drawn_after
        ), f"{step.id} is not drawn under any of {step.after}"
        if len(step.after) > 1:
            joiner = " + " if step.join == "all" else " or "
            waited = [dep for dep in step.after if dep != step.until]
            deadline = f", or at {step.until}" if step.until else ""
            assert f"after {joiner.join(waited)} ({step.join}){deadline}" in line
    for span in flow.spans:
        assert any(span.id in line and f"{span.start} → {span.end}" in line for line in lines), (
            f"span {span.id} not drawn"
        )
    for rule in flow.rules:
        assert any(rule.id in line and rule.title in line for line in lines)


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_flows_graph_draws_every_discovered_flow(flow_id: str) -> None:
    result = govstream("flows", "--graph", flow_id.lower())
    assert result.returncode == 0, result.stderr
    check_drawing(FLOWS[flow_id], result.stdout)


def _reply(request: object, rng: object) -> dict[str, str]:
    return {"voucher_no": "V1"}


def test_a_graph_shows_joins_waits_replies_conditions_spans_and_rules() -> None:
    """A chain with a wait, a reply, a conditional step and both joins, drawn as a user reads it
    (built here so the drawing is checked whatever flows are implemented)."""
    base = next(iter(FLOWS.values()))
    agency_step = next(step for step in base.steps if not step.is_wait)

    def act(step_id: str, *after: str, **extra: object) -> Step:
        return Step(
            step_id,
            f"do {step_id}",
            agency="finance-bureau",
            topic=f"finance-bureau.{step_id}.v1",
            schema=agency_step.schema,
            request=agency_step.request,
            after=after,
            **extra,  # type: ignore[arg-type]
        )

    flow = FlowSpec(
        id="F98",
        title="A procurement-like chain",
        measures=("M14", "M15"),
        source=base.source,
        steps=(
            act("contract"),
            Step(
                "delivery", "deliver the goods", agency=None, party="supplier", after=("contract",)
            ),
            act(
                "advance",
                "contract",
                applies=lambda t: True,
                reply=_reply,
                reply_fields=("voucher_no",),
            ),
            act("acceptance", "delivery"),
            Step(
                "invoice",
                "send the invoice",
                agency=None,
                party="supplier",
                after=("acceptance", "advance"),
            ),
            act("payment", "invoice", "acceptance", join="any"),
        ),
        spans=(Span("invoice-to-payment", "invoice.acted", "payment.acted"),),
        rules=(Rule("prepayment-share", "advance at least 30 %", "M15", lambda t: None),),
    )
    output = "\n".join(draw_flow(flow))
    check_drawing(flow, output)
    assert "reply: voucher_no" in step_line(output, "advance")[1]
    assert "after acceptance + advance (all)" in step_line(output, "invoice")[1]
    assert "after invoice or acceptance (any)" in step_line(output, "payment")[1]
    # The chain reads top to bottom: each step below the one before it.
    chain = ["contract", "delivery", "acceptance", "invoice", "payment"]
    numbers = [step_line(output, step)[0] for step in chain]
    assert numbers == sorted(numbers)
    assert "legend:" in output and "conditional:" in output and "reply:" in output


def test_flows_graph_of_an_unknown_flow_is_bad_input() -> None:
    result = govstream("flows", "--graph", "F99")
    assert result.returncode == EXIT_BAD_INPUT
    assert "'F99'" in result.stderr
    for flow_id in FLOWS:
        assert flow_id in result.stderr, "the implemented flows are named"
    assert "Traceback" not in result.stderr


def test_flows_graph_without_a_flow_says_which_to_give() -> None:
    result = govstream("flows", "--graph")
    assert result.returncode == EXIT_BAD_INPUT
    assert "needs a flow id" in result.stderr
    assert all(flow_id in result.stderr for flow_id in FLOWS)


def test_every_plan_flow_is_implemented_and_an_unknown_one_is_bad_input() -> None:
    assert set(PLAN_FLOW_IDS) == set(FLOWS)
    result = govstream("flows", "--graph", "F22")
    assert result.returncode == EXIT_BAD_INPUT
    message = words(result.stderr)
    assert "no flow 'F22'" in message
    assert all(flow_id in message for flow_id in FLOWS)


# -- schemas --------------------------------------------------------------------------------


def declared_topics() -> dict[str, FlowSpec]:
    """Every topic the flows declare: trigger, requests, waits, each answerer's outcomes,
    completions, progress records."""
    topics: dict[str, FlowSpec] = {}
    for flow in FLOWS.values():
        names = [flow.source_topic, flow.completed_topic, flow.progress_topic]
        names += list(flow.outcome_topics.values())
        names += [step.topic for step in flow.steps if step.topic]
        names += [flow.wait_topic] if flow.waits else []
        topics.update(dict.fromkeys(names, flow))
    return topics


def test_schemas_lists_every_topic_the_flows_declare() -> None:
    result = govstream("schemas")
    assert result.returncode == 0, result.stderr
    listed = {row[0]: row[1] for row in table_rows(result.stdout) if row}
    for topic, flow in declared_topics().items():
        assert listed.get(topic) == flow.id, f"{topic} not listed for {flow.id}"
    dead_letter = yaml.safe_load((SCHEMAS / "catalog.yaml").read_text("utf-8"))["dead_letter"]
    assert dead_letter["topic"] in result.stdout


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_schemas_topic_shows_its_fields(flow_id: str) -> None:
    step = next(step for step in FLOWS[flow_id].steps if not step.is_wait)
    schema_file = SCHEMAS / str(step.schema)
    fields = [f["name"] for f in json.loads(schema_file.read_text("utf-8"))["fields"]]
    result = govstream("schemas", "--topic", str(step.topic))
    assert result.returncode == 0, result.stderr
    shown = [row[0] for row in table_rows(result.stdout) if row]
    assert shown == fields
    assert f"readable by: {step.agency}" in result.stdout


def test_police_see_no_account_numbers() -> None:
    police = next(step for step in FLOWS["F03"].steps if step.agency == "police")
    result = govstream("schemas", "--topic", str(police.topic))
    assert result.returncode == 0, result.stderr
    assert "account_number" not in result.stdout


def test_schemas_unknown_topic_is_bad_input() -> None:
    result = govstream("schemas", "--topic", "police.no-such-topic.v1")
    assert result.returncode == EXIT_BAD_INPUT
    some_topic = next(iter(declared_topics()))
    assert some_topic in result.stderr, "the known topics are listed"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "agency", sorted({a for flow in FLOWS.values() for a in flow.agencies}), ids=str
)
def test_schemas_agency_shows_what_it_may_read_then_what_it_writes(agency: str) -> None:
    result = govstream("schemas", "--agency", agency)
    assert result.returncode == 0, result.stderr
    expected = {
        str(step.topic) for flow in FLOWS.values() for step in flow.steps if step.agency == agency
    }
    expected |= {flow.completed_topic for flow in FLOWS.values() if flow.source_agency == agency}
    writes = {flow.outcome_topic(agency) for flow in FLOWS.values() if agency in flow.agencies}
    writes |= {flow.source_topic for flow in FLOWS.values() if flow.source_agency == agency}
    reading, _, writing = result.stdout.partition(f"Topics {agency} writes")
    assert f"Topics {agency} may read" in reading
    listed = {row[0] for row in table_rows(reading) if row} & set(declared_topics())
    assert listed == expected
    assert {row[0] for row in table_rows(writing) if row} & set(declared_topics()) == writes
    assert f"{agency}.step-outcome.v1" in writing, "an agency writes its own answers"


def test_schemas_agency_of_a_source_only_shows_its_triggers_and_completions() -> None:
    result = govstream("schemas", "--agency", "amr")
    assert result.returncode == 0, result.stderr
    reading, _, writing = result.stdout.partition("Topics amr writes")
    sources = [flow for flow in FLOWS.values() if flow.source_agency == "amr"]
    # amr also acts in F16 (the bankruptcy's register entry and deregistration), and reports
    # the adoptions of the credit code F12 counts
    acting = {
        (step.topic, flow.outcome_topic("amr"))
        for flow in FLOWS.values()
        for step in flow.steps_of("amr")
    }
    requests, answers = {t for t, _ in acting}, {o for _, o in acting}
    assert {row[0] for row in table_rows(reading) if row} == {
        *(f.completed_topic for f in sources),
        *requests,
    }
    counted = {t.topic for f in FLOWS.values() for t in f.tallies if t.agency == "amr"}
    assert counted, "amr reports the adoptions of the credit code F12 counts"
    # and reports its inspections to F13's scorer as a source of signals
    signals = {
        signal.topic
        for flow in FLOWS.values()
        if flow.scoring is not None
        for signal in flow.scoring.signals
        if signal.agency == "amr"
    }
    assert signals, "amr reports inspections"
    assert {row[0] for row in table_rows(writing) if row} == {
        *(f.source_topic for f in sources),
        *answers,
        *counted,
        *signals,
    }


def test_schemas_unknown_agency_is_bad_input() -> None:
    result = govstream("schemas", "--agency", "no-such-agency")
    assert result.returncode == EXIT_BAD_INPUT
    assert "'no-such-agency'" in result.stderr
    assert next(iter(next(iter(FLOWS.values())).agencies)) in result.stderr


# -- validate -------------------------------------------------------------------------------


def test_validate_lists_flows_agencies_and_targets(tmp_path: Path) -> None:
    scenario = every_flow_scenario()
    path = write_scenario(tmp_path / "every-flow.yaml", scenario)
    result = govstream("validate", path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "valid" in lines[0] and scenario["name"] in lines[0]
    flows_line = next(line for line in lines if line.strip().startswith("flows "))
    assert flows_line.split("flows ", 1)[1].split(", ") == list(FLOWS)
    agencies_line = next(line for line in lines if line.strip().startswith("agencies "))
    for agency, settings in scenario["agencies"].items():
        assert f"{agency} ({settings['servers']} servers)" in agencies_line
    targets_line = next(line for line in lines if line.strip().startswith("targets "))
    for target in scenario["targets"]:
        assert f"{target['id']} ({target['flow']} case)" in targets_line


# -- run ------------------------------------------------------------------------------------


def test_run_writes_result_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = govstream("run", F10_SCENARIO, "--out", out)
    assert result.returncode == 0, result.stderr
    run = RunResult.read(out / "result.json")
    scenario = yaml.safe_load(F10_SCENARIO.read_text(encoding="utf-8"))
    flow = FLOWS[scenario["flow"]]
    assert run.scenario_name == scenario["name"]
    assert run.flow_ids == [flow.id] and run.engine.name == "sim"
    assert run.seed == scenario["seed"]
    assert run.counts.lost == 0 and run.counts.cases_started > 0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    target_rows = markdown_section(summary, "SLA targets")
    for target in scenario["targets"]:
        rows = [row for row in target_rows if row[:2] == [flow.id, target["id"]]]
        assert rows, f"no SLA row for {target['id']}"
        assert all(row[6] in ("met", "MISSED") for row in rows)
        assert all(row[7].startswith(target["source"]) for row in rows)
    # One verdict per target and step: 'all' expands to every agency step of the flow.
    expanded = sum(
        len([s for s in flow.steps if not s.is_wait]) if t.get("recipient") == "all" else 1
        for t in scenario["targets"]
    )
    assert len(run.targets) == len(target_rows) == expanded
    # The report's latency rows are the result's figures, step by step.
    latency = markdown_section(summary, f"{flow.id} {LATENCY_TITLE}")
    by_label = {row[0]: row for row in latency}
    for step in flow.steps:
        key = f"{flow.id}/acted:{step.id}"
        if key in run.latency:
            row = by_label[f"{step.id} acted"]
            assert row[1] == str(run.latency[key]["count"])
            assert row[4] == format_seconds(run.latency[key]["p90"])
    assert by_label["whole case"][1] == str(run.counts.cases_completed)
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
    first = yaml.safe_load(F10_SCENARIO.read_text(encoding="utf-8"))["targets"][0]["id"]
    assert [t.met for t in run.targets if t.id == first] == [False]
    assert "MISSED" in failed.stdout + (tmp_path / "a" / "summary.md").read_text("utf-8")
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


def test_seed_flag_is_recorded_as_an_override(tmp_path: Path) -> None:
    result = govstream("run", F10_SCENARIO, "--out", tmp_path, "--quiet", "--seed", "42")
    assert result.returncode == 0, result.stderr
    run = RunResult.read(tmp_path / "result.json")
    assert run.seed == 42 and "seed=42" in run.overrides


def test_run_with_an_unknown_engine_names_the_engines(tmp_path: Path) -> None:
    result = govstream("run", F10_SCENARIO, "--out", tmp_path, "--engine", "spark")
    assert result.returncode == EXIT_BAD_INPUT
    assert "'spark'" in result.stderr
    assert all(name in result.stderr for name in engine_names())
    assert not (tmp_path / "result.json").exists()


def test_run_with_a_bad_override_names_the_field_and_what_is_allowed(tmp_path: Path) -> None:
    scenario = yaml.safe_load(F10_SCENARIO.read_text(encoding="utf-8"))
    result = govstream(
        "run", F10_SCENARIO, "--out", tmp_path, "--set", "agencies.nowhere.servers=2"
    )
    assert result.returncode == EXIT_BAD_INPUT
    message = words(result.stderr)
    assert str(F10_SCENARIO) in message and "agencies" in message and "'nowhere'" in message
    assert all(agency in message for agency in scenario["agencies"])
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "result.json").exists()


# -- a run of every flow at once ------------------------------------------------------------


@pytest.fixture(scope="module")
def every_flow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, RunResult, str]:
    """Every discovered flow in one run: its console report, result and summary.md."""
    directory = tmp_path_factory.mktemp("every-flow")
    path = write_scenario(directory / "every-flow.yaml", every_flow_scenario())
    done = govstream("run", path, "--out", directory / "out", timeout=300)
    assert done.returncode == 0, done.stderr
    summary = (directory / "out" / "summary.md").read_text(encoding="utf-8")
    return done.stdout, RunResult.read(directory / "out" / "result.json"), summary


def test_a_multi_flow_report_names_every_flow(every_flow_run: tuple[str, RunResult, str]) -> None:
    console, run, summary = every_flow_run
    assert run.flow_ids == list(FLOWS)
    for flow_id, flow in FLOWS.items():
        assert f"{flow_id}: {flow.title}" in console
        assert f"- **{flow_id}**: {flow.title}" in summary
        assert f"## {flow_id} {LATENCY_TITLE}" in summary
        assert f"## {flow_id} the same latencies in working days (工作日)" in summary
    counts = markdown_section(summary, "Counts")
    started = next(row for row in counts if row[0] == "cases started")
    assert started[1:] == [
        *(str(run.flow_counts[f].cases_started) for f in FLOWS),
        str(run.counts.cases_started),
    ]
    assert run.counts.cases_started == sum(c.cases_started for c in run.flow_counts.values())
    assert all(run.flow_counts[f].cases_started > 0 for f in FLOWS)
    targets = markdown_section(summary, "SLA targets")
    assert [row[0] for row in targets] == [t.flow for t in run.targets] == list(FLOWS)


def test_a_multi_flow_report_shows_each_pools_requests_by_flow(
    every_flow_run: tuple[str, RunResult, str],
) -> None:
    _, run, summary = every_flow_run
    rows = {row[0]: row for row in markdown_section(summary, "Agencies")}
    assert set(rows) == set(run.agencies)
    for pool, load in run.agencies.items():
        reaching = [f for f, flow in FLOWS.items() if load.agency in flow.agencies]
        assert list(load.requests) == reaching
        shown = dict(cell.rsplit(" ", 1) for cell in rows[pool][2].split(", "))
        assert shown == {f: str(n) for f, n in load.requests.items()}
    shared = [pool for pool, load in run.agencies.items() if len(load.requests) > 1]
    if shared:
        share_rows = markdown_section(summary, "Wait at shared agencies, by flow")
        for pool in shared:
            for flow_id, taken in run.agencies[pool].requests.items():
                row = next(r for r in share_rows if r[:2] == [pool, flow_id])
                assert row[2] == str(taken)
                assert row[4] == format_seconds(run.latency[f"{flow_id}/wait:{pool}"]["p90"])
    else:
        assert "## Wait at shared agencies, by flow" not in summary


# -- the report on a pool several flows share -----------------------------------------------


def summary(count: int, p90: float) -> dict[str, float | int]:
    return {
        "count": count,
        "mean": p90 / 2,
        "p50": p90 / 3,
        "p90": p90,
        "p99": p90 * 2,
        "p99.9": p90 * 3,
        "max": p90 * 4,
        "clamped": 0,
    }


def counts(started: int) -> dict[str, int]:
    return {
        "cases_started": started,
        "cases_completed": started,
        "cases_open": 0,
        "requests_emitted": started,
        "requests_delivered": started,
        "requests_acted": started,
        "requests_in_flight": 0,
        "outcomes_recorded": started,
        "lost": 0,
    }


def test_a_shared_pool_is_reported_with_each_flows_requests_and_wait() -> None:
    """A result as an engine writes it for two flows sharing the bank's clerks (built here, so
    the shared-pool report is checked whichever flows happen to share an agency)."""
    result = RunResult.model_validate(
        {
            "scenario_name": "shared-bank",
            "scenario_file": "shared.yaml",
            "scenario": {},
            "seed": 1,
            "flows": [
                {
                    "id": "FA",
                    "title": "opening",
                    "measures": ["M1"],
                    "steps": [{"id": "bank", "title": "reserve an account", "agency": "bank"}],
                },
                {
                    "id": "FB",
                    "title": "procurement",
                    "measures": ["M15"],
                    "steps": [
                        {"id": "invoice", "title": "invoice", "agency": "supplier", "wait": True},
                        {"id": "pay", "title": "pay", "agency": "bank", "after": ["invoice"]},
                    ],
                    "spans": ["invoice-to-payment"],
                },
            ],
            "engine": {"name": "sim", "versions": {}},
            "business_seconds": 86400.0,
            "counts": counts(12),
            "flow_counts": {"FA": counts(5), "FB": counts(7)},
            "rules": {"FB": {"prepayment-share": {"met": 3, "not met": 1, "not applicable": 3}}},
            "latency": {
                "FA/case": summary(5, 600.0),
                "FA/delivered:bank": summary(5, 0.5),
                "FA/acted:bank": summary(5, 600.0),
                "FB/case": summary(7, 90_000.0),
                "FB/acted:invoice": summary(7, 86_400.0),
                "FB/delivered:pay": summary(7, 86_400.5),
                "FB/acted:pay": summary(7, 90_000.0),
                "FB/span:invoice-to-payment": summary(7, 3_600.0),
                "wait:bank": summary(12, 420.0),
                "FA/wait:bank": summary(5, 300.0),
                "FB/wait:bank": summary(7, 480.0),
            },
            "working_days": {"FB/span:invoice-to-payment": summary(7, 0.25)},
            "agencies": {
                "bank": {
                    "agency": "bank",
                    "servers": 4,
                    "max_queue": 9,
                    "queue_at_end": 0,
                    "requests": {"FA": 5, "FB": 7},
                }
            },
            "targets": [
                {
                    "id": "pay-within-5wd",
                    "flow": "FB",
                    "of": "span",
                    "step": "invoice-to-payment",
                    "stat": "p90",
                    "within": "5wd",
                    "unit": "wd",
                    "limit": 5.0,
                    "observed": 0.25,
                    "met": True,
                    "source": "plan",
                    "measure": "M15",
                    "quote": "收到发票后5个工作日内",
                }
            ],
        }
    )
    text = render_markdown(result)
    agencies = markdown_section(text, "Agencies")
    assert agencies == [["bank", "4", "FA 5, FB 7", "9", "0", "2.3min", "7min", "-"]]
    shares = markdown_section(text, "Wait at shared agencies, by flow")
    assert shares == [
        ["bank", "FA", "5", format_seconds(100.0), "5min", "10min"],
        ["bank", "FB", "7", format_seconds(160.0), "8min", "16min"],
    ]
    fb = {row[0]: row for row in markdown_section(text, f"FB {LATENCY_TITLE}")}
    assert list(fb) == [
        "whole case",
        "invoice acted (waits on supplier)",
        "pay delivered (bank)",
        "pay acted (bank)",
        "span invoice-to-payment",
    ]
    assert fb["span invoice-to-payment"][4] == "1h"
    wd = markdown_section(text, "FB the same latencies in working days (工作日)")
    assert wd == [["span invoice-to-payment", "7", "0.12", "0.08", "0.25", "0.50", "0.75", "1.00"]]
    assert markdown_section(text, "The plan's rules on case data") == [
        ["FB", "prepayment-share", "3", "1", "3", "75.0 %"]
    ]
    target = ["FB", "pay-within-5wd", "span invoice-to-payment", "p90", "5wd", "0.25wd", "met"]
    assert markdown_section(text, "SLA targets") == [[*target, "plan M15"]]
    assert "FB plan M15: «收到发票后5个工作日内»" in text
    assert "Counts" in text and markdown_section(text, "Counts")[0] == [
        "cases started",
        "5",
        "7",
        "12",
    ]
