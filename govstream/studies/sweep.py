"""`govstream sweep`: a scenario over a grid of settings, and the least one that meets every target.

An architect's next question after "is this target met?" is "how many clerks does it take?".
A sweep runs the scenario at every point of a grid (`--vary agencies.bank.servers=2..10`, one
or more), each point with the same seeds (so points differ by the setting, not by luck), and
with replications when asked. It prints and writes a table of each target's statistic and
verdict per point, and answers the question: the least value at which every target is met.

Each finished point is written at once (`sweep.json`, `sweep.md`, `sweep.csv`, and the point's
own `result.json`), so an interrupted sweep keeps what it did; the same command resumes it, on
either executor (`executors`: the points' runs may go to a Dask cluster; each point is merged
and written here).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govstream.report.tables import Table, observed_text, verdict_on, verdict_word
from govstream.result import RunResult
from govstream.scenario.model import Scenario
from govstream.studies.executors import ExecutorChoice, study_executor, tell_progress
from govstream.studies.replications import merge_replications, replication_seeds
from govstream.studies.runs import ReplicationRun, RunTask

SCHEMA_ID = "govstream.sweep/1"
RANGE_RE = re.compile(r"^\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*(?::\s*([\d.]+))?\s*$")
MAX_POINTS = 10_000


class SweepError(ValueError):
    """A sweep that cannot run as asked; the message says what to change."""


@dataclass(frozen=True)
class Vary:
    """One setting the sweep varies, and the values it takes."""

    path: str
    values: tuple[str, ...]
    """As written on the command line for `--set`, e.g. `4`."""

    def numbers(self) -> list[float] | None:
        try:
            return [float(v) for v in self.values]
        except ValueError:
            return None


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def parse_vary(text: str) -> Vary:
    """`path=a..b` (whole steps), `path=a..b:step`, or `path=v1,v2,v3` (any values)."""
    path, sep, spec = text.partition("=")
    if not sep or not path.strip() or not spec.strip():
        raise SweepError(
            f"--vary {text!r}: write path=from..to (e.g. agencies.bank.servers=2..10), "
            "path=from..to:step, or path=v1,v2,v3"
        )
    path = path.strip()
    match = RANGE_RE.match(spec)
    if match:
        low, high = float(match[1]), float(match[2])
        step = float(match[3]) if match[3] else 1.0
        if step <= 0 or high < low:
            raise SweepError(f"--vary {text!r}: the range must go up, by a step above 0")
        count = math.floor((high - low) / step + 1e-9) + 1
        values = tuple(_number_text(round(low + i * step, 9)) for i in range(count))
    else:
        values = tuple(v.strip() for v in spec.split(",") if v.strip())
    if not values:
        raise SweepError(f"--vary {text!r}: no values")
    return Vary(path, values)


def grid(varies: Sequence[Vary]) -> list[tuple[str, ...]]:
    """Every point, as the `--set` overrides that make it, the first setting slowest."""
    points = list(itertools.product(*[[f"{v.path}={x}" for x in v.values] for v in varies]))
    if len(points) > MAX_POINTS:
        raise SweepError(f"the grid has {len(points)} points; at most {MAX_POINTS}")
    return points


def point_key(point: Sequence[str]) -> str:
    return " ".join(point)


def point_folder(index: int, point: Sequence[str]) -> str:
    return f"{index:03d}-" + re.sub(r"[^A-Za-z0-9._=-]+", "_", "_".join(point))[:120]


# -- the state on disk ------------------------------------------------------------------------


def sweep_settings(
    scenario_file: str, overrides: Sequence[str], varies: Sequence[Vary], replications: int
) -> dict[str, Any]:
    """What makes two sweeps the same sweep, so a rerun resumes only its own."""
    return {
        "scenario_file": scenario_file,
        "overrides": list(overrides),
        "vary": [{"path": v.path, "values": list(v.values)} for v in varies],
        "replications": replications,
    }


def point_record(point: Sequence[str], result: RunResult, folder: str) -> dict[str, Any]:
    return {
        "overrides": list(point),
        "result": f"points/{folder}/result.json",
        "all_met": result.targets_met,
        "unchecked_plan_targets": len(result.unchecked_plan_targets),
        "verdicts": [
            {
                "flow": v.flow,
                "target": v.id,
                "on": verdict_on(v),
                "stat": v.stat,
                "within": v.within,
                "observed": v.observed,
                "at_least": v.at_least,
                "interval": v.interval,
                "open": v.open,
                "verdict": v.verdict,
                "shown": observed_text(v),
                "word": verdict_word(v),
            }
            for v in result.targets
        ],
    }


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


class SweepState:
    """sweep.json and its renderings, rewritten after every point."""

    def __init__(self, out_dir: Path, settings: dict[str, Any], fresh: bool) -> None:
        self.out_dir = out_dir
        self.path = out_dir / "sweep.json"
        self.settings = settings
        self.points: dict[str, dict[str, Any]] = {}
        if self.path.exists() and not fresh:
            try:
                stored = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = None
            if not isinstance(stored, dict) or stored.get("settings") != settings:
                raise SweepError(
                    f"{self.path} holds a different sweep (another scenario, overrides, grid or "
                    "replications): pass --fresh to start over, or --out for another folder"
                )
            for record in stored.get("points", []):
                self.points[point_key(record["overrides"])] = record

    def done(self, point: Sequence[str]) -> bool:
        return point_key(point) in self.points

    def add(self, point: Sequence[str], result: RunResult, folder: str) -> None:
        target = self.out_dir / "points" / folder
        target.mkdir(parents=True, exist_ok=True)
        result.write(target / "result.json")
        self.points[point_key(point)] = point_record(point, result, folder)

    def save(self, order: Sequence[tuple[str, ...]], varies: Sequence[Vary], name: str) -> None:
        records = [self.points[point_key(p)] for p in order if point_key(p) in self.points]
        answer = answer_text(varies, records, len(order))
        data = {
            "schema": SCHEMA_ID,
            "scenario_name": name,
            "settings": self.settings,
            "points_total": len(order),
            "points_done": len(records),
            "complete": len(records) == len(order),
            "answer": answer,
            "points": records,
        }
        self.out_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        table = sweep_table(varies, records)
        _write_atomically(self.out_dir / "sweep.md", render_markdown(name, table, answer))
        _write_atomically(self.out_dir / "sweep.csv", render_csv(varies, records))


# -- the answer and the table -----------------------------------------------------------------


def point_values(varies: Sequence[Vary], record: dict[str, Any]) -> list[str]:
    values = dict(item.split("=", 1) for item in record["overrides"])
    return [values[v.path] for v in varies]


def answer_text(varies: Sequence[Vary], records: Sequence[dict[str, Any]], total: int) -> str:
    """The least setting meeting every target, said as an architect would ask it."""
    done = f" ({len(records)} of {total} points done)" if len(records) < total else ""
    if not records:
        return "no point done yet"
    met = [r for r in records if r["all_met"]]
    unchecked = any(r.get("unchecked_plan_targets") for r in records)
    why = " (the plan's own target is not checked: add it to the scenario)" if unchecked else ""
    if not met:
        names = ", ".join(v.path for v in varies)
        text = f"no point of the grid meets every target ({names}){why}"
        never = never_met(records)
        if never:
            text += "; missed at every point: " + ", ".join(never)
            others = [r for r in records if _met_except(r, never)]
            if others and not unchecked:
                least = " ".join(others[0]["overrides"])
                text += f"; every other target is met from {least}"
        return text + done
    numeric = all(v.numbers() is not None for v in varies)
    if len(varies) == 1:
        vary = varies[0]
        key = (lambda r: float(point_values(varies, r)[0])) if numeric else None
        ordered = sorted(records, key=key) if key else list(records)
        first = next(i for i, r in enumerate(ordered) if r["all_met"])
        least = point_values(varies, ordered[first])[0]
        later = [point_values(varies, r)[0] for r in ordered[first + 1 :] if not r["all_met"]]
        text = f"the least {vary.path} at which every target is met: {least}"
        if later:
            text += (
                f" (but not at {', '.join(later)}: the verdicts are not monotone there; "
                "more replications would tell)"
            )
        return text + done
    minimal = [
        r
        for r in met
        if not numeric or not any(_dominates(varies, other, r) for other in met if other is not r)
    ]
    points = "; ".join(
        " ".join(f"{v.path}={x}" for v, x in zip(varies, point_values(varies, r), strict=True))
        for r in minimal
    )
    return f"the least settings at which every target is met: {points}{done}"


def _label(verdict: dict[str, Any]) -> str:
    return f"{verdict['target']} ({verdict['on']} {verdict['stat']} ≤ {verdict['within']})"


def never_met(records: Sequence[dict[str, Any]]) -> list[str]:
    """Targets no point of the grid meets: no setting of the grid can answer for them."""
    labels = list(dict.fromkeys(_label(v) for r in records for v in r["verdicts"]))
    return [
        label
        for label in labels
        if not any(
            v["verdict"] == "met" for r in records for v in r["verdicts"] if _label(v) == label
        )
    ]


def _met_except(record: dict[str, Any], never: Sequence[str]) -> bool:
    return all(v["verdict"] == "met" for v in record["verdicts"] if _label(v) not in never)


def _dominates(varies: Sequence[Vary], a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether `a` is at most `b` in every setting and less in one."""
    xs = [float(x) for x in point_values(varies, a)]
    ys = [float(y) for y in point_values(varies, b)]
    return all(x <= y for x, y in zip(xs, ys, strict=True)) and xs != ys


