"""The one exception type the launcher raises, so callers can report it without a traceback."""

from __future__ import annotations

from pathlib import Path


class BrokerError(RuntimeError):
    """A local Kafka cluster could not be fetched, started, queried or stopped.

    ``log_files`` names the files that explain the failure, so a CLI or a test can point at them.
    """

    def __init__(self, message: str, log_files: tuple[Path, ...] = ()) -> None:
        super().__init__(message)
        self.log_files = log_files
