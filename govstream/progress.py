"""A progress bar that appears only when a run is long enough to need one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

SHOW_AFTER_SECONDS = 2.0

ProgressCallback = Callable[[float], None]
"""Told the fraction of the run done, from 0 to 1."""


class DelayedProgress:
    """Called with a fraction done; draws a bar once the run has taken SHOW_AFTER_SECONDS."""

    def __init__(self, label: str, console: Console) -> None:
        self.label = label
        self.console = console
        self.started = time.monotonic()
        self.progress: Progress | None = None
        self.task_id: int | None = None

    def __call__(self, fraction: float) -> None:
        if self.progress is None:
            if time.monotonic() - self.started < SHOW_AFTER_SECONDS:
                return
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task_id = self.progress.add_task(self.label, total=1.0)
        assert self.task_id is not None
        self.progress.update(self.task_id, completed=fraction)

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
