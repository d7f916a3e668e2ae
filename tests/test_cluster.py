"""cluster: communities found per connected component; campaigns that share most members become one."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import networkx as nx

from detector.cluster import Campaign, ClusterParams, _overlap, communities, merge_overlapping
from detector.link import AccountKey, Event, Participation

T = datetime(2024, 5, 1, tzinfo=UTC)


def _campaign(kind: str, numbers: range | list[int]) -> Campaign:
    members = tuple(sorted(("twitter", str(n)) for n in numbers))
    event = Event("text", f"t{numbers[0]}", T, T,
                  tuple(Participation(a, f"p{a[1]}", T) for a in members), len(members), len(members))
    return Campaign(kind, members, [event])


def _naive(found: list[Campaign], threshold: float) -> list[tuple[str, tuple[AccountKey, ...], int]]:
    """The rule as first written: each campaign against every kept one, in order."""
    kept: list[tuple[set[AccountKey], list[object]]] = []
    for c in sorted(found, key=lambda c: (-len(c.members), c.kind, c.members)):
        members = set(c.members)
        for other_members, other in kept:
            if _overlap(members, other_members) >= threshold:
                other_members |= members
                other[0] = "network" if "network" in (other[0], c.kind) else other[0]
                other[1] += len(c.events)
                break
        else:
            kept.append((members, [c.kind, len(c.events)]))
    return [(str(o[0]), tuple(sorted(m)), int(str(o[1]))) for m, o in kept]


def _shape(found: list[Campaign]) -> list[tuple[str, tuple[AccountKey, ...], int]]:
    return [(c.kind, c.members, len(c.events)) for c in found]


def test_a_relay_of_the_ring_joins_it_and_a_stranger_stays_apart() -> None:
    ring = _campaign("network", range(1, 11))
    relay = _campaign("relay", range(3, 12))            # 8 of 11 shared: 0.73
    other = _campaign("relay", range(50, 60))
    merged = merge_overlapping([relay, other, ring], 0.5)
    joined = tuple(sorted(("twitter", str(n)) for n in range(1, 12)))
    assert _shape(merged) == [("network", joined, 2), ("relay", other.members, 1)]


def test_a_campaign_joins_the_first_kept_one_it_overlaps_enough() -> None:
    a, b = _campaign("network", range(1, 11)), _campaign("network", range(8, 18))  # 3 of 17 shared
    c = _campaign("relay", range(4, 14))            # shares 7 of 13 with a, 6 of 14 with b
    merged = merge_overlapping([c, b, a], 0.3)
    assert [(m.members[0], len(m.members), len(m.events)) for m in merged] == \
        [(("twitter", "1"), 13, 2), (("twitter", "10"), 10, 1)]


def test_any_overlap_is_enough_at_threshold_zero_even_none() -> None:
    found = [_campaign("network", range(1, 5)), _campaign("relay", range(10, 13))]
    assert len(merge_overlapping(found, 0.0)) == 1


def test_the_same_campaigns_as_comparing_every_pair() -> None:
    rng = random.Random(3)
    for _ in range(200):
        found = [_campaign(rng.choice(["network", "relay"]), sorted(rng.sample(range(40), rng.randint(2, 9))))
                 for _ in range(rng.randint(1, 15))]
        threshold = rng.choice([0.2, 0.5, 0.8])
        expected = _naive(found, threshold)
        assert _shape(merge_overlapping(found, threshold)) == expected


def _ring(first: int, size: int, weight: float = 1.0) -> list[tuple[AccountKey, AccountKey, float]]:
    people = [("twitter", f"{first + i:04d}") for i in range(size)]
    return [(a, b, weight) for i, a in enumerate(people) for b in people[i + 1:]]


def _graph(*parts: list[tuple[AccountKey, AccountKey, float]]) -> nx.Graph:
    graph = nx.Graph()
    for part in parts:
        graph.add_weighted_edges_from(part)
    return graph


def _two_rings_joined() -> list[tuple[AccountKey, AccountKey, float]]:
    """Two rings of six with one weak tie between them: one component, two communities."""
    return [*_ring(1, 6), *_ring(11, 6), (("twitter", "0001"), ("twitter", "0011"), 0.2)]


def test_a_component_splits_the_same_whatever_else_the_graph_holds() -> None:
    """Louvain on the whole graph weighed a component against all the others: next to a big
    unrelated one the two rings merged (a campaign changed with unrelated uploads)."""
    params = ClusterParams()
    alone = communities(_graph(_two_rings_joined()), params)
    assert len(alone) == 2
    crowd = _ring(100, 60, 5.0)                                   # 1,770 heavy ties elsewhere
    beside = communities(_graph(crowd, _two_rings_joined()), params)
    assert [g for g in beside if g[0][1] < "0100"] == alone
    whole = nx.community.louvain_communities(_graph(crowd, _two_rings_joined()), seed=1)
    assert sum(1 for c in whole if ("twitter", "0001") in c or ("twitter", "0011") in c) == 1


def test_the_order_the_graph_was_built_in_changes_nothing() -> None:
    edges = _two_rings_joined() + _ring(30, 5)
    shuffled = edges[:]
    random.Random(1).shuffle(shuffled)
    flipped = [(b, a, w) for a, b, w in shuffled]
    assert communities(_graph(flipped), ClusterParams()) == communities(_graph(edges), ClusterParams())


def test_known_components_are_taken_and_the_rest_found_again() -> None:
    params, known = ClusterParams(), dict[bytes, list[tuple[AccountKey, ...]]]()
    first = communities(_graph(_two_rings_joined(), _ring(30, 5)), params, known)
    assert len(known) == 2 and len(first) == 3
    marker = (("twitter", "marker-a"), ("twitter", "marker-b"))
    for digest, groups in known.items():                # the five-ring's entry, marked
        if len(groups) == 1:
            known[digest] = [marker]
    changed = [*_two_rings_joined(), (("twitter", "0001"), ("twitter", "0012"), 0.2)]
    again = communities(_graph(changed, _ring(30, 5)), params, known)
    assert marker in again                               # taken as known, not found again
    assert len(again) == 3 and len(known) == 2
    assert communities(_graph(_ring(30, 5)), params, known) == [marker] and len(known) == 1
