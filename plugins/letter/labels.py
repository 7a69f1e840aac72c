"""The words the layout prints around a template's text, per locale.

They live in ``templates/letter-labels[.<locale>].toml`` so that an
administrator adds a language, or rewords a column head, the way they
change a letter: by dropping a file into ``<templates>/letter/``. Keys a
locale's file leaves out come from the packaged English file.

Only wording lives here. How dates and amounts are written comes from the
debtor's locale (``dunning.plugins.letter.formats``).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import attrs

LABELS_TEMPLATE = "letter-labels"
# Keys of earlier labels files: dates are now written the debtor's language's way (CLDR).
RETIRED = ("date_format", "table_date_format", "months")
_PACKAGED = Path(__file__).with_name("templates") / f"{LABELS_TEMPLATE}.toml"


class LabelsError(ValueError):
    """A labels file that cannot be used; the message names the key."""


@attrs.frozen
class Labels:
    values: dict[str, Any]

    def __getitem__(self, key: str) -> str:
        return str(self.values[key])

    def format(self, key: str, **fields: Any) -> str:
        try:
            return self[key].format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise LabelsError(f"label {key!r}: cannot fill in {self[key]!r}: {exc}") from None


@lru_cache(maxsize=1)
def _base() -> dict[str, Any]:
    return tomllib.loads(_PACKAGED.read_text(encoding="utf-8"))


@lru_cache(maxsize=32)
def parse(text: str) -> Labels:
    """Labels from a rendered labels file, over the packaged English ones."""
    try:
        own = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LabelsError(f"{LABELS_TEMPLATE} file is not valid TOML: {exc}") from None
    base = _base()
    for key, value in own.items():
        if key in RETIRED:
            raise LabelsError(f"{LABELS_TEMPLATE} file: {key!r} is no longer read: dates are written as the "
                              "debtor's locale writes them; remove the key")
        if key not in base:
            raise LabelsError(f"{LABELS_TEMPLATE} file: unknown key {key!r}")
        if type(value) is not type(base[key]):
            raise LabelsError(f"{LABELS_TEMPLATE} file: {key!r} must be a {type(base[key]).__name__}")
    return Labels({**base, **own})
