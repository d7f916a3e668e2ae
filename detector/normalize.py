"""Normalize post texts so that copies of one relayed message compare equal.

Copies pick up differences that say nothing about their content: compatibility characters
(fullwidth letters, ligatures), case, accents, shortened links that differ per post, the
``RT @handle:`` prefix of a retweet and the handles of the accounts they mention. The
normal form drops those and nothing else; it is idempotent, so stored normalized text can be
normalized again safely.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

URL_TOKEN = "URL"
ACCENTS_TABLE = Path(__file__).parent / "data" / "accents.json"
"""``accents_table()`` for one Unicode version, shipped so that a process need not scan every
code point; remade with ``python -m detector.normalize`` (a test checks it)."""

_URL = re.compile(r"(?:https?://|www\.)\S+")
_RETWEET_PREFIX = re.compile(r"\s*(?:rt\s+@\w+:\s*)+")
_MENTION = re.compile(r"@\w+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# "URL" standing alone is the token of an earlier pass (or a user who typed it); casefolding it
# to "url" would make the function not idempotent.
_STANDALONE_URL_TOKEN = re.compile(r"(?<!\S)URL(?!\S)")


def normalize_text(text: str) -> str:
    """The normal form of ``text``: folded, links as ``URL``, no retweet prefix, mentions as ``@``.

    Example: ``normalize_text("RT @a: Écoutez @Bob https://t.co/x  ")`` is ``"ecoutez @ URL"``.
    Whitespace is collapsed to single spaces and stripped.
    """
    folded = _fold(text)
    # a substring test is much cheaper than a regex scan, and many posts have no link or mention
    with_token = _URL.sub(" URL ", folded) if "http" in folded or "www." in folded else folded
    without_prefix = _strip_retweet_prefix(with_token)
    without_handles = _MENTION.sub("@", without_prefix) if "@" in without_prefix else without_prefix
    return " ".join(without_handles.split())


def _fold(text: str) -> str:
    """NFKC, casefold (standalone ``URL`` tokens excepted) and accents removed."""
    if text.isascii():  # NFKC and accent folding change no ASCII text: the common fast path
        return _casefold(text)
    return _strip_accents(_casefold(unicodedata.normalize("NFKC", text)))


def _casefold(text: str) -> str:
    """``str.casefold`` of everything but standalone ``URL`` tokens."""
    if URL_TOKEN not in text:
        return text.casefold()
    parts = _STANDALONE_URL_TOKEN.split(text)
    return URL_TOKEN.join(part.casefold() for part in parts)


def _strip_accents(text: str) -> str:
    """NFKD, combining marks (non-zero combining class) dropped, then NFC.

    Computed character by character, only where a character changes: the same result, since
    NFKD of a string is the NFKD of its characters up to the order of marks, which are dropped.
    """
    accents = _accents()
    if (astral := _ASTRAL.findall(text)) and not accents.astral.isdisjoint(astral):
        return unicodedata.normalize("NFC", unicodedata.normalize("NFKD", text).translate(accents.marks))
    return unicodedata.normalize("NFC", accents.bmp.sub(lambda match: accents.folded[match[0]], text))


@dataclass(frozen=True)
class _Accents:
    """The characters that accent folding changes, in the shapes that find them fastest."""

    bmp: re.Pattern[str]        # those of the BMP, as a class: one table lookup per character
    folded: dict[str, str]      # what each of those becomes
    astral: frozenset[str]      # those beyond the BMP (old scripts, musical symbols): rare
    marks: dict[int, None]      # a ``str.translate`` table deleting every combining mark


@cache
def _accents() -> _Accents:
    """Built on first use rather than at import: read from ``ACCENTS_TABLE`` when it was made
    from this Python's Unicode version (2 ms), else from the Unicode tables themselves (0.35 s,
    paid by every process that normalizes: the ingest's reader, detection's child).

    A class holding astral characters would make ``re`` test every character against each of
    its ranges, 15 times slower; those are looked up in a set instead.
    """
    table = _stored_table() or accents_table()
    changed: dict[str, str] = table["folded"]
    bmp = sorted(ord(char) for char in changed if char <= "\uffff")
    return _Accents(bmp=re.compile(_character_class(bmp)), folded=changed,
                    astral=frozenset(char for char in changed if char > "\uffff"),
                    marks=dict.fromkeys(table["marks"]))


def accents_table() -> dict[str, Any]:
    """What accent folding needs, from this Python's Unicode tables: the characters it changes
    and what each becomes (``folded``), and every combining mark (``marks``, code points)."""
    marks = [code for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))]
    folds = map(_fold_char, _decomposable_or_marks())
    return {"unicode": unicodedata.unidata_version, "marks": marks,
            "folded": {char: folded for char, folded in folds if folded is not None}}


def _stored_table() -> dict[str, Any] | None:
    """``ACCENTS_TABLE`` if it was made from this Python's Unicode version, else None."""
    try:
        table: dict[str, Any] = json.loads(ACCENTS_TABLE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return table if table.get("unicode") == unicodedata.unidata_version else None


def _decomposable_or_marks() -> Iterator[str]:
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if (unicodedata.decomposition(char) or unicodedata.combining(char)) and not 0xD800 <= code <= 0xDFFF:
            yield char


def _fold_char(char: str) -> tuple[str, str | None]:
    """``char`` and what it becomes (NFKD, marks dropped), or None if that is equivalent to it."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return char, (None if unicodedata.normalize("NFC", folded) == char else folded)


def _character_class(codes: Iterable[int]) -> str:
    """A regex character class of the given ascending code points, as ranges."""
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "[" + "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges) + "]"


def _strip_retweet_prefix(text: str) -> str:
    """``text`` without its leading ``rt @handle:`` prefixes (any number of them)."""
    match = _RETWEET_PREFIX.match(text)
    return text[match.end():] if match else text


if __name__ == "__main__":
    ACCENTS_TABLE.parent.mkdir(exist_ok=True)
    ACCENTS_TABLE.write_text(json.dumps(accents_table(), ensure_ascii=False, separators=(",", ":")) + "\n",
                             encoding="utf-8")
    print(f"wrote {ACCENTS_TABLE} (Unicode {unicodedata.unidata_version})")
