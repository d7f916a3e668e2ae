"""The labeled simulator: deterministic, self-consistent, every scenario present, dumps round-trip."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from detector.dumps import write_dump
from detector.ingest import read_stream
from detector.ingest.fields import snowflake_time
from detector.records import Account, Post
from detector.simulate import (
    COORDINATED_KINDS,
    ORGANIC_KINDS,
    Simulation,
    SimulationParams,
    Truth,
    read_truth,
    simulate,
    write_truth,
)

SMALL = SimulationParams(seed=5, accounts=300, days=3, posts_per_account=4, scale=0.3)


@pytest.fixture(scope="module")
def small() -> Simulation:
    return simulate(SMALL)


@pytest.fixture(scope="module")
def default() -> Simulation:
    return simulate()


def test_same_params_give_the_same_simulation(small: Simulation) -> None:
    again = simulate(SMALL)
    assert again.posts == small.posts
    assert again.truth == small.truth
    assert again.accounts == small.accounts


def test_another_seed_gives_another_simulation(small: Simulation) -> None:
    other = simulate(replace(SMALL, seed=6))
    assert [p.post_id for p in other.posts] != [p.post_id for p in small.posts]
    assert [p.text for p in other.posts] != [p.text for p in small.posts]


def test_string_hashing_does_not_matter() -> None:
    """Python randomizes str hashes per process: no set or dict order may leak into the output."""
    code = ("import hashlib; from detector.simulate import simulate, SimulationParams; "
            "s = simulate(SimulationParams(seed=2, accounts=150, days=1, scale=0.2)); "
            "print(hashlib.sha256(repr((s.posts, s.truth)).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(digests) == 1


def test_post_ids_are_unique_snowflakes_of_their_time(small: Simulation) -> None:
    assert len({p.post_id for p in small.posts}) == len(small.posts)
    assert all(snowflake_time(p.post_id) == p.created_at for p in small.posts)


def test_posts_are_sorted_and_inside_the_period(small: Simulation) -> None:
    times = [p.created_at for p in small.posts]
    assert times == sorted(times)
    assert SMALL.start <= times[0] and times[-1] < SMALL.start + timedelta(days=SMALL.days)


def test_every_author_has_an_account_and_a_label(small: Simulation) -> None:
    labelled = {t.account_id for t in small.truth}
    assert labelled == set(small.accounts)
    for post in small.posts:
        assert post.account_id in small.accounts
        assert post.handle == small.accounts[post.account_id].handle
    assert all(a.account_id.isdigit() for a in small.accounts.values())
    handles = [a.handle.lower() for a in small.accounts.values() if a.handle]
    assert len(set(handles)) == len(handles)


def test_every_account_posts_and_counts_at_least_its_posts(small: Simulation) -> None:
    posted = Counter(p.account_id for p in small.posts)
    for account in small.accounts.values():
        assert posted[account.account_id] >= 1
        assert (account.posts_count or 0) >= posted[account.account_id]
        assert account.created_at is not None and account.created_at < SMALL.start


def test_references_point_back_in_time(small: Simulation) -> None:
    by_id = {p.post_id: p for p in small.posts}
    for post in small.posts:
        for target in (post.repost_of, post.reply_to, post.quote_of):
            if target is not None:
                assert by_id[target].created_at < post.created_at
        if post.repost_of:
            original = by_id[post.repost_of]
            assert original.repost_of is None  # a retweet points at the original, not a retweet
            assert post.account_id != original.account_id
            assert post.text.startswith(f"RT @{original.handle}: ") and len(post.text) <= 140
        if post.reply_to:
            assert post.text.startswith(f"@{by_id[post.reply_to].handle} ")
    reposts = [(p.account_id, p.repost_of) for p in small.posts if p.repost_of]
    assert len(set(reposts)) == len(reposts)  # nobody retweets the same post twice


def test_entities_appear_in_the_text(small: Simulation) -> None:
    for post in small.posts:
        assert all(f"#{tag}" in post.text for tag in post.hashtags), post
        assert all(f"@{handle}" in post.text for handle in post.mentions), post
        assert len(post.urls) <= post.text.count("https://t.co/"), post
        assert len(post.text) <= 280


def test_every_scenario_kind_is_present_by_default(default: Simulation) -> None:
    kinds = Counter(t.scenario for t in default.truth)
    assert set(kinds) == set(COORDINATED_KINDS) | set(ORGANIC_KINDS)
    assert 20_000 <= len(default.posts) <= 40_000


def test_coordinated_accounts_are_a_minority(default: Simulation) -> None:
    coordinated = [t for t in default.truth if t.coordinated]
    assert 0.03 <= len(coordinated) / len(default.truth) <= 0.20
    assert sum(not t.coordinated for t in default.truth) == SimulationParams().accounts
    assert all(t.campaign and t.scenario in COORDINATED_KINDS for t in coordinated)
    assert all(t.campaign is None and t.scenario in ORGANIC_KINDS
               for t in default.truth if not t.coordinated)


def _bursts(sim: Simulation, campaign_kind: str) -> list[list[Post]]:
    """Posts of each campaign of a kind grouped by text without links, for signal checks."""
    campaign = {t.account_id: t.campaign for t in sim.truth if t.scenario == campaign_kind}
    groups: dict[tuple[str | None, str], list[Post]] = defaultdict(list)
    for post in sim.posts:
        if post.account_id in campaign:
            key = post.repost_of or post.text.split(" https://t.co/")[0]
            groups[(campaign[post.account_id], key)].append(post)
    return list(groups.values())


def test_relays_post_one_text_within_minutes(default: Simulation) -> None:
    widest = max(_bursts(default, "relay"), key=len)
    assert len({p.account_id for p in widest}) >= 5
    assert widest[1].created_at - widest[0].created_at < timedelta(minutes=10)


def test_corepost_rings_repost_within_a_minute_or_so(default: Simulation) -> None:
    by_id = {p.post_id: p for p in default.posts}
    ring = {t.account_id for t in default.truth if t.scenario == "corepost_ring"}
    delays = [p.created_at - by_id[p.repost_of].created_at for p in default.posts
              if p.repost_of and p.account_id in ring]
    quick = [d for d in delays if d <= timedelta(seconds=95)]
    assert len(quick) > 0.5 * len(delays) and len({p.repost_of for p in default.posts}) > 20


def test_viral_cascades_spread_over_hours(default: Simulation) -> None:
    by_id = {p.post_id: p for p in default.posts}
    reposts = Counter(p.repost_of for p in default.posts if p.repost_of)
    target, count = reposts.most_common(1)[0]
    assert count >= 100
    delays = sorted(p.created_at - by_id[target].created_at for p in default.posts
                    if p.repost_of == target)
    assert delays[len(delays) * 3 // 4] > timedelta(minutes=30)


def test_share_buttons_write_the_same_text_via_the_outlet(default: Simulation) -> None:
    via = Counter(p.text.split(" https://t.co/")[0] for p in default.posts
                  if " via @" in p.text and not p.repost_of)
    assert via.most_common(1)[0][1] >= 10


def test_truth_round_trips(small: Simulation) -> None:
    out = io.StringIO()
    write_truth(small.truth, out)
    assert out.getvalue().splitlines()[0] == "platform,account_id,coordinated,scenario,campaign"
    assert read_truth(io.StringIO(out.getvalue())) == small.truth


HEADER = "platform,account_id,coordinated,scenario,campaign\n"
GOOD = "twitter,12,false,background,\n"


@pytest.mark.parametrize(("text", "message"), [
    (HEADER + GOOD + "twitter,13,maybe,relay,relay-01\n", "line 3, column 'coordinated'"),
    (HEADER + GOOD + "twitter,1.2e+18,true,relay,relay-01\n", "line 3, column 'account_id'"),
    (HEADER + "twitter,14,true\n", "line 2, column 'scenario'"),       # a short row
    (HEADER + ",15,true,relay,relay-01\n", "line 2, column 'platform'"),
    ("account_id,coordinated\n" + GOOD, "line 1"),                       # not our header
])
def test_bad_truth_is_rejected_with_its_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_truth(io.StringIO(text))


def test_read_truth_reads_campaigns_and_flags() -> None:
    rows = read_truth(io.StringIO(HEADER + GOOD + "twitter,13,TRUE,relay,relay-01\n"))
    assert rows == [Truth("twitter", "12", False, "background", None),
                    Truth("twitter", "13", True, "relay", "relay-01")]


def test_twarc2_dump_reads_back_the_same_posts_and_accounts(small: Simulation) -> None:
    out = io.StringIO()
    write_dump("twarc2", small.posts, out, small.accounts)
    # a buffer as large as the opener's: one 100-tweet page is longer than the default 8 KB peek
    stream = io.BufferedReader(io.BytesIO(out.getvalue().encode()), buffer_size=1 << 20)
    part = read_stream(stream, "sim.jsonl")
    records = list(part.records)
    assert part.format == "twarc2"
    assert [r for r in records if isinstance(r, Post)] == small.posts
    assert {r.account_id: r for r in records if isinstance(r, Account)} == small.accounts


@pytest.mark.parametrize("bad", [
    replace(SMALL, accounts=10),
    replace(SMALL, days=0),
    replace(SMALL, scale=0),
    replace(SMALL, start=datetime(2024, 3, 1)),  # naive
    replace(SMALL, start=datetime(2009, 1, 1, tzinfo=UTC)),
])
def test_unusable_params_are_refused(bad: SimulationParams) -> None:
    with pytest.raises(ValueError):
        simulate(bad)
