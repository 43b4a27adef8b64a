"""`govstream compare` as a gate: thresholds with exit 3, verdict changes first, working days,
loud warnings or refusal when the runs differ in scenario or flows, and an HTML rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import open_page
from cli_runner import govstream

from govstream.report.compare import (
    gate_tables,
    input_differences,
    run_warnings,
    verdict_changes,
)
from govstream.report.gate import (
    ThresholdError,
    evaluate,
    parse_threshold,
)
from govstream.result import RunResult

OUTAGE = "scenarios/deregistration-bank-outage.yaml"
PLAIN = "scenarios/deregistration-fanout.yaml"
F10 = "scenarios/property-transfer-utilities.yaml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The outage study, the same study without its outage, the plain scenario, and F10."""
    directory = tmp_path_factory.mktemp("gate")
    plan = {
        "outage": (OUTAGE,),
        "no-outage": (OUTAGE, "--set", "agencies.bank.outages=[]"),
        "plain": (PLAIN,),
        "f10": (F10,),
    }
    paths = {}
    for name, args in plan.items():
        done = govstream("run", *args, "--quiet", "--out", directory / name, timeout=300)
        assert done.returncode == 0, done.stderr
        paths[name] = directory / name
    return paths


def result(path: Path) -> RunResult:
    return RunResult.read(path / "result.json")


@pytest.mark.parametrize(
    ("text", "metric", "stat", "op", "kind", "amount", "working_days"),
    [
        ("F03/case.p90 > +10%", "F03/case", "p90", ">", "relative", 10.0, False),
        ("case.p90 > 1.5x", "case", "p90", ">", "ratio", 1.5, False),
        ("wait:bank.p99 > 2h", "wait:bank", "p99", ">", "level", 7200.0, False),
        ("F03/acted:bank.p99.9 >= +1d", "F03/acted:bank", "p99.9", ">=", "delta", 86400.0, False),
        ("wd:F03/case.p99 > +0.5wd", "F03/case", "p99", ">", "delta", 0.5, True),
        ("F03/case.p99 > 3wd", "F03/case", "p99", ">", "level", 3.0, True),
        ("F03/case.count < -5%", "F03/case", "count", "<", "relative", -5.0, False),
        ("F03/case.count<=100", "F03/case", "count", "<=", "level", 100.0, False),
        (
            "F17/span:contract-signing.acted->contract-filing.acted.max > +2h",
            "F17/span:contract-signing.acted->contract-filing.acted",
            "max",
            ">",
            "delta",
            7200.0,
            False,
        ),
    ],
)
def test_thresholds_name_metric_stat_and_change(
    text: str, metric: str, stat: str, op: str, kind: str, amount: float, working_days: bool
) -> None:
    threshold = parse_threshold(text)
    assert (threshold.metric, threshold.stat, threshold.op) == (metric, stat, op)
    assert (threshold.kind, threshold.amount, threshold.working_days) == (
        kind,
        amount,
        working_days,
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("F03/case > +10%", "cannot read threshold"),
        ("F03/case.p42 > +10%", "cannot read threshold"),
        ("F03/case.p90 ~ +10%", "cannot read threshold"),
        ("F03/case.p90 > +10 parsecs", "cannot read threshold"),
        ("F03/case.p90 > +ten%", "not a duration"),
        ("wd:F03/case.p90 > +2h", "write the change in working days"),
        ("F03/case.count > +2h", "a count changes by a number"),
    ],
)
def test_unreadable_thresholds_say_what_is_allowed(text: str, says: str) -> None:
    with pytest.raises(ThresholdError) as caught:
        parse_threshold(text)
    assert says in str(caught.value)


def test_thresholds_on_the_outage_study(runs: dict[str, Path]) -> None:
    before, after = result(runs["no-outage"]), result(runs["outage"])
    p90 = (before.latency["F03/case"]["p90"], after.latency["F03/case"]["p90"])
    grew = 100 * (p90[1] - p90[0]) / p90[0]
    assert grew > 10
    crossing = evaluate(parse_threshold("case.p90 > +10%"), before, after)
    assert crossing.metric == "F03/case" and crossing.crossed
    assert (crossing.first, crossing.second) == p90
    assert f"{grew:+.1f} %" in crossing.statement
    # the same change read the other way holds, and a looser bound holds too
    assert not evaluate(parse_threshold(f"case.p90 > +{grew + 1:.0f}%"), before, after).crossed
    assert not evaluate(parse_threshold("case.p90 < -10%"), before, after).crossed
    ratio = p90[1] / p90[0]
    assert evaluate(parse_threshold(f"case.p90 >= {ratio - 0.01:.2f}x"), before, after).crossed
    assert not evaluate(parse_threshold(f"case.p90 > {ratio + 0.01:.2f}x"), before, after).crossed
    wd = after.working_days["F03/case"]["p99"] - before.working_days["F03/case"]["p99"]
    assert evaluate(parse_threshold(f"wd:case.p99 > +{wd - 0.01:.2f}wd"), before, after).crossed
    level = after.working_days["F03/case"]["p99"]  # the second run's own value
    assert evaluate(parse_threshold(f"case.p99 > {level - 0.01:.2f}wd"), before, after).crossed
    assert not evaluate(parse_threshold(f"case.p99 > {level + 0.01:.2f}wd"), before, after).crossed
    count = parse_threshold("F03/case.count < -1%")
    assert not evaluate(count, before, after).crossed  # same arrivals: the same cases


