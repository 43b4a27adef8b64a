"""Ctrl-C during `run --replications N`: the replications finished are kept and written.

A study of many seeds runs for a long time; interrupting it used to throw away every finished
replication. The command runs as a user's would, in its own process group, and gets SIGINT as a
terminal's Ctrl-C sends it (to the whole group, workers included) once its log says a
replication finished. Replications run one at a time (`--jobs 1`), so at that moment at least
two more are still to run, each as long as the one that finished: the interrupt lands well
inside the study however busy the machine.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from cli_runner import ROOT, started

FANOUT = ROOT / "scenarios" / "deregistration-fanout.yaml"
REPLICATIONS = 3


def test_ctrl_c_keeps_the_replications_finished(tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = started(
        "run", FANOUT, "--replications", REPLICATIONS, "--jobs", "1", "--out", out,
        "--log-level", "info", "--log-format", "json",
    )  # fmt: skip
    try:
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if '"replication finished"' in line:
                break
        else:
            raise AssertionError("no replication finished:\n" + "".join(seen))
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, stdout + stderr
    assert "partial result in" in stderr and "(marked incomplete)" in stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    done = result["engine"]["options"]["replications"]
    assert 1 <= done < REPLICATIONS
    assert result["incomplete"].startswith(
        f"interrupted (Ctrl-C) with {done} of {REPLICATIONS} replications finished"
    )
    assert len(result["replications"]) == done
    assert result["counts"]["cases_started"] > 0
    assert "INCOMPLETE" in (out / "summary.md").read_text(encoding="utf-8")
    assert (out / "report.html").exists()
