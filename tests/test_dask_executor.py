"""Studies on Dask: the same results as the process pool, byte for byte, and nothing lost or
counted twice when a worker dies mid-study.

The seeds decide a study's results, not where its runs were placed, so a sweep or a
replication study on a `LocalCluster` writes exactly what the default executor writes. A
worker lost with runs in hand has them run again elsewhere; every run's answer reaches the study
once.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import ROOT, govstream, started
from distributed import Client, LocalCluster

from govstream.cli import main
from govstream.scenario.loader import load_scenario
from govstream.studies.executors import ExecutorChoice, study_executor
from govstream.studies.replications import (
    merge_replications,
    replication_seeds,
    run_replications,
)
from govstream.studies.runs import RunTask

OUTAGE = ROOT / "scenarios" / "deregistration-bank-outage.yaml"
SHORT = ["duration=10d", "drain=20d"]
SETS = [arg for override in SHORT for arg in ("--set", override)]


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[LocalCluster, Client]]:
    """Two single-threaded worker processes, as `--executor dask --jobs 2` starts, given to
    the studies by the scheduler's address as a remote cluster would be."""
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as local,
        Client(local, set_as_default=False) as client,
    ):
        client.wait_for_workers(2)
        yield local, client


def study_files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_sweep_on_a_local_cluster_interrupted_and_resumed_writes_what_processes_write(
    tmp_path: Path,
) -> None:
    """The whole command as a user runs it: a LocalCluster of one worker started for the sweep,
    Ctrl-C (SIGINT to the process group, workers included) once the first point is printed,
    then the same command again. Three points of two replications run one at a time, so when
    the first point is printed at least two more are still to run, each as long as it: the
    interrupt lands inside the sweep however busy the machine."""
    args = ["sweep", OUTAGE, "--vary", "agencies.bank.servers=3..5", "--replications", "2"]
    processes = govstream(*args, *SETS, "--out", tmp_path / "processes", timeout=300)
    assert processes.returncode == 0, processes.stderr
    dask = [*map(str, args), *SETS, "--executor", "dask", "--jobs", "1"]
    process = started(*dask, "--out", tmp_path / "dask")
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if line.startswith("  agencies.bank.servers="):
                break
        else:
            raise AssertionError("no point finished:\n" + "".join(seen))
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 1, stderr
    assert "interrupted:" in stderr and "Traceback" not in stderr, stderr
    kept = json.loads((tmp_path / "dask" / "sweep.json").read_text(encoding="utf-8"))
    assert 1 <= kept["points_done"] < 3
    resumed = govstream(*dask, "--out", tmp_path / "dask", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{kept['points_done']} kept from an earlier run" in resumed.stdout
    expected = study_files(tmp_path / "processes")
    assert {"sweep.json", "sweep.md", "sweep.csv"} <= set(expected)
    assert len([name for name in expected if name.startswith("points/")]) == 3
    assert study_files(tmp_path / "dask") == expected


def test_a_lost_worker_loses_no_run_and_counts_none_twice(
    cluster: tuple[LocalCluster, Client],
) -> None:
    """Worker B is stopped (SIGSTOP) before the study: the scheduler still hands it runs, and
    it can finish none. When the first answer arrives (from A), B is killed with its runs in
    hand; they must be run again and every answer must arrive exactly once."""
    local, client = cluster
    scenario = load_scenario(OUTAGE, SHORT)
    count = 6
    tasks = [
        RunTask(scenario, seed, str(OUTAGE), tuple(SHORT))
        for seed in replication_seeds(scenario, count)
    ]
    pids = client.run(os.getpid)
    victim, pid = sorted(pids.items())[1]
    os.kill(pid, signal.SIGSTOP)
    arrived: list[int] = []
    runs: dict[int, Any] = {}
    try:
        with study_executor(ExecutorChoice("dask", local.scheduler_address), count) as running:
            for index, run in running.results(tasks):
                if not arrived:
                    held = client.processing()[victim]
                    assert held, "the stopped worker was handed no run"
                    os.kill(pid, signal.SIGKILL)
                arrived.append(index)
                runs[index] = run
    finally:
        for sent in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sent)
            except ProcessLookupError:
                break
    assert sorted(arrived) == list(range(count)), arrived
    done = [runs[index] for index in range(count)]
    merged = merge_replications(scenario, done, str(OUTAGE), SHORT)
    expected = run_replications(
        scenario, count, scenario_file=str(OUTAGE), overrides=SHORT, workers=2
    )
    assert merged.to_json() == expected.to_json()


def test_replications_on_a_cluster_equal_the_processes(
    cluster: tuple[LocalCluster, Client],
) -> None:
    local, _ = cluster
    scenario = load_scenario(OUTAGE, SHORT)
    bar = Bar()
    on_dask = run_replications(
        scenario,
        3,
        scenario_file=str(OUTAGE),
        overrides=SHORT,
        executor=ExecutorChoice("dask", local.scheduler_address),
        progress=bar,
    )
    on_processes = run_replications(
        scenario, 3, scenario_file=str(OUTAGE), overrides=SHORT, workers=2
    )
    assert on_dask.to_json() == on_processes.to_json()
    assert bar.told == [1 / 3, 2 / 3, 1.0]
    assert bar.where == [f"dask at {local.scheduler_address}, 2 workers"] * 3


class Bar:
    """Stands in for the progress bar: what it was told, and where the runs were said to go."""

    def __init__(self) -> None:
        self.told: list[float] = []
        self.where: list[str] = []

    def __call__(self, fraction: float) -> None:
        self.told.append(fraction)

    def describe(self, where: str) -> None:
        self.where.append(where)


def closed_port() -> int:
    """A port nothing listens on: bound, then let go."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_scheduler_unreachable_or_without_dask_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    address = f"tcp://127.0.0.1:{closed_port()}"
    run = ["run", str(OUTAGE), *SETS, "--replications", "2", "--out", str(tmp_path)]
    assert main([*run, "--scheduler", address]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "--scheduler" in said and "--executor dask" in said and address in said
    sweep = ["sweep", str(OUTAGE), "--vary", "agencies.bank.servers=3,4", *SETS]
    dask = ["--executor", "dask", "--scheduler", address, "--scheduler-timeout", "1"]
    assert main([*sweep, *dask, "--out", str(tmp_path / "sweep")]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert f"cannot reach the Dask scheduler at {address}" in said
    assert main([*run, *dask]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert f"cannot reach the Dask scheduler at {address}" in said
    assert main([*run, *dask, "--jobs", "2"]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "--jobs 2" in said and "--scheduler" in said