def test_a_threshold_on_what_the_runs_lack_is_refused_with_a_hint(
    runs: dict[str, Path],
) -> None:
    before, after = result(runs["no-outage"]), result(runs["outage"])
    with pytest.raises(ThresholdError) as caught:
        evaluate(parse_threshold("F03/acted:banks.p90 > +10%"), before, after)
    assert "F03/acted:bank" in str(caught.value)  # did you mean
    with pytest.raises(ThresholdError):
        evaluate(parse_threshold("wd:F03/delivered:bank.p90 > +1wd"), before, after)


def test_verdict_changes_come_first_and_inputs_that_differ_are_named(
    runs: dict[str, Path],
) -> None:
    before, after = result(runs["no-outage"]), result(runs["outage"])
    changed = verdict_changes(before, after)
    assert [(row[1], row[4].split()[0], row[5].split()[0]) for row in changed.rows] == [
        ("bank-backlog-cleared-within-4wd", "met", "MISSED")
    ]
    differs = input_differences(before, after)
    assert differs is not None
    assert [row[0] for row in differs.rows] == [
        "agencies.bank.outages.0.start",
        "agencies.bank.outages.0.end",
        "agencies.bank.outages.0.reason",
    ]
    titles = [table.title for table in gate_tables(before, after)]
    assert titles[:2] == ["Verdict changes", "Inputs that differ"]
    assert titles.index("Working days (工作日)") == titles.index("Business latency") + 1
    assert run_warnings(before, after) == []


def test_the_outage_study_against_the_plain_scenario_fails_the_gate(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    html = tmp_path / "compare.html"
    done = govstream(
        "compare",
        runs["plain"],
        runs["outage"],
        "--fail-if",
        "F03/case.p90 > +10%",
        "--fail-if",
        "F03/acted:police.p50 > 10x",
        "--html",
        html,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    out = done.stdout
    assert "WARNING: the runs come from different scenarios" in out
    assert "FAILED crossed: F03/case.p90 went from" in out
    assert "F03/acted:police" not in out.split("FAILED", 1)[1]  # only what crossed fails
    assert out.index("Verdict changes") < out.index("Thresholds") < out.index("Counts")
    assert "Working days (工作日)" in out
    page = html.read_text(encoding="utf-8")
    assert "FAILED crossed: F03/case.p90" in page and "CROSSED" in page


def test_a_gate_that_holds_exits_0(runs: dict[str, Path]) -> None:
    done = govstream("compare", runs["no-outage"], runs["outage"], "--fail-if", "case.p90 > 100x")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the 1 threshold held" in done.stdout
    assert "WARNING" not in done.stdout


def test_a_target_newly_missed_fails_with_fail_on_new_miss(runs: dict[str, Path]) -> None:
    done = govstream("compare", runs["no-outage"], runs["outage"], "--fail-on-new-miss")
    assert done.returncode == 3
    assert "newly not met: F03 bank-backlog-cleared-within-4wd" in done.stdout
    back = govstream("compare", runs["outage"], runs["no-outage"], "--fail-on-new-miss")
    assert back.returncode == 0


def test_runs_of_different_flows_are_refused_unless_allowed(runs: dict[str, Path]) -> None:
    refused = govstream("compare", runs["plain"], runs["f10"])
    assert refused.returncode == 2
    assert "different flows" in refused.stderr and "F10" in refused.stderr
    assert "Traceback" not in refused.stderr
    allowed = govstream("compare", runs["plain"], runs["f10"], "--allow-different-flows")
    assert allowed.returncode == 0
    assert "WARNING: the runs simulate different flows" in allowed.stdout
    assert "none in common" in allowed.stdout


@pytest.mark.parametrize(
    ("threshold", "says"),
    [("F03/case.p90 >> 10%", "cannot read threshold"), ("F03/nope.p90 > +1%", "no latency")],
)
def test_bad_thresholds_exit_2(runs: dict[str, Path], threshold: str, says: str) -> None:
    done = govstream("compare", runs["plain"], runs["outage"], "--fail-if", threshold)
    assert done.returncode == 2
    assert says in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_the_comparison_page_draws_in_headless_chromium(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    html = tmp_path / "compare.html"
    done = govstream("compare", runs["no-outage"], runs["outage"], "--html", html)
    assert done.returncode == 0
    with open_page(html, tmp_path / "profile") as page:
        assert page.wait_until("document.body.dataset.charts !== 'pending' && 1")
        state = page.evaluate("document.body.dataset.charts")
        charts = json.loads(
            page.evaluate(
                "JSON.stringify(Array.from(document.querySelectorAll('.chart')).map(d => "
                "[d.id, d.querySelectorAll('path.js-line').length]))"
            )
        )
        page.screenshot(tmp_path / "compare.png")
        errors = page.errors()
    assert state == "drawn"
    assert errors == []
    assert dict(charts).keys() == {"latency-F03", "queue"}
    assert all(count > 0 for _, count in charts)
