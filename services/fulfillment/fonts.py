"""The font the documents are set in, and line wrapping measured in it.

WenQuanYi Micro Hei (Apache-2.0), shipped by the `paperang-p2-fonts-cjk` package the project
depends on: TrueType outlines (reportlab embeds a subset of the glyphs used), one font for
Chinese, Simplified and Traditional, Latin and Vietnamese, so no per-character fallback is
needed. Helvetica, the default, has no CJK glyph, and reportlab's CID fonts are not embedded
and have no Vietnamese. Nothing is fetched at run time."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFile

FONT = "WenQuanYiMicroHei"
FONT_PACKAGE = "paperang_p2_fonts_cjk"


def font_path() -> Path:
    return Path(str(files(FONT_PACKAGE) / "fonts" / "wqy-microhei.ttc"))


@cache
def register() -> None:
    """Make `FONT` known to reportlab (once per process; the collection's first face)."""
    pdfmetrics.registerFont(TTFont(FONT, str(font_path()), subfontIndex=0))


@cache
def _cmap() -> frozenset[int]:
    return frozenset(TTFontFile(str(font_path()), subfontIndex=0).charToGlyph)


def missing_glyphs(text: str) -> set[str]:
    """The characters of `text` the font has no glyph for (they would print as boxes);
    spacing and control characters need none."""
    return {
        ch
        for ch in text
        if not ch.isspace() and unicodedata.category(ch) != "Cc" and ord(ch) not in _cmap()
    }


def width(text: str, size: float) -> float:
    register()
    return float(pdfmetrics.stringWidth(text, FONT, size))


def _breaks_anywhere(ch: str) -> bool:
    """CJK ideographs, kana, hangul and full-width forms: a line may break before each."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(text: str) -> Iterator[str]:
    """Runs of a word, single spaces, and single wide (CJK) characters."""
    word = ""
    for ch in text:
        if ch.isspace() or _breaks_anywhere(ch):
            if word:
                yield word
            word = ""
            yield " " if ch.isspace() else ch
        else:
            word += ch
    if word:
        yield word


def wrap(text: str, max_width: float, size: float) -> list[str]:
    """`text` as lines no wider than `max_width` points at `size`: Latin breaks at spaces, CJK
    between characters, and a word longer than a line between its characters. Nothing is
    dropped but the spaces a line breaks at."""
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if width(line + token, size) <= max_width:
            line += token
            continue
        if token == " ":  # break here; the space goes
            if line.strip():
                lines.append(line.rstrip())
            line = ""
            continue
        if line.strip():
            lines.append(line.rstrip())
        while width(token, size) > max_width and len(token) > 1:
            fits = (n for n in range(1, len(token)) if width(token[:n], size) <= max_width)
            cut = max(fits, default=1)
            lines.append(token[:cut])
            token = token[cut:]
        line = token
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return [line.lstrip() for line in lines]
