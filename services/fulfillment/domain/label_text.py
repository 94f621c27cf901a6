"""How label text is read before the content rules (`label_rules.py`) match it, pure.

A seller who wants to slip a WeChat id past a filter writes it in full-width letters and
digits, with zero-width characters, or spaced out ("加 微 信", "微-信",
"w h a t s a p p"). Each `View` undoes one family of tricks and remembers, for every character
it keeps, where that character was in the original text, so a refusal can quote exactly what
the seller wrote:

- `folded`: NFKC (full-width letters and digits, ideographic space, compatibility forms),
  case-folded, format characters (zero-width space/joiners, BOM, soft hyphen) dropped;
- `compact`: `folded` with everything but letters and digits dropped: "加 微-信" reads
  "加微信". Used for Chinese keywords only: in Latin text it would glue words ("on line");
- `spelled`: `folded` with runs of three or more single letters or digits joined
  ("w h a t s a p p" reads "whatsapp", "s.h.o.p.e.e" reads "shopee", and keeping the dots
  "w w w . x . c o m" reads "www.x.com"); words of two letters or more are left alone, so
  "E Bay St" stays three words.

Phone numbers are found in `folded` and compared by their digits (`phone_key`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    text: str
    origin: tuple[int, ...]  # per character of `text`: its index in the original

    def original(self, source: str, start: int, end: int) -> str:
        """The original text that `text[start:end]` was read from."""
        return source[self.origin[start] : self.origin[end - 1] + 1]

    def keep(self, indices: list[int]) -> View:
        return View("".join(self.text[i] for i in indices), tuple(self.origin[i] for i in indices))


def _clusters(text: str) -> list[tuple[int, str]]:
    """A base character with its combining marks, so NFKC composes "e" + U+0301."""
    clusters: list[tuple[int, str]] = []
    for i, ch in enumerate(text):
        if clusters and unicodedata.combining(ch):
            start, chars = clusters[-1]
            clusters[-1] = (start, chars + ch)
        else:
            clusters.append((i, ch))
    return clusters


def folded(text: str) -> View:
    chars: list[str] = []
    origin: list[int] = []
    for start, cluster in _clusters(text):
        for ch in unicodedata.normalize("NFKC", cluster).casefold():
            if unicodedata.category(ch) == "Cf":
                continue
            chars.append(" " if ch.isspace() else ch)
            origin.append(start)
    return View("".join(chars), tuple(origin))


def compact(view: View) -> View:
    return view.keep([i for i, ch in enumerate(view.text) if ch.isalnum()])


_SPELLED = re.compile(r"(?<![^\W_])[^\W_](?:[\s\-_.·*/|+~]{1,3}[^\W_](?![^\W_])){2,}")


def spelled(view: View, keep: str = "") -> View:
    """`keep`: separators to keep ("." reads "w w w . x . c o m" as "www.x.com")."""
    drop: set[int] = set()
    for m in _SPELLED.finditer(view.text):
        drop.update(
            i
            for i in range(m.start(), m.end())
            if not view.text[i].isalnum() and view.text[i] not in keep
        )
    return view.keep([i for i in range(len(view.text)) if i not in drop])


# --- phone numbers --------------------------------------------------------------------------

# digits with spaces, dashes, dots or brackets between groups, optionally after + or 00
PHONE_CANDIDATE = re.compile(r"(?<![\w+])\+?\d[\d \-().]{5,22}\d(?!\w)")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")


def phone_number(raw: str) -> str | None:
    """The digits of `raw` when it reads as a phone number, else None (a postcode, a house
    number, a quantity). A phone number is: a Chinese mobile (1[3-9] and 9 more digits, with or
    without +86/0086), an international number (+ or 00, then 8-15 digits), or a national
    number with its trunk prefix 0 (10-12 digits: 010-12345678, 0912 345 678). Without + or 00
    the first group of digits must have 3 or more (2 when it starts with 0), so "15-1301 13800"
    (building-room, then a postcode) is not one."""
    international = raw.startswith(("+", "00"))
    groups = re.findall(r"\d+", raw)
    digits = "".join(groups)
    if international:
        digits = digits[2:] if digits.startswith("00") else digits
        if digits.startswith("86") and _CN_MOBILE.fullmatch(digits[2:]):
            return digits[2:]
        return digits if 8 <= len(digits) <= 15 else None
    first = groups[0]
    if _CN_MOBILE.fullmatch(digits) and len(first) >= 3:
        return digits
    if digits.startswith("0") and 10 <= len(digits) <= 12 and len(first) >= 2:
        return digits
    return None


def phone_key(raw: str) -> str:
    """What two writings of one number share: its last 9 digits (country code, trunk prefix
    and separators dropped), or all its digits when it has fewer."""
    digits = re.sub(r"\D", "", raw)
    return digits[-9:]


def same_phone(number: str, own: str) -> bool:
    a, b = phone_key(number), phone_key(own)
    return bool(a) and a == b
