"""CooRTweet's rule on hand-made shares whose answer follows from its source, and on real data."""

from __future__ import annotations

from pathlib import Path

from detector.coortweet import CoortweetParams, Share, co_shares, coordinated_network, shares_of
from detector.ingest import read_dump
from detector.records import Post

DATA = Path(__file__).parent / "data"


def share(obj: str, account: str, content: str, t: int) -> Share:
    return Share(obj, account, content, t)


def test_pairs_within_the_window_inclusive() -> None:
    shares = [share("o1", "a", "c1", 0), share("o1", "b", "c2", 10), share("o1", "c", "c3", 21),
              share("o2", "a", "c4", 100), share("o2", "b", "c5", 105),
              share("o3", "c", "c6", 500), share("o3", "d", "c7", 900)]
    # a-b: 10 s apart on o1 (inside, <=) and 5 s on o2; b-c on o1 11 s apart (outside)
    assert coordinated_network(shares) == {("a", "b"): 2}


def test_accounts_with_one_share_are_dropped_before_pairing() -> None:
    shares = [share("o1", "a", "c1", 0), share("o1", "b", "c2", 1), share("o2", "a", "c3", 50)]
    assert coordinated_network(shares) == {}      # b shared once: below min_participation 2


def test_a_pair_survives_when_one_side_qualifies() -> None:
    # a co-shares twice (with b, then with c); b and c once each but have two shares in all
    shares = [share("o1", "a", "c1", 0), share("o1", "b", "c2", 3),
              share("o2", "a", "c3", 100), share("o2", "c", "c4", 104),
              share("o9", "b", "c5", 9000), share("o8", "c", "c6", 7000)]
    assert coordinated_network(shares) == {("a", "b"): 1, ("a", "c"): 1}
    assert coordinated_network(shares, CoortweetParams(min_participation=3)) == {}


def test_loops_are_removed() -> None:
    shares = [share("o1", "a", "c1", 0), share("o1", "a", "c2", 2),      # same account
              share("o1", "b", "o1", 1), share("o2", "b", "c9", 500)]     # sharing itself
    assert co_shares(shares) == []


def test_shares_of_coortweet_posts_use_the_content_id() -> None:
    posts = [r for r in read_dump(DATA / "coortweet_russian_300.csv") if isinstance(r, Post)]
    shares = shares_of(posts)
    assert len(shares) == 300
    assert shares[0] == Share("85d2d12251a735ce05255061f7f231e2", "0fb4232d1b7b37069c13ee17579bd10e",
                              "114e22f1b2b648528277b76f0b0224e7", 1623881091)


def test_preset_detection_ties_are_coortweets_pairs() -> None:
    from detector.detect import DetectParams, detect
    from tests.factories import post

    # 1001-1002 co-share o1 and o2 within seconds, 1001-1003 o3; 1004 shares o1 a minute late
    shares = [(1, 0, "o1"), (2, 3, "o1"), (4, 60, "o1"), (1, 500, "o2"), (2, 505, "o2"),
              (3, 900, "o3"), (1, 908, "o3"), (4, 5000, "o9"), (3, 7000, "o8")]
    posts = [post(n, account=a, seconds=t, repost_of=o) for n, (a, t, o) in enumerate(shares)]
    expected = coordinated_network(shares_of(posts))
    assert expected == {("1001", "1002"): 2, ("1001", "1003"): 1}
    result = detect(posts, DetectParams(preset="coortweet"))
    found = {tuple(sorted((a[1], b[1]))) for a, b in result.graph.edges}
    assert found == set(expected)
    assert result.params.preset == "coortweet"          # what ran is what is stored
    members = {a for c in result.campaigns for a in c.members}
    assert members == {("twitter", a) for pair in expected for a in pair}
