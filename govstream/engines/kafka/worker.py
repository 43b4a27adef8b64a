"""Running one faust worker in this process until it is told to stop."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import faust
import structlog

from govstream.contracts.catalog import load_catalog
from govstream.engines.kafka.access import access_for
from govstream.engines.kafka.app import build_app, scenario_topics
from govstream.engines.kafka.topics import admin_client, broker_count, ensure_topics
from govstream.logs import bind_worker, stdlib_logging_config
from govstream.scenario.model import Scenario

log = structlog.get_logger(__name__)

ALL_ROLES = "all"
"""The role of a worker that runs every agent in one app."""


def run_worker(
    scenario: Scenario,
    bootstrap: str,
    *,
    ready_file: Path | None = None,
    role: str | None = None,
    run_id: str | None = None,
) -> int:
    """A worker runs its share (1 / `kafka.workers`) of every pool's clerks: of every agent, or
    with ``role`` only the platform's or one agency's. Every line it logs carries its role
    (`all` for every agent) and, when given, the run it serves."""
    bind_worker(role or ALL_ROLES, run_id)
    admin = admin_client(bootstrap)
    try:
        if access_for(bootstrap).secure:
            # On a secure cluster topics are the administrator's to create; a role uses them.
            replication = min(3, broker_count(admin))
        else:
            replication = ensure_topics(admin, load_catalog(), scenario_topics(scenario))
    finally:
        admin.close()

    def ready() -> None:
        if ready_file is not None:
            # Whole or not at all: a reader that sees the file sees the pid (fault tests kill
            # it); written beside and renamed, as a rename is atomic.
            written = ready_file.with_name(ready_file.name + ".part")
            written.write_text(f"{os.getpid()}\n")
            written.replace(ready_file)
        log.info("worker ready", flows=list(scenario.flows), bootstrap=bootstrap)

    app = build_app(
        scenario,
        bootstrap,
        workers=scenario.kafka.workers,
        replication_factor=replication,
        on_ready=ready,
        role=role,
    )
    worker = faust.Worker(
        app,
        loglevel=logging.WARNING,
        quiet=True,
        redirect_stdouts=False,
        # faust's own records in the same format as the worker's lines, with its role and run.
        logging_config=stdlib_logging_config("warning"),
    )
    # No start-up spinner: it writes terminal control codes between the log's lines.
    worker.spinner = None
    worker.execute_from_commandline()
    return 0
