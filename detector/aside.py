"""Use the second core: fingerprint texts in a forked child while this process links the rest.

Fingerprinting (normalizing, MinHash, LSH) and linking the other signals (reposts, links,
replies, hashtag sets) need the same posts but not each other's results, and each takes seconds
on a month of posts. ``linked`` runs the first in a child made by ``fork`` and the second here,
then links the texts. The child either sees this process's posts (``fork`` shares them without a
copy) or, started by ``fingerprint_stored`` before the posts are read, reads the few columns it
needs from the database itself, so that reading overlaps too. That child, once it has answered,
indexes the texts it read for lookups (``detector.store.lookup.index_fingerprinted``) with the
normal forms and signatures it made, while this process concludes the run; ``settle`` waits for
it.

Events come out in the order ``co_action_events`` gives them (text first), so every later sum and
result is identical to the serial path. The serial path runs instead for small inputs, where
``fork`` is missing, and whenever the child fails, is late or read other posts than this process.

An incremental run (``detector.refresh``) uses the second core too: once its campaigns are found,
``writes_aside`` saves the cache's changes and indexes the new posts for lookups in a child,
while this process scores the campaigns it found and concludes.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from detector.link import SIGNALS, Event, co_action_events
from detector.records import Post, Textual

MIN_POSTS = 50_000           # below this a fork costs more than it saves


@dataclass
class Pending:
    """A child computing ``(groups, fingerprints)``; ``stored``: it reads the posts itself."""

    receive: Any
    child: Any
    stored: bool


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def fingerprint_stored(url: str, count: int, since: datetime | None, until: datetime | None,
                       params: Any) -> Pending | None:
    """Start a child that reads what ``iter_posts(url, since, until)`` will give (``count``
    posts, about) and fingerprints them; None when not worth it or not possible."""
    if count < MIN_POSTS or not can_fork() or params.preset != "default":
        return None
    return _start(_stored_child, (url, since, until, params), stored=True)


def linked(posts: Sequence[Post], params: Any,
           pending: Pending | None = None) -> tuple[dict[int, str], Any, list[Event]]:
    """Text groups, fingerprints and every co-action event of ``posts`` (in time order);
    ``params`` is a ``DetectParams``; ``pending`` a child started by ``fingerprint_stored``."""
    from detector.detect import fingerprint_texts  # detect imports this module

    if pending is None and len(posts) >= MIN_POSTS and can_fork():
        pending = _start(_posts_child, (posts, params), stored=False)
    if pending is None:
        groups, prints = fingerprint_texts(posts, params)
        return groups, prints, list(co_action_events(posts, groups, params.link))
    others = list(co_action_events(posts, {}, params.link, SIGNALS[1:]))
    answer = _finish(pending, patience_for(len(posts)))
    if answer is not None and pending.stored:
        count, digest, groups, prints = answer
        answer = (groups, prints) if (count, digest) == (len(posts), order_digest(posts)) else None
    groups, prints = answer if answer is not None else fingerprint_texts(posts, params)
    texts = list(co_action_events(posts, groups, params.link, SIGNALS[:1]))
    return groups, prints, texts + others


def order_digest(posts: Sequence[Textual]) -> str:
    """Which posts, in which order: the child's reading must match this process's."""
    joined = "\n".join(f"{p.platform}\t{p.post_id}" for p in posts)
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def patience_for(posts: int) -> float:
    """Seconds to wait for the child: generous (10x its usual pace), never endless."""
    return 120.0 + posts / 5000


def _start(target: Any, args: tuple[Any, ...], *, stored: bool) -> Pending:
    context: Any = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=target, args=(send, *args), name="cib-fingerprint", daemon=True)
    child.start()
    send.close()
    return Pending(receive, child, stored)


def _finish(pending: Pending, patience: float) -> Any:
    """The child's answer, or None if it died, failed or is late (then it is stopped). A child
    that reads stored posts goes on to index their texts: ``settle`` waits for it."""
    answer = None
    try:
        answer = _receive(pending.receive, patience)
        return answer
    finally:
        pending.receive.close()
        if answer is None or not pending.stored:
            settle(pending, 5)


def settle(pending: Pending | None, patience: float) -> None:
    """Wait up to ``patience`` seconds for the child to finish, then stop it. Stopped while it
    indexes, its transaction is rolled back; ``pipeline.run_detection`` indexes what is left."""
    if pending is None:
        return
    pending.child.join(timeout=patience)
    if pending.child.is_alive():
        pending.child.kill()
        pending.child.join()


def writes_aside(url: str, first: Callable[[Any], Any], then: Callable[[Any], object]) -> Pending:
    """Run ``first(engine)`` in a forked child, on an engine of its own for ``url``, answer
    ``(its result,)``, then run ``then(engine)`` there. ``answered`` gives the answer; ``settle``
    waits for ``then``. A failure of ``then`` is left to the caller to notice and mend (the
    child has answered by then)."""
    return _start(_database_child, (url, lambda engine: (first(engine),), then), stored=True)


def answered(pending: Pending, patience: float) -> tuple[Any] | None:
    """The writing child's ``(result,)``, or None if it failed, died or is late (then it is
    stopped): the caller then does the work itself."""
    return _finish(pending, patience)  # type: ignore[no-any-return]


def _database_child(send: Any, url: str, first: Callable[[Any], Any],
                    then: Callable[[Any], object]) -> None:
    """On an engine of its own for ``url`` (never the parent's connections): answer
    ``first(engine)``, then, once answered, run ``then(engine)``; the parent mends what
    ``then`` fails to do."""
    from detector.store.database import make_engine

    engine = make_engine(url)
    if _answer(send, lambda: first(engine)):
        with contextlib.suppress(Exception):
            then(engine)
    engine.dispose()


def _receive(receive: Any, patience: float) -> Any:
    try:
        if not receive.poll(patience):
            return None
        kind, payload = receive.recv()
    except (EOFError, OSError):
        return None
    return payload if kind == "ok" else None


def _posts_child(send: Any, posts: Sequence[Post], params: Any) -> None:
    from detector.detect import fingerprint_texts

    _answer(send, lambda: fingerprint_texts(posts, params))


def _stored_child(send: Any, url: str, since: datetime | None, until: datetime | None,
                  params: Any) -> None:
    """Read and fingerprint the posts, answer, then index their texts for lookups with the
    normal forms and signatures just made, while the parent links, clusters and scores."""
    from detector.detect import TextForms, fingerprint_texts
    from detector.store.lookup import index_fingerprinted
    from detector.store.reader import iter_post_texts

    forms = TextForms()
    made: list[Any] = []

    def work(engine: Any) -> tuple[int, str, dict[int, str], Any]:
        posts = list(iter_post_texts(engine, since, until))
        groups, prints = fingerprint_texts(posts, params, forms)
        made.extend((posts, prints))
        return (len(posts), order_digest(posts), groups, prints)

    def index(engine: Any) -> None:   # what fails is indexed by the parent, which reports it
        posts, prints = made
        index_fingerprinted(engine, posts, forms.normal_of, prints.signatures, forms.sig_rows,
                            made_with=params.fingerprint)

    _database_child(send, url, work, index)


def _answer(send: Any, work: Any) -> bool:
    """Send ``work()``'s result (or its failure); True when it was sent."""
    try:
        send.send(("ok", work()))
        return True
    except Exception as exc:  # the parent falls back to fingerprinting itself
        send.send(("error", repr(exc)))
        return False
    finally:
        send.close()
