"""structlog set-up: readable on a terminal, JSON lines otherwise, personal data masked."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_DIGITS = re.compile(r"\d{6,}")
_SENSITIVE = ("account", "id_number", "phone", "uscc")


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


def configure_logging(level: str = "warning") -> None:
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            mask_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
