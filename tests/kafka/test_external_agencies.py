"""External agencies on a real broker: the reference systems in `examples/agencies/` answer for
the bank, the housing fund and, in the faults' run, police, hrss and tax.

Each system runs as its own process, in an interpreter that refuses any import of govstream,
knowing only the AsyncAPI document. A run of F01 and F03 with the bank and the housing fund
external completes every case with every answer valid, its latencies as on the same run
answered by govstream's own endpoints. In a second run each of five systems misbehaves its
own way, and each fault shows as its own count in the conformance report; `--fail-on-sla`
exits 3.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from govstream.contracts.asyncapi import asyncapi_document
from govstream.contracts.catalog import load_catalog
from govstream.engines import RunSettings
from govstream.engines.kafka.app import scenario_topics
from govstream.engines.kafka.engine import run_on_kafka
from govstream.engines.kafka.topics import admin_client, ensure_topics
from govstream.result import RunResult
from govstream.scenario.loader import load_scenario
from govstream.scenario.model import Scenario

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "agencies"
SCENARIO = ROOT / "tests" / "data" / "external-agencies.yaml"
SERVICE_TIME = "200ms"
"""The systems' time to answer: the scenario's constant service time at every agency."""
READY_SECONDS = 90.0

NO_GOVSTREAM = """
import runpy, sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"govstream", "processors", "producers", "schemas"}:
            raise ImportError(f"{name}: an agency's system knows govstream by its contracts only")
sys.meta_path.insert(0, Refuse())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
"""Runs a program with every import of govstream's packages refused."""

PROGRAMS = {"bank": "bank.py", "housing-fund": "housing_fund.py"}


class AgencyProcess:
    """One reference system, serving until stopped; then its own account of what it did."""

    def __init__(self, agency: str, contracts: Path, bootstrap: str, folder: Path, *extra: str):
        program = PROGRAMS.get(agency, "agency_system.py")
        self.out, self.err = folder / f"{agency}.out", folder / f"{agency}.err"
        args = [
            sys.executable,
            "-c",
            NO_GOVSTREAM,
            str(EXAMPLES / program),
            *([] if agency in PROGRAMS else ["--agency", agency]),
            "--contracts",
            str(contracts),
            "--bootstrap",
            bootstrap,
            "--group",
            f"govstream.{agency}.test-{uuid.uuid4().hex[:8]}",
            "--service-time",
            SERVICE_TIME,
            *extra,
        ]
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(args, stdout=out, stderr=err, cwd=folder, env=env)
        self.agency = agency

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if f"{self.agency}: ready" in self.err.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{self.agency} not serving: {self.err.read_text()[-2000:]}")

    def stop(self) -> dict[str, Any]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        lines = self.out.read_text().splitlines()
        assert lines, f"{self.agency} said nothing: {self.err.read_text()[-2000:]}"
        return json.loads(lines[-1])


@contextmanager
def serving(
    systems: dict[str, list[str]], scenario: Scenario, bootstrap: str, folder: Path
) -> Iterator[dict[str, AgencyProcess]]:
    """The systems started (each with its extra arguments) on the scenario's topics, ready."""
    admin = admin_client(bootstrap)
    try:
        ensure_topics(admin, load_catalog(), scenario_topics(scenario))
    finally:
        admin.close()
    contracts = folder / "asyncapi.json"
    document = asyncapi_document(load_catalog(), tuple(systems))
    contracts.write_text(json.dumps(document), encoding="utf-8")
    started: dict[str, AgencyProcess] = {}
    with ExitStack() as stack:
        for agency, extra in systems.items():
            process = AgencyProcess(agency, contracts, bootstrap, folder, *extra)
            started[agency] = process
            stack.callback(_kill, process)
        for process in started.values():
            process.wait_ready()
        yield started


def _kill(process: AgencyProcess) -> None:
    if process.process.poll() is None:
        process.process.kill()
        process.process.wait(timeout=10)


def external(*agencies: str) -> Scenario:
    return load_scenario(SCENARIO, [f"agencies.{agency}.external=true" for agency in agencies])


