"""Which font a letter is set in, and finding a TrueType CJK font to embed.

Letters in Latin script use Helvetica, one of the PDF standard fonts: no
file to find, nothing to embed. A letter that needs other glyphs (a debtor
whose locale is Chinese, Japanese or Korean, or any text outside Windows
code page 1252) is set in a TrueType font that reportlab embeds as a
subset, found in this order:

1. the ``cjk_font`` setting (a ``.ttf`` or ``.ttc`` path; ``cjk_font_index``
   picks the face in a collection);
2. WenQuanYi Micro Hei from the ``paperang-p2-fonts-cjk`` package (a
   dependency of dunning; the file is byte-identical to Debian's
   ``fonts-wqy-microhei``);
3. well-known system locations (Debian's WenQuanYi and AR PL packages,
   Droid Sans Fallback, Windows' SimHei and Microsoft YaHei).

reportlab embeds TrueType outlines only, so an OpenType font with CFF
outlines (most ``.otf`` files, Noto Sans CJK among them) cannot be used.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import attrs

LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
PACKAGED_FONT = ("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc")
SYSTEM_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
CJK_LOCALES = ("zh", "ja", "ko")
INSTALL_HINT = ("set 'cjk_font' in [channels.letter] to a TrueType font file (.ttf or .ttc), "
                "or install one: pip install paperang-p2-fonts-cjk (a dependency of dunning), "
                "or apt-get install fonts-wqy-microhei")


class FontError(RuntimeError):
    """No usable font for a letter; the message says how to provide one."""


@attrs.frozen
class FontChoice:
    """The fonts a letter is set in: regular and bold names as registered with reportlab."""

    regular: str
    bold: str
    path: Path | None = None  # the embedded file, None for the standard font


STANDARD = FontChoice(LATIN_FONT, LATIN_BOLD)


def needs_unicode_font(texts: Iterable[str], locale: str | None) -> bool:
    """True when the letter needs glyphs the PDF standard fonts do not have."""
    if locale and locale.lower().startswith(CJK_LOCALES):
        return True
    try:
        "".join(texts).encode("cp1252")
    except UnicodeEncodeError:
        return True
    return False


def find_unicode_font(configured: Path | None, index: int = 0) -> tuple[Path, int] | None:
    """The font file to embed: the setting, then the packaged font, then the system's; None if there is none."""
    if configured is not None:
        return configured, index
    spec = importlib.util.find_spec(PACKAGED_FONT[0])
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            packaged = Path(folder) / PACKAGED_FONT[1]
            if packaged.is_file():
                return packaged, 0
    for candidate in SYSTEM_FONTS:
        if Path(candidate).is_file():
            return Path(candidate), 0
    return None


def choose(texts: Iterable[str], locale: str | None, configured: Path | None, index: int = 0) -> FontChoice:
    """The fonts for a letter with these texts; FontError when it needs a font that cannot be found."""
    if not needs_unicode_font(texts, locale):
        return STANDARD
    found = find_unicode_font(configured, index)
    why = f"locale {locale}" if locale and locale.lower().startswith(CJK_LOCALES) else "characters outside Latin-1"
    if found is None:
        raise FontError(f"this letter needs a font with CJK glyphs ({why}) and none was found: {INSTALL_HINT}")
    path, face = found
    if not path.is_file():
        raise FontError(f"'cjk_font' names a file that does not exist: {str(path)!r}: {INSTALL_HINT}")
    name = register(str(path), face)
    return FontChoice(name, name, path)


@lru_cache(maxsize=8)
def register(path: str, index: int = 0) -> str:
    """Register a TrueType font with reportlab once per process; the name to use in styles."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    name = "DunningUnicode-" + hashlib.sha1(f"{path}#{index}".encode()).hexdigest()[:10]
    try:
        font = TTFont(name, path, subfontIndex=index)
    except TTFError as exc:
        raise FontError(f"cannot embed {path!r} (face {index}): {exc}; "
                        "reportlab needs TrueType outlines (.ttf/.ttc), not CFF (.otf)") from None
    pdfmetrics.registerFont(font)
    # Most CJK fonts have one weight; <b> in a paragraph then uses the same face instead of failing.
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(name, bold, italic, name)
    return name
