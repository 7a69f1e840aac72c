"""``phones.keep_compiled_patterns`` (an import's numbering-plan patterns compiled once) changes no answer."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import re_util

from dunning import phones

from .test_phones_once import _EXAMPLES


def _answers(texts: list[str]) -> list[object]:
    found: list[object] = []
    for text in texts:
        try:
            found.append(phones.normalise(text, "DE"))
        except phones.PhoneError as exc:
            found.append(str(exc))
    return found


def test_the_kept_patterns_give_every_answer_the_plain_ones_do(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(phonenumbers, "enable_pattern_cache"):
        pytest.skip("this phonenumbers has no pattern cache: nothing is kept")
    # Example numbers of every region and type, their neighbours (a digit off, shorter, longer) and national
    # numbers read with the region: valid ones, unused ranges and wrong lengths.
    texts = [*_EXAMPLES, *(t[:-1] + str((int(t[-1]) + 1) % 10) for t in _EXAMPLES), *(t[:-2] for t in _EXAMPLES),
             *(t + "7" for t in _EXAMPLES), "0151 12345678", "030 1234567", "0800 1234567", "12", "+49 0"]
    monkeypatch.setattr(re_util, "_COMPILED_PATTERNS", None)
    plain = _answers(texts)
    phones.keep_compiled_patterns()
    assert re_util._COMPILED_PATTERNS is not None  # on: each pattern compiled once from here
    assert _answers(texts) == plain
    assert sum(isinstance(a, phones.Phone) and a.valid for a in plain) > 900