def sweep_table(varies: Sequence[Vary], records: Sequence[dict[str, Any]]) -> Table:
    columns: list[str] = []
    for record in records:
        for v in record["verdicts"]:
            label = f"{v['target']} {v['on']} {v['stat']} ≤ {v['within']}"
            if label not in columns:
                columns.append(label)
    rows = []
    for record in records:
        cells = {
            f"{v['target']} {v['on']} {v['stat']} ≤ {v['within']}": f"{v['shown']} {v['word']}"
            for v in record["verdicts"]
        }
        every = "yes" if record["all_met"] else "no"
        rows.append((*point_values(varies, record), *(cells.get(c, "-") for c in columns), every))
    return Table(
        "Sweep: each target's statistic and verdict per point",
        (*(v.path for v in varies), *columns, "every target met"),
        rows,
        "the same seeds at every point; ≥ = open cases counted at their age; "
        "[a, b] = 95 % interval over replications",
    )


def sweep_rows_table(varies: Sequence[Vary], records: Sequence[dict[str, Any]]) -> Table:
    """The sweep table turned on its side: one row per point and target, for a console too
    narrow for a column per target (a sweep of the district has dozens), where each column
    would shrink to "…" and show no value at all."""
    rows = []
    for record in records:
        values = point_values(varies, record)
        every = "yes" if record["all_met"] else "no"
        for index, v in enumerate(record["verdicts"]):
            first = index == 0
            rows.append(
                (
                    *(values if first else ["" for _ in values]),
                    every if first else "",
                    v.get("flow", ""),
                    v["target"],
                    f"{v['on']} {v['stat']} ≤ {v['within']}",
                    v["shown"],
                    v["word"],
                )
            )
    return Table(
        "Sweep: each target's statistic and verdict per point",
        (
            *(v.path for v in varies),
            "every target met",
            "flow",
            "target",
            "on",
            "observed",
            "verdict",
        ),
        rows,
        "the same seeds at every point; ≥ = open cases counted at their age; "
        "[a, b] = 95 % interval over replications",
    )


