"""Log lines that can be followed: a worker's role and run, and the run, flow and case of the
message being handled, on every line; personal data masked; JSON or readable as asked."""

from __future__ import annotations

import json
import logging
import logging.config
import threading
from collections.abc import Iterator

import pytest
import structlog
from faust.types import Message

import govstream.logs
from govstream.cli import build_parser
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.shared import about_case
from govstream.logs import bind_worker, configure_logging, stdlib_logging_config

ACCOUNT = "500095564936876748921"


class Event:
    """What `about_case` reads of a faust event: its key and its message's headers."""

    def __init__(self, key: bytes, headers: dict[str, str]) -> None:
        self.key = key
        self.message = Message(
            "f03.step-outcome.v1", 0, 0, 0.0, 0, h.encode(headers), key, b"", None
        )


@pytest.fixture(autouse=True)
def own_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test configures logging as a command would; what was configured before returns."""
    saved = structlog.get_config()
    monkeypatch.setattr(govstream.logs, "_worker", {})
    yield
    structlog.contextvars.clear_contextvars()
    structlog.configure(**saved)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_line_about_a_message_carries_run_role_flow_and_case_and_masks_an_account(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json")
    bind_worker("bank", "run42")
    event = Event(b"F03-run42-0000007", {h.RUN: "run42", h.FLOW: "F03"})
    log = structlog.get_logger("test")
    with about_case(event, "F03"):  # type: ignore[arg-type]
        log.warning("account closed", account_number=ACCOUNT)
    log.info("idle")
    about, idle = json_lines(capsys.readouterr().err)
    assert about["event"] == "account closed"
    assert (about["run_id"], about["role"], about["flow"], about["case_id"]) == (
        "run42",
        "bank",
        "F03",
        "F03-run42-0000007",
    )
    assert about["account_number"] == "50" + "*" * (len(ACCOUNT) - 4) + "21"
    assert ACCOUNT not in json.dumps(about)
    # Once the message is handled, the worker's own context is left.
    assert (idle["run_id"], idle["role"]) == ("run42", "bank")
    assert "case_id" not in idle and "flow" not in idle


def test_a_message_without_a_flow_header_is_logged_with_its_topics_flow(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json")
    with about_case(Event(b"junk", {}), "F17"):  # type: ignore[arg-type]
        structlog.get_logger("test").warning("dead-lettered")
    (line,) = json_lines(capsys.readouterr().err)
    assert (line["flow"], line["case_id"], line["run_id"]) == ("F17", "junk", None)


def test_faust_lines_and_lines_from_other_threads_carry_the_workers_role_and_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """faust logs through the standard library, its consumer from a thread of its own, which
    does not share the worker's context."""
    configure_logging("info", "json")
    bind_worker("platform", "run42")
    logging.config.dictConfig(stdlib_logging_config("warning"))
    try:
        thread = threading.Thread(
            target=logging.getLogger("faust.consumer").warning, args=("Heartbeat %s", "late")
        )
        thread.start()
        thread.join()
        structlog.get_logger("test").warning("from another thread too")
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    faust_line, own = json_lines(capsys.readouterr().err)
    assert faust_line["event"] == "Heartbeat late"
    assert (faust_line["role"], faust_line["run_id"], faust_line["level"]) == (
        "platform",
        "run42",
        "warning",
    )
    assert (own["role"], own["run_id"]) == ("platform", "run42")


def test_the_log_format_is_chosen_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(["--log-format", "console", "flows"])
    assert args.log_format == "console"
    assert build_parser().parse_args(["flows"]).log_format == "auto"
    configure_logging("info", "console")
    structlog.get_logger("test").warning("readable", case_id="F03-0000001")
    text = capsys.readouterr().err
    assert "readable" in text and "case_id" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    configure_logging("info", "auto")  # stderr is not a terminal here: JSON
    structlog.get_logger("test").warning("piped")
    assert json.loads(capsys.readouterr().err)["event"] == "piped"
