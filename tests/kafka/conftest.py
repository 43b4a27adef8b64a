"""Real Apache Kafka for the tests in this directory.

``kafka_bootstrap`` finds a broker in this order: ``$GOVSTREAM_KAFKA_BOOTSTRAP``; the compose
file in ``docker/`` when a Docker engine answers; a throw-away cluster started by the launcher.
When none can be had the tests are skipped, except under CI (``$CI`` set), where that is a failure:
a CI run that silently skipped every Kafka test would prove nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient

from govstream.broker import BrokerError, ClusterInfo, temporary_cluster

HERE = Path(__file__).resolve().parent
COMPOSE_FILE = HERE.parents[1] / "docker" / "docker-compose.yml"
DOCKER_KAFKA_PORT = 9092


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under this directory ``kafka`` (before ``-m`` selection looks at marks)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.kafka)


def unavailable(reason: str) -> None:
    """Skip a test that needs a broker, or fail it under CI where a broker is expected."""
    if os.environ.get("CI"):
        pytest.fail(f"no Kafka broker under CI: {reason}", pytrace=False)
    pytest.skip(f"no Kafka broker: {reason}")


def _docker_engine_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        done = subprocess.run([docker, "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _serves(bootstrap: str) -> bool:
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    except Exception:  # any client failure means "not yet"
        return False
    try:
        return bool(admin.describe_cluster().get("brokers"))
    except Exception:
        return False
    finally:
        admin.close()


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    """Points pytest-docker at the project's compose file (used only on the Docker path)."""
    return str(COMPOSE_FILE)


def _bootstrap_from_docker(request: pytest.FixtureRequest) -> str | None:
    """Start the compose service; None if pytest-docker or Docker Compose cannot be used.

    ``docker_services`` is requested here, never as a fixture argument, so that a machine
    without a Docker engine never instantiates it.
    """
    try:
        services = request.getfixturevalue("docker_services")
    except Exception:  # plugin not installed, or compose missing or failing: use the launcher
        return None
    port = services.port_for("kafka", DOCKER_KAFKA_PORT)
    bootstrap = f"localhost:{port}"
    services.wait_until_responsive(check=lambda: _serves(bootstrap), timeout=180.0, pause=1.0)
    return bootstrap


@pytest.fixture(scope="session")
def kafka_bootstrap(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``bootstrap_servers`` of a single Kafka broker shared by the whole test session."""
    given = os.environ.get("GOVSTREAM_KAFKA_BOOTSTRAP")
    if given:
        yield given
        return
    if _docker_engine_answers():
        from_docker = _bootstrap_from_docker(request)
        if from_docker:
            yield from_docker
            return
    with _launched(1, tmp_path_factory.mktemp("kafka-single")) as info:
        yield info.bootstrap


@pytest.fixture(scope="module")
def kafka_cluster3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfo]:
    """A separate 3-node cluster (RF 3, min.insync.replicas 2) from the launcher."""
    with _launched(3, tmp_path_factory.mktemp("kafka-three")) as info:
        yield info


@pytest.fixture(scope="module")
def kafka_secure_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfo]:
    """A separate 1-node secure cluster (SASL/SCRAM over TLS, the catalog's ACLs)."""
    with _launched(1, tmp_path_factory.mktemp("kafka-secure"), secure=True) as info:
        yield info


@contextlib.contextmanager
def _launched(nodes: int, state_dir: Path, *, secure: bool = False) -> Iterator[ClusterInfo]:
    """Start a launcher cluster, turning a failed start into skip (or fail under CI).

    The start is entered by hand so that errors raised later, while stopping the cluster, are
    reported as errors rather than turned into skips.
    """
    stack = contextlib.ExitStack()
    try:
        info = stack.enter_context(temporary_cluster(nodes, state_dir=state_dir, secure=secure))
    except BrokerError as exc:
        stack.close()
        kind = "secure " if secure else ""
        unavailable(f"the launcher could not start a {kind}{nodes}-node cluster: {exc}")
        raise  # unreachable: unavailable() always raises
    with stack:
        yield info
