"""Headless Chromium driven over its DevTools protocol: load a page, collect console errors,
evaluate script, take a screenshot.

Only Debian's `chromium` is used (nothing is downloaded); the protocol goes over a local
websocket with `websocket-client`. Every wait has a generous upper bound that only a hung
browser reaches: the checks themselves never depend on how fast the machine is.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import websocket

HANG = 120.0
"""Seconds after which a browser that has not answered is taken to have hung."""


def chromium_binary() -> str:
    """Debian's chromium; under CI a missing browser fails the test instead of skipping it."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    message = "chromium is not installed (apt-get install chromium; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class Page:
    """One tab: commands are sent in order and answered by id; events are kept as they come."""

    def __init__(self, url: str) -> None:
        self._ws = websocket.create_connection(url, timeout=HANG, suppress_origin=True)
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self.events.append(message)

    def wait_for_event(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + HANG
        while time.monotonic() < deadline:
            for event in self.events:
                if event["method"] == method:
                    return event
            message = json.loads(self._ws.recv())
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"no {method} within {HANG}s")

    def evaluate(self, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_until(self, expression: str) -> Any:
        """Poll a script expression until it is truthy (bounded only against a hang)."""
        deadline = time.monotonic() + HANG
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"{expression} still false after {HANG}s")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors seen so far."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append(f"exception: {details.get('exception', {}).get('description')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "assert",
            ):
                texts = [str(arg.get("value", arg.get("description"))) for arg in params["args"]]
                found.append(f"console.{params['type']}: {' '.join(texts)}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                found.append(f"log: {entry.get('text')} ({entry.get('url', '')})")
        return found

    def screenshot(self, path: Path, clip: dict[str, float] | None = None) -> Path:
        """The whole page (or a clip of it) as PNG."""
        if clip is None:
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
        shot = self.send(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={**clip, "scale": 1},
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        self._ws.close()


@contextmanager
def open_page(path: Path, profile: Path, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """`path` loaded in a fresh headless Chromium with its own profile directory."""
    binary = chromium_binary()
    profile.mkdir(parents=True, exist_ok=True)
    port_file = profile / "DevToolsActivePort"
    port_file.unlink(missing_ok=True)  # a stale one names a browser long gone
    process = subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + HANG
        while not port_file.exists() or not port_file.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start (exit code {process.poll()})")
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=HANG) as reply:
            targets = json.load(reply)
        (target,) = [t for t in targets if t.get("type") == "page"][:1]
        page = Page(target["webSocketDebuggerUrl"])
        try:
            for domain in ("Page", "Runtime", "Log"):
                page.send(f"{domain}.enable")
            page.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            page.send("Page.navigate", url=path.resolve().as_uri())
            page.wait_for_event("Page.loadEventFired")
            yield page
        finally:
            page.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
