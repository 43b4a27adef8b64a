"""The plan's targets as data: the numbers the plan sets, and what a `source: plan` target owes.

A target labelled "plan" borrows the plan's authority. It must cite a measure that sets a time,
and may not be looser than the plan's number; a flow whose plan number no target checks is
named in every report, and fails a run with --fail-on-sla.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import ROOT, govstream

from govstream.plan.targets import PLAN_TARGETS, targets_of, unchecked
from govstream.result import RunResult
from govstream.scenario.loader import ScenarioError, load_scenario
from processors import FLOWS

EXIT_BAD_INPUT = 2
EXIT_SLA_MISSED = 3
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
UNEMPLOYMENT = ROOT / "scenarios" / "unemployment-benefit.yaml"
UTILITIES = ROOT / "scenarios" / "utility-connection.yaml"
FANOUT = ROOT / "scenarios" / "deregistration-fanout.yaml"


def numbers(flow_id: str) -> dict[str, tuple[float, str, str]]:
    return {
        str(t.span): (float(t.number), str(t.unit), str(t.statistic))
        for t in targets_of(flow_id)
        if t.number is not None
    }


def test_the_table_holds_the_plans_numbers_as_it_states_them() -> None:
    assert numbers("F04") == {
        "water-connection": (9, "wd", "every"),
        "power-lv-connection": (8, "wd", "every"),
        "power-lv-excavation-filing": (2, "d", "every"),  # 2日: calendar days
        "power-10kv-connection": (30, "wd", "mean"),  # 平均用时: the mean
        "gas-connection": (13, "wd", "every"),
    }
    assert numbers("F14") == {"claim-decided": (1, "wd", "every")}
    assert numbers("F17") == {
        "award-to-contract": (20, "d", "every"),  # 20日内: calendar days
        "completion-to-acceptance": (7, "wd", "every"),
        "invoice-to-payment": (5, "wd", "every"),
    }


@pytest.mark.parametrize("word", ["实时", "即办即取", "及时"])
def test_a_qualitative_word_has_no_number(word: str) -> None:
    found = [t for t in PLAN_TARGETS if t.word == word]
    assert found
    assert all(t.number is None and t.unit is None and word in t.quote for t in found)


def test_every_quote_contains_its_number_and_spans_name_the_flows_own() -> None:
    for t in PLAN_TARGETS:
        if t.number is not None:
            assert f"{t.number:g}" in t.quote
            assert ("工作日" in t.quote) == (t.unit == "wd"), t
            assert ("平均" in t.quote) == (t.statistic == "mean"), t
        if t.flow in FLOWS:
            assert t.measure in FLOWS[t.flow].measures, t
            if t.span is not None:
                assert t.span in [span.id for span in FLOWS[t.flow].spans], t


def test_flows_prints_the_table() -> None:
    shown = govstream("flows")
    assert shown.returncode == 0, shown.stderr
    table = shown.stdout.split("The plan's time targets")[1]
    for text in ("≤ 9 WD", "≤ 8 WD", "mean ≤ 30 WD", "≤ 13 WD", "≤ 1 WD", "≤ 20 days",
                 "≤ 7 WD", "≤ 5 WD", "实时: no number", "即办即取: no number"):  # fmt: skip
        assert text in table, text


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_checks_every_number_the_plan_sets_its_flows(path: Path) -> None:
    scenario = load_scenario(path)
    assert unchecked(scenario) == []


# -- the reproductions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "override", "named"),
    [
        (UNEMPLOYMENT, "targets.0.within=30d", "1 WD"),  # a clock limit past 1 working day
        (UNEMPLOYMENT, "targets.0.within=2wd", "1 WD"),
        (UTILITIES, "targets.0.within=10wd", "9 WD"),
        (UTILITIES, "targets.2.within=3d", "2 days"),
        (UTILITIES, "targets.2.within=2wd", "calendar days"),
    ],
)
def test_a_plan_limit_looser_than_the_plan_is_bad_input_naming_both(
    path: Path, override: str, named: str, tmp_path: Path
) -> None:
    ran = govstream("validate", path, "--set", override)
    assert ran.returncode == EXIT_BAD_INPUT, ran.stdout
    said = " ".join(ran.stderr.split())
    limit = override.partition("=")[2]
    assert f"within {limit}" in said and named in said and "Traceback" not in said
    run = govstream("run", path, "--set", override, "--quiet", "--out", tmp_path)
    assert run.returncode == EXIT_BAD_INPUT and not (tmp_path / "result.json").exists()


@pytest.mark.parametrize(
    ("overrides", "within", "working_days"),
    [
        (["targets.0.within=0wd"], "0wd", "legal"),  # done the same day
        (["targets.0.within=0.5wd", "targets.0.working_days=office"], "0.5wd", "office"),
        (["targets.0.within=20h"], "20h", "legal"),  # ends before one working day does
        (["targets.0.working_days=office"], "1wd", "office"),
    ],
)
def test_a_stricter_plan_limit_is_fine(
    overrides: list[str], within: str, working_days: str
) -> None:
    """Stricter than the plan, the target keeps the plan's authority and checks its number."""
    scenario = load_scenario(UNEMPLOYMENT, overrides)
    target = scenario.targets[0]
    assert (str(target.within), target.working_days) == (within, working_days)
    assert (target.source, target.measure) == ("plan", "M40")
    assert unchecked(scenario) == []


