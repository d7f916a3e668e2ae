"""Detect: posts in, campaigns and account scores out. Pure: the caller reads and stores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import networkx as nx
import numpy as np

from detector.aside import Pending, linked
from detector.cluster import Campaign, ClusterParams, Clusters, Edge, campaigns, component_edges
from detector.coortweet import CoortweetParams, co_shares, events_of, network_graph, shares_of
from detector.coortweet import weights_of as coordinated_network_of
from detector.features import account_behaviour, campaign_features
from detector.fingerprint import FingerprintParams, distinct_signatures, repeated_near_duplicate_groups
from detector.graph import GraphParams, account_graph, pair_weights
from detector.link import AccountKey, Event, LinkParams
from detector.model import Scorer, rescore
from detector.normalize import normalize_text
from detector.records import Post, Textual
from detector.score import AccountScore, ScoreParams, score_accounts, score_campaigns


@dataclass(frozen=True)
class DetectParams:
    """Every setting of a detection run; stored with its results."""

    fingerprint: FingerprintParams = field(default_factory=FingerprintParams)
    similarity: float = 0.8
    lsh_bands: int = 16          # 16 x 8 rows: every pair at 0.8 grouped (9 x 13 groups ~93%)
    link: LinkParams = field(default_factory=LinkParams)
    graph: GraphParams = field(default_factory=GraphParams)
    cluster: ClusterParams = field(default_factory=ClusterParams)
    score: ScoreParams = field(default_factory=ScoreParams)
    preset: str = "default"                 # or "coortweet": CooRTweet's co-share rule alone
    coortweet: CoortweetParams = field(default_factory=CoortweetParams)

    def to_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, timedelta):
                return value.total_seconds()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value
        return plain(asdict(self))  # type: ignore[no-any-return]


@dataclass
class Detection:
    params: DetectParams
    campaigns: list[Campaign]
    scores: dict[AccountKey, AccountScore]
    graph: nx.Graph
    counts: dict[str, int]
    texts: dict[str, str]            # post id -> text, of the posts that quote each campaign
    similarity: dict[tuple[str, str], float] = field(default_factory=dict)  # (first, post) ids
    scorer: str = "rule"             # or "model:<sha256 prefix>" of the trained scorer used
    path: str = ""                   # how pipeline.run_detection ran it: "full: why" or "incremental: ..."
    components: list[list[Edge]] | None = None  # cluster.component_edges(graph), made once a run


@dataclass(frozen=True)
class Fingerprints:
    """The signatures computed for text grouping, kept to show how similar evidence texts are.

    ``row_of`` gives a post's row of ``signatures``; ``rows``, when given, the row of each
    fingerprinted post in order (relays repeat texts: each distinct text has one row, which
    halves what the fingerprinting child sends back)."""

    row_of: dict[str, int]
    signatures: Any
    rows: Any = None

    def similarity(self, first: str, second: str) -> float | None:
        """Estimated Jaccard of two posts' texts (``None`` if either was not fingerprinted)."""
        a, b = self.row_of.get(first), self.row_of.get(second)
        if a is None or b is None:
            return None
        return float((self.signatures[a] == self.signatures[b]).mean())

    def per_post(self) -> Any:
        """One signature row per fingerprinted post, in order (None when there are none)."""
        if self.signatures is None or self.rows is None:
            return self.signatures
        return self.signatures[self.rows]


def text_rows(posts: Sequence[Textual], params: DetectParams,
              normal_of: dict[str, str] | None = None) -> tuple[list[int], list[str]]:
    """Which posts are fingerprinted (originals with enough text: reposts carry no own text),
    and their normalized texts. ``normal_of`` (raw text -> normal form) is filled as it goes."""
    chosen: list[int] = []
    texts: list[str] = []
    normal_of = {} if normal_of is None else normal_of   # relays repeat raw texts: each normalized once
    for i, post in enumerate(posts):
        if post.repost_of:
            continue
        normalized = normal_of.get(post.text)
        if normalized is None:
            normalized = normal_of[post.text] = normalize_text(post.text)
        if len(normalized) >= params.link.min_text_chars:
            chosen.append(i)
            texts.append(normalized)
    return chosen, texts


@dataclass
class TextForms:
    """What fingerprinting makes on the way, for the text-lookup index to take: each raw text's
    normal form, and each sketched normal form's row of the signatures (``signatures``, where
    they are not the run's ``Fingerprints``: an incremental update's)."""

    normal_of: dict[str, str] = field(default_factory=dict)
    sig_rows: dict[str, int] = field(default_factory=dict)
    signatures: Any = None


