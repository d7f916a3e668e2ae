"""Detection end to end on hand-made posts with a known answer, and on a simulated dump."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from detector import detect as detect_module
from detector.cluster import Campaign, component_edges
from detector.detect import DetectParams, _similarities, detect, fingerprint_texts, quoted_texts
from detector.evaluate import evaluate
from detector.fingerprint import signatures
from detector.link import Event, Participation
from detector.normalize import normalize_text
from detector.records import Post
from detector.simulate import SimulationParams, simulate
from detector.store.detections import _representative
from tests.factories import T0, post

RELAY_TEXT = "Ce soir je vote Jean, le seul qui parle des vrais problèmes ! #debat2012"


def hand_made() -> list[Post]:
    """30 accounts relay one text within 3 minutes (a Twitpop-style relay); accounts 100-104
    repost eight posts within seconds, hours apart (a ring); 60 accounts post a famous quote
    over two days (organic); two strangers once share a link minutes apart (chance)."""
    posts: list[Post] = []
    n = 0
    for i in range(30):
        n += 1
        posts.append(post(n, account=200 + i, seconds=i * 6, client="Twitpop",
                          text=f"{RELAY_TEXT} https://t.co/{i:04d}"))
    for item in range(8):
        for member in range(5):
            n += 1
            posts.append(post(n, account=100 + member, seconds=5000 + item * 7200 + member * 3,
                              repost_of=f"ring-target-{item}", text="RT @news: something"))
    for i in range(60):
        n += 1
        posts.append(post(n, account=400 + i, seconds=20000 + i * 2900,
                          text="Be yourself; everyone else is already taken. Oscar Wilde"))
    posts.append(post(n + 1, account=900, seconds=40000, urls=("https://example.org/a",)))
    posts.append(post(n + 2, account=901, seconds=40100, urls=("https://example.org/a",)))
    return sorted(posts, key=lambda p: p.created_at)


def flagged(result_posts: list[Post]) -> set[str]:
    result = detect(result_posts)
    return {a[1] for a, s in result.scores.items() if s.flagged}


def test_relay_and_ring_are_flagged_the_crowd_and_chance_are_not() -> None:
    found = flagged(hand_made())
    assert found == {str(1000 + 200 + i) for i in range(30)} | {str(1000 + 100 + m) for m in range(5)}


def test_campaigns_carry_evidence_and_ranked_scores() -> None:
    result = detect(hand_made())
    kinds = sorted((c.kind, len(c.members)) for c in result.campaigns)
    assert kinds == [("network", 5), ("relay", 30)]
    ring = next(c for c in result.campaigns if c.kind == "network")
    assert len(ring.events) == 8 and ring.signals == ["repost"]
    assert all(0.5 <= c.score <= 1.0 for c in result.campaigns)
    member = result.scores[("twitter", "1100")]
    assert member.subscores["repost"] > 0.5 and member.evidence
    event, part = member.evidence[0]
    assert part.account == ("twitter", "1100") and event.signal == "repost"


def test_a_run_keeps_the_components_of_its_ties_it_found_campaigns_in() -> None:
    """Made once, for the communities and again to store the ties."""
    result = detect(hand_made())
    assert result.components == component_edges(result.graph) and result.components
    ring = next(c for c in result.campaigns if c.kind == "network")
    assert {a for edges in result.components for a, _, _ in edges} <= set(ring.members)


def test_same_input_same_answer() -> None:
    first, second = detect(hand_made()), detect(hand_made())
    assert [(c.campaign_id, c.members, c.score) for c in first.campaigns] == [
        (c.campaign_id, c.members, c.score) for c in second.campaigns]


def test_params_are_plain_json() -> None:
    data = DetectParams().to_json()
    assert data["link"]["repost_window"] == 60.0 and data["cluster"]["seed"] == 1
    assert data["fingerprint"]["num_perm"] == 128


def test_quality_on_a_simulated_dump_not_used_for_tuning() -> None:
    sim = simulate(SimulationParams(seed=5))
    result = detect(sim.posts)
    chosen = {a: (s.campaign_ids[0] if s.campaign_ids else None)
              for a, s in result.scores.items() if s.flagged}
    quality = evaluate(sim.truth, chosen)
    assert quality.f1 >= 0.9 and quality.organic_fpr <= 0.01, quality.render()


def test_features_and_text_similarity_evidence() -> None:
    result = detect(hand_made())
    relay = next(c for c in result.campaigns if c.kind == "relay")
    assert relay.features["size"] == 30 and relay.features["text_diversity"] == 1.0
    member = result.scores[("twitter", "1200")]
    assert member.features["main_client_share"] == 1.0 and member.features["repost_ratio"] == 0.0
    ring = result.scores[("twitter", "1100")]
    assert ring.features["repost_ratio"] == 1.0
    event = relay.events[0]
    first = event.participants[0].post_id
    values = [result.similarity[(first, p.post_id)] for p in event.participants]
    assert values[0] == 1.0 and min(values) >= 0.8       # near-identical: only the link differs


def test_fingerprints_keep_one_row_per_distinct_text_and_answer_per_post() -> None:
    relay = "Ce soir je vote Jean, le seul qui parle des vrais problèmes du pays"
    other = "Un tout autre message, assez long"
    texts = [relay, f"RT @jean: {relay}", relay.replace("soir", "matin"), relay, other]
    posts = [Post("twitter", str(n), str(n), T0 + timedelta(seconds=n), text=t) for n, t in enumerate(texts)]
    groups, prints = fingerprint_texts(posts, DetectParams())
    assert prints.signatures.shape[0] == 3 and prints.rows.tolist() == [0, 0, 1, 0, 2]
    each = signatures([normalize_text(t) for t in texts], DetectParams().fingerprint, normalized=True)
    np.testing.assert_array_equal(prints.per_post(), each)
    assert prints.similarity("0", "3") == prints.similarity("0", "1") == 1.0
    assert 0.5 < prints.similarity("0", "2") < 1.0                  # type: ignore[operator]
    assert prints.similarity("0", "missing") is None
    assert groups[0] == groups[1] == groups[3] == "t0" and groups[4] == "t4"


def test_similarities_compare_each_post_with_its_events_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each text-evidence post against its event's first post, as ``Fingerprints.similarity``
    gives it, rounded; posts never fingerprinted and non-text events left out; the same when
    compared a few pairs at a time."""
    relay = "Ce soir je vote Jean, le seul qui parle des vrais problemes du pays"
    texts = [relay, relay.replace("soir", "matin"), relay, "Un tout autre message, assez long"]
    posts = [Post("twitter", f"p{n}", str(n), T0 + timedelta(seconds=n), text=t) for n, t in enumerate(texts)]
    _, prints = fingerprint_texts(posts, DetectParams())
    text = _event(3, 0, 0)
    text = Event("text", "t0", text.start, text.end,
                 (*text.participants, Participation(("twitter", "9"), "unknown", T0)), 4, 4)
    links = Event("link", "x", text.start, text.end, _event(2, 2, 0).participants, 2, 2)
    found = [Campaign("network", (), [text, links]), Campaign("relay", (), [_event(2, 1, 0)])]
    expected = {("p0", "p0"): 1.0, ("p0", "p1"): round(prints.similarity("p0", "p1"), 4),
                ("p0", "p2"): 1.0, ("p1", "p1"): 1.0, ("p1", "p2"): round(prints.similarity("p1", "p2"), 4)}
    assert _similarities(found, prints) == expected and 0.5 < expected[("p0", "p1")] < 1.0
    monkeypatch.setattr(detect_module, "_PAIRS_AT_ONCE", 2)
    assert _similarities(found, prints) == expected
    assert _similarities(found, fingerprint_texts([], DetectParams())[1]) == {}


