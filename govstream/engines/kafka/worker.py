"""Running one faust worker in this process until it is told to stop."""

from __future__ import annotations

import logging
from pathlib import Path

import faust
import structlog

from govstream.contracts.catalog import load_catalog
from govstream.engines.kafka.app import build_app
from govstream.engines.kafka.topics import admin_client, ensure_topics
from govstream.scenario.model import Scenario
from processors import flow as flow_by_id

log = structlog.get_logger(__name__)


def flow_topics(scenario: Scenario) -> list[str]:
    flow = flow_by_id(scenario.flow)
    catalog = load_catalog()
    return [spec.name for spec in catalog.topics_for_flow(flow.id)] + [catalog.dead_letter_topic]


def run_worker(
    scenario: Scenario, bootstrap: str, *, workers: int = 1, ready_file: Path | None = None
) -> int:
    admin = admin_client(bootstrap)
    try:
        replication = ensure_topics(admin, load_catalog(), flow_topics(scenario))
    finally:
        admin.close()

    def ready() -> None:
        if ready_file is not None:
            ready_file.write_text("ready\n")
        log.info("worker ready", flow=scenario.flow, bootstrap=bootstrap)

    app = build_app(
        scenario, bootstrap, workers=workers, replication_factor=replication, on_ready=ready
    )
    worker = faust.Worker(app, loglevel=logging.WARNING, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
    return 0
