"""Running a scenario on an engine and writing its result files: the CLI's one entry point."""

from __future__ import annotations

from pathlib import Path

from govstream.engines import DEFAULT_ENGINE, RunSettings, engine
from govstream.result import RunResult
from govstream.scenario.model import Scenario


def as_overrides(
    overrides: list[str],
    *,
    seed: int | None = None,
    speedup: float | None = None,
    workers: int | None = None,
) -> list[str]:
    """`--seed`, `--speedup` and `--workers` are overrides of the scenario's own fields, so
    result.json records them with the others and every worker reads the same values."""
    extra = []
    if seed is not None:
        extra.append(f"seed={seed}")
    if speedup is not None:
        extra.append(f"kafka.speedup={speedup}")
    if workers is not None:
        extra.append(f"kafka.workers={workers}")
    return [*overrides, *extra]


def run_scenario(
    scenario: Scenario, settings: RunSettings, engine_name: str = DEFAULT_ENGINE
) -> RunResult:
    return engine(engine_name).run(scenario, settings)


def write_outputs(result: RunResult, out_dir: Path) -> tuple[Path, Path, Path]:
    """result.json, then summary.md and report.html rendered from it."""
    from govstream.report.outputs import write_renderings

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "result.json"
    result.write(json_path)
    md_path, html_path = write_renderings(result, out_dir)
    return json_path, md_path, html_path
