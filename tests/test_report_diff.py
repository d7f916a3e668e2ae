"""Following campaigns across detection runs by their members, on tiny hand-made member sets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from detector.report.diff import (
    CONTINUING,
    GROWN,
    NEW,
    CampaignSet,
    compare_runs,
    jaccard,
    match_campaigns,
)


def accounts(*names: str) -> frozenset[tuple[str, str]]:
    return frozenset(("twitter", n) for n in names)


def campaign(campaign_id: str, members: str, events: int = 1) -> CampaignSet:
    """``campaign("n1", "abc")``: members a, b and c."""
    return CampaignSet(campaign_id, accounts(*members), events)


def statuses(current: list[CampaignSet], baseline: list[CampaignSet]) -> dict[str, tuple[str, str | None]]:
    diff = compare_runs(current, baseline, (), ())
    return {k: (c.status, c.previous_id) for k, c in diff.changes.items()}


def test_jaccard() -> None:
    assert jaccard(accounts("a", "b"), accounts("b", "c")) == 1 / 3
    assert jaccard(accounts(), accounts()) == 0.0


def test_ids_change_but_members_do_not() -> None:
    # the run renumbered its campaigns: n1 is now n2 and n2 is now n1
    assert statuses([campaign("n1", "xyz"), campaign("n2", "abcd")],
                    [campaign("n1", "abcd"), campaign("n2", "xyz")]) == {
        "n1": (CONTINUING, "n2"), "n2": (CONTINUING, "n1")}


def test_more_members_or_more_events_is_growth() -> None:
    assert statuses([campaign("n1", "abc")], [campaign("n7", "ab")]) == {"n1": (GROWN, "n7")}
    assert statuses([campaign("n1", "ab", events=5)], [campaign("n7", "ab", events=3)]) == {
        "n1": (GROWN, "n7")}


def test_fewer_members_is_not_growth() -> None:
    assert statuses([campaign("n1", "ab")], [campaign("n7", "abc")]) == {"n1": (CONTINUING, "n7")}


def test_overlap_below_half_is_a_new_campaign_and_the_old_one_ended() -> None:
    # 2 of 5 in common: Jaccard 0.4
    diff = compare_runs([campaign("n1", "abcde")], [campaign("n7", "ab")], (), ())
    assert diff.changes["n1"].status == NEW and diff.ended == ("n7",)


def test_exactly_half_matches() -> None:
    assert statuses([campaign("n1", "abcd")], [campaign("n7", "ab")]) == {"n1": (GROWN, "n7")}


def test_a_split_matches_the_bigger_part_only() -> None:
    # abcd split into abc (Jaccard 3/4) and cd (2/4): one to one, best first
    assert statuses([campaign("n1", "abc"), campaign("n2", "cd")], [campaign("n9", "abcd")]) == {
        "n1": (CONTINUING, "n9"), "n2": (NEW, None)}


def test_equal_overlaps_are_broken_by_id() -> None:
    matches = match_campaigns([campaign("n2", "ab"), campaign("n1", "ab")], [campaign("r5", "ab")])
    assert list(matches) == ["n1"] and matches["n1"].previous_id == "r5"


def test_without_a_baseline_everything_is_new() -> None:
    diff = compare_runs([campaign("n1", "ab")], None, accounts("a", "b"), None)
    assert diff.changes["n1"].status == NEW and diff.newly_flagged == accounts("a", "b")
    assert not diff.nothing_new


def test_newly_flagged_are_flagged_now_and_not_before() -> None:
    diff = compare_runs([campaign("n1", "abc")], [campaign("n1", "abc")], accounts("a", "b", "c"),
                        accounts("a", "b", "z"))
    assert diff.newly_flagged == accounts("c") and not diff.nothing_new


def test_the_same_run_twice_has_nothing_new() -> None:
    run = [campaign("n1", "abc", 4), campaign("r2", "xy", 1)]
    diff = compare_runs(run, run, accounts("a", "x"), accounts("a", "x"))
    assert diff.nothing_new and diff.ended == ()


member_sets = st.lists(st.frozensets(st.sampled_from("abcdefghij"), min_size=1, max_size=6),
                       max_size=6)


@given(member_sets)
def test_any_run_against_itself_is_all_continuing(sets: list[frozenset[str]]) -> None:
    run = [campaign(f"n{i}", "".join(sorted(s))) for i, s in enumerate(sets)]
    diff = compare_runs(run, run, (), ())
    # identical campaigns may appear twice in a run; each is matched to one of its twins
    assert all(c.status == CONTINUING for c in diff.changes.values())
    assert diff.nothing_new and not diff.ended


@given(member_sets, member_sets)
def test_matching_is_one_to_one_and_above_threshold(now: list[frozenset[str]],
                                                    before: list[frozenset[str]]) -> None:
    current = [campaign(f"n{i}", "".join(sorted(s))) for i, s in enumerate(now)]
    baseline = [campaign(f"o{i}", "".join(sorted(s))) for i, s in enumerate(before)]
    matches = match_campaigns(current, baseline)
    assert len({m.previous_id for m in matches.values()}) == len(matches)
    assert all(m.jaccard >= 0.5 for m in matches.values())