def test_a_plan_target_must_cite_a_measure_with_a_time_in_the_table() -> None:
    with pytest.raises(ScenarioError, match="'M99' sets F14 no time target"):
        load_scenario(UNEMPLOYMENT, ["targets.0.measure=M99"])


def test_a_plan_target_on_a_number_must_time_what_the_plan_times() -> None:
    """M15's 5 working days run from the invoice to the payment, not over the whole case."""
    with pytest.raises(ScenarioError, match="span invoice-to-payment") as raised:
        load_scenario(
            ROOT / "scenarios" / "procurement-lifecycle.yaml",
            ["targets.2.span=null", "targets.2.of=case"],
        )
    assert "this target is on the whole case" in str(raised.value)


def test_a_plan_target_reading_a_word_says_how() -> None:
    with pytest.raises(ScenarioError, match="note: required"):
        load_scenario(FANOUT, ["targets.0.note="])


@pytest.mark.parametrize("within", ["30d", "2min", "1h"])
def test_a_plan_limit_past_any_reading_of_the_word_is_bad_input(
    within: str, tmp_path: Path
) -> None:
    """Nothing thirty days late is 实时 (real time), whatever the target's note says."""
    ran = govstream("validate", FANOUT, "--set", f"targets.0.within={within}")
    assert ran.returncode == EXIT_BAD_INPUT, ran.stdout
    said = " ".join(ran.stderr.split())
    assert f"within {within}" in said and "实时" in said and "1min at most" in said
    run = govstream("run", FANOUT, "--set", f"targets.0.within={within}", "--out", tmp_path)
    assert run.returncode == EXIT_BAD_INPUT and not (tmp_path / "result.json").exists()


@pytest.mark.parametrize(("within", "seconds"), [("1min", 60.0), ("500ms", 0.5)])
def test_a_reading_of_the_word_within_its_bound_is_fine(within: str, seconds: float) -> None:
    """实时 read as anything up to a minute is a plan target that checks the word."""
    scenario = load_scenario(FANOUT, [f"targets.0.within={within}"])
    target = scenario.targets[0]
    assert target.within is not None and target.within.clock_seconds() == seconds
    assert (target.source, target.measure) == ("plan", "M5")
    assert unchecked(scenario) == []


def test_a_word_left_unchecked_fails_the_run_like_a_number(tmp_path: Path) -> None:
    ran = govstream("run", FANOUT, "--set", "targets=[]", "--fail-on-sla", "--out", tmp_path)
    assert ran.returncode == EXIT_SLA_MISSED, ran.stdout + ran.stderr
    assert "plan target not checked: F03 M5" in " ".join(ran.stdout.split())
    assert [u.measure for u in unchecked(load_scenario(FANOUT, ["targets=[]"]))] == ["M5"]
    # a word no limit can bound (及时, timely) is not asked for
    assert not [t for t in PLAN_TARGETS if t.word == "及时" and t.checkable]


def test_a_measure_without_a_time_is_not_a_plan_target() -> None:
    with pytest.raises(ScenarioError, match="sets F04 no time target"):
        load_scenario(UTILITIES, ["targets.5.source=plan", "targets.5.measure=M8"])


def test_a_plan_target_left_out_is_said_in_every_report_and_fails_the_run(
    tmp_path: Path,
) -> None:
    ran = govstream("run", UNEMPLOYMENT, "--set", "targets=[]", "--fail-on-sla", "--out", tmp_path)
    assert ran.returncode == EXIT_SLA_MISSED, ran.stdout + ran.stderr
    said = " ".join(ran.stdout.split())
    assert "plan target not checked: F14 M40" in said
    result = RunResult.read(tmp_path / "result.json")
    assert [u.measure for u in result.unchecked_plan_targets] == ["M40"]
    assert result.unchecked_plan_targets[0].span == "claim-decided"
    assert not result.targets_met
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "plan target not checked: F14 M40" in summary
    assert "失业补助金、失业保险金申领不超过1个工作日" in summary
    # without --fail-on-sla the run is not an error, but still says so
    plain = govstream("run", UNEMPLOYMENT, "--set", "targets=[]", "--out", tmp_path / "b")
    assert plain.returncode == 0 and "plan target not checked" in plain.stdout
    validated = govstream("validate", UNEMPLOYMENT, "--set", "targets=[]")
    assert validated.returncode == 0 and "plan target not checked" in validated.stdout
    compared = govstream("compare", tmp_path, tmp_path / "b")
    assert compared.returncode == 0 and "plan target not checked: F14 M40" in compared.stdout


def test_an_author_target_on_the_same_span_does_not_check_the_plan() -> None:
    scenario = load_scenario(UNEMPLOYMENT, ["targets.0.source=author", "targets.0.measure=null"])
    assert [t.measure for t in unchecked(scenario)] == ["M40"]
