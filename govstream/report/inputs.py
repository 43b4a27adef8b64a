"""The run's inputs as report tables: load, agencies, steps, calendar, transport.

A latency figure means little without what produced it: the arrival rate, the clerks and their
service times, the office calendar, the outages. These tables are read from the scenario as
result.json recorded it (plain data), never from the live scenario model or flow modules, so an
old result renders the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from govstream.durations import parse_duration
from govstream.report.tables import Table
from govstream.result import RunResult

DAY = 86_400.0


def rate_text(per_second: float | str | None) -> str:
    """Events per second (as result.json stores a rate) in the unit a reader thinks in; a
    replayed file of arrivals has none."""
    if per_second is None:
        return "-"
    if isinstance(per_second, str):
        return per_second
    per_day = float(per_second) * DAY
    if per_day >= 10_000:
        return f"{per_day / 24:.4g}/h"
    return f"{per_day:.4g}/d"


def _number(value: Any) -> str:
    """A knob as a reader writes it: 20000, not 20000.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def distribution_text(spec: Mapping[str, Any] | None) -> str:
    """`lognormal median 20min, p95 90min`: a distribution as written in the scenario."""
    if not spec:
        return "-"
    kind = spec.get("dist", "?")
    if kind == "constant":
        return f"constant {spec.get('value')}"
    if kind == "exponential":
        return f"exponential mean {spec.get('mean')}"
    if kind == "lognormal":
        return f"lognormal median {spec.get('median')}, p95 {spec.get('p95')}"
    if kind == "uniform":
        return f"uniform {spec.get('low')}–{spec.get('high')}"
    if kind == "empirical":
        values = list(spec.get("values") or [])
        shown = ", ".join(map(str, values[:5])) + (", …" if len(values) > 5 else "")
        return f"empirical of {len(values)} values ({shown})"
    return str(dict(spec))


def scenario_start(scenario: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(scenario["start"]))
    except (KeyError, ValueError):
        return None


def moment_text(scenario: Mapping[str, Any], offset: str) -> str:
    """`14d (Tue 15 Jun 09:00)`: an offset from the start, and where it falls on the calendar."""
    start = scenario_start(scenario)
    try:
        seconds = parse_duration(offset).clock_seconds()
    except ValueError:
        return str(offset)
    written = f"{seconds / DAY:g}d" if seconds % DAY == 0 else str(offset)
    if start is None:
        return written
    at = start + timedelta(seconds=seconds)
    return f"{written} ({at:%a %d %b %H:%M})"


def outage_text(scenario: Mapping[str, Any], outage: Mapping[str, Any]) -> str:
    reason = f": {outage['reason']}" if outage.get("reason") else ""
    return (
        f"{moment_text(scenario, str(outage['start']))} to "
        f"{moment_text(scenario, str(outage['end']))}{reason}"
    )


def run_table(result: RunResult) -> Table:
    scenario = result.scenario
    calendar = scenario.get("calendar") or {}
    holidays = {"cn": "Chinese public holidays and make-up working days", "none": "Mon–Fri"}
    platform = scenario.get("platform") or {}
    rows = [
        ("start", str(scenario.get("start", "-"))),
        ("arrivals for", str(scenario.get("duration", "-"))),
        ("then drain for at most", str(scenario.get("drain", "-"))),
        ("seed", str(result.seed)),
        (
            "office calendar",
            f"{', '.join(calendar.get('office_hours') or [])}; "
            f"{holidays.get(str(calendar.get('holidays')), str(calendar.get('holidays')))}",
        ),
        (
            "transport, every hop",
            distribution_text((scenario.get("transport") or {}).get("latency")),
        ),
        (
            "platform (orchestrators)",
            f"{platform.get('servers', '-')} servers, "
            f"{distribution_text(platform.get('service_time'))}",
        ),
    ]
    if result.engine.name == "kafka":
        kafka = scenario.get("kafka") or {}
        rows.append(
            (
                "kafka",
                f"speedup {kafka.get('speedup')}, workers {kafka.get('workers')}, "
                f"corrupt fraction {kafka.get('corrupt_fraction')}",
            )
        )
    if result.overrides:
        rows.append(("overrides", " ".join(result.overrides)))
    return Table("Inputs: the run", ("setting", "value"), rows)


def load_table(result: RunResult) -> Table:
    rows = []
    for flow_id, settings in (result.scenario.get("flows") or {}).items():
        arrivals = settings.get("arrivals") or {}
        hours = "in office hours" if arrivals.get("hours") == "office" else "around the clock"
        bursts = "; ".join(
            f"{rate_text(b['rate'])} for {b['duration']} from "
            f"{moment_text(result.scenario, str(b['start']))}"
            for b in arrivals.get("bursts") or []
        )
        population = ", ".join(
            f"{k} {_number(v)}" for k, v in (settings.get("population") or {}).items()
        )
        streams = [(flow_id, arrivals)]
        # A scoring flow's arrivals are its sources' signals, one stream each.
        signals = settings.get("signals") or {}
        if signals:
            streams = [
                (f"{flow_id} {kind} signals", signal.get("arrivals") or {})
                for kind, signal in signals.items()
            ]
        for name, stream in streams:
            hours = "in office hours" if stream.get("hours") == "office" else "around the clock"
            rows.append(
                (
                    name,
                    str(stream.get("process", "-")),
                    rate_text(stream.get("rate", 0.0)),
                    hours,
                    (bursts if stream is arrivals else "") or "-",
                    population or "defaults",
                )
            )
    return Table(
        "Inputs: load",
        ("flow", "arrivals", "rate", "when", "bursts", "population"),
        rows,
    )


def agencies_inputs_table(result: RunResult) -> Table:
    scenario = result.scenario
    rows = []
    for name, agency in (scenario.get("agencies") or {}).items():
        desks = "; ".join(
            f"{flow_id}: {desk.get('servers')} servers"
            + (f", {desk['calendar']}" if desk.get("calendar") else "")
            for flow_id, desk in (agency.get("desks") or {}).items()
        )
        rows.append(
            (
                name,
                str(agency.get("servers", "-")),
                str(agency.get("calendar", "-")),
                distribution_text(agency.get("service_time")),
                f"{float(agency.get('reject_probability') or 0.0):g}",
                "; ".join(outage_text(scenario, o) for o in agency.get("outages") or []) or "-",
                desks or "-",
            )
        )
    return Table(
        "Inputs: agencies",
        ("agency", "servers", "calendar", "service time", "reject p", "outages", "desks"),
        rows,
        "calendar office = the office hours and calendar above; always = around the clock",
    )


def steps_inputs_table(result: RunResult) -> Table | None:
    """The steps whose settings the scenario gives itself (else the agency's apply)."""
    rows = []
    for flow_id, settings in (result.scenario.get("flows") or {}).items():
        for step_id, step in (settings.get("steps") or {}).items():
            cells = []
            if step.get("service_time"):
                cells.append(f"service {distribution_text(step['service_time'])}")
            if step.get("duration"):
                cells.append(f"wait {distribution_text(step['duration'])}")
            if step.get("reject_probability") is not None:
                cells.append(f"reject p {step['reject_probability']:g}")
            if cells:
                rows.append((flow_id, step_id, "; ".join(cells)))
    if not rows:
        return None
    return Table("Inputs: steps with settings of their own", ("flow", "step", "settings"), rows)


def input_tables(result: RunResult) -> list[Table]:
    tables = [run_table(result), load_table(result), agencies_inputs_table(result)]
    steps = steps_inputs_table(result)
    return [*tables, *([steps] if steps else [])]