def fingerprint_texts(posts: Sequence[Textual], params: DetectParams,
                      forms: TextForms | None = None) -> tuple[dict[int, str], Fingerprints]:
    """Near-duplicate group of each original post with enough text (see ``text_rows``), noting
    in ``forms`` the normal forms and signature rows it made."""
    chosen, texts = text_rows(posts, params, forms.normal_of if forms is not None else None)
    if not chosen:
        return {}, Fingerprints({}, None)
    sigs, rows = distinct_signatures(texts, params.fingerprint, normalized=True)
    if forms is not None:
        forms.sig_rows = dict(zip(texts, rows.tolist(), strict=True))
    labels = repeated_near_duplicate_groups(sigs, rows, params.similarity, params.lsh_bands)
    groups = {i: f"t{chosen[int(label)]}" for i, label in zip(chosen, labels, strict=True)}
    row_of = {posts[i].post_id: row for i, row in zip(chosen, rows.tolist(), strict=True)}
    return groups, Fingerprints(row_of, sigs, rows)


def text_pairs(found: Sequence[Campaign]) -> list[tuple[str, str]]:
    """(first post, post) of each post of the campaigns' text events: what text evidence shows
    the similarity of."""
    return [(event.participants[0].post_id, p.post_id) for campaign in found
            for event in campaign.events if event.signal == "text" for p in event.participants]


def _similarities(found: Sequence[Campaign], prints: Fingerprints) -> dict[tuple[str, str], float]:
    """For text evidence: each post's similarity to the first post of its event."""
    return pair_similarities(text_pairs(found), prints)


def pair_similarities(pairs: Sequence[tuple[str, str]],
                      prints: Fingerprints) -> dict[tuple[str, str], float]:
    """The similarity of the posts of each pair (rounded to 4 places) whose posts both have a
    signature, compared in one array step: a pair at a time took 0.6 s at 3M posts."""
    row_of = prints.row_of
    known = [(first, post) for first, post in pairs if first in row_of and post in row_of]
    if not known:
        return {}
    left = np.fromiter((row_of[first] for first, _ in known), dtype=np.int64, count=len(known))
    right = np.fromiter((row_of[post] for _, post in known), dtype=np.int64, count=len(known))
    sigs, same = prints.signatures, []
    for start in range(0, len(known), _PAIRS_AT_ONCE):
        part = slice(start, start + _PAIRS_AT_ONCE)
        same += (sigs[left[part]] == sigs[right[part]]).mean(axis=1).tolist()
    return {pair: round(value, 4) for pair, value in zip(known, same, strict=True)}


_PAIRS_AT_ONCE = 20_000     # two signature rows each: about 20 MB of memory at a time


Cited = tuple[str, str]     # (platform, post id) of a post cited as evidence


def quoted_texts(found: Sequence[Campaign], read: Callable[[set[Cited]], dict[str, str]]) -> dict[str, str]:
    """The texts a campaign is quoted by: its first post with a text, its events in evidence
    order (``Campaign.ranked_events``). Read an event at a time, all campaigns at once, until
    each has a text: 3M posts cited 274k posts as evidence, and reading all their texts took 2 s."""
    texts: dict[str, str] = {}
    pending = [(events, 0) for events in (c.ranked_events() for c in found) if events]
    while pending:
        texts |= read({(p.account[0], p.post_id) for events, step in pending
                       for p in events[step].participants if p.post_id not in texts})
        pending = [(events, step + 1) for events, step in pending if step + 1 < len(events)
                   and not any(texts.get(p.post_id) for p in events[step].participants)]
    return texts


def _rank(found: list[Campaign]) -> list[Campaign]:
    return sorted(found, key=lambda c: (-c.score, -len(c.members), c.start, c.members))


def _coortweet_ties(posts: Sequence[Post],
                    params: DetectParams) -> tuple[list[Event], nx.Graph, DetectParams]:
    """CooRTweet's network: every co-sharing pair counts (no crowd cut-off, no relays)."""
    pairs = co_shares(shares_of(posts), params.coortweet)
    params = replace(params, cluster=replace(params.cluster, min_members=2),
                     graph=replace(params.graph, max_pair_event=10**9, relay_min_accounts=10**9))
    return events_of(pairs), network_graph(coordinated_network_of(pairs)), params


@dataclass
class Ties:
    """The linking stages' output: events (grouped by content, as ``co_action_events`` yields
    them), the significant ties, and the text groups and signatures behind the text events."""

    params: DetectParams
    events: list[Event]
    graph: nx.Graph
    groups: dict[int, str] = field(default_factory=dict)
    prints: Fingerprints = field(default_factory=lambda: Fingerprints({}, None))
    clusters: Clusters | None = None    # communities by component, kept when given (see conclude)
    components: list[list[Edge]] | None = None  # cluster.component_edges(graph), once made


