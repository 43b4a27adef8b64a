"""Where a study's runs are done: this machine's processes (the default), or a Dask cluster.

Replications and sweeps are both lists of independent runs (`runs.RunTask`); what they do with
the answers (merging, writing the sweep's files) stays with them, where the study was started.
An executor only takes the list and hands back each run's answer once, as it finishes, with the
run's place in the list. The seeds decide the answers, not where a run was placed, so a study is
the same byte for byte whichever executor ran it.

Both studies open an executor the same way (`study_executor`), so the choice lives here once:
the process pool of old unchanged, or `dask_executor.DaskExecutor` on a scheduler given by
address or on a `LocalCluster` started for the study.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from govstream.studies.runs import (
    ReplicationRun,
    RunTask,
    default_workers,
    ignore_interrupts,
    run_task,
    warm_workers,
)

PROCESSES = "processes"
DASK = "dask"
EXECUTORS = (PROCESSES, DASK)
DEFAULT_SCHEDULER_TIMEOUT = 10.0
"""Seconds to reach a scheduler given by address before saying it cannot be reached."""


class ExecutorError(RuntimeError):
    """The study's executor failed: its message says what, and where."""


class SchedulerUnreachable(ExecutorError):
    """The scheduler given by address did not answer: the message names the address."""


@dataclass(frozen=True)
class ExecutorChoice:
    """Which executor a study runs on, as the command line chose it."""

    kind: str = PROCESSES
    scheduler: str | None = None
    """A Dask scheduler's address (`tcp://host:8786`); none starts a `LocalCluster` here."""
    timeout: float = DEFAULT_SCHEDULER_TIMEOUT

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise ValueError(f"executor {self.kind!r}: one of {', '.join(EXECUTORS)}")
        if self.scheduler is not None and self.kind != DASK:
            raise ValueError("a scheduler is for the dask executor only")


class StudyExecutor(Protocol):
    """What both studies need of an executor."""

    @property
    def where(self) -> str:
        """Where the runs go, for the progress bar: a cluster's count of workers may change."""
        ...

    def results(self, tasks: Sequence[RunTask]) -> Iterator[tuple[int, ReplicationRun]]:
        """Each task's answer, once, as it finishes, with its index in `tasks`."""
        ...

    def close(self) -> None:
        """The study is done: release the workers."""
        ...

    def stop(self) -> None:
        """Ctrl-C or a failure: end the runs still going now, not when they would finish."""
        ...


class ProcessExecutor:
    """Today's executor: a process pool on this machine, forked with the engine loaded."""

    def __init__(self, workers: int) -> None:
        warm_workers()
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=ignore_interrupts)

    @property
    def where(self) -> str:
        return f"{self.workers} process" + ("" if self.workers == 1 else "es")

    def results(self, tasks: Sequence[RunTask]) -> Iterator[tuple[int, ReplicationRun]]:
        futures: dict[Future[ReplicationRun], int] = {
            self.pool.submit(run_task, task): index for index, task in enumerate(tasks)
        }
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in finished:
                yield futures[future], future.result()

    def close(self) -> None:
        self.pool.shutdown()

    def stop(self) -> None:
        for process in list((getattr(self.pool, "_processes", None) or {}).values()):
            process.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)


def open_executor(choice: ExecutorChoice, tasks: int, jobs: int | None) -> StudyExecutor:
    """The executor chosen, ready for `tasks` runs; `jobs` caps the processes, or the workers
    of a `LocalCluster` (a scheduler given by address has the workers it has)."""
    if choice.kind == DASK:
        from govstream.studies.dask_executor import DaskExecutor

        return DaskExecutor.start(choice, default_workers(tasks, jobs))
    return ProcessExecutor(default_workers(tasks, jobs))


@contextmanager
def study_executor(
    choice: ExecutorChoice | None, tasks: int, jobs: int | None = None
) -> Iterator[StudyExecutor]:
    """An executor for one study: stopped at once if the study is interrupted or fails (the
    study then keeps what it had), closed when it is done."""
    executor = open_executor(choice or ExecutorChoice(), tasks, jobs)
    try:
        yield executor
    except BaseException:
        executor.stop()
        raise
    executor.close()


def tell_progress(
    progress: Callable[[float], None] | None, fraction: float, executor: StudyExecutor
) -> None:
    """The fraction of the study's runs finished, on whichever workers; a bar that can say
    where they run (`progress.DelayedProgress.describe`) is told that too."""
    if progress is None:
        return
    describe = getattr(progress, "describe", None)
    if describe is not None:
        describe(executor.where)
    progress(fraction)
