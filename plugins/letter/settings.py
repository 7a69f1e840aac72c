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
from dunning.schema import Invalid, must, structure

PAGE_SIZES = ("A4", "letter")

DEFAULT_FOLDER = "letters"
DEFAULT_PAY_WITHIN_DAYS = 14
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
        given = _checked(settings, base_dir)
        folder = Path(given.folder).expanduser()
        font_path = Path(given.cjk_font).expanduser() if given.cjk_font else None
        return cls(
            folder=folder if folder.is_absolute() else base_dir / folder,
            page_size=next(size for size in PAGE_SIZES if size.lower() == given.page_size.lower()),
            sender_name=given.sender_name.strip(),
            sender_address=_lines(given.sender_address),
            sender_phone=given.sender_phone or None,
            sender_email=given.sender_email or None,
            signatory_name=(given.signatory_name or given.sender_name).strip(),
            signatory_title=given.signatory_title or None,
            pay_within_days=given.pay_within_days,
            cjk_font=(font_path if font_path is None or font_path.is_absolute() else base_dir / font_path),
            cjk_font_index=given.cjk_font_index,
            firm=_firm(legal or {}, settings),
        )


def _address(_instance: Any, attribute: attrs.Attribute[Any], value: str | list[str] | None) -> None:
    if value is None:
        return
    if isinstance(value, str):
        if not split_lines(value):
            raise Invalid("{key} must not be empty", attribute.name)
        return
    if not value or not all(v.strip() for v in value):
        raise Invalid("{key} must be a string (lines separated by newlines or ', ') or a list of non-empty strings",
                      attribute.name)


TEXT = must("a non-empty string", lambda text: text.strip() != "")
ADDRESS = {"expects": "a string (lines separated by newlines or ', ') or a list of non-empty strings"}
MISSING = {"required": "missing {key}"}


@attrs.frozen(kw_only=True)
class LetterTable:
    """``[channels.letter]`` as written (``firm_name``, ``firm_address`` and ``lawyer`` may also come from legal)."""

    folder: str = attrs.field(default=DEFAULT_FOLDER, validator=TEXT)
    page_size: str = attrs.field(default="A4", validator=must(  # any case: "a4" is A4
        f"one of {', '.join(repr(s) for s in PAGE_SIZES)}",
        lambda size: size.lower() in {s.lower() for s in PAGE_SIZES}))
    sender_name: str = attrs.field(validator=TEXT, metadata=MISSING)
    sender_address: str | list[str] = attrs.field(validator=_address, metadata=MISSING | ADDRESS)
    sender_phone: str | None = attrs.field(default=None, validator=TEXT)
    sender_email: str | None = attrs.field(default=None, validator=TEXT)
    signatory_name: str | None = attrs.field(default=None, validator=TEXT)
    signatory_title: str | None = attrs.field(default=None, validator=TEXT)
    pay_within_days: int = attrs.field(default=DEFAULT_PAY_WITHIN_DAYS, validator=must(
        "a whole number of at least 1", lambda days: days >= 1))
    # reportlab embeds TrueType outlines only; an .otf with CFF outlines cannot be used.
    cjk_font: str | None = attrs.field(default=None, validator=[TEXT, must(
        "a TrueType font (.ttf or .ttc; OpenType/CFF .otf cannot be embedded)",
        lambda path: Path(path).suffix.lower() in FONT_SUFFIXES)])
    cjk_font_index: int = attrs.field(default=0, validator=must("a whole number of at least 0", lambda i: i >= 0))
    firm_name: str | None = attrs.field(default=None, validator=TEXT)
    firm_address: str | list[str] | None = attrs.field(default=None, validator=_address, metadata=ADDRESS)
    lawyer: str | None = attrs.field(default=None, validator=TEXT)


def check_settings(settings: Mapping[str, Any], base_dir: Path | None = None) -> None:
    """Raise ValueError naming the first bad key of ``[channels.letter]``."""
    _checked(settings, base_dir)


def _checked(settings: Mapping[str, Any], base_dir: Path | None) -> LetterTable:
    given = structure(settings, LetterTable)
    if given.cjk_font is not None:
        _check_font(given.cjk_font, base_dir)
    return given


def _check_font(value: str, base_dir: Path | None) -> None:
    path = Path(value).expanduser()
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
