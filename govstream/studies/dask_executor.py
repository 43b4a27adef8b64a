"""A study's runs on a Dask cluster (`dask.distributed`): a scheduler given by address, or a
`LocalCluster` started on this machine's cores for the study.

Each run is one Dask task (`runs.run_task`), named by its content (`RunTask.key`) and its place
in the study. Dask's own scheduler places the tasks; when a worker is lost it runs the worker's
tasks again elsewhere, and a task's answer reaches the study once (`as_completed` gives each
future once, and the study keeps its answer by the task's place in the list), so nothing is
lost or counted twice.
An answer is dropped from the cluster as soon as it has arrived, so a worker lost afterwards
costs nothing.

Imported only when `--executor dask` is chosen: `distributed` takes a while to import, and the
default executor should not pay for it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import structlog
from distributed import CancelledError, Client, LocalCluster, as_completed
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.scheduler import KilledWorker

from govstream.studies.executors import ExecutorChoice, ExecutorError, SchedulerUnreachable
from govstream.studies.runs import ReplicationRun, RunTask, run_task

log = structlog.get_logger(__name__)

PLUGIN_NAME = "govstream-local-worker"


class LocalWorkerSetup(WorkerPlugin):
    """Readies each worker of a `LocalCluster` started for a study as the process pool's are:
    Ctrl-C is left to the study (it stops the cluster and keeps the runs finished; a worker
    interrupted itself would only be restarted by its nanny), logs go at the study's level and
    format, and the engine is imported before the first run rather than during it."""

    def __init__(self, level: str, log_format: str) -> None:
        self.level = level
        self.log_format = log_format

    def setup(self, worker: Any) -> None:
        from govstream.logs import configure_logging

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        configure_logging(self.level, self.log_format)  # type: ignore[arg-type]
        import govstream.engines.sim.engine  # noqa: F401


class DaskExecutor:
    """Runs on a Dask cluster, through a client of its scheduler."""

    def __init__(self, client: Client, cluster: LocalCluster | None, place: str) -> None:
        self.client = client
        self.cluster = cluster
        """The cluster started for this study, closed with it; none for a scheduler given."""
        self.place = place
        """`at tcp://host:8786` or `on a local cluster`, for the bar and the errors."""
        self.futures: dict[str, Any] = {}
        self.workers = -1

    @classmethod
    def start(cls, choice: ExecutorChoice, local_workers: int) -> DaskExecutor:
        """A client of the scheduler at `choice.scheduler`, or of a `LocalCluster` of
        `local_workers` single-threaded worker processes (a run holds the GIL throughout)."""
        if choice.scheduler is not None:
            client = _connect(choice.scheduler, choice.timeout)
            # Dask's dashboard (where the scheduler has one) shows every worker's tasks.
            log.info("dask scheduler", address=choice.scheduler, dashboard=client.dashboard_link)
            executor = cls(client, None, f"at {choice.scheduler}")
            if executor.where.endswith(" 0 workers"):
                # Not an error: workers may join later, and the runs wait for them.
                log.warning("the dask scheduler has no workers yet", address=choice.scheduler)
            return executor
        from govstream.logs import logging_settings

        cluster = LocalCluster(
            n_workers=local_workers,
            threads_per_worker=1,
            processes=True,
            # A free port: the scheduler serves HTTP even without a dashboard, and two studies
            # on one machine (or a test's cluster) must not fight over Dask's default 8787.
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
        client = Client(cluster, set_as_default=False)
        try:
            client.register_plugin(LocalWorkerSetup(*logging_settings()), name=PLUGIN_NAME)
        except BaseException:
            client.close()
            cluster.close()
            raise
        log.info(
            "local dask cluster started",
            workers=local_workers,
            address=cluster.scheduler_address,
            dashboard=client.dashboard_link,
        )
        return cls(client, cluster, "on a local cluster")

    @property
    def where(self) -> str:
        """The cluster and its workers now: workers may join or leave during a study."""
        try:
            workers = len(self.client.nthreads())
        except Exception:  # the count is for the bar only; the runs' own errors are raised
            workers = self.workers
        if workers != self.workers:
            log.info("dask workers", cluster=self.place, workers=workers)
            self.workers = workers
        return f"dask {self.place}, {workers} worker" + ("" if workers == 1 else "s")

    def results(self, tasks: Sequence[RunTask]) -> Iterator[tuple[int, ReplicationRun]]:
        index_of: dict[str, int] = {}
        for index, task in enumerate(tasks):
            # Its place in the list too: a study that asks for the same run twice (a grid
            # naming a value twice) gets both answers, as it does from the processes.
            key = f"{task.key()}-{index}"
            index_of[key] = index
            self.futures[key] = self.client.submit(run_task, task, key=key, pure=False)
        finished = as_completed(
            list(self.futures.values()), loop=self.client.loop, with_results=True
        )
        while True:
            try:
                future, run = next(finished)
            except StopIteration:
                return
            except (KilledWorker, CancelledError) as error:
                raise ExecutorError(
                    f"the study failed on the Dask cluster {self.place}: "
                    f"{type(error).__name__}: {error}"
                ) from error
            key = future.key
            # Dropping the future lets the cluster forget the answer: a worker lost after
            # this point holds nothing the study still needs, and is not asked to redo it.
            del self.futures[key], future
            yield index_of.pop(key), run

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def stop(self) -> None:
        """Cancel what is still to run, then let go of the cluster (or stop the one started
        here): Ctrl-C or a failure must not leave a shared cluster busy with runs nobody reads."""
        with contextlib.suppress(Exception):
            self.client.cancel(list(self.futures.values()), force=True)
        self.futures.clear()
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


def _connect(address: str, timeout: float) -> Client:
    """A client of the scheduler at `address`, or an error that names it."""
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise SchedulerUnreachable(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s: "
            f"{error or type(error).__name__}"
        ) from None
