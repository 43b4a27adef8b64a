"""Detached broker processes: starting them, recognising them by pid, and stopping them for sure.

A pid file alone can lie (the broker died and the pid was reused), so a process only counts as a
node when its command line still names that node's ``server.properties``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

#: Children started by this Python process, kept so they can be reaped: an unreaped child stays a
#: zombie whose pid still "exists", and would look alive to every check below.
_children: dict[int, subprocess.Popen[bytes]] = {}

_PR_SET_PDEATHSIG = 1


def die_with_parent_hook(
    sig: signal.Signals = signal.SIGTERM,
) -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to send ``sig`` to the child when its parent dies.

    Used for throw-away test clusters and a run's workers: if the run is killed, they go too.
    Returns None where ``prctl`` is unavailable; those then rely on their ``finally`` blocks.
    """
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if not name:
        return None
    libc = ctypes.CDLL(name, use_errno=True)  # loaded before fork: the hook must not import

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, sig)

    return hook


def spawn(cmd: Sequence[str], *, cwd: Path, log_file: Path, die_with_parent: bool = False) -> int:
    """Start ``cmd`` in its own session with output to ``log_file``; return its pid."""
    with log_file.open("ab") as out:
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            preexec_fn=die_with_parent_hook() if die_with_parent else None,
        )
    _children[proc.pid] = proc
    return proc.pid


def is_running(pid: int, marker: str) -> bool:
    """Whether ``pid`` is a live process whose command line contains ``marker``."""
    child = _children.get(pid)
    if child is not None and child.poll() is None:
        # Our own live child: its arguments are known. Popen returns once exec has closed the
        # child's inherited descriptors, which is before the kernel sets up the new command line,
        # so for a moment /proc may still show an empty or the parent's one.
        return marker in " ".join(str(arg) for arg in child.args)
    if child is not None:
        # Our child has ended and is reaped; its pid may already belong to a newer process,
        # which the command-line check below tells apart.
        del _children[pid]
    proc_dir = Path("/proc") / str(pid)
    if Path("/proc/self").exists():
        try:
            stat = (proc_dir / "stat").read_text()
            cmdline = (proc_dir / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False
        state = stat.rsplit(")", 1)[-1].split()[0]
        return state not in ("Z", "X") and marker in cmdline.replace("\0", " ")
    try:  # no /proc (macOS): existence is the best available answer
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait_gone(targets: dict[int, str], timeout: float) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    alive = dict(targets)
    while alive and time.monotonic() < deadline:
        alive = {pid: m for pid, m in alive.items() if is_running(pid, m)}
        if alive:
            time.sleep(0.1)
    return {pid: m for pid, m in alive.items() if is_running(pid, m)}


def stop(targets: Iterable[tuple[int, str]], *, grace: float = 30.0) -> None:
    """SIGTERM every target at once, SIGKILL whatever outlives ``grace`` seconds.

    Targets are ``(pid, marker)`` pairs; a pid that no longer matches its marker is left alone.
    All nodes get the signal together because a combined broker+controller waits for the quorum
    during shutdown, so stopping one node at a time would only make each wait longer.
    """
    live = {pid: marker for pid, marker in targets if is_running(pid, marker)}
    if not live:
        return
    for pid in live:
        _signal(pid, signal.SIGTERM)
    survivors = _wait_gone(live, grace)
    if survivors:
        log.warning("kafka.process.kill", pids=sorted(survivors), grace_s=grace)
        for pid in survivors:
            _signal(pid, signal.SIGKILL)
        survivors = _wait_gone(survivors, 10.0)
    for pid in live:
        child = _children.pop(pid, None)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)
    if survivors:
        raise RuntimeError(f"processes {sorted(survivors)} survived SIGKILL")


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def write_pid(pid_file: Path, pid: int) -> None:
    tmp = pid_file.with_suffix(".tmp")
    tmp.write_text(f"{pid}\n")
    tmp.replace(pid_file)