def _event(size: int, first: int, minutes: int) -> Event:
    people = tuple(Participation(("twitter", str(first + i)), f"p{first + i}",
                                 T0 + timedelta(minutes=minutes, seconds=i)) for i in range(size))
    return Event("text", f"t{first}", people[0].time, people[-1].time, people, size, size)


def test_campaigns_are_quoted_reading_one_event_at_a_time() -> None:
    """The biggest event's posts first; a campaign whose posts there have no text reads its next
    event; the quote is what storing the run shows as the campaign's text."""
    quoted = Campaign("network", (), [_event(2, 10, 5), _event(3, 0, 9)])     # texts in its biggest
    silent = Campaign("network", (), [_event(2, 20, 1), _event(4, 30, 0), _event(2, 40, 3)])
    texts = {f"p{i}": f"text {i}" for i in range(50)} | {f"p{i}": "" for i in range(30, 34)}
    asked: list[set[str]] = []

    def read(cited: set[tuple[str, str]]) -> dict[str, str]:
        assert {platform for platform, _ in cited} == {"twitter"}
        ids = {i for _, i in cited}
        asked.append(ids)
        return {i: texts[i] for i in ids}

    found = quoted_texts([quoted, silent], read)
    assert asked == [{"p0", "p1", "p2", "p30", "p31", "p32", "p33"}, {"p20", "p21"}]
    assert [_representative(c, found) for c in (quoted, silent)] == ["text 0", "text 20"]
    assert [_representative(c, found) for c in (quoted, silent)] == \
        [_representative(c, texts) for c in (quoted, silent)]
    assert quoted_texts([], read) == {} and len(asked) == 2
