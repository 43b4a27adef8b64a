"""`govstream compare`: two runs side by side, ratios from their own result.json figures."""

from __future__ import annotations

from pathlib import Path

from cli_runner import govstream

from govstream.durations import format_seconds
from govstream.report.compare import latency_comparison
from govstream.result import RunResult

SCENARIO = "scenarios/deregistration-bank-outage.yaml"


def row_of(rows: list[tuple[str, ...]], latency: str, stat: str) -> tuple[str, ...]:
    """Rows name their latency only on its first line; later lines belong to it too."""
    current = ""
    for row in rows:
        current = row[0] or current
        if current == latency and row[1] == stat:
            return row
    raise AssertionError(f"no row for {latency} {stat}")


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

    bank_p90 = row_of(latency_comparison(a, b).rows, "acted:bank", "p90")
    expected_ratio = b.latency["acted:bank"]["p90"] / a.latency["acted:bank"]["p90"]
    assert bank_p90[2] == format_seconds(a.latency["acted:bank"]["p90"])
    assert bank_p90[3] == format_seconds(b.latency["acted:bank"]["p90"])
    assert bank_p90[4] == f"{expected_ratio:.2f}×"
    assert expected_ratio > 1.2  # the outage slows the bank's answers

    shown = govstream("compare", str(first), str(second / "result.json"))
    assert shown.returncode == 0
    assert "acted:bank" in shown.stdout and f"{expected_ratio:.2f}×" in shown.stdout


def test_compare_rejects_what_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text('{"not": "a result"}')
    done = govstream("compare", str(tmp_path), str(tmp_path / "missing"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(tmp_path) in " ".join(done.stderr.split())
