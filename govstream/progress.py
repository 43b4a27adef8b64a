"""A progress bar that appears only when a run is long enough to need one.

A run's business time alone made a poor measure: it ran over the arrivals and the whole drain
allowance, but a run ends when its last case closes, usually long before the drain would, so the
bar crawled to the end of the arrivals (60 % of the way for 91 days of arrivals and 60 of drain)
and then jumped to 100 %. `run_fraction` counts the cases closed as well, which keep advancing
through the drain and end the run when they are all closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

SHOW_AFTER_SECONDS = 2.0

ProgressCallback = Callable[[float], None]
"""Told the fraction of the run done, from 0 to 1."""


def run_fraction(
    now: float, arrivals_end: float, horizon: float, started: int, still_open: int
) -> float:
    """How far a run is, from 0 to 1: half by business time through the arrivals, half by
    work, the cases closed of those expected; after the arrivals, as the open cases close
    (or the drain allowance runs out, whichever is further). Expected cases are projected
    from those started so far, so the estimate needs no arrival model."""
    arrivals_end = max(arrivals_end, 1e-9)
    closed = max(0, started - still_open)
    time_part = min(now / arrivals_end, 1.0)
    if now < arrivals_end:
        expected = started * arrivals_end / now if now > 0 else 0.0
        work_part = closed / expected if expected else time_part
    else:
        drain = max(horizon - arrivals_end, 1e-9)
        drained = min((now - arrivals_end) / drain, 1.0)
        work_part = max(closed / started if started else 1.0, drained)
    return min(max(0.5 * time_part + 0.5 * min(work_part, 1.0), 0.0), 1.0)


class DelayedProgress:
    """Called with a fraction done; draws a bar once the run has taken SHOW_AFTER_SECONDS.

    The bar never moves back: an estimate that dips (more cases started than were expected)
    would otherwise make the time left jump about."""

    def __init__(self, label: str, console: Console) -> None:
        self.label = label
        self.description = label
        self.console = console
        self.started = time.monotonic()
        self.progress: Progress | None = None
        self.task_id: int | None = None
        self.done = 0.0

    def __call__(self, fraction: float) -> None:
        self.done = max(self.done, min(fraction, 1.0))
        if self.progress is None:
            # Off a terminal (a CI log, a pipe) a bar cannot be redrawn, only left behind.
            if not self.console.is_terminal:
                return
            if time.monotonic() - self.started < SHOW_AFTER_SECONDS:
                return
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task_id = self.progress.add_task(self.description, total=1.0)
        assert self.task_id is not None
        self.progress.update(self.task_id, completed=self.done, description=self.description)

    def describe(self, where: str) -> None:
        """Say where the work runs: a study on a cluster shows its workers as they come and
        go, the bar counting the runs finished on all of them."""
        self.description = f"{self.label} ({where})"

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


@contextmanager
def delayed_progress(label: str, console: Console) -> Iterator[DelayedProgress]:
    bar = DelayedProgress(label, console)
    try:
        yield bar
    finally:
        bar.close()
