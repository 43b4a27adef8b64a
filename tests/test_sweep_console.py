"""A sweep's console table on a terminal narrower than a column per target: every value shows.

A sweep of many flows has dozens of targets; a column each on a 100-column terminal left every
cell as "…". The command is run as a user would, at that width, over every discovered flow.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cli_runner import ENV, ROOT, every_flow_scenario, write_scenario
from rich.console import Console

from govstream.studies.sweep import parse_vary

VARY = "agencies.bank.servers=1,2"


def narrow_sweep(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    scenario = every_flow_scenario(rate="4/d") | {"duration": "3d", "drain": "30d"}
    path = write_scenario(tmp_path / "every-flow.yaml", scenario)
    out = tmp_path / "sweep"
    done = subprocess.run(
        [sys.executable, "-m", "govstream", "sweep", str(path), "--vary", VARY, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**ENV, "COLUMNS": "100"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done, json.loads((out / "sweep.json").read_text(encoding="utf-8"))


def test_a_narrow_sweep_table_shows_every_targets_value(tmp_path: Path) -> None:
    done, sweep = narrow_sweep(tmp_path)
    records = sweep["points"] if isinstance(sweep["points"], list) else [*sweep["points"].values()]
    verdicts = [v for record in records for v in record["verdicts"]]
    assert len({v["flow"] for v in verdicts}) > 10, "a sweep of many flows"
    out = done.stdout
    assert "…" not in out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    for v in verdicts:
        row = next((line for line in lines if f" {v['target']} " in line), None)
        assert row is not None, f"{v['target']} is not in the table"
    shown = [(v["target"], v["shown"], v["word"]) for v in verdicts]
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in lines if "│" in line]
    cells = {(row[3], row[5], row[6]) for row in rows if len(row) == 7}
    assert set(shown) <= cells


def test_a_wide_enough_console_keeps_a_column_per_target(tmp_path: Path) -> None:
    from govstream.cli.sweep import print_sweep

    varies = [parse_vary(VARY)]
    records = [
        {
            "overrides": [f"agencies.bank.servers={n}"],
            "all_met": True,
            "verdicts": [
                {
                    "flow": "F03",
                    "target": "t",
                    "on": "case",
                    "stat": "p90",
                    "within": "5wd",
                    "shown": f"{n}wd",
                    "word": "met",
                }
            ],
        }
        for n in (1, 2)
    ]
    for width, columns in ((200, "t case p90 ≤ 5wd"), (80, "target")):
        out = io.StringIO()
        print_sweep(varies, records, Console(file=out, width=width))
        assert columns in out.getvalue()
        assert "1wd" in out.getvalue() and "2wd" in out.getvalue()
