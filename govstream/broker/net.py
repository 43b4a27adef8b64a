"""Loopback port checks: is a node listening, is a port free, which ports are free."""

from __future__ import annotations

import contextlib
import socket

from govstream.broker.config import LOOPBACK


def port_answers(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def port_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a listener could bind ``host:port`` now (as the broker will, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct ports the kernel considers free right now.

    All sockets are held open until every port is chosen, so the kernel cannot hand out the same
    port twice; another process can still take one before the broker binds it, which the launcher
    reports as a port conflict.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((host, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()
