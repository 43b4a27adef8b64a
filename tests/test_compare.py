"""`govstream compare`: two runs side by side, ratios from their own result.json figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import every_flow_scenario, govstream, write_scenario

from govstream.durations import format_seconds
from govstream.report.compare import comparison_tables, latency_comparison
from govstream.result import RunResult
from govstream.scenario.loader import load_scenario
from processors import FLOWS

SCENARIO = "scenarios/deregistration-bank-outage.yaml"


def row_of(rows: list[tuple[str, ...]], latency: str, stat: str) -> tuple[str, ...]:
    """Rows name their latency only on its first line; later lines belong to it too."""
    current = ""
    for row in rows:
        current = row[0] or current
        if current == latency and row[1] == stat:
            return row
    raise AssertionError(f"no row for {latency} {stat}")


def bank_key() -> str:
    """The outage scenario's metric for the bank's answers: `<flow>/acted:<bank step>`."""
    (flow_id,) = load_scenario(SCENARIO).flows
    (step,) = FLOWS[flow_id].steps_of("bank")
    return f"{flow_id}/acted:{step.id}"


def test_compare_shows_both_runs_and_the_ratio(tmp_path: Path) -> None:
    first, second = tmp_path / "without-outage", tmp_path / "with-outage"
    assert (
        govstream(
            "run", SCENARIO, "--quiet", "--out", str(first), "--set", "agencies.bank.outages=[]"
        ).returncode
        == 0
    )
    assert govstream("run", SCENARIO, "--quiet", "--out", str(second)).returncode == 0
    a, b = RunResult.read(first / "result.json"), RunResult.read(second / "result.json")

    key = bank_key()
    bank_p90 = row_of(latency_comparison(a, b).rows, key, "p90")
    expected_ratio = b.latency[key]["p90"] / a.latency[key]["p90"]
    assert bank_p90[2] == format_seconds(a.latency[key]["p90"])
    assert bank_p90[3] == format_seconds(b.latency[key]["p90"])
    assert bank_p90[4] == f"{expected_ratio:.2f}×"
    assert expected_ratio > 1.2  # the outage slows the bank's answers
    # The pool's own wait is compared too: the outage is where the bank's queue grew.
    wait_p90 = row_of(latency_comparison(a, b).rows, "wait:bank", "p90")
    assert wait_p90[4] == f"{b.latency['wait:bank']['p90'] / a.latency['wait:bank']['p90']:.2f}×"

    shown = govstream("compare", str(first), str(second / "result.json"))
    assert shown.returncode == 0
    assert key in shown.stdout and f"{expected_ratio:.2f}×" in shown.stdout
    for verdict in a.targets:
        assert verdict.id in shown.stdout


@pytest.fixture(scope="module")
def every_and_one(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, RunResult]:
    """A run of every discovered flow, and a run of the first of them alone."""
    directory = tmp_path_factory.mktemp("compare")
    scenario = every_flow_scenario()
    alone = next(iter(scenario["flows"]))
    single = {
        **scenario,
        "name": "one-flow",
        "flows": {alone: scenario["flows"][alone]},
        "agencies": {a: scenario["agencies"][a] for a in FLOWS[alone].agencies},
        "targets": [t for t in scenario["targets"] if t["flow"] == alone],
    }
    runs = []
    for name, data in (("every", scenario), ("one", single)):
        path = write_scenario(directory / f"{name}.yaml", data)
        done = govstream("run", path, "--quiet", "--out", directory / name, timeout=300)
        assert done.returncode == 0, done.stderr
        runs.append(RunResult.read(directory / name / "result.json"))
    return runs[0], runs[1]


def test_compare_of_a_multi_flow_run_names_what_only_one_run_has(
    every_and_one: tuple[RunResult, RunResult],
) -> None:
    every, one = every_and_one
    tables = {table.title: table for table in comparison_tables(every, one)}
    (alone,) = one.flow_ids
    others = [f for f in every.flow_ids if f != alone]
    if others:
        flows = {row[0]: row[1:] for row in tables["Flows"].rows}
        assert flows[alone] == ("yes", "yes")
        assert all(flows[f] == ("yes", "-") for f in others)
        note = tables["Business latency"].note
        assert all(f"{f}/case" in note for f in others), note
        assert f"Counts {alone}" in tables
    compared = {row[0] for row in tables["Business latency"].rows if row[0]}
    assert f"{alone}/case" in compared
    assert not any(name.split("/")[0] in others for name in compared)
    case_p99 = row_of(tables["Business latency"].rows, f"{alone}/case", "p99")
    assert case_p99[2] == format_seconds(every.latency[f"{alone}/case"]["p99"])
    assert case_p99[3] == format_seconds(one.latency[f"{alone}/case"]["p99"])
    targets = tables["SLA targets"].rows
    assert [row[0] for row in targets] == [t.flow for t in every.targets]
    for row in targets:
        assert (row[5] == "not in this run") == (row[0] != alone)
    agencies = tables["Agencies"].rows
    for pool, load in one.agencies.items():
        for flow_id, taken in load.requests.items():
            row = next(r for r in agencies if r[:2] == (pool, f"requests {flow_id}"))
            assert row[3] == str(taken)
            assert row[2] == str(every.agencies[pool].requests[flow_id])


def test_compare_rejects_what_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text('{"not": "a result"}')
    done = govstream("compare", str(tmp_path), str(tmp_path / "missing"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(tmp_path) in " ".join(done.stderr.split())
