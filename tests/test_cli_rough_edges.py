"""What a new user meets first: files in other encodings, a typo in `--set`, a CI log, a result
cut short, `--log-level` in the wrong place. Each runs the command as a user would and checks
the exit code and the message."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import ROOT, govstream

from govstream.cli import build_parser

FANOUT = ROOT / "scenarios" / "deregistration-fanout.yaml"
EXIT_BAD_INPUT = 2


def one_line(text: str) -> str:
    return " ".join(text.split())


# -- scenario files in other encodings ---------------------------------------------------------


def test_the_scenario_has_text_that_gbk_writes_differently() -> None:
    text = FANOUT.read_text(encoding="utf-8")
    assert text.encode("gbk") != text.encode("utf-8")


def test_a_gbk_scenario_validates_like_its_utf8_original(tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes(FANOUT.read_text(encoding="utf-8").encode("gbk"))
    done = govstream("validate", gbk)
    assert done.returncode == 0, done.stderr
    original = govstream("validate", FANOUT)
    assert done.stdout.split("\n", 1)[1] == original.stdout.split("\n", 1)[1]


def test_a_gbk_scenario_runs_with_its_chinese_text_intact(tmp_path: Path) -> None:
    text = FANOUT.read_text(encoding="utf-8")
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes(("# -*- coding: gbk -*-\n" + text).encode("gbk"))
    out = tmp_path / "run"
    done = govstream("run", gbk, "--quiet", "--out", out, "--set", "duration=2d")
    assert done.returncode == 0, done.stderr
    assert "一网通" in (out / "result.json").read_text(encoding="utf-8")


def test_a_coding_comment_on_the_second_line_is_read(tmp_path: Path) -> None:
    text = "#!/usr/bin/env govstream\n# encoding: gb18030\n" + FANOUT.read_text(encoding="utf-8")
    path = tmp_path / "declared.yaml"
    path.write_bytes(text.encode("gb18030"))
    done = govstream("validate", path)
    assert done.returncode == 0, done.stderr


def test_a_file_no_encoding_reads_names_the_encodings_tried(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: caf\x80\x80\nflow: F03\n")
    done = govstream("validate", path)
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    said = one_line(done.stderr)
    assert "UTF-8 and GB18030" in said and str(path) in said
    assert "internal error" not in said


def test_a_declared_encoding_the_file_does_not_hold_is_named(tmp_path: Path) -> None:
    path = tmp_path / "lies.yaml"
    path.write_bytes(b"# coding: gbk\nname: \x80\x80\n")
    done = govstream("validate", path)
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    assert "cannot be decoded as gb18030 (named by its coding comment)" in one_line(done.stderr)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "it is a PNG image"),
        (b"name: x\x00y\nflow: F03\n", "it holds binary data (a NUL byte at 7)"),
    ],
)
def test_a_binary_file_is_not_a_text_scenario(tmp_path: Path, content: bytes, said: str) -> None:
    path = tmp_path / "picture.yaml"
    path.write_bytes(content)
    done = govstream("validate", path)
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    assert f"the file is not a text scenario: {said}" in one_line(done.stderr)


# -- --set values YAML cannot read -------------------------------------------------------------


def test_a_set_value_yaml_cannot_read_is_bad_input_in_one_line() -> None:
    done = govstream("validate", FANOUT, "--set", "agencies.bank.servers=[1")
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    problem = [line for line in done.stderr.splitlines() if "--set" in line]
    assert len(problem) == 1, done.stderr
    assert "--set 'agencies.bank.servers=[1': the value '[1' is not valid YAML" in problem[0]
    assert "expected ',' or ']'" in problem[0]
    assert "internal error" not in done.stderr and "^" not in done.stderr


# -- --log-level after the subcommand ----------------------------------------------------------


def leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[Any]:
    """Every subcommand path that takes no further subcommand, with its parser."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = leaf_commands(sub, (*prefix, name))
                found += nested or [((*prefix, name), sub)]
    return found