def test_f01_and_f03_answered_by_the_bank_s_and_the_fund_s_own_systems(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Every case completes, none lost, every answer of both systems valid, none late or
    repeated; the latencies as govstream's own endpoints give them, within the engines'
    agreement bound: 90 % to 110 % of them, give or take the hops the path crossed at the
    slowest hop's measured p90 (either run's platform may have been the slower)."""
    own = run_on_kafka(load_scenario(SCENARIO), RunSettings(bootstrap=kafka_bootstrap))
    scenario = external("bank", "housing-fund")
    systems = {"bank": [], "housing-fund": []}
    with serving(systems, scenario, kafka_bootstrap, tmp_path) as started:
        result = run_on_kafka(scenario, RunSettings(bootstrap=kafka_bootstrap))
        said = {agency: process.stop() for agency, process in started.items()}
    counts = result.counts
    assert counts.cases_completed == counts.cases_started == own.counts.cases_started > 40
    assert counts.lost == 0 and counts.refused == 0 and counts.dead_lettered == 0
    assert all(check.holds for check in result.books)
    assert set(result.conformance) == {"bank", "housing-fund"}
    for agency, conformance in result.conformance.items():
        assert conformance.requests > 10, agency
        assert conformance.share_valid == 1.0 and conformance.passed, (agency, conformance)
        assert (conformance.late, conformance.duplicated) == (0, 0), agency
        assert said[agency]["requests"] == conformance.requests, agency
    assert result.targets_met
    for agency in ("bank", "housing-fund"):
        assert result.agencies[agency].requests == {"F01": 0, "F03": 0}, "no endpoint of ours"
    moves = ("trigger-to-orchestrator", "orchestrator-to-agency", "outcome-return")
    per_hop = max(run.platform_ms[f"hop:{name}"]["p90"] for run in (own, result) for name in moves)
    hops = {
        "F01/acted:bank-reservation": 3,
        "F03/acted:housing-fund": 3,
        "F01/case": 5,
        "F03/case": 3,
    }
    for name, crossed in hops.items():
        for stat in ("p50", "p90"):
            ours, theirs = own.latency[name][stat], result.latency[name][stat]
            slack = crossed * per_hop / 1000  # either run's hops may have been the slow ones
            low, high = 0.90 * ours - slack, 1.10 * ours + slack
            assert low <= theirs <= high, (name, stat, theirs, ours, per_hop)


FAULTS = {
    "bank": ["--fault", "wrong-field", "--fault-every", "2"],
    "housing-fund": ["--fault", "silent"],
    "police": ["--fault", "late", "--fault-every", "2", "--late-by", "10s"],
    "hrss": ["--fault", "duplicate", "--fault-every", "2"],
    "tax": ["--fault", "foreign-step", "--fault-every", "2"],
}


def test_each_fault_of_an_agency_system_shows_as_its_own_count_and_fails_the_run(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """One run, five systems each misbehaving its own way on its own agency: the bank's
    answers half with a field under the wrong name (F01's reservation number: refused; F03's
    closure: not the contract), the housing fund's never, the police's half 10 s late
    against a 5 s target, hrss's half twice, tax's half for another agency's step. Each
    count is its system's own tally of what it did, and `--fail-on-sla` exits 3."""
    scenario = external(*FAULTS)
    out = tmp_path / "run"
    with serving(FAULTS, scenario, kafka_bootstrap, tmp_path) as started:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "govstream",
                "run",
                str(SCENARIO),
                "--engine",
                "kafka",
                "--bootstrap",
                kafka_bootstrap,
                *(f"--external={agency}" for agency in FAULTS),
                "--out",
                str(out),
                "--fail-on-sla",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
        said = {agency: process.stop() for agency, process in started.items()}
    assert done.returncode == 3, done.stderr
    for agency in ("bank", "housing-fund", "tax"):
        assert f"NOT CONFORMANT {agency}:" in done.stderr, done.stderr
    assert "NOT CONFORMANT police" not in done.stderr, "late is a target's business"
    result = RunResult.read(out / "result.json")
    report = result.conformance
    faulted = {agency: said[agency]["faulted"] for agency in FAULTS}
    assert all(count > 0 for count in faulted.values()), said

    bank = report["bank"]
    assert set(bank.invalid) == {"reply-fields-missing", "unknown-schema"}
    assert bank.invalid_total == faulted["bank"]
    assert bank.missing == faulted["bank"], "each case waits for an answer the bank never gave"
    assert (bank.late, bank.duplicated) == (0, 0)

    fund = report["housing-fund"]
    assert fund.missing == fund.requests == faulted["housing-fund"]
    assert (fund.valid, fund.invalid, fund.late, fund.duplicated) == (0, {}, 0, 0)

    police = report["police"]
    assert police.late == police.late_by_target["police-within-5s"] == faulted["police"]
    assert police.valid == police.requests and police.passed
    assert (police.invalid, police.duplicated) == ({}, 0)

    hrss = report["hrss"]
    assert hrss.duplicated == faulted["hrss"]
    assert hrss.valid == hrss.requests and hrss.passed and hrss.late == 0

    tax = report["tax"]
    assert tax.invalid == {"not-the-step-owner": faulted["tax"]}
    assert tax.missing == faulted["tax"] and tax.late == tax.duplicated == 0

    for agency, conformance in report.items():
        assert conformance.requests == said[agency]["requests"], agency
    assert "conformance" in (out / "summary.md").read_text()
