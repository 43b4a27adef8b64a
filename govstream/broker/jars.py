"""Fetching the Kafka broker's jars once, with Maven, into a per-user cache.

Maven resolves the broker and its runtime dependencies from ``docker/pom.xml``, so no Kafka
distribution tarball (and no host other than the Maven repository) is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import structlog

from govstream.broker.config import KAFKA_VERSION
from govstream.broker.errors import BrokerError
from govstream.broker.locking import exclusive

log = structlog.get_logger(__name__)

MARKER_NAME = "libs.complete"
MAVEN_TIMEOUT_S = 900


def cache_root() -> Path:
    """``$GOVSTREAM_CACHE`` if set, else ``~/.cache/govstream``."""
    env = os.environ.get("GOVSTREAM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "govstream"


def version_dir(version: str = KAFKA_VERSION, root: Path | None = None) -> Path:
    return (root or cache_root()) / f"kafka-{version}"


def find_pom() -> Path:
    """``$GOVSTREAM_KAFKA_POM`` if set, else ``docker/pom.xml`` of the source tree."""
    env = os.environ.get("GOVSTREAM_KAFKA_POM")
    pom = Path(env) if env else Path(__file__).resolve().parents[2] / "docker" / "pom.xml"
    if not pom.is_file():
        raise BrokerError(
            f"Kafka pom not found at {pom}; run from a govstream checkout or set "
            "GOVSTREAM_KAFKA_POM to its docker/pom.xml"
        )
    return pom


def cached_libs(version: str = KAFKA_VERSION, root: Path | None = None) -> Path | None:
    """The jar directory if an earlier fetch finished and no jar it listed has gone missing."""
    vdir = version_dir(version, root)
    marker = vdir / MARKER_NAME
    libs = vdir / "libs"
    try:
        listed = json.loads(marker.read_text())["jars"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if listed and all((libs / name).is_file() for name in listed):
        return libs
    return None


def ensure_jars(
    version: str = KAFKA_VERSION, *, root: Path | None = None, pom: Path | None = None
) -> Path:
    """Return the directory of broker jars, running Maven only if no complete copy is cached."""
    libs = cached_libs(version, root)
    if libs:
        return libs
    vdir = version_dir(version, root)
    with exclusive(vdir / ".lock"):  # parallel test workers share the cache
        libs = cached_libs(version, root)  # another process may have finished meanwhile
        if libs:
            return libs
        return _fetch(version, vdir, pom or find_pom())


def _fetch(version: str, vdir: Path, pom: Path) -> Path:
    mvn = shutil.which("mvn")
    if not mvn:
        raise BrokerError(
            f"Maven (`mvn`) not found on PATH; it is needed once to fetch Kafka {version} "
            f"into {vdir}"
        )
    staging = vdir / f"libs.partial-{os.getpid()}"
    libs = vdir / "libs"
    maven_log = vdir / "maven.log"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    log.info("kafka.jars.fetch", version=version, into=str(libs), pom=str(pom))
    try:
        with maven_log.open("w") as out:
            done = subprocess.run(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=MAVEN_TIMEOUT_S,
                check=False,
            )
    except subprocess.TimeoutExpired as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BrokerError(
            f"Maven did not finish fetching Kafka jars in {MAVEN_TIMEOUT_S}s", (maven_log,)
        ) from exc
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BrokerError(
            f"Maven failed (exit {done.returncode}) fetching Kafka jars; see {maven_log}",
            (maven_log,),
        )
    jars = sorted(p.name for p in staging.glob("*.jar"))
    expected = f"kafka_2.13-{version}.jar"
    if expected not in jars:
        shutil.rmtree(staging, ignore_errors=True)
        raise BrokerError(
            f"{pom} did not yield {expected} (got {len(jars)} jars): the pom and the launcher "
            "pin different Kafka versions"
        )
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    # The marker goes last: its presence is what says the directory is complete.
    marker_tmp = vdir / f"{MARKER_NAME}.tmp"
    marker_tmp.write_text(json.dumps({"kafka_version": version, "jars": jars}, indent=1))
    marker_tmp.replace(vdir / MARKER_NAME)
    log.info("kafka.jars.ready", version=version, jars=len(jars), libs=str(libs))
    return libs
