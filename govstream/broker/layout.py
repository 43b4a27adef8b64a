"""Where a cluster keeps its state on disk, and what it remembers between runs.

::

    <state dir>/cluster.json         spec + cluster id, so `status` and `down` need no arguments
    <state dir>/log4j2.properties    broker logging configuration
    <state dir>/node-<i>/server.properties
    <state dir>/node-<i>/data/       Kafka log dirs (KRaft metadata and topic data)
    <state dir>/node-<i>/kafka.log   broker stdout/stderr
    <state dir>/node-<i>/format.log  storage-format output
    <state dir>/node-<i>/kafka.pid
    <state dir>/secure/              a secure cluster's CA, node key store and client settings
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from govstream.broker.config import ClusterSpec
from govstream.broker.security import SecureLayout


def default_state_dir() -> Path:
    """``$GOVSTREAM_KAFKA_HOME`` if set, else ``~/.cache/govstream/cluster``."""
    env = os.environ.get("GOVSTREAM_KAFKA_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "govstream" / "cluster"


@dataclass(frozen=True)
class SavedCluster:
    """What ``up`` wrote: enough to recognise, reuse or stop the cluster later."""

    spec: ClusterSpec
    cluster_id: str


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def log4j_config(self) -> Path:
        return self.root / "log4j2.properties"

    @property
    def secure(self) -> SecureLayout:
        return SecureLayout(self.root / "secure")

    def node_dir(self, node_id: int) -> Path:
        return self.root / f"node-{node_id}"

    def properties(self, node_id: int) -> Path:
        return self.node_dir(node_id) / "server.properties"

    def data_dir(self, node_id: int) -> Path:
        return self.node_dir(node_id) / "data"

    def log_file(self, node_id: int) -> Path:
        return self.node_dir(node_id) / "kafka.log"

    def format_log(self, node_id: int) -> Path:
        return self.node_dir(node_id) / "format.log"

    def pid_file(self, node_id: int) -> Path:
        return self.node_dir(node_id) / "kafka.pid"

    def process_marker(self, node_id: int) -> str:
        """The text a node's command line must contain for its pid to be believed."""
        return str(self.properties(node_id).resolve())

    def is_formatted(self, node_id: int) -> bool:
        return (self.data_dir(node_id) / "meta.properties").is_file()

    def load(self) -> SavedCluster | None:
        try:
            raw = json.loads(self.state_file.read_text())
            return SavedCluster(ClusterSpec.from_dict(raw["spec"]), str(raw["cluster_id"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, saved: SavedCluster) -> None:
        payload = {"spec": saved.spec.to_dict(), "cluster_id": saved.cluster_id}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        tmp.replace(self.state_file)

    def wipe(self) -> None:
        """Forget a stopped cluster: its node directories and state file, nothing else.

        Only files this layout names are removed, in case the state dir was pointed at a
        directory that holds other things too.
        """
        for node_dir in self.root.glob("node-*"):
            if node_dir.is_dir():
                shutil.rmtree(node_dir)
        shutil.rmtree(self.secure.root, ignore_errors=True)
        self.state_file.unlink(missing_ok=True)
