"""Finding a Java runtime able to run the pinned Kafka release."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

from govstream.broker.errors import BrokerError

#: Kafka 4.x brokers are built for Java 17; an older JVM fails with a class-version error that
#: is far less clear than saying so up front.
MIN_JAVA_MAJOR = 17


def find_java() -> Path:
    """``$JAVA_HOME/bin/java`` when set (the usual way to pick one of several JDKs), else PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return Path(home) / "bin" / "java"
    found = shutil.which("java")
    if not found:
        raise BrokerError(
            f"no Java runtime found (set JAVA_HOME or put `java` on PATH); "
            f"Kafka needs Java {MIN_JAVA_MAJOR} or newer"
        )
    return Path(found)


@functools.cache
def java_major_version(java: Path) -> int:
    """The feature release of a JVM, parsed from ``java -version`` (e.g. 17 from "17.0.15")."""
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BrokerError(f"could not run {java} -version: {exc}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise BrokerError(f"could not read the Java version from {java}: {out.stderr.strip()}")
    major = int(match.group(1))
    # Java 8 and older report themselves as "1.8".
    return int(match.group(2) or 0) if major == 1 else major


def require_java() -> Path:
    java = find_java()
    major = java_major_version(java)
    if major < MIN_JAVA_MAJOR:
        raise BrokerError(
            f"{java} is Java {major}; Kafka needs Java {MIN_JAVA_MAJOR} or newer (set JAVA_HOME)"
        )
    return java
