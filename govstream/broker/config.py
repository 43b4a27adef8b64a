"""The shape of a local Kafka cluster and the files that describe it to the broker.

Everything here is pure (no processes, no network), so the generated broker configuration can be
checked by unit tests without a JVM.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: The Apache Kafka release the launcher runs. It must match the version pinned in
#: ``docker/pom.xml`` and the image tag in ``docker/docker-compose.yml`` (a unit test checks this);
#: see ``docker/KAFKA_VERSION.md`` for why this release.
KAFKA_VERSION = "4.4.0"

#: Client (PLAINTEXT) port of node 0; node i listens on ``DEFAULT_CLIENT_PORT + i``.
DEFAULT_CLIENT_PORT = 19092
#: Controller ports sit this far above the client ports, so both ranges stay contiguous.
CONTROLLER_PORT_OFFSET = 100
#: A combined broker+controller quorum must have an odd number of voters; 1 is for development,
#: 3 is the smallest cluster that survives the loss of a node with ``min.insync.replicas=2``.
SUPPORTED_NODE_COUNTS = (1, 3)
#: The heap is kept small so that a 3-node cluster and a test run fit on a 2-core laptop or CI box.
DEFAULT_HEAP = ("-Xmx512m", "-Xms256m")
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ClusterSpec:
    """What a cluster is made of: its nodes' ports and the Kafka release they run.

    Node ``i`` owns ``client_ports[i]`` and ``controller_ports[i]``; every node is both broker and
    controller (KRaft combined mode), so the controller quorum has one voter per node.
    """

    client_ports: tuple[int, ...]
    controller_ports: tuple[int, ...]
    kafka_version: str = KAFKA_VERSION
    host: str = LOOPBACK
    secure: bool = False
    """SASL/SCRAM over TLS with ACLs (see ``security.py``) instead of plaintext for anyone."""

    def __post_init__(self) -> None:
        if len(self.client_ports) not in SUPPORTED_NODE_COUNTS:
            raise ValueError(
                f"a cluster has {' or '.join(map(str, SUPPORTED_NODE_COUNTS))} nodes, "
                f"not {len(self.client_ports)}"
            )
        if len(self.controller_ports) != len(self.client_ports):
            raise ValueError("every node needs exactly one client port and one controller port")
        ports = (*self.client_ports, *self.controller_ports)
        if len(set(ports)) != len(ports):
            raise ValueError(f"ports must all differ, got {ports}")
        bad = [p for p in ports if not 0 < p < 65536]
        if bad:
            raise ValueError(f"ports out of range: {bad}")

    @classmethod
    def on_ports(
        cls,
        nodes: int = 1,
        port: int = DEFAULT_CLIENT_PORT,
        controller_port: int | None = None,
        *,
        secure: bool = False,
    ) -> ClusterSpec:
        """Lay nodes out on contiguous ports, the way users name a cluster on the command line."""
        if nodes not in SUPPORTED_NODE_COUNTS:
            raise ValueError(f"nodes must be one of {SUPPORTED_NODE_COUNTS}, not {nodes}")
        first_controller = (
            port + CONTROLLER_PORT_OFFSET if controller_port is None else controller_port
        )
        return cls(
            client_ports=tuple(port + i for i in range(nodes)),
            controller_ports=tuple(first_controller + i for i in range(nodes)),
            secure=secure,
        )

    @property
    def nodes(self) -> int:
        return len(self.client_ports)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"{self.host}:{p}" for p in self.client_ports)

    @property
    def quorum_voters(self) -> str:
        return ",".join(f"{i}@{self.host}:{p}" for i, p in enumerate(self.controller_ports))

    @property
    def replication_factor(self) -> int:
        """Every partition on every node: a 3-node cluster exists to test replication."""
        return self.nodes

    @property
    def min_insync_replicas(self) -> int:
        """With ``acks=all`` a write survives one lost node on 3 nodes; 1 node can only offer 1."""
        return 2 if self.nodes >= 3 else 1

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ClusterSpec:
        return cls(
            client_ports=tuple(int(p) for p in raw["client_ports"]),
            controller_ports=tuple(int(p) for p in raw["controller_ports"]),
            kafka_version=str(raw["kafka_version"]),
            host=str(raw.get("host", LOOPBACK)),
            secure=bool(raw.get("secure", False)),
        )


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding.

    Ids starting with ``-`` are redrawn, as Kafka's own ``Uuid.randomUuid`` does, because the
    storage tool would read one as a command-line flag.
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def server_properties(spec: ClusterSpec, node_id: int, data_dir: Path) -> dict[str, str]:
    """The broker configuration of one node.

    Topic auto-creation stays on: faust declares the topics it owns, but ad-hoc tools (console
    consumers, quick experiments) are easier with it, and production-like strictness is not what a
    local simulator cluster is for. Internal topics get fewer partitions than Kafka's default 50
    so that the first consumer group and the first transaction on a small machine start quickly.
    """
    if not 0 <= node_id < spec.nodes:
        raise ValueError(f"node_id {node_id} outside a {spec.nodes}-node cluster")
    rf = str(spec.replication_factor)
    isr = str(spec.min_insync_replicas)
    client = spec.client_ports[node_id]
    controller = spec.controller_ports[node_id]
    return {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": spec.quorum_voters,
        "listeners": f"PLAINTEXT://{spec.host}:{client},CONTROLLER://{spec.host}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{spec.host}:{client}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "3",
        "default.replication.factor": rf,
        "min.insync.replicas": isr,
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": "12",
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": isr,
        "transaction.state.log.num.partitions": "12",
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": isr,
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
    }


def render_properties(props: dict[str, str]) -> str:
    header = "# Written by govstream at every `kafka up`; edits here are overwritten.\n"
    return header + "".join(f"{key}={value}\n" for key, value in props.items())


def parse_properties(text: str) -> dict[str, str]:
    """Read back a ``key=value`` file (enough of the Java format for files written above)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out


def log4j2_properties() -> str:
    """Broker logging: everything to stdout, which the launcher sends to the node's log file.

    Request and state-change loggers are turned down because at INFO they drown the lines that
    explain a failed start.
    """
    return "\n".join(
        [
            "status = warn",
            "appender.stdout.type = Console",
            "appender.stdout.name = STDOUT",
            "appender.stdout.layout.type = PatternLayout",
            "appender.stdout.layout.pattern = [%d] %p %m (%c)%n",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.stdout.ref = STDOUT",
            "logger.request.name = kafka.request.logger",
            "logger.request.level = WARN",
            "logger.statechange.name = state.change.logger",
            "logger.statechange.level = WARN",
            "",
        ]
    )


def jvm_options(log4j_config: Path, heap: Sequence[str] = DEFAULT_HEAP) -> list[str]:
    """JVM flags modelled on Kafka's own start script, with a small heap."""
    return [
        *heap,
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j_config}",
    ]
