"""The local Kafka launcher's pure parts: generated broker config, state files, jar cache, CLI.

Nothing here starts a JVM; tests/kafka covers the running cluster.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from govstream.broker import KAFKA_VERSION, BrokerError, ClusterSpec, process
from govstream.broker import jars as jar_cache
from govstream.broker.config import (
    jvm_options,
    new_cluster_id,
    parse_properties,
    render_properties,
    server_properties,
)
from govstream.broker.layout import Layout, SavedCluster
from govstream.broker.process import is_running
from govstream.cli.kafka import add_commands as add_kafka_commands

ROOT = Path(__file__).resolve().parents[1]


def props_of(spec: ClusterSpec, node_id: int) -> dict[str, str]:
    text = render_properties(server_properties(spec, node_id, Path(f"/data/{node_id}")))
    return parse_properties(text)


def test_single_node_settings() -> None:
    spec = ClusterSpec.on_ports(1, 19092)
    props = props_of(spec, 0)
    assert spec.bootstrap == "127.0.0.1:19092"
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "0"
    assert props["controller.quorum.voters"] == "0@127.0.0.1:19192"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19192"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["log.dirs"] == "/data/0"
    for key in (
        "default.replication.factor",
        "min.insync.replicas",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
    ):
        assert props[key] == "1", key
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["num.partitions"] == "3"


def test_three_node_settings() -> None:
    spec = ClusterSpec.on_ports(3, 20000)
    assert spec.bootstrap == "127.0.0.1:20000,127.0.0.1:20001,127.0.0.1:20002"
    all_props = [props_of(spec, i) for i in range(3)]
    voters = "0@127.0.0.1:20100,1@127.0.0.1:20101,2@127.0.0.1:20102"
    for node_id, props in enumerate(all_props):
        assert props["node.id"] == str(node_id)
        assert props["controller.quorum.voters"] == voters
        assert props["advertised.listeners"] == f"PLAINTEXT://127.0.0.1:{20000 + node_id}"
        assert props["default.replication.factor"] == "3"
        assert props["min.insync.replicas"] == "2"
        assert props["offsets.topic.replication.factor"] == "3"
        assert props["transaction.state.log.replication.factor"] == "3"
        assert props["transaction.state.log.min.isr"] == "2"
    assert len({p["listeners"] for p in all_props}) == 3


def test_controller_port_can_be_placed_elsewhere() -> None:
    spec = ClusterSpec.on_ports(3, 20000, controller_port=30000)
    assert spec.controller_ports == (30000, 30001, 30002)


@pytest.mark.parametrize(
    ("clients", "controllers"),
    [((1, 2), (3, 4)), ((1,), (1,)), ((1,), (2, 3)), ((70000,), (1,))],
)
def test_spec_rejects_bad_layouts(clients: tuple[int, ...], controllers: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        ClusterSpec(client_ports=clients, controller_ports=controllers)


def test_node_count_must_be_one_or_three() -> None:
    with pytest.raises(ValueError, match="nodes"):
        ClusterSpec.on_ports(2)


def test_node_id_must_belong_to_cluster() -> None:
    with pytest.raises(ValueError):
        server_properties(ClusterSpec.on_ports(1), 1, Path("/data"))


def test_cluster_ids_are_kafka_uuids() -> None:
    for _ in range(200):
        cid = new_cluster_id()
        assert len(cid) == 22 and not cid.startswith("-")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_jvm_options_carry_small_heap_and_logging() -> None:
    opts = jvm_options(Path("/x/log4j2.properties"))
    assert "-Xmx512m" in opts and "-Xms256m" in opts
    assert "-Dlog4j2.configurationFile=/x/log4j2.properties" in opts


def test_versions_agree_across_pom_compose_and_launcher() -> None:
    pom = ET.parse(ROOT / "docker" / "pom.xml").getroot()
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    pinned = pom.find("m:properties/m:kafka.version", ns)
    assert pinned is not None and pinned.text == KAFKA_VERSION
    compose = yaml.safe_load((ROOT / "docker" / "docker-compose.yml").read_text())
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    assert KAFKA_VERSION in (ROOT / "docker" / "KAFKA_VERSION.md").read_text()


def test_compose_cluster_id_is_valid() -> None:
    compose = yaml.safe_load((ROOT / "docker" / "docker-compose.yml").read_text())
    cid = compose["services"]["kafka"]["environment"]["CLUSTER_ID"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cid)
    assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_state_file_roundtrip_and_wipe(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    saved = SavedCluster(ClusterSpec.on_ports(3, 21000), "abc")
    layout.save(saved)
    assert layout.load() == saved
    layout.data_dir(0).mkdir(parents=True)
    (tmp_path / "keep.txt").write_text("not the launcher's")
    layout.wipe()
    assert layout.load() is None
    assert not layout.node_dir(0).exists()
    assert (tmp_path / "keep.txt").exists()


def test_corrupt_state_file_reads_as_no_cluster(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.state_file.write_text("{not json")
    assert layout.load() is None


def test_jar_cache_needs_marker_and_every_listed_jar(tmp_path: Path) -> None:
    vdir = jar_cache.version_dir("9.9.9", tmp_path)
    libs = vdir / "libs"
    libs.mkdir(parents=True)
    (libs / "a.jar").write_bytes(b"")
    assert jar_cache.cached_libs("9.9.9", tmp_path) is None, "no marker: an interrupted fetch"
    (vdir / jar_cache.MARKER_NAME).write_text(json.dumps({"jars": ["a.jar", "b.jar"]}))
    assert jar_cache.cached_libs("9.9.9", tmp_path) is None, "a listed jar is missing"
    (libs / "b.jar").write_bytes(b"")
    assert jar_cache.cached_libs("9.9.9", tmp_path) == libs


def test_cache_location_follows_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GOVSTREAM_CACHE", str(tmp_path))
    assert jar_cache.version_dir() == tmp_path / f"kafka-{KAFKA_VERSION}"


def test_missing_maven_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it, so no mvn
    with pytest.raises(BrokerError, match="Maven"):
        jar_cache.ensure_jars("9.9.9", root=tmp_path)


def test_process_is_recognised_by_its_command_line() -> None:
    marker = f"govstream-test-marker-{os.getpid()}"
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(30)", marker],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        # Until exec has finished, /proc may show an empty or the parent's command line.
        assert child.stdout.readline() == "up\n"
        assert is_running(child.pid, marker)
        assert not is_running(child.pid, "some-other-node/server.properties")
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert not is_running(child.pid, marker)


def test_a_spawned_node_counts_as_running_at_once(tmp_path: Path) -> None:
    """The launcher checks its node straight after starting it, before exec may have finished."""
    marker = f"govstream-spawn-marker-{os.getpid()}"
    cmd = [sys.executable, "-c", "import time; time.sleep(30)", marker]
    pid = process.spawn(cmd, cwd=tmp_path, log_file=tmp_path / "node.log")
    try:
        assert is_running(pid, marker)
        assert not is_running(pid, "some-other-node/server.properties")
    finally:
        process.stop([(pid, marker)], grace=5.0)
    assert not is_running(pid, marker)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govstream")
    add_kafka_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_parses_kafka_commands() -> None:
    args = _parser().parse_args(["kafka", "up", "--nodes", "3", "--port", "20000"])
    assert (args.nodes, args.port, args.fresh) == (3, 20000, False)
    assert callable(args.func)
    for command in ("status", "down"):
        assert callable(_parser().parse_args(["kafka", command]).func)


def test_cli_rejects_unsupported_node_count() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["kafka", "up", "--nodes", "2"])


def test_cli_status_and_down_without_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = _parser()
    status_args = parser.parse_args(["kafka", "status", "--state-dir", str(tmp_path)])
    assert status_args.func(status_args) == 3  # stopped; 1 is for a degraded cluster
    assert "no Kafka cluster running" in capsys.readouterr().out
    down_args = parser.parse_args(["kafka", "down", "--state-dir", str(tmp_path)])
    assert down_args.func(down_args) == 0
    assert "no Kafka cluster was running" in capsys.readouterr().out
