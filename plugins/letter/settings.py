"""The ``[channels.letter]`` table: checked once, then read as a frozen object.

``check_settings`` is what the core calls at start-up; ``LetterSettings.parse``
is what ``send`` and ``finish_run`` use, so a channel driven without the
start-up check still never writes a letter from half-valid settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from dunning.plugins.letter.address import split_lines

PAGE_SIZES = ("A4", "letter")

# Every key the table may hold; anything else is a typo the administrator should hear about.
ALLOWED = frozenset({
    "folder", "page_size", "sender_name", "sender_address", "sender_phone", "sender_email",
    "signatory_name", "signatory_title", "pay_within_days", "cjk_font", "cjk_font_index",
    "firm_name", "firm_address", "lawyer",
})
REQUIRED = ("sender_name", "sender_address")
DEFAULT_FOLDER = "letters"
DEFAULT_PAY_WITHIN_DAYS = 14
# reportlab embeds TrueType outlines only; an .otf with CFF outlines cannot be used.
FONT_SUFFIXES = (".ttf", ".ttc")


@attrs.frozen
class Firm:
    """The law firm a lawyer's letter is written by."""

    name: str
    address: tuple[str, ...]
    lawyer: str | None


@attrs.frozen
class LetterSettings:
    folder: Path
    page_size: str
    sender_name: str
    sender_address: tuple[str, ...]
    sender_phone: str | None
    sender_email: str | None
    signatory_name: str
    signatory_title: str | None
    pay_within_days: int
    cjk_font: Path | None
    cjk_font_index: int
    firm: Firm | None

    @classmethod
    def parse(cls, settings: Mapping[str, Any], base_dir: Path,
              legal: Mapping[str, Any] | None = None) -> LetterSettings:
        """Validated settings; relative paths are resolved against ``base_dir`` (the config file's folder).

        ``legal`` is the ``[channels.legal]`` table: its ``firm_name``,
        ``firm_address`` and ``lawyer`` win over the letter table's own.
        """
        check_settings(settings, base_dir)
        folder = Path(settings.get("folder", DEFAULT_FOLDER)).expanduser()
        font = settings.get("cjk_font")
        font_path = Path(font).expanduser() if font else None
        return cls(
            folder=folder if folder.is_absolute() else base_dir / folder,
            page_size=_page_size(settings.get("page_size", "A4")),
            sender_name=settings["sender_name"].strip(),
            sender_address=_lines(settings["sender_address"]),
            sender_phone=settings.get("sender_phone") or None,
            sender_email=settings.get("sender_email") or None,
            signatory_name=(settings.get("signatory_name") or settings["sender_name"]).strip(),
            signatory_title=settings.get("signatory_title") or None,
            pay_within_days=int(settings.get("pay_within_days", DEFAULT_PAY_WITHIN_DAYS)),
            cjk_font=(font_path if font_path is None or font_path.is_absolute() else base_dir / font_path),
            cjk_font_index=int(settings.get("cjk_font_index", 0)),
            firm=_firm(legal or {}, settings),
        )


def check_settings(settings: Mapping[str, Any], base_dir: Path | None = None) -> None:
    """Raise ValueError naming the first bad key of ``[channels.letter]``."""
    for key in sorted(settings):
        if key not in ALLOWED:
            raise ValueError(f"unknown key {key!r} (allowed: {', '.join(sorted(ALLOWED))})")
    for key in REQUIRED:
        if key not in settings:
            raise ValueError(f"missing {key!r}")
    for key in ("folder", "sender_name", "sender_phone", "sender_email", "signatory_name", "signatory_title",
                "cjk_font", "firm_name", "lawyer"):
        if key in settings and (not isinstance(settings[key], str) or not settings[key].strip()):
            raise ValueError(f"{key!r} must be a non-empty string")
    for key in ("sender_address", "firm_address"):
        if key in settings:
            _check_address(settings[key], key)
    if "page_size" in settings:
        _page_size(settings["page_size"])
    if "pay_within_days" in settings:
        _whole_number(settings["pay_within_days"], "pay_within_days", minimum=1)
    if "cjk_font_index" in settings:
        _whole_number(settings["cjk_font_index"], "cjk_font_index", minimum=0)
    if "cjk_font" in settings:
        _check_font(settings["cjk_font"], base_dir)


def _page_size(value: Any) -> str:
    for size in PAGE_SIZES:
        if isinstance(value, str) and value.lower() == size.lower():
            return size
    raise ValueError(f"'page_size' must be one of {', '.join(repr(s) for s in PAGE_SIZES)}, got {value!r}")


def _whole_number(value: Any, key: str, *, minimum: int) -> None:
    # bool is an int in Python; `pay_within_days = true` is a mistake.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{key!r} must be a whole number of at least {minimum}, got {value!r}")


def _check_address(value: Any, key: str) -> None:
    if isinstance(value, str):
        if not split_lines(value):
            raise ValueError(f"{key!r} must not be empty")
        return
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(
            f"{key!r} must be a string (lines separated by newlines or ', ') or a list of non-empty strings"
        )


def _check_font(value: str, base_dir: Path | None) -> None:
    path = Path(value).expanduser()
    if path.suffix.lower() not in FONT_SUFFIXES:
        raise ValueError(f"'cjk_font' must be a TrueType font (.ttf or .ttc; OpenType/CFF .otf cannot be embedded), "
                         f"got {value!r}")
    if not path.is_absolute():
        if base_dir is None:
            # Relative to the config file's folder, which the start-up check is not told;
            # send checks it with the folder known.
            return
        path = base_dir / path
    if not path.is_file():
        raise ValueError(f"'cjk_font' names a file that does not exist: {str(path)!r}")


def _lines(value: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return split_lines(value)
    return tuple(v.strip() for v in value if v.strip())


def _firm(legal: Mapping[str, Any], letter: Mapping[str, Any]) -> Firm | None:
    """The firm from ``[channels.legal]`` when it names one, else from the letter table, else None."""
    for table in (legal, letter):
        name = table.get("firm_name")
        if isinstance(name, str) and name.strip():
            address = table.get("firm_address") or ()
            lawyer = table.get("lawyer")
            return Firm(name=name.strip(), address=_lines(address) if address else (),
                        lawyer=lawyer.strip() if isinstance(lawyer, str) and lawyer.strip() else None)
    return None
