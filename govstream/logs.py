"""structlog set-up: readable on a terminal, JSON lines otherwise, personal data masked.

Every line carries what is bound with structlog's contextvars: a worker binds its role and run
(`bind_worker`), and an agent, while it handles a message, the message's run, flow and case. A
worker's own identity is also kept for lines logged from threads that do not share its context
(the Kafka consumer's), and faust's and aiokafka's standard-library log records go through the
same chain (`stdlib_logging_config`), so a worker's log file is one format throughout.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

LogFormat = Literal["auto", "console", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("auto", "console", "json")

_DIGITS = re.compile(r"\d{6,}")
_SENSITIVE = ("account", "id_number", "phone", "uscc")
_settings: dict[str, Any] = {"format": "auto", "level": "warning"}
_worker: dict[str, str] = {}
"""The worker's role and run, for lines logged outside its context (`bind_worker`)."""


def _mask(value: str) -> str:
    return _DIGITS.sub(lambda m: m.group()[:2] + "*" * (len(m.group()) - 4) + m.group()[-2:], value)


def mask_personal_data(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Account numbers and identifiers never reach a log line in clear."""
    for key, value in list(event.items()):
        if isinstance(value, str) and any(word in key for word in _SENSITIVE):
            event[key] = _mask(value)
    return event


def add_worker(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The worker's role and run on a line that was not logged in its context."""
    for key, value in _worker.items():
        event.setdefault(key, value)
    return event


def bind_worker(role: str, run_id: str | None = None) -> None:
    """A worker's role (`platform`, an agency, or `all`) and, when it knows it, its run, on
    every line it logs from now on."""
    _worker.clear()
    _worker["role"] = role
    if run_id:
        _worker["run_id"] = run_id
    structlog.contextvars.bind_contextvars(**_worker)


def _renderer(log_format: LogFormat) -> Any:
    readable = log_format == "console" or (log_format == "auto" and sys.stderr.isatty())
    if readable:
        return structlog.dev.ConsoleRenderer()
    return structlog.processors.JSONRenderer(ensure_ascii=False)


def _context() -> list[Any]:
    """What every line gets before it is rendered, whoever logged it."""
    return [
        structlog.contextvars.merge_contextvars,
        add_worker,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
    ]


def configure_logging(level: str = "warning", log_format: LogFormat = "auto") -> None:
    """`auto`: readable on a terminal, JSON lines otherwise."""
    _settings["format"] = log_format
    _settings["level"] = level
    structlog.configure(
        processors=[*_context(), mask_personal_data, _renderer(log_format)],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=_to_stderr,
        cache_logger_on_first_use=False,
    )


def logging_settings() -> tuple[str, LogFormat]:
    """The level and format last configured, for processes started since to log alike (a
    study's workers on a local Dask cluster start fresh and would otherwise print everything)."""
    return _settings["level"], _settings["format"]


def _to_stderr(*_: Any) -> structlog.PrintLogger:
    """A logger on whatever stderr is when the line is logged, not when logging was set up:
    a stream replaced and closed since (a test's captured output) takes no lines."""
    return structlog.PrintLogger(file=sys.stderr)


def stdlib_logging_config(level: str = "warning") -> dict[str, Any]:
    """A `logging.config.dictConfig` that renders standard-library records (faust's,
    aiokafka's) on stderr as the structlog lines are, in the format last configured."""
    renderer = _renderer(_settings["format"])
    tracebacks = (
        []
        if isinstance(renderer, structlog.dev.ConsoleRenderer)
        else [structlog.processors.format_exc_info]
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [*_context(), structlog.stdlib.add_logger_name],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    mask_personal_data,
                    *tracebacks,
                    renderer,
                ],
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "structlog",
                "level": level.upper(),
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
    }
