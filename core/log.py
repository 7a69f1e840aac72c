"""structlog set-up: console on a terminal, JSON otherwise; contact details and secrets masked.

structlog is imported only when something logs: importing it costs a command
about as much as the rest of its start-up (structlog imports rich for its
tracebacks when rich is installed). ``configure`` therefore notes the format
and applies it the moment structlog is there: at once if it is imported
already, else on the first line logged through ``get_logger``, or when
``settle`` finds that some module (a plugin's, say) imported it meanwhile.
dunning's own modules log through ``get_logger``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger

# Any address with an @ between a local part and a dotted domain, in any script (IDN addresses
# such as 张伟@例子.中国 or jürgen@bücher.de); "@" inside a word with no dotted domain is left alone.
_EMAIL = re.compile(
    r"([^\s@<>()\[\],;:\"'])[^\s@<>()\[\],;:\"']*@((?:[^\s@<>()\[\],;:\"'.]+\.)+[^\s@<>()\[\],;:\"'.\d]{2,})"
)
# Phone numbers as people and systems write them: international (+ and 7 or more digits, in
# any grouping), national ones with a trunk 0 or in brackets ((020) 7946 0018, (415) 555-0101),
# North American groupings (415-555-0101, 415.555.0101, 415 555 0101) and Chinese mobiles
# (13800138000, 138 0013 8000). Standing alone, so dates, hashes, amounts and ids stay as they are.
_PHONE = re.compile(
    r"(?<![\w+.-])(?:"
    r"\+\d[\d ()./-]{5,}\d"
    r"|\(?0\d{1,4}\)?[ -]?\d{2,4}[ -]?\d{3,4}(?:[ -]?\d{2,4})?"
    r"|\(\d{3}\)[ -]?\d{3}[ .-]?\d{4}"
    r"|\d{3}([ .-])\d{3}\1\d{4}"
    r"|1[3-9]\d(?:\d{8}|[ -]\d{4}[ -]\d{4})"
    r")(?![\w-])"
)
# Keys whose values are secrets wherever they appear (settings echoed into a log line).
SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential|authorization", re.IGNORECASE)
# Fields structlog itself adds; never personal data.
_OWN_FIELDS = frozenset({"timestamp", "level", "logger"})


def mask(text: str) -> str:
    """Hide email addresses and phone numbers, keeping just enough to tell them apart."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: "***" + re.sub(r"\D", "", m.group(0))[-3:], text)


def mask_value(value: Any, key: str = "") -> Any:
    """``value`` with contact details masked, looking inside lists, tuples and mappings.

    Numbers, booleans and None pass unchanged (amounts, ids and counts are no
    contact detail); any other object is logged as its masked text, so an
    exception or a path that quotes an address cannot carry it out.
    """
    if key and SECRET_KEYS.search(key) and value not in (None, "", False):
        return "***"
    if isinstance(value, str):
        return mask(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [mask_value(v) for v in value]
    return mask(str(value))


def mask_contacts(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if key not in _OWN_FIELDS:
            event_dict[key] = mask_value(value, key)
    return event_dict


# logging.INFO, without importing logging here (structlog does, when something logs).
INFO = 20
# The format and level ``configure`` was asked for and that structlog has not been given yet.
_pending: tuple[str, int] | None = None


def configure(fmt: str | None = None, level: int = INFO) -> None:
    """Called by the CLI entry point. ``fmt`` is "console", "json" or None (choose by TTY).

    Takes effect at once when structlog is imported, else when the first line is logged (see the module's doc).
    """
    global _pending
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    _pending = (fmt, level)
    settle()


def settle() -> None:
    """Give structlog the configuration asked for, if structlog has been imported (by anyone) since."""
    if _pending is not None and "structlog" in sys.modules:
        _apply()


def get_logger(name: str) -> FilteringBoundLogger:
    """A logger that imports structlog (and applies ``configure``'s choice) when it first logs."""
    return _LazyLogger(name)  # type: ignore[return-value]


class _LazyLogger:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        _apply()
        import structlog

        return getattr(structlog.get_logger(self._name), attr)


def _apply() -> None:
    global _pending
    import structlog

    if _pending is None:
        return
    fmt, level = _pending
    _pending = None
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
