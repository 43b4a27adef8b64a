"""Running the `govstream` command as a user would: a fresh process from the project root.

Also a scenario of every discovered flow at once, built from the flows' own declarations (their
agencies and waits), so multi-flow runs are tested on whatever flows exist without naming them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from processors import FLOWS
from processors.flow import FlowSpec

ROOT = Path(__file__).resolve().parents[1]

# Wide columns so tables are not folded; UTF-8 so Chinese text survives any locale.
ENV = {**os.environ, "COLUMNS": "400", "PYTHONIOENCODING": "utf-8"}


def started(*args: str | Path) -> subprocess.Popen[str]:
    """`govstream ARGS` started in a session of its own, so a test can signal its whole
    process group (as Ctrl-C on a terminal would) while reading what it prints."""
    return subprocess.Popen(
        [sys.executable, "-m", "govstream", *map(str, args)],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def govstream(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govstream", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env=ENV,
    )


def every_flow_scenario(name: str = "every-flow", rate: str = "12/d") -> dict[str, Any]:
    """Every discovered flow over one set of agencies: an agency two flows reach is one pool.

    Each agency gets two clerks on office hours and every wait lasts one day; arrivals run for
    ten days, and the run ends as soon as every case has closed.
    """
    agencies = dict.fromkeys(a for flow in FLOWS.values() for a in flow.agencies)
    return {
        "name": name,
        "seed": 20210801,
        "duration": "10d",
        "drain": "90d",
        "flows": {flow_id: flow_settings(flow, rate) for flow_id, flow in FLOWS.items()},
        "agencies": {
            agency: {
                "servers": 2,
                "calendar": "office",
                "service_time": {"dist": "exponential", "mean": "30min"},
            }
            for agency in agencies
        },
        "targets": [
            {
                "id": f"{flow_id.lower()}-case",
                "flow": flow_id,
                "of": "case",
                "stat": "p90",
                "within": "5wd",
                "source": "author",
            }
            for flow_id in FLOWS
        ],
    }


def flow_settings(flow: FlowSpec, rate: str) -> dict[str, Any]:
    """A flow at `rate`; a flow whose cases start at a score gets each source of its signals at
    that rate, about few enough entities, with a low enough threshold, that scores cross."""
    steps = {step.id: {"duration": {"dist": "constant", "value": "1d"}} for step in flow.waits}
    if flow.scoring is None:
        return {"arrivals": {"rate": rate}, "steps": steps}
    return {
        "signals": {kind: {"arrivals": {"rate": rate}} for kind in flow.scoring.kinds},
        "population": {"population_size": 20},
        "threshold": 3,
        "steps": steps,
    }


def write_scenario(path: Path, scenario: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False), "utf-8")
    return path
