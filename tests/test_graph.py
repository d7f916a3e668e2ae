from __future__ import annotations

import pytest

from detector.cluster import ClusterParams, campaigns, communities
from detector.graph import GraphParams, account_graph, event_weight, pair_weights
from detector.link import LinkParams, co_action_events
from detector.records import Post
from tests.factories import post


def ring_and_crowd() -> list[Post]:
    """Accounts 1-4 repost six different posts within seconds of each other (a ring); accounts
    10-39 repost one viral post over hours (a crowd); 1 and 10 once share a link by chance."""
    posts = []
    n = 0
    for item in range(6):
        for member in range(1, 5):
            n += 1
            posts.append(post(n, account=member, seconds=item * 3600 + member * 5,
                              repost_of=f"ring-{item}"))
    for fan in range(10, 40):
        n += 1
        posts.append(post(n, account=fan, seconds=fan * 600, repost_of="viral"))
    posts.append(post(n + 1, account=1, seconds=50000, urls=("https://x.org/a",)))
    posts.append(post(n + 2, account=10, seconds=50030, urls=("https://x.org/a",)))
    return sorted(posts, key=lambda p: p.created_at)


def test_pair_weights_count_distinct_contents() -> None:
    events = list(co_action_events(ring_and_crowd(), {}, LinkParams()))
    pairs = pair_weights(events, GraphParams())
    ring = (("twitter", "1001"), ("twitter", "1002"))
    # six occasions, each a burst of four holding its whole occasion: (4/4)**0.5 * (1 - 1/4)
    assert pairs[ring].contents == 6 and pairs[ring].weight == pytest.approx(6 * 0.75)
    assert pairs[ring].signal_names() == ["repost"]
    chance = (("twitter", "1001"), ("twitter", "1010"))
    assert pairs[chance].contents == 1


def test_only_repeated_ties_enter_the_graph_and_form_a_campaign() -> None:
    events = list(co_action_events(ring_and_crowd(), {}, LinkParams()))
    params = GraphParams()
    graph = account_graph(pair_weights(events, params), params)
    assert sorted(graph.nodes) == [("twitter", f"100{m}") for m in range(1, 5)]
    (found,) = campaigns(graph, events, params, ClusterParams())
    assert found.kind == "network" and len(found.members) == 4
    assert len(found.events) == 6 and found.signals == ["repost"]


def test_communities_are_deterministic_for_a_seed() -> None:
    events = list(co_action_events(ring_and_crowd(), {}, LinkParams()))
    graph = account_graph(pair_weights(events, GraphParams()), GraphParams())
    assert communities(graph, ClusterParams(seed=3)) == communities(graph, ClusterParams(seed=3))


def test_a_big_concentrated_burst_is_a_relay_and_makes_no_pairs() -> None:
    posts = [post(n, account=n, seconds=n, text="Votez Jean ce soir #debat") for n in range(80)]
    groups = {i: "t0" for i in range(80)}
    events = list(co_action_events(posts, groups, LinkParams(), signals=["text"]))
    params = GraphParams()
    assert pair_weights(events, params) == {}
    (relay,) = campaigns(account_graph({}, params), events, params, ClusterParams())
    assert relay.kind == "relay" and len(relay.members) == 80


def test_event_weight_falls_with_the_crowd() -> None:
    posts = [post(n, account=n, seconds=n * 20, repost_of="viral") for n in range(40)]
    events = list(co_action_events(posts, {}, LinkParams(), signals=["repost"]))
    assert len(events) == 10                      # bursts of four: 0, 20, 40 and 60 s after a start
    assert {e.occasion for e in events} == {0}    # never a pause of 30 minutes: one occasion
    assert max(event_weight(e) for e in events) == pytest.approx((4 / 40) ** 0.5 * (1 - 1 / 4))


def test_the_same_content_on_another_day_counts_again() -> None:
    day = 86400
    posts = [post(n, account=1 + n % 3, seconds=(n // 3) * day + n % 3, hashtags=("a", "b"))
             for n in range(9)]
    events = list(co_action_events(posts, {}, LinkParams(), signals=["hashtags"]))
    assert [e.occasion for e in events] == [0, 1, 2]
    pairs = pair_weights(events, GraphParams())
    assert pairs[(("twitter", "1001"), ("twitter", "1002"))].contents == 3
