"""Starting and stopping faust worker processes for a run on this machine.

Workers are separate processes (as they would be on other machines), started with the run's
effective scenario written to a file, and each signals readiness by writing a file once its
partitions are assigned and its tables recovered.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from govstream.broker.process import die_with_parent_hook
from govstream.scenario.model import Scenario


class WorkerStartError(RuntimeError):
    pass


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    ready_file: Path
    log_file: Path


def write_scenario(scenario: Scenario, directory: Path) -> Path:
    path = directory / "scenario.yaml"
    text = yaml.safe_dump(scenario.to_data(), allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def start_workers(
    scenario: Scenario,
    bootstrap: str,
    directory: Path,
    identities: dict[str, Path] | None = None,
    run_id: str | None = None,
) -> list[WorkerProcess]:
    """`kafka.workers` processes, each given the effective scenario (its overrides applied).

    With ``identities`` (role → client properties file, on a secure cluster), `kafka.workers`
    processes per role instead, each running only that role's agents as that role's principal.
    Each logs JSON lines, with ``run_id`` on every one, to its log file in ``directory``.
    """
    scenario_file = write_scenario(scenario, directory)
    workers = []
    kinds: list[tuple[str, list[str]]] = [("worker", [])]
    if identities is not None:
        kinds = [
            (f"worker-{role}", ["--role", role, "--client-properties", str(path)])
            for role, path in identities.items()
        ]
    for (name, identity), index in itertools.product(kinds, range(scenario.kafka.workers)):
        ready = directory / f"{name}-{index}.ready"
        log_file = directory / f"{name}-{index}.log"
        command = [
            sys.executable,
            "-m",
            "govstream",
            "--log-level",
            "info",
            "--log-format",
            "json",
            "worker",
            str(scenario_file),
            "--bootstrap",
            bootstrap,
            "--ready-file",
            str(ready),
            *(["--run-id", run_id] if run_id else []),
            *identity,
        ]
        with log_file.open("wb") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # A killed run leaves no worker behind. SIGKILL, because a worker whose broker
                # is gone can hang in its shutdown; its uncommitted work is skipped as stale.
                preexec_fn=die_with_parent_hook(signal.SIGKILL),
            )
        workers.append(WorkerProcess(process, ready, log_file))
    return workers


def wait_ready(
    workers: list[WorkerProcess], timeout: float = 120.0, stop: threading.Event | None = None
) -> None:
    """Returns once every worker is ready, or at once when `stop` is set (the run's watch
    found the broker gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop is not None and stop.is_set():
            return
        for worker in workers:
            if worker.process.poll() is not None:
                raise WorkerStartError(
                    f"a worker exited with code {worker.process.returncode} while starting; "
                    f"see {worker.log_file}"
                )
        if all(worker.ready_file.exists() for worker in workers):
            return
        time.sleep(0.2)
    logs = ", ".join(str(worker.log_file) for worker in workers)
    raise WorkerStartError(f"workers not ready after {timeout:.0f}s; see {logs}")


def stop_workers(workers: list[WorkerProcess], grace: float = 20.0) -> None:
    for worker in workers:
        if worker.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for worker in workers:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            worker.process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait(timeout=10)
