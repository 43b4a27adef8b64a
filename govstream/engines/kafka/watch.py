"""Watching what a run on Kafka depends on: the brokers, and the workers it started.

Kafka clients retry a lost broker for minutes before they give up, each with its own timeout,
and then fail with a bare timeout. A run should not wait that long to say what happened: the
watch checks every half second whether any bootstrap broker still accepts connections and
whether any worker still runs, and reports the first failure in words a user can act on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from govstream.engines.kafka.topics import answers

log = structlog.get_logger(__name__)

CHECK_EVERY_SECONDS = 0.5
BROKER_GRACE_SECONDS = 3.0
"""How long no bootstrap broker may refuse connections before the run stops: a broker that
restarts in place comes back within this; a killed one does not."""


class RunWatch(threading.Thread):
    """Sets `failure` (and the `stop` event) once the run cannot go on."""

    def __init__(
        self,
        bootstrap: str,
        *,
        workers_gone: Callable[[], str | None] = lambda: None,
        grace: float = BROKER_GRACE_SECONDS,
    ) -> None:
        super().__init__(name="govstream-run-watch", daemon=True)
        self.bootstrap = bootstrap
        self.addresses = [a.strip() for a in bootstrap.split(",") if a.strip()]
        self.workers_gone = workers_gone
        self.grace = grace
        self.failure: str | None = None
        self.broker_lost = False
        self.stop = threading.Event()
        self._done = threading.Event()
        self._started_at = time.monotonic()

    def close(self) -> None:
        self._done.set()

    def explains(self, error: Exception) -> bool:
        """Whether a client error is the failure the watch finds (or is about to find): a lost
        broker makes every client fail, each in its own words, and the watch's are clearer."""
        self.stop.wait(self.grace + 2 * CHECK_EVERY_SECONDS)
        if self.failure is None:
            log.info("client error without a failure found", error=repr(error))
        return self.failure is not None

    def run(self) -> None:
        silent_since: float | None = None
        while not self._done.wait(CHECK_EVERY_SECONDS):
            now = time.monotonic()
            if any(answers(address, timeout=1.0) for address in self.addresses):
                silent_since = None
            elif silent_since is None:
                silent_since = now
            elif now - silent_since >= self.grace:
                self.broker_lost = True
                self._fail(
                    f"lost the Kafka broker at {self.bootstrap}: no broker has accepted a "
                    f"connection for {self.grace:.0f} s ({now - self._started_at:.0f} s into "
                    "the run). Check it with `govstream kafka status` (or the cluster's own "
                    "tools), start it again with `govstream kafka up`, then run the scenario "
                    "again"
                )
                return
            gone = self.workers_gone()
            if gone is not None:
                self._fail(gone)
                return

    def _fail(self, message: str) -> None:
        log.info("run stopped", reason=message)
        self.failure = message
        self.stop.set()
