"""Re-detection: incremental when the cache explains what changed since it was made (only new
datasets, all of whose posts come after the cached ones), else a full run that rebuilds it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Engine

from detector import aside
from detector.aside import Pending, fingerprint_stored, patience_for, settle
from detector.cluster import Campaign
from detector.detect import (
    Cited,
    Detection,
    DetectParams,
    Fingerprints,
    PostFacts,
    TextForms,
    Ties,
    conclude,
    conclude_campaigns,
    find_campaigns,
    pair_similarities,
    post_facts,
    text_pairs,
    tie,
)
from detector.errors import DamagedCache
from detector.fingerprint import FingerprintParams, distinct_signatures
from detector.incremental import (
    Changes,
    Journal,
    State,
    behaviour,
    build,
    ordered_events,
    params_hash,
    per_account,
    ties_graph,
    update,
)
from detector.link import AccountKey
from detector.model import Scorer, ScorerSource, resolve_scorer
from detector.normalize import normalize_text
from detector.records import Post, PostText
from detector.store import iter_posts
from detector.store.lookup import index_fingerprinted
from detector.store.reader import count_posts_between
from detector.store.slices import (
    SliceReader,
    Stamp,
    Watermark,
    cache_stamp,
    count_posts,
    load_state,
    new_posts,
    post_refs,
    posts_before,
    save_full,
    save_update,
    texts_of,
)


@dataclass
class Cached:
    """A usable cache and the datasets it lacks; ``kept``: taken as loaded in this process."""

    mark: Watermark
    state: State
    fresh: list[int]
    kept: bool = False


class WarmCache:
    """The incremental cache as the last run of this process left it, kept loaded for the
    next one: for a long-lived process (the API's job worker), where loading it again took
    2.2 s of each run at 3M posts. A run takes it only while the database's cache is still
    the one this process wrote (its last row's stamp); else it loads the stored one. One run
    at a time holds it: another started meanwhile loads its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: tuple[str, Watermark, State] | None = None

    def take(self, engine: Engine) -> tuple[Watermark, State] | None:
        """The kept state, if it is still the database's cache (then no longer kept here)."""
        with self._lock:
            held, self._held = self._held, None
        if held is None or held[0] != _where(engine):
            return None
        _, mark, state = held
        del held
        return (mark, state) if cache_stamp(engine) == mark.read_from else None

    def keep(self, engine: Engine, mark: Watermark, state: State) -> None:
        """Keep ``state``, saved as the row stamped ``mark.read_from``, for the next run."""
        state.journal = Journal()               # the changes logged so far are in the rows
        with self._lock:
            self._held = (_where(engine), mark, state)


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def plan(engine: Engine, params: DetectParams, datasets: Sequence[int], *, windowed: bool,
         full: bool, warm: WarmCache | None = None) -> Cached | str:
    """The cache to update (the one ``warm`` keeps, if still current), or why the run must be
    a full one."""
    if full:
        return "asked for"
    if windowed:
        return "a time window was asked for"
    if params.preset != "default":
        return f"the {params.preset} preset"
    cached = warm.take(engine) if warm is not None else None
    kept = cached is not None
    try:
        cached = cached or load_state(engine)
    except DamagedCache as damaged:
        return f"{damaged}; it is made anew"
    if cached is None:
        return "no cache yet"
    mark, state = cached
    if mark.params_hash != params_hash(params):
        return "parameters changed"
    if not set(mark.datasets) <= set(datasets):
        return "a dataset was deleted since the cache was made"
    if count_posts(engine, mark.datasets) != mark.posts:
        return "posts were removed since the cache was made"
    fresh = [d for d in datasets if d not in set(mark.datasets)]
    if fresh and mark.last is not None and posts_before(engine, fresh, mark.last):
        return "new posts are older than the cached ones"
    return Cached(mark, state, fresh, kept)


def _facts(engine: Engine, state: State, params: DetectParams,
           created: Mapping[AccountKey, datetime] | None) -> PostFacts:
    """The posts' facts from the tallies; texts read only for the posts that quote campaigns
    and for the text evidence's similarities."""
    read: dict[str, str] = {}       # texts read so far: the similarities' first, then the quotes'

    def texts(cited: set[Cited]) -> dict[str, str]:
        read.update(texts_of(engine, {(platform, i) for platform, i in cited if i not in read}))
        return {i: read[i] for _, i in cited if i in read}

    def measured(pairs: Sequence[tuple[str, str]], wanted: set[Cited]) -> dict[tuple[str, str], float]:
        known = texts(wanted)
        if not known:
            return {}
        ids = sorted(known)
        normal_of = {text: normalize_text(text) for text in set(known.values())}  # relays repeat texts
        sigs, rows = distinct_signatures([normal_of[known[i]] for i in ids], params.fingerprint,
                                         normalized=True)
        return pair_similarities(pairs, Fingerprints(dict(zip(ids, rows.tolist(), strict=True)), sigs))

    def similarities(found: Sequence[Campaign]) -> dict[tuple[str, str], float]:
        """Measured only for the pairs no run measured since the full one (``State.similar``,
        saved with the cache: measuring all, their texts read again, took 1.3 s at 3M posts).
        A pair's posts never change, nor does their similarity."""
        pairs = text_pairs(found)
        memo = state.similar
        missing = [pair for pair in dict.fromkeys(pairs) if pair not in memo]
        if missing:
            platform = {p.post_id: p.account[0] for c in found for e in c.events
                        if e.signal == "text" for p in e.participants}
            values = measured(missing, {(platform[i], i) for pair in missing for i in pair})
            made = {pair: values.get(pair) for pair in missing}          # None: no signature
            memo.update(made)
            state.journal.similar.update(made)
        return {pair: value for pair in pairs if (value := memo[pair]) is not None}

    return PostFacts(state.posts, per_account(state), lambda keep: behaviour(state, keep, created),
                     texts, similarities)


def detect_incremental(engine: Engine, params: DetectParams, cached: Cached,
                       created: Mapping[AccountKey, datetime] | None,
                       scorer: Scorer | None, warm: WarmCache | None = None,
                       meanwhile: Callable[[Detection], object] | None = None,
                       ) -> tuple[Detection, dict[str, int]]:
    """Update the cache with the posts of the new datasets and detect from it; ``warm`` keeps
    the updated cache once saved. The new posts' texts are indexed for lookups with the normal
    forms and signatures the update made (making them again took 0.2 s of 10k posts).

    Saving the cache and indexing are writes that nothing reads once the campaigns are found
    and their text evidence measured: on a big cache a forked child makes them
    (``aside.writes_aside``) while this process scores and concludes, and the run is stored
    once the child is done. If the child fails, this process writes what it did not. At 3M
    posts the writes took 2.3 s of a 10k-post update and the run became 1.4 s faster in a new
    process, 0.8 s with the cache kept loaded: pages this process touches while the child lives
    are copied (copy-on-write), which is also why the child is not forked before the campaigns
    (finding them walks every event). ``meanwhile`` runs on the result while the child finishes
    (the pipeline makes the run's rows to store then)."""
    state = cached.state
    new = new_posts(engine, cached.fresh)
    reader = SliceReader(engine)
    forms = TextForms()
    changes = update(state, new, params, reader, forms)
    last = new[-1][1] if new else None
    mark = Watermark(cached.mark.params_hash, tuple(sorted({*cached.mark.datasets, *cached.fresh})),
                     state.posts,
                     (last.created_at, last.platform, last.post_id) if last else cached.mark.last)
    writes = _Writes(mark, state, changes, cached.mark.read_from, new, forms, params.fingerprint)
    to_write = bool(new) or mark != cached.mark     # else no empty row in the cache's log
    events = ordered_events(state)
    ties = Ties(params, events, ties_graph(state, params.graph), clusters=state.clusters)
    found = find_campaigns(ties)             # state.clusters now this graph's: saved with it
    facts = _facts(engine, state, params, created)
    similar = facts.similarities(found)      # state.similar now holds them: saved with it
    measured = len(state.journal.similar)    # the pairs no run measured before
    facts = replace(facts, similarities=lambda _: similar)
    pending = writes.aside(engine) if to_write else None
    try:
        result = conclude_campaigns(ties, found, facts, created, scorer)
        if meanwhile is not None:
            meanwhile(result)
    except BaseException:
        settle(pending, patience_for(state.posts))      # its writes are whole or not made
        raise
    stamp = writes.done(engine, pending) if to_write else cached.mark.read_from
    if warm is not None and stamp is not None:
        warm.keep(engine, replace(mark, read_from=stamp), state)
    return result, {"new_posts": len(new), "contents_touched": changes.touched,
                    "posts_read": len(new) + reader.posts_read, "cache_saved": int(stamp is not None),
                    "cache_kept_loaded": int(cached.kept), "cache_saved_aside": int(writes.aside_saved),
                    "similarities_measured": measured}


@dataclass
class _Writes:
    """An update's writes: the cache's changes (``save_update``), then the new posts' lookup
    index; in a forked child on a big cache, else (or when the child fails) here."""

    mark: Watermark
    state: State
    changes: Changes
    read_from: Stamp | None
    new: list[tuple[int, Post]]
    forms: TextForms
    fingerprint: FingerprintParams
    aside_saved: bool = False

    def save(self, engine: Engine) -> Stamp | None:
        return save_update(engine, self.mark, self.state, self.changes, self.read_from)

    def index(self, engine: Engine) -> None:
        index_fingerprinted(engine, [PostText(p.platform, p.post_id, p.text, p.repost_of, ref)
                                     for ref, p in self.new],
                            self.forms.normal_of, self.forms.signatures, self.forms.sig_rows,
                            made_with=self.fingerprint)

    def aside(self, engine: Engine) -> Pending | None:
        """A child making the writes, if the cache is big enough to be worth a fork and the
        database outlives this process's connections (not SQLite in memory)."""
        if self.state.posts < aside.MIN_POSTS or not aside.can_fork() or _in_memory(engine):
            return None
        return aside.writes_aside(engine.url.render_as_string(hide_password=False),
                                  self.save, self.index)

    def done(self, engine: Engine, pending: Pending | None) -> Stamp | None:
        """The stamp of the cache row written (None: another run wrote it meanwhile), once the
        child is done; what it did not do is done here (raising what ``save_update`` raises)."""
        answer = None
        if pending is not None:
            answer = aside.answered(pending, patience_for(self.state.posts))
            aside.settle(pending, patience_for(len(self.new)))
        if answer is not None:
            self.aside_saved = True
            stamp: Stamp | None = answer[0]
            return stamp          # lookups the child failed to index: pipeline indexes them
        stamp = self.save(engine)
        self.index(engine)
        return stamp


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def detect_full(engine: Engine, params: DetectParams, datasets: Sequence[int],
                since: datetime | None, until: datetime | None,
                created: Mapping[AccountKey, datetime] | None, scorer: ScorerSource,
                *, cache: bool, warm: WarmCache | None = None) -> tuple[Detection, dict[str, int]]:
    """A full run (what ``detect`` gives), making the cache anew when ``cache`` (and keeping
    it loaded in ``warm``). Returns once the fingerprinting child has indexed the texts it read
    for lookups (it does so while this process concludes): storing the run after it never
    waits on SQLite's one writer."""
    url = engine.url.render_as_string(hide_password=False)
    pending = fingerprint_stored(url, count_posts_between(engine, since, until), since, until,
                                 params)
    loaded = resolve_scorer(scorer)                 # while the child reads and fingerprints
    posts = list(iter_posts(engine, since, until))  # linking needs random access by index
    ties = tie(posts, params, pending)              # the child read and fingerprinted meanwhile
    cache = cache and params.preset == "default"
    if cache:
        ties.clusters = {}                          # kept for the cache: see cluster.communities
    result = conclude(ties, post_facts(posts, ties.prints, created), created, loaded)
    if cache:
        refs = post_refs(engine, datasets)
        if len(refs) == len(posts):     # else a dataset completed meanwhile: no cache this time
            state, contents, buckets = build(posts, ties)
            last = posts[-1] if posts else None
            mark = Watermark(params_hash(params), tuple(datasets), len(posts),
                             (last.created_at, last.platform, last.post_id) if last else None)
            state.similar = dict(result.similarity)
            stamp = save_full(engine, mark, state, contents, refs, buckets)
            if warm is not None:
                warm.keep(engine, replace(mark, read_from=stamp), state)
    settle(pending, patience_for(len(posts)))
    return result, {"posts_read": len(posts)}
