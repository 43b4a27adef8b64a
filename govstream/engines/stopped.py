"""A run that ended before its scenario did, and what it had measured by then.

Engines raise `RunStopped` instead of letting an interrupt or a lost broker surface as a
traceback: the CLI writes the partial result (marked incomplete), prints one line and exits
130 for an interrupt or 1 for a failure.
"""

from __future__ import annotations

from govstream.result import RunResult

INTERRUPTED = "interrupted (Ctrl-C)"


class RunStopped(RuntimeError):
    """`partial` is None when the run stopped before its first case."""

    def __init__(
        self, message: str, partial: RunResult | None, *, interrupted: bool = False
    ) -> None:
        super().__init__(message)
        self.partial = partial
        self.interrupted = interrupted


def mark_incomplete(result: RunResult, reason: str) -> RunResult:
    return result.model_copy(update={"incomplete": reason})