@pytest.mark.parametrize("path", [p for p, _ in leaf_commands(build_parser())], ids=" ".join)
def test_every_subcommand_takes_log_level_after_it(path: tuple[str, ...]) -> None:
    command = dict(leaf_commands(build_parser()))[path]
    args: list[str] = list(path)
    for action in command._actions:
        if not action.option_strings and action.nargs not in ("?", "*"):
            args.append("x")  # a positional argument: any value parses
        elif action.required:
            args += [action.option_strings[0], "x"]
    for option in ("--log-level", "--log-format"):
        assert option in command._option_string_actions, f"{path} lacks {option}"
    parsed = build_parser().parse_known_args([*args, "--log-level", "debug"])[0]
    assert parsed.log_level == "debug"
    before = build_parser().parse_known_args(["--log-level", "error", *args])[0]
    assert before.log_level == "error"  # given before the command, still counted


def test_log_level_after_the_command_is_obeyed(tmp_path: Path) -> None:
    done = govstream(
        "run", FANOUT, "--quiet", "--out", tmp_path, "--set", "duration=2d",
        "--log-level", "info", "--log-format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"sim run finished"' in done.stderr


# -- a result.json that cannot be read ---------------------------------------------------------


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short run of the fan-out scenario: its result.json, to cut and to spoil."""
    out = tmp_path_factory.mktemp("short-run")
    done = govstream("run", FANOUT, "--quiet", "--out", out, "--set", "duration=2d")
    assert done.returncode == 0, done.stderr
    return out / "result.json"


def test_a_truncated_result_names_where_the_json_ends(short_run: Path, tmp_path: Path) -> None:
    data = short_run.read_bytes()
    cut = tmp_path / "result.json"
    cut.write_bytes(data[: len(data) // 2])
    line = data[: len(data) // 2].count(b"\n") + 1
    done = govstream("report", tmp_path)
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    said = one_line(done.stderr)
    assert f"the JSON ends at line {line}, column" in said
    assert f"(byte {len(data) // 2}, the end of the file)" in said
    assert "the file is cut short" in said
    assert "validation error" not in said


def test_a_result_with_a_wrong_field_names_it(short_run: Path, tmp_path: Path) -> None:
    data = json.loads(short_run.read_text(encoding="utf-8"))
    data["seed"] = "twelve"
    spoiled = tmp_path / "result.json"
    spoiled.write_text(json.dumps(data), encoding="utf-8")
    for command in (["report", spoiled], ["compare", short_run, spoiled]):
        done = govstream(*command)
        assert done.returncode == EXIT_BAD_INPUT, done.stderr
        said = one_line(done.stderr)
        assert "seed: Input should be a valid integer" in said and "'twelve'" in said, said


# -- --quiet --fail-on-sla says what failed -----------------------------------------------------

OUTAGE = ROOT / "scenarios" / "deregistration-bank-outage.yaml"


def test_quiet_fail_on_sla_still_names_each_target_not_met(tmp_path: Path) -> None:
    done = govstream("run", OUTAGE, "--fail-on-sla", "--quiet", "--out", tmp_path)
    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith("wrote ") and len(done.stdout.splitlines()) == 1
    targets = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))["targets"]
    failing = [t for t in targets if t["verdict"] != "met"]
    assert failing, "the outage scenario is expected to miss a target"
    lines = done.stderr.splitlines()
    assert lines[0].startswith("SLA: ") and "MISSED" in lines[0]
    for target in failing:
        line = next(line for line in lines if f" {target['id']}: " in line)
        assert line.startswith(target["verdict"].upper() + " ")
        assert f"{target['flow']} " in line and f" {target['stat']} observed " in line
        assert f"vs limit {target['within']}" in line
    assert len(lines) == 1 + len(failing)


def test_quiet_without_a_missed_target_prints_only_the_paths(tmp_path: Path) -> None:
    done = govstream("run", FANOUT, "--fail-on-sla", "--quiet", "--out", tmp_path,
                     "--set", "duration=2d")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote ") and done.stderr == ""


# -- compare: no empty table, and grammar ------------------------------------------------------


def test_compare_without_a_verdict_change_says_so_in_one_line(short_run: Path) -> None:
    done = govstream("compare", short_run, short_run, "--fail-if", "case.p90 > +10%")
    assert done.returncode == 0, done.stderr
    assert "Verdict changes" not in done.stdout
    assert "no verdict changed" in done.stdout
    assert "the 1 threshold held" in done.stdout and "thresholds held" not in done.stdout


def test_compare_counts_thresholds_that_held_in_the_plural(short_run: Path) -> None:
    done = govstream(
        "compare", short_run, short_run, "--fail-if", "case.p90 > +10%",
        "--fail-if", "case.p99 > +10%", "--fail-if", "case.count < -5%",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "all 3 thresholds held" in done.stdout
