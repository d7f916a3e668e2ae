from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from detector.normalize import normalize_text


@pytest.mark.parametrize("text, expected", [
    ("Hello World", "hello world"),
    ("Straße", "strasse"),                            # casefold, not lower
    ("Écoutez ça", "ecoutez ca"),                     # accents folded
    ("e\u0301te\u0301", "ete"),                       # combining accents too
    ("ＴＨＥ ﬁnal", "the final"),                     # NFKC: fullwidth letters, ligature
    ("İstanbul", "istanbul"),                         # casefold adds a combining dot; it goes
    ("read https://t.co/AbC123 now", "read URL now"),
    ("see http://example.com/a?b=1, www.example.org/x", "see URL URL"),
    ("link:https://t.co/x", "link: URL"),             # a link glued to a word is still a link
    ("RT @alice: vote now", "vote now"),
    ("RT @a: RT @b: hi", "hi"),                       # nested retweets
    ("ＲＴ @a: x", "x"),                               # fullwidth RT
    ("  rt @Bob_2:hello", "hello"),
    ("hello RT @a: x", "hello rt @: x"),              # only a leading prefix is a retweet
    ("RT @a no colon", "rt @ no colon"),
    ("thanks @Bob and @carol_9!", "thanks @ and @!"),
    ("mail me at a@b.org", "mail me at a@.org"),
    ("http@a://x", "http@://x"),                      # the mention goes, the @ stays: no new link
    ("a\t\tb\n\nc\u00a0d\u2028e  ", "a b c d e"),
    ("URL typed by hand", "URL typed by hand"),       # the token survives, so a second pass keeps it
    ("url", "url"),
    ("", ""),
    ("   ", ""),
])
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize("copy, original", [
    ("RT @alice: Vote NOW https://t.co/abc", "Vote now https://t.co/xyz"),
    ("Thanks @bob!", "thanks @carol!"),
    ("café", "cafe\u0301"),
    ("Ｖｏｔｅ", "vote"),
])
def test_copies_of_a_relayed_message_are_equal(copy: str, original: str) -> None:
    assert normalize_text(copy) == normalize_text(original)


@given(st.text())
@example("http@a://x")          # a regex that strips '@a' leaves a new URL behind
@example("RT @a: RT @b: hi")
@example("ＲＴ @a: x")
@example("é")
@example("e\u0301")
@example("Https://X")            # casefolded before the URL is seen
@example("xhttp://a")           # the URL token must not stick to the word before it
@example("@http://x")           # nor become a mention handle
@example("URL\u0334")           # an accent on the token: folded to "url" once, then stable
@example("rt @a:URL")
@example("\u0130URL")
@example("\u0345")              # a combining mark that casefolds to a letter
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.text())
def test_whitespace_is_collapsed_and_stripped(text: str) -> None:
    normal = normalize_text(text)
    assert normal == " ".join(normal.split())


def test_the_shipped_accent_table_is_what_this_python_s_unicode_gives() -> None:
    """The table read at start-up (instead of scanning every code point) must be exactly the
    scan's: remake it with `python -m detector.normalize` after a Python upgrade."""
    import json
    import unicodedata

    from detector.normalize import ACCENTS_TABLE, accents_table

    shipped = json.loads(ACCENTS_TABLE.read_text(encoding="utf-8"))
    if shipped["unicode"] != unicodedata.unidata_version:
        pytest.skip(f"the table is for Unicode {shipped['unicode']}, this Python has "
                    f"{unicodedata.unidata_version}: it is scanned instead (tested below)")
    assert shipped == accents_table()


def test_a_table_of_another_unicode_version_is_not_used(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A table made for another Unicode version (or unreadable) is ignored: folding falls back
    to scanning this Python's tables, so the results stay those of this Python."""
    import json

    from detector import normalize

    wrong = {"unicode": "0.0.0", "marks": [], "folded": {"é": "X"}}
    (tmp_path / "accents.json").write_text(json.dumps(wrong), encoding="utf-8")
    for table in (tmp_path / "accents.json", tmp_path / "missing.json"):
        monkeypatch.setattr(normalize, "ACCENTS_TABLE", table)
        normalize._accents.cache_clear()
        try:
            assert normalize_text("Écoutez e\u0301te\u0301") == "ecoutez ete"
        finally:
            normalize._accents.cache_clear()
