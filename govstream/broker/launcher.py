"""Start, inspect and stop a local Apache Kafka cluster (KRaft, loopback only).

Each node is a detached JVM running ``kafka.Kafka`` from jars fetched by Maven, combined broker
and controller, with its configuration, data, log and pid file under one state directory. The
cluster outlives the Python process that started it (``govstream kafka up`` returns), except for
:func:`temporary_cluster`, whose nodes die with their parent and are always stopped on exit.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import structlog

from govstream.broker import process, security
from govstream.broker.clients import ClientSettings
from govstream.broker.config import (
    DEFAULT_CLIENT_PORT,
    DEFAULT_HEAP,
    ClusterSpec,
    jvm_options,
    log4j2_properties,
    new_cluster_id,
    render_properties,
    server_properties,
)
from govstream.broker.errors import BrokerError
from govstream.broker.info import ClusterInfo, NodeInfo
from govstream.broker.jars import ensure_jars
from govstream.broker.java import require_java
from govstream.broker.layout import Layout, SavedCluster, default_state_dir
from govstream.broker.locking import exclusive
from govstream.broker.net import free_ports, port_answers, port_free
from govstream.broker.readiness import wait_ready
from govstream.broker.tls import write_private

log = structlog.get_logger(__name__)

#: Three JVMs starting together on two cores take a while; the first start also warms disk caches.
DEFAULT_START_TIMEOUT_S = 120.0
#: A node normally stops in a few seconds; past this it is killed.
DEFAULT_STOP_GRACE_S = 30.0
FORMAT_TIMEOUT_S = 120.0
LOG_TAIL_LINES = 15


def up(
    nodes: int = 1,
    *,
    port: int = DEFAULT_CLIENT_PORT,
    controller_port: int | None = None,
    state_dir: Path | None = None,
    timeout: float = DEFAULT_START_TIMEOUT_S,
    fresh: bool = False,
    secure: bool = False,
) -> ClusterInfo:
    """Start a cluster of ``nodes`` nodes on contiguous loopback ports, or report the running one.

    Client port of node ``i`` is ``port + i``; controller ports start at ``controller_port``
    (default ``port + 100``). Data is kept between ``down`` and ``up`` unless ``fresh`` is set or
    the layout (node count, ports, Kafka version, security) changed. ``secure`` starts it with
    SASL/SCRAM over TLS and the catalog's ACLs (see ``security.py``).
    """
    spec = ClusterSpec.on_ports(nodes, port, controller_port, secure=secure)
    return start(spec, state_dir=state_dir, timeout=timeout, fresh=fresh)


def start(
    spec: ClusterSpec,
    *,
    state_dir: Path | None = None,
    timeout: float = DEFAULT_START_TIMEOUT_S,
    fresh: bool = False,
    heap: Sequence[str] = DEFAULT_HEAP,
    die_with_parent: bool = False,
) -> ClusterInfo:
    """Start the cluster ``spec`` describes (the general form of :func:`up`).

    ``die_with_parent`` ties the nodes' lifetime to this process (Linux), for throw-away clusters.
    """
    layout = Layout((state_dir or default_state_dir()).expanduser().resolve())
    layout.root.mkdir(parents=True, exist_ok=True)
    with exclusive(layout.lock_file):
        current = _inspect(layout)
        if current is not None and any(m.alive for m in current.members):
            if current.nodes != spec.nodes:
                raise BrokerError(
                    f"a {current.nodes}-node cluster is already running at {current.bootstrap} "
                    f"(state in {layout.root}); stop it with `govstream kafka down` first"
                )
            if current.spec.secure != spec.secure:
                running, asked = (
                    ("secure", "plaintext") if current.spec.secure else ("plaintext", "secure")
                )
                raise BrokerError(
                    f"a {running} cluster is already running at {current.bootstrap} (state in "
                    f"{layout.root}); stop it with `govstream kafka down` before starting a "
                    f"{asked} one"
                )
            if fresh:
                raise BrokerError(
                    f"cannot start fresh: a cluster is running at {current.bootstrap}; "
                    "stop it first"
                )
            if current.running:
                log.info("kafka.up.already_running", bootstrap=current.bootstrap)
                if current.spec.secure:  # the catalog may have grown since it started
                    _prepare_security(layout, current.spec)
                    _configure_access(layout, current.spec)
                return current
            # Some nodes died: bring back the missing ones of the cluster that is there.
            saved = SavedCluster(current.spec, current.cluster_id)
        else:
            saved = _prepare_storage(layout, spec, fresh)
        libs = ensure_jars(saved.spec.kafka_version)
        java = require_java()
        if saved.spec.secure:
            _prepare_security(layout, saved.spec)
        _write_configs(layout, saved.spec)
        layout.save(saved)
        return _start_nodes(layout, saved, libs, java, heap, timeout, die_with_parent)


def status(state_dir: Path | None = None) -> ClusterInfo | None:
    """The cluster in ``state_dir`` if at least one of its nodes runs, else None."""
    layout = Layout((state_dir or default_state_dir()).expanduser().resolve())
    info = _inspect(layout)
    if info is None or not any(m.alive for m in info.members):
        return None
    return info


def down(state_dir: Path | None = None, *, grace: float = DEFAULT_STOP_GRACE_S) -> bool:
    """Stop every node of the cluster in ``state_dir``; True if any was running.

    Nodes get SIGTERM together and SIGKILL after ``grace`` seconds; pid files are removed. Data
    stays, so the next ``up`` with the same layout resumes where this one stopped.
    """
    layout = Layout((state_dir or default_state_dir()).expanduser().resolve())
    if not layout.root.is_dir():
        return False
    with exclusive(layout.lock_file):
        info = _inspect(layout)
        if info is None:
            return False
        targets = [
            (m.pid, layout.process_marker(m.node_id))
            for m in info.members
            if m.alive and m.pid is not None
        ]
        if targets:
            log.info("kafka.down", bootstrap=info.bootstrap, pids=[pid for pid, _ in targets])
        try:
            process.stop(targets, grace=grace)
        except RuntimeError as exc:
            raise BrokerError(str(exc), info.log_files) from exc
        for member in info.members:
            layout.pid_file(member.node_id).unlink(missing_ok=True)
        return bool(targets)


@contextlib.contextmanager
def temporary_cluster(
    nodes: int = 1,
    *,
    state_dir: Path | None = None,
    timeout: float = DEFAULT_START_TIMEOUT_S,
    heap: Sequence[str] = DEFAULT_HEAP,
    secure: bool = False,
) -> Iterator[ClusterInfo]:
    """A cluster on free ports for the duration of a ``with`` block, always stopped at the end.

    Without ``state_dir`` a temporary directory is used and removed afterwards; a given one is
    left in place (with the broker logs) for the caller to inspect or clean.
    """
    root = Path(tempfile.mkdtemp(prefix="govstream-kafka-")) if state_dir is None else state_dir
    ports = free_ports(2 * nodes)
    spec = ClusterSpec(
        client_ports=tuple(ports[:nodes]), controller_ports=tuple(ports[nodes:]), secure=secure
    )
    try:
        yield start(spec, state_dir=root, timeout=timeout, heap=heap, die_with_parent=True)
    finally:
        down(root)
        if state_dir is None:
            shutil.rmtree(root, ignore_errors=True)


def _inspect(layout: Layout) -> ClusterInfo | None:
    saved = layout.load()
    if saved is None:
        return None
    members = []
    for node_id in range(saved.spec.nodes):
        pid = process.read_pid(layout.pid_file(node_id))
        alive = pid is not None and process.is_running(pid, layout.process_marker(node_id))
        client_port = saved.spec.client_ports[node_id]
        members.append(
            NodeInfo(
                node_id=node_id,
                client_port=client_port,
                controller_port=saved.spec.controller_ports[node_id],
                pid=pid,
                alive=alive,
                serving=alive and port_answers(client_port, saved.spec.host),
                directory=layout.node_dir(node_id),
                log_file=layout.log_file(node_id),
            )
        )
    return ClusterInfo(saved.spec, saved.cluster_id, layout.root, tuple(members))


def _prepare_storage(layout: Layout, spec: ClusterSpec, fresh: bool) -> SavedCluster:
    """Reuse the stopped cluster's data if it had the same layout, else start from empty dirs.

    KRaft records the controller quorum and cluster id in the data dirs, so data formatted for
    other ports or another node count cannot be reused.
    """
    previous = layout.load()
    reusable = (
        previous is not None
        and not fresh
        and previous.spec == spec
        and all(layout.is_formatted(i) for i in range(spec.nodes))
    )
    if reusable and previous is not None:
        log.info("kafka.up.reuse_data", state_dir=str(layout.root))
        return previous
    if previous is not None or any(layout.root.glob("node-*")):
        log.info("kafka.up.wipe", state_dir=str(layout.root), fresh=fresh)
    layout.wipe()
    return SavedCluster(spec, new_cluster_id())


def _write_configs(layout: Layout, spec: ClusterSpec) -> None:
    layout.log4j_config.write_text(log4j2_properties())
    for node_id in range(spec.nodes):
        layout.data_dir(node_id).mkdir(parents=True, exist_ok=True)
        props = server_properties(spec, node_id, layout.data_dir(node_id))
        if spec.secure:
            props.update(security.server_overrides(spec, node_id, layout.secure))
            # The file holds the brokers' own password: private, like the key store.
            write_private(layout.properties(node_id), render_properties(props).encode())
        else:
            layout.properties(node_id).write_text(render_properties(props))


def _prepare_security(layout: Layout, spec: ClusterSpec) -> None:
    from govstream.contracts.access import principals
    from govstream.contracts.catalog import load_catalog

    security.prepare(layout.secure, spec, principals(load_catalog()))


def _admin_settings(layout: Layout, spec: ClusterSpec) -> ClientSettings | None:
    return layout.secure.settings(security.ADMIN) if spec.secure else None


def _configure_access(layout: Layout, spec: ClusterSpec) -> None:
    """Register new principals' credentials and make the ACLs exactly the catalog's."""
    from kafka import KafkaAdminClient

    from govstream.broker.acls import sync_acls, sync_users
    from govstream.contracts.access import grants
    from govstream.contracts.catalog import load_catalog

    admin_settings = layout.secure.settings(security.ADMIN)
    admin = KafkaAdminClient(
        client_id="govstream-launcher", request_timeout_ms=30_000, **admin_settings.kafka_python()
    )
    try:
        sync_users(admin, security.passwords(layout.secure))
        sync_acls(admin, grants(load_catalog()))
    finally:
        admin.close()


def _classpath(libs: Path) -> str:
    return f"{libs}/*"


def _format(layout: Layout, saved: SavedCluster, node_id: int, libs: Path, java: Path) -> None:
    """Write the cluster id and static voter set into an empty node's data dir."""
    cmd = [
        str(java),
        f"-Dlog4j2.configurationFile={layout.log4j_config}",
        "-cp",
        _classpath(libs),
        "kafka.tools.StorageTool",
        "format",
        "-t",
        saved.cluster_id,
        "-c",
        str(layout.properties(node_id)),
    ]
    if saved.spec.secure:
        cmd += security.scram_arguments(security.passwords(layout.secure))
    out_file = layout.format_log(node_id)
    with out_file.open("wb") as out:
        try:
            done = subprocess.run(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=FORMAT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BrokerError(f"formatting node {node_id} timed out", (out_file,)) from exc
    if done.returncode != 0:
        raise BrokerError(
            f"formatting node {node_id} failed (exit {done.returncode}):\n{_tail(out_file)}",
            (out_file,),
        )


def _start_nodes(
    layout: Layout,
    saved: SavedCluster,
    libs: Path,
    java: Path,
    heap: Sequence[str],
    timeout: float,
    die_with_parent: bool,
) -> ClusterInfo:
    spec = saved.spec
    to_start = [i for i in range(spec.nodes) if not _alive(layout, i)]
    busy = [
        p
        for i in to_start
        for p in (spec.client_ports[i], spec.controller_ports[i])
        if not port_free(p, spec.host)
    ]
    if busy:
        raise BrokerError(
            f"ports {busy} on {spec.host} are in use by another process; "
            "pick another base port (--port) or stop what holds them"
        )
    for node_id in to_start:
        if not layout.is_formatted(node_id):
            _format(layout, saved, node_id, libs, java)
    started: dict[int, int] = {}
    jvm = jvm_options(layout.log4j_config, heap)
    try:
        for node_id in to_start:
            props = layout.properties(node_id)
            cmd = [str(java), *jvm, "-cp", _classpath(libs), "kafka.Kafka", str(props)]
            log_file = layout.log_file(node_id)
            log_file.write_bytes(b"")  # each start gets a log of its own run
            pid = process.spawn(
                cmd,
                cwd=layout.node_dir(node_id),
                log_file=log_file,
                die_with_parent=die_with_parent,
            )
            process.write_pid(layout.pid_file(node_id), pid)
            started[node_id] = pid
            log.info("kafka.node.started", node=node_id, pid=pid, port=spec.client_ports[node_id])

        def check_alive() -> None:
            for node_id, pid in started.items():
                if not process.is_running(pid, layout.process_marker(node_id)):
                    log_file = layout.log_file(node_id)
                    raise BrokerError(
                        f"Kafka node {node_id} exited during start; see {log_file}:\n"
                        f"{_tail(log_file)}",
                        (log_file,),
                    )

        try:
            wait_ready(spec, timeout, check_alive, _admin_settings(layout, spec))
            if spec.secure:
                _configure_access(layout, spec)
        except TimeoutError as exc:
            logs = tuple(layout.log_file(i) for i in range(spec.nodes))
            raise BrokerError(
                f"Kafka cluster at {spec.bootstrap} not ready after {timeout:.0f}s ({exc}); "
                f"see {', '.join(map(str, logs))}",
                logs,
            ) from exc
    except BaseException:
        _stop_started(layout, started)
        raise
    info = _inspect(layout)
    assert info is not None  # the state file was written before the nodes started
    log.info(
        "kafka.up.ready", bootstrap=info.bootstrap, nodes=spec.nodes, state_dir=str(layout.root)
    )
    return info


def _alive(layout: Layout, node_id: int) -> bool:
    pid = process.read_pid(layout.pid_file(node_id))
    return pid is not None and process.is_running(pid, layout.process_marker(node_id))


def _stop_started(layout: Layout, started: dict[int, int]) -> None:
    """Undo a failed start, so a failure never leaves a stray broker behind."""
    with contextlib.suppress(RuntimeError):
        process.stop([(pid, layout.process_marker(i)) for i, pid in started.items()], grace=10.0)
    for node_id in started:
        layout.pid_file(node_id).unlink(missing_ok=True)


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
