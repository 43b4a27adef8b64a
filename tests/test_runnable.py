"""Whatever `validate` accepts, `run` runs to its end: the mutations that once passed
validation and then crashed or hung a run are refused up front, each naming its field.

Every case runs the command in-process (`govstream.cli.main`) on the shipped deregistration
scenario with one `--set`; the outcome must be exit 2 with the field named, never a
traceback, and the same command with `run` must refuse it the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import ENV, ROOT

from govstream.cli import main
from govstream.result import RunResult
from govstream.scenario.estimate import LARGE_EVENTS, estimate
from govstream.scenario.loader import load_scenario

BASE = ROOT / "scenarios" / "deregistration-fanout.yaml"
DISTRICT = ROOT / "scenarios" / "district-2021.yaml"
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

REFUSED = {
    "rate-zero": ("arrivals.rate=0/d", "flows.F03.arrivals", "rate must be more than 0"),
    "burst-rate-zero": (
        "arrivals.bursts=[{start: 1d, duration: 1d, rate: 0/d}]",
        "arrivals.bursts",
        "more than 0",
    ),
    "start-after-holiday-data": (
        "start=2026-06-01T09:00:00+08:00",
        "start",
        "holiday data covers",
    ),
    "start-before-holiday-data": (
        "start=2003-06-01T09:00:00+08:00",
        "start",
        "holiday data covers",
    ),
    "office-hours-empty": ("calendar.office_hours=[]", "calendar.office_hours", "at least one"),
    "office-hours-inverted": (
        "calendar.office_hours=['17:00-09:00']",
        "calendar.office_hours",
        "must open before it closes",
    ),
    "office-hours-overlapping": (
        "calendar.office_hours=['09:00-12:00', '11:00-14:00']",
        "calendar.office_hours",
        "overlaps",
    ),
    "office-hours-25h": (
        "calendar.office_hours=['09:00-25:00']",
        "calendar.office_hours",
        "hours 0-23",
    ),
    "probability-2": (
        "population.housing_fund_probability=2",
        "flows.F03.population.housing_fund_probability",
        "from 0 to 1",
    ),
    "probability-nan": (
        "population.housing_fund_probability=.nan",
        "flows.F03.population.housing_fund_probability",
        "finite",
    ),
    "probability-negative": (
        "population.simplified_probability=-0.5",
        "flows.F03.population.simplified_probability",
        "from 0 to 1",
    ),
    "weights-empty": (
        "population.bank_account_weights=[]",
        "flows.F03.population.bank_account_weights",
        "at least one",
    ),
    "weights-all-zero": (
        "population.bank_account_weights=[0, 0, 0]",
        "flows.F03.population.bank_account_weights",
        "not all 0",
    ),
    "weights-negative": (
        "population.bank_account_weights=[1, -1]",
        "flows.F03.population.bank_account_weights",
        "0 or more",
    ),
    "weights-inf": (
        "population.bank_account_weights=[.inf, 1]",
        "flows.F03.population.bank_account_weights",
        "finite",
    ),
    "list-for-a-number": (
        "population.housing_fund_probability=[0.5, 0.5]",
        "flows.F03.population.housing_fund_probability",
        "one number, not a list",
    ),
    "profile-week-inf": (
        "arrivals.profile={week: [.inf, 1, 1, 1, 1, 1, 1]}",
        "flows.F03.arrivals.profile.week",
        "finite",
    ),
    "profile-day-overflowing": (
        "arrivals.profile={day: {'09:00': 1e308, '10:00': 1e308}}",
        "flows.F03.arrivals.profile.day",
        "finite sum",
    ),
    "duration-zero": ("duration=0", "duration", "more than 0"),
    "name-outside": ("name=../../outside", "name", "not a safe name"),
    "name-300": ("name=" + "x" * 300, "name", "not a safe name"),
    "name-slash": ("name=runs/a", "name", "not a safe name"),
    "absurd-rate": ("arrivals.rate=1000000/s", "--allow-large", f"{LARGE_EVENTS:,}"),
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_a_run_would_die_on_is_bad_input(
    case: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    override, field, fragment = REFUSED[case]
    out = ["--out", str(tmp_path / "out")] if command == "run" else []
    code = main([command, str(BASE), "--set", override, *out])
    captured = capsys.readouterr()
    message = " ".join((captured.err + captured.out).split())
    assert code == EXIT_BAD_INPUT, message
    assert "Traceback" not in message
    assert field in message and fragment in message, message
    assert not (tmp_path / "out").exists()


def test_a_large_scenario_runs_only_when_confirmed(capsys: pytest.CaptureFixture[str]) -> None:
    """`--allow-large` is the user's confirmation; validate then accepts what run would run."""
    huge = ["--set", "arrivals.rate=1000/s"]
    assert main(["validate", str(BASE), *huge]) == EXIT_BAD_INPUT
    assert main(["validate", str(BASE), *huge, "--allow-large"]) == 0
    assert "expected load about 21,600,000,000 cases" in " ".join(capsys.readouterr().out.split())


def test_every_shipped_scenario_is_within_the_unconfirmed_size() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        assert not estimate(load_scenario(path)).large, path.name


def test_the_estimate_bounds_what_a_run_emits() -> None:
    """The estimate is the expected count; a run's own count stays near it (Poisson noise of
    a few percent over thousands of cases), so refusing on it refuses what it says."""
    from govstream.engines.sim.engine import SimEngine

    scenario = load_scenario(BASE, ["duration=30d"])
    found = estimate(scenario)
    result = SimEngine(scenario).run()
    assert result.counts.cases_started == pytest.approx(found.cases, rel=0.1)
    events = 2 * result.counts.cases_started + 2 * result.counts.requests_emitted
    assert events <= found.events


def test_a_scenario_name_cannot_write_outside_the_runs_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no --out a run writes to runs/<name>: a name with a path in it is refused."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["run", str(BASE), "--set", "name=../../escaped", "--set", "duration=1d"])
    finally:
        os.chdir(cwd)
    assert code == EXIT_BAD_INPUT
    assert not any(tmp_path.parent.parent.glob("escaped"))
    assert not (tmp_path / "runs").exists()
    capsys.readouterr()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
def test_ctrl_c_on_the_sim_engine_writes_a_partial_result(tmp_path: Path) -> None:
    """The district's year takes a minute or more of CPU; once the run has had a few seconds
    of CPU (imports and loading take about one), Ctrl-C stops it: one line, exit 130, the
    partial result marked incomplete. CPU time, not wall time, so a busy machine only slows
    the test down."""
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "govstream", "run", str(DISTRICT), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    try:
        while process.poll() is None and _cpu_seconds(process.pid) < 4.0:
            time.sleep(0.2)
        assert process.poll() is None, "the run ended before it could be interrupted"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == EXIT_INTERRUPTED, stderr
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted (Ctrl-C)"), lines
    assert "Traceback" not in stderr
    result = RunResult.read(out / "result.json")
    assert result.incomplete and result.incomplete.startswith("interrupted")
    assert result.counts.cases_started > 0
    assert "INCOMPLETE" in (out / "summary.md").read_text(encoding="utf-8")


def test_kafka_status_of_a_stopped_cluster_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kafka", "status", "--state-dir", str(tmp_path)]) == 3
    assert "stopped" in capsys.readouterr().out
