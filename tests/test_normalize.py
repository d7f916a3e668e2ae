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
