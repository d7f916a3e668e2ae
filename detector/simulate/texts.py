"""Composing post texts from the word banks: chatter, links, retweet text, paraphrases."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from detector.records import Post
from detector.simulate.banks import (
    _ALNUM,
    _CHATTER,
    _EMOJI,
    _GENERIC,
    _HANDLE_WORDS,
    _PREFIXES,
    _SLOT,
    _SYNONYMS,
    _TAGS,
    _TCO,
)

if TYPE_CHECKING:
    from detector.simulate.accounts import _Member
    from detector.simulate.world import _World


def _fill(rng: random.Random, template: str, bank: dict[str, tuple[str, ...]]) -> str:
    """Fill ``{slot}`` placeholders from ``bank``, recursively (a filler may hold slots)."""
    return _SLOT.sub(lambda m: _fill(rng, rng.choice(bank[m.group(1)]), bank), template)


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(_ALNUM, k=length))


def _tco(rng: random.Random) -> str:
    return "https://t.co/" + _token(rng, 10)


@dataclass(frozen=True, slots=True)
class _Content:
    text: str
    lang: str | None
    urls: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()


def _compose(rng: random.Random, body: str, lang: str | None, *, tags: Sequence[str] = (),
             urls: Sequence[str] = (), mentions: Sequence[str] = ()) -> _Content:
    """A post text with its entities: tags at the start or end, mentions and t.co links appended."""
    tag_text = " ".join(f"#{t}" for t in tags)
    links = " ".join(_tco(rng) for _ in urls)
    pieces = [body[:200]]
    if mentions:
        pieces.append(("cc " if rng.random() < 0.5 else "") + " ".join(f"@{m}" for m in mentions))
    if tag_text and rng.random() < 0.15:
        pieces.insert(0, tag_text)
    elif tag_text:
        pieces.append(tag_text)
    if links:
        pieces.insert(len(pieces) - (1 if tag_text and rng.random() < 0.3 else 0), links)
    return _Content(" ".join(p for p in pieces if p), lang, tuple(urls), tuple(tags), tuple(mentions))


def _chatter(rng: random.Random, lang: str) -> str:
    if rng.random() < 0.03:
        return rng.choice(_GENERIC[lang]["t"])
    bank = _CHATTER[lang]
    text = _fill(rng, rng.choice(bank["t"]), bank)
    if rng.random() < 0.25:
        text += " " + _fill(rng, rng.choice(bank["t"]), bank)
    if rng.random() < 0.2:
        text += " " + rng.choice(_EMOJI)
    return text[0].upper() + text[1:]


def _random_url(rng: random.Random) -> str:
    slug = "-".join(rng.choices(_HANDLE_WORDS, k=rng.randint(2, 5)))
    kind = rng.randrange(7)
    if kind == 0:
        return f"https://www.youtube.com/watch?v={_token(rng, 11)}"
    if kind == 1:
        return f"https://www.instagram.com/p/{_token(rng, 11)}/"
    if kind == 2:
        return f"https://open.spotify.com/track/{_token(rng, 22)}"
    if kind == 3:
        return f"https://github.com/{rng.choice(_HANDLE_WORDS)}{rng.randrange(99)}/{slug}"
    site = rng.choice(("bbc.co.uk/news", "lemonde.fr/politique", "theguardian.com/world", "elpais.com/"
                       "espana", "francetvinfo.fr/societe", "medium.com/@" + rng.choice(_HANDLE_WORDS),
                       "reddit.com/r/" + rng.choice(_HANDLE_WORDS)))
    return f"https://www.{site}/{slug}-{rng.randrange(10**5, 10**8)}"


def _post_lang(rng: random.Random, member: _Member) -> str:
    return member.lang if member.lang == "en" or rng.random() < 0.9 else "en"


def _ordinary(world: _World, rng: random.Random, member: _Member) -> _Content:
    """An ordinary original post: chatter, sometimes with tags, a link, a mention."""
    lang = _post_lang(rng, member)
    body = _chatter(rng, lang)
    tags = rng.sample(_TAGS[lang]["t"], rng.randint(1, 2)) if rng.random() < member.tag_share else []
    urls = [_random_url(rng)] if rng.random() < member.link_share else []
    mentions = [rng.choice(world.popular).handle] if world.popular and rng.random() < 0.06 else []
    content = _compose(rng, body, lang, tags=tags, urls=urls, mentions=mentions)
    if len(content.text) <= 12 and not any(c.isalpha() for c in content.text):
        return _Content(content.text, None)  # emoji only: Twitter says "und"
    return content


def _repost_content(original: Post) -> _Content:
    """Twitter's retweet text: ``RT @handle: text``, cut to 140 characters."""
    text = f"RT @{original.handle}: {original.text}"
    if len(text) > 140:
        text = text[:139] + "…"
    links = len(_TCO.findall(text))
    mentions = (original.handle or "", *(m for m in original.mentions
                                         if f"@{m}" in text and m != original.handle))
    return _Content(text, original.lang, original.urls[:links],
                    tuple(h for h in original.hashtags if f"#{h}" in text), mentions)


def _mutate(rng: random.Random, text: str, lang: str, tags: Sequence[str], edits: int) -> str:
    """Paraphrase ``text`` with ``edits`` small edits: synonyms, emoji, tags, prefixes, case."""
    for roll in rng.sample(range(7), min(7, edits)):
        if roll == 0:
            for group in _SYNONYMS.get(lang, ()):
                found = [w for w in group if w in text]
                if found:
                    text = text.replace(found[0], rng.choice(group), 1)
                    break
        elif roll == 1:
            text = f"{text} {rng.choice(_EMOJI)}" if rng.random() < 0.7 else f"{rng.choice(_EMOJI)} {text}"
        elif roll == 2 and tags:
            text = f"{text} #{rng.choice(tags)}"
        elif roll == 3:
            text = f"{rng.choice(_PREFIXES.get(lang, _PREFIXES['en']))} {text}"
        elif roll == 4:
            text = text.replace("!", "!!", 1) if "!" in text else text.rstrip(".") + "!"
        elif roll == 5:
            words = text.split()
            index = rng.randrange(len(words))
            words[index] = words[index].upper()
            text = " ".join(words)
        else:
            sentences = text.split(". ")
            rng.shuffle(sentences)
            text = ". ".join(sentences)
    return text
