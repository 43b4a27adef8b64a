"""Hand-timed signal streams about one market entity, for F13's windows on either engine.

The windows they cross in, worked out by hand, are in `tests/test_scoring_flow.py`'s docstring.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from govstream.scenario.loader import parse_scenario
from govstream.scenario.model import Scenario

START = datetime(2021, 6, 1, 8, tzinfo=timezone(timedelta(hours=8)))
H = 3600.0
DAY = 24 * H
CROSSING = {
    "judgment": [0.0, 24 * H],
    "dishonesty": [10 * H, 40 * H],
    "complaint": [30 * H, 48 * H - 1],
}
QUIET = {"judgment": [0.0, 24 * H], "complaint": [30 * H, 48 * H - 1], "dishonesty": [72 * H]}
"""At most 8 in any window of a day or two: nothing crosses."""

WINDOWS = {
    "tumbling": ("{kind: tumbling, size: 1d}", ["F13.complaint-0000002"]),
    "hopping": (
        "{kind: hopping, size: 2d, step: 1d}",
        ["F13.complaint-0000002", "F13.judgment-0000002"],
    ),
    "sliding": ("{kind: sliding, size: 1d}", ["F13.complaint-0000002"]),
}


TARGET_LINE = "  - {id: leads, flow: F13, of: rate, step: lead, at_least: 100%, source: author}"


def signal_scenario(tmp_path: Path, window: str, stream: dict[str, list[float]]) -> Scenario:
    """F13 fed by replayed signals about one entity, the window given, a threshold of 10."""
    return parse_scenario(signal_text(tmp_path, window, stream))


def signal_text(tmp_path: Path, window: str, stream: dict[str, list[float]]) -> str:
    """The scenario's text, for tests that change a line of it."""
    signals = []
    for kind, times in stream.items():
        replay = tmp_path / f"{kind}.csv"
        moments = "".join(f"{(START + timedelta(seconds=t)).isoformat()}\n" for t in times)
        replay.write_text("at\n" + moments, encoding="utf-8")
        signals.append(f"      {kind}: {{arrivals: {{process: replay, file: {replay}}}}}")
    text = "\n".join(
        [
            "name: hand-windows",
            "start: 2021-06-01T08:00:00+08:00",
            "duration: 5d",
            "drain: 5d",
            "flows:",
            "  F13:",
            "    signals:",
            *signals,
            "    population: {population_size: 1}",
            f"    window: {window}",
            "    threshold: 10",
            "agencies:",
            "  supervision-platform: {servers: 2, calendar: always,"
            " service_time: {dist: constant, value: 10min}}",
            "  amr: {servers: 2, calendar: always, service_time: {dist: constant, value: 1h}}",
            "targets:",
            TARGET_LINE,
        ]
    )
    return text