def render_markdown(name: str, table: Table, answer: str) -> str:
    lines = [f"# govstream sweep: {name}", "", f"**{answer}.**", "", f"## {table.title}", ""]
    lines.append("| " + " | ".join(table.headers) + " |")
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in table.rows]
    return "\n".join([*lines, "", f"_{table.note}_", ""])


def render_csv(varies: Sequence[Vary], records: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*(v.path for v in varies), "flow", "target", "on", "stat", "within",
                     "observed", "at_least", "low", "high", "open", "verdict"])  # fmt: skip
    for record in records:
        values = point_values(varies, record)
        for v in record["verdicts"]:
            low, high = v["interval"] or ("", "")
            writer.writerow(
                [*values, v["flow"], v["target"], v["on"], v["stat"], v["within"],
                 v["observed"], v["at_least"], low, high, v["open"], v["verdict"]]
            )  # fmt: skip
    return out.getvalue()


# -- running ----------------------------------------------------------------------------------


class Interrupted(Exception):
    """The sweep was interrupted; the points done are kept."""


def run_sweep(
    points: Sequence[tuple[str, ...]],
    scenarios: dict[tuple[str, ...], Scenario],
    state: SweepState,
    varies: Sequence[Vary],
    *,
    replications: int,
    scenario_file: str,
    overrides: Sequence[str],
    name: str,
    on_point: Any = None,
    jobs: int | None = None,
    executor: ExecutorChoice | None = None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Every point not done yet, its replications in parallel with the others' on `executor`
    (default: `jobs` processes, one per core unless given). Each point is merged and saved
    here as soon as its last replication is in, whichever worker ran them, so the resume file
    holds every point finished, and only those."""
    pending = [(i, p) for i, p in enumerate(points) if not state.done(p)]
    state.save(points, varies, name)
    if not pending:
        return
    tasks: list[RunTask] = []
    owner: list[tuple[int, tuple[str, ...]]] = []
    for index, point in pending:
        scenario = scenarios[point]
        point_overrides = (*overrides, *point)
        for seed in replication_seeds(scenario, replications):
            tasks.append(RunTask(scenario, seed, scenario_file, point_overrides))
            owner.append((index, point))
    runs: dict[tuple[str, ...], list[ReplicationRun]] = {p: [] for _, p in pending}
    finished = 0
    try:
        with study_executor(executor, len(tasks), jobs) as running:
            for task_index, run in running.results(tasks):
                finished += 1
                tell_progress(progress, finished / len(tasks), running)
                index, point = owner[task_index]
                runs[point].append(run)
                if len(runs[point]) < replications:
                    continue
                done = sorted(runs[point], key=lambda run: run.seed)
                if replications == 1:
                    result = done[0].result
                else:
                    result = merge_replications(
                        scenarios[point], done, scenario_file, [*overrides, *point]
                    )
                state.add(point, result, point_folder(index, point))
                state.save(points, varies, name)
                if on_point is not None:
                    on_point(point, result)
    except KeyboardInterrupt:
        state.save(points, varies, name)
        raise Interrupted from None
