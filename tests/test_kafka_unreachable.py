"""The kafka engine's answer when no broker is there: fast, exit 1, and how to get one."""

from __future__ import annotations

import socket

from cli_runner import govstream


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_broker_names_the_address_and_the_way_out() -> None:
    address = f"127.0.0.1:{closed_port()}"
    done = govstream(
        "run",
        "scenarios/property-transfer-utilities.yaml",
        "--engine",
        "kafka",
        "--bootstrap",
        address,
        timeout=60,
    )
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert address in message
    assert "govstream kafka up" in message
    assert "Traceback" not in done.stderr
