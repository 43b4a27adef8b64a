"""Running the `govstream` command as a user would: a fresh process from the project root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Wide columns so tables are not folded; UTF-8 so Chinese text survives any locale.
ENV = {**os.environ, "COLUMNS": "400", "PYTHONIOENCODING": "utf-8"}


def govstream(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govstream", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env=ENV,
    )