@dataclass
class PostFacts:
    """What the stages after the graph need from the posts: from the posts themselves, or from
    the tallies of an incremental run (:mod:`detector.incremental`), which has no posts."""

    count: int
    per_account: Counter[AccountKey]
    behaviour: Callable[[Container[AccountKey]], dict[AccountKey, dict[str, float]]]
    texts: Callable[[set[Cited]], dict[str, str]]     # (platform, post id) -> post id -> text
    similarities: Callable[[Sequence[Campaign]], dict[tuple[str, str], float]]


def post_facts(posts: Sequence[Post], prints: Fingerprints,
               created: Mapping[AccountKey, datetime] | None = None) -> PostFacts:
    """The facts of a run that holds all its posts."""
    return PostFacts(len(posts), Counter((p.platform, p.account_id) for p in posts),
                     lambda keep: account_behaviour(posts, keep, created),
                     lambda cited: _texts(posts, {post_id for _, post_id in cited}),
                     lambda found: _similarities(found, prints))


def _texts(posts: Sequence[Post], ids: Container[str]) -> dict[str, str]:
    return {p.post_id: p.text for p in posts if p.post_id in ids}


def tie(posts: Sequence[Post], params: DetectParams, pending: Pending | None = None) -> Ties:
    """Co-action events on every signal and the significant ties they make; ``pending``:
    fingerprints already being computed (``detector.aside.fingerprint_stored``)."""
    if params.preset == "coortweet":
        events, graph, params = _coortweet_ties(posts, params)
        return Ties(params, events, graph)
    groups, prints, events = linked(posts, params, pending)   # fingerprints on the other core
    return Ties(params, events, account_graph(pair_weights(events, params.graph), params.graph),
                groups, prints)


def detect(posts: Sequence[Post], params: DetectParams = DetectParams(),
           created: Mapping[AccountKey, datetime] | None = None,
           scorer: Scorer | None = None) -> Detection:
    """Campaigns, ranked, and a score for every account tied to another. ``posts`` in time order.

    With a trained ``scorer`` its probabilities replace the rule's scores and its threshold the
    rule's; without one the documented rule scores."""
    ties = tie(posts, params)
    return conclude(ties, post_facts(posts, ties.prints, created), created, scorer)


def conclude(ties: Ties, facts: PostFacts, created: Mapping[AccountKey, datetime] | None = None,
             scorer: Scorer | None = None) -> Detection:
    """Campaigns, scores and features from the ties (the stages after the graph). When given,
    ``ties.clusters`` gives the communities of components found before and is left holding
    this graph's (``cluster.communities``)."""
    return conclude_campaigns(ties, find_campaigns(ties), facts, created, scorer)


def find_campaigns(ties: Ties) -> list[Campaign]:
    """The campaigns of the ties, numbered but not yet scored (the first half of ``conclude``)."""
    params = ties.params
    ties.components = component_edges(ties.graph)   # for the communities, and to store the ties
    found = campaigns(ties.graph, ties.events, params.graph, params.cluster, ties.clusters,
                      ties.components)
    for number, campaign in enumerate(found, start=1):
        campaign.campaign_id = f"{campaign.kind[0]}{number}"
    return found


def conclude_campaigns(ties: Ties, found: list[Campaign], facts: PostFacts,
                       created: Mapping[AccountKey, datetime] | None = None,
                       scorer: Scorer | None = None) -> Detection:
    """Scores, features and evidence of the campaigns ``find_campaigns`` found (the second half
    of ``conclude``)."""
    params, events, graph = ties.params, ties.events, ties.graph
    per_account = facts.per_account
    scores = score_accounts(graph, found, per_account, params.graph, params.score)
    behaviour = facts.behaviour(scores)
    for account, score in scores.items():
        score.features.update(behaviour.get(account, {}))
    if params.preset == "coortweet":
        scorer = None                # CooRTweet's rule is reproduced as is, for comparison
    if scorer is not None:
        rescore(scorer, scores)
        params = replace(params, score=replace(params.score, threshold=scorer.threshold))
    score_campaigns(found, scores)
    for campaign in found:
        campaign.features = campaign_features(campaign, created)
    counts = {"posts": facts.count, "accounts": len(per_account), "events": len(events),
              "ties": graph.number_of_edges(), "campaigns": len(found),
              "flagged": sum(s.flagged for s in scores.values())}
    return Detection(params, _rank(found), scores, graph, counts, quoted_texts(found, facts.texts),
                     facts.similarities(found), scorer.name if scorer else "rule",
                     components=ties.components)
