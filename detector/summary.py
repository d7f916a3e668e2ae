"""A plain summary of stored posts: what was ingested, before any detection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from detector.records import Post

TOP = 5


@dataclass(frozen=True)
class Summary:
    posts: int
    accounts: int
    reposts: int
    first: datetime | None
    last: datetime | None
    top_texts: list[tuple[str, int, int]]  # text, posts, distinct accounts
    top_hashtags: list[tuple[str, int]]
    busiest_minutes: list[tuple[datetime, int]]

    def render(self) -> str:
        lines = [f"{self.posts} posts by {self.accounts} accounts ({self.reposts} reposts), "
                 f"{_when(self.first)} .. {_when(self.last)}"]
        if self.top_texts:
            lines.append("most repeated texts (posts / accounts):")
            lines += [f"  {n:5d} / {a:4d}  {_clip(t)}" for t, n, a in self.top_texts]
        if self.top_hashtags:
            lines.append("top hashtags: " + ", ".join(f"#{h} ({n})" for h, n in self.top_hashtags))
        if self.busiest_minutes:
            lines.append("busiest minutes: " + ", ".join(
                f"{m:%Y-%m-%d %H:%M} ({n})" for m, n in self.busiest_minutes))
        return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z" if moment else "-"


def _clip(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def summarize(posts: Iterable[Post]) -> Summary:
    """Counts, span, most repeated texts, hashtags and busiest minutes of ``posts``."""
    accounts: set[tuple[str, str]] = set()
    texts: Counter[str] = Counter()
    text_accounts: dict[str, set[str]] = {}
    hashtags: Counter[str] = Counter()
    minutes: Counter[datetime] = Counter()
    count = reposts = 0
    first = last = None
    for post in posts:
        count += 1
        reposts += post.repost_of is not None or post.text.startswith("RT @")
        accounts.add((post.platform, post.account_id))
        key = " ".join(post.text.casefold().split())
        if key:
            texts[key] += 1
            text_accounts.setdefault(key, set()).add(post.account_id)
        hashtags.update(h.casefold() for h in post.hashtags)
        minutes[post.created_at.replace(second=0, microsecond=0)] += 1
        first = post.created_at if first is None or post.created_at < first else first
        last = post.created_at if last is None or post.created_at > last else last
    repeated = [(t, n, len(text_accounts[t])) for t, n in texts.most_common(TOP) if n > 1]
    return Summary(count, len(accounts), reposts, first, last, repeated,
                   hashtags.most_common(TOP), minutes.most_common(3))
