"""What the launcher reports about a cluster: where it is, and which of its nodes run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from govstream.broker.config import ClusterSpec
from govstream.broker.security import SecureLayout


@dataclass(frozen=True)
class NodeInfo:
    node_id: int
    client_port: int
    controller_port: int
    pid: int | None
    #: The process recorded in the pid file is alive and is this node's broker.
    alive: bool
    #: Its client port accepts connections.
    serving: bool
    directory: Path
    log_file: Path


@dataclass(frozen=True)
class ClusterInfo:
    spec: ClusterSpec
    cluster_id: str
    state_dir: Path
    members: tuple[NodeInfo, ...]

    @property
    def nodes(self) -> int:
        return self.spec.nodes

    @property
    def bootstrap(self) -> str:
        """Comma-separated ``host:port`` list for ``bootstrap_servers``."""
        return self.spec.bootstrap

    @property
    def secure(self) -> bool:
        """SASL/SCRAM over TLS with ACLs; clients need a principal's properties file."""
        return self.spec.secure

    @property
    def security(self) -> SecureLayout:
        """Where a secure cluster keeps its CA and each principal's client properties."""
        return SecureLayout(self.state_dir / "secure")

    @property
    def kafka_version(self) -> str:
        return self.spec.kafka_version

    @property
    def running(self) -> bool:
        """Every node is alive and serving clients."""
        return all(m.alive and m.serving for m in self.members)

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(m.pid for m in self.members if m.alive and m.pid is not None)

    @property
    def log_files(self) -> tuple[Path, ...]:
        return tuple(m.log_file for m in self.members)
