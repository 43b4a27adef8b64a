"""Running a scenario on an engine and writing its result files: the CLI's one entry point."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from govstream.progress import ProgressCallback
from govstream.result import RunResult
from govstream.scenario.model import Scenario

ENGINES = ("sim", "kafka")


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    bootstrap: str | None = None
    workers: int | None = None
    speedup: float | None = None


def with_seed(overrides: list[str], seed: int | None) -> list[str]:
    """`--seed N` is one more override, so result.json records it with the others."""
    return [*overrides, *([f"seed={seed}"] if seed is not None else [])]


def run_scenario(
    scenario: Scenario,
    *,
    scenario_file: str,
    overrides: list[str],
    engine: str = "sim",
    progress: ProgressCallback | None = None,
    kafka: KafkaSettings | None = None,
) -> RunResult:
    if engine == "sim":
        from govstream.engines.sim import SimEngine

        return SimEngine(
            scenario, scenario_file=scenario_file, overrides=overrides, progress=progress
        ).run()
    if engine == "kafka":
        from govstream.engines.kafka.engine import run_on_kafka

        return run_on_kafka(
            scenario,
            scenario_file=scenario_file,
            overrides=overrides,
            settings=kafka or KafkaSettings(),
            progress=progress,
        )
    raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")


def write_outputs(result: RunResult, out_dir: Path) -> tuple[Path, Path]:
    from govstream.report import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "result.json"
    md_path = out_dir / "summary.md"
    result.write(json_path)
    md_path.write_text(render_markdown(result), encoding="utf-8")
    return json_path, md_path
