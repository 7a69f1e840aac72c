"""structlog set-up: console on a terminal, JSON otherwise; contact details masked."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# An international number (+ and 7 or more digits) or a national one written
# with its trunk 0; standing alone, so dates, hashes and ids are left as they are.
_PHONE = re.compile(r"(?<![\w+-])(?:\+\d[\d ()./-]{5,}\d|\(?0\d{2,4}\)?[ -]?\d{3,4}[ -]?\d{3,4})(?![\w-])")


def mask(text: str) -> str:
    """Hide email addresses and phone numbers, keeping just enough to tell them apart."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: "***" + re.sub(r"\D", "", m.group(0))[-3:], text)


def mask_contacts(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str) and key not in ("timestamp", "level"):
            event_dict[key] = mask(value)
    return event_dict


def configure(fmt: str | None = None, level: int = logging.INFO) -> None:
    """Called once, by the CLI entry point. ``fmt`` is "console", "json" or None (choose by TTY)."""
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = structlog.dev.ConsoleRenderer() if fmt == "console" else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_contacts,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
