"""What changed between two detection runs: campaigns matched by their members, flagged accounts.

Campaign ids (``n3``, ``r1``) are numbered afresh by every run, so a campaign is followed from
one run to the next by who is in it: the pair with the largest Jaccard index of member sets,
at least ``threshold``, each campaign matched at most once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

Account = tuple[str, str]          # (platform, account_id)
MATCH_THRESHOLD = 0.5
NEW, GROWN, CONTINUING = "new", "grown", "continuing"


@dataclass(frozen=True)
class CampaignSet:
    """A campaign as the comparison sees it: its id in its run, its members, its event count."""

    campaign_id: str
    members: frozenset[Account]
    events: int


@dataclass(frozen=True)
class Match:
    campaign_id: str
    previous_id: str
    jaccard: float


@dataclass(frozen=True)
class Change:
    """A campaign of the current run and what it was in the baseline run (if anything)."""

    campaign_id: str
    status: str                    # NEW, GROWN (more members or more events) or CONTINUING
    size: int
    events: int
    previous_id: str | None = None
    previous_size: int | None = None
    previous_events: int | None = None
    jaccard: float | None = None


@dataclass(frozen=True)
class RunDiff:
    """The current run against a baseline; with no baseline, everything is new."""

    changes: dict[str, Change]     # by current campaign id
    ended: tuple[str, ...]         # baseline campaigns that no current campaign matches
    newly_flagged: frozenset[Account]

    def with_status(self, status: str) -> list[Change]:
        return [c for c in self.changes.values() if c.status == status]

    @property
    def nothing_new(self) -> bool:
        return not self.newly_flagged and all(c.status == CONTINUING for c in self.changes.values())


def jaccard(a: Collection[Account], b: Collection[Account]) -> float:
    """Members in common over members in either; 0 for two empty sets."""
    union = len(set(a) | set(b))
    return len(set(a) & set(b)) / union if union else 0.0


def _candidate_pairs(current: Sequence[CampaignSet],
                     baseline: Sequence[CampaignSet]) -> Iterable[tuple[float, str, str]]:
    """(Jaccard, current id, baseline id) of every pair sharing a member; an index by member
    keeps this linear in memberships rather than quadratic in campaigns."""
    by_member: dict[Account, list[CampaignSet]] = defaultdict(list)
    for old in baseline:
        for member in old.members:
            by_member[member].append(old)
    for new in current:
        shared: dict[str, int] = defaultdict(int)
        sizes: dict[str, int] = {}
        for member in new.members:
            for old in by_member.get(member, ()):
                shared[old.campaign_id] += 1
                sizes[old.campaign_id] = len(old.members)
        for old_id, common in shared.items():
            yield common / (len(new.members) + sizes[old_id] - common), new.campaign_id, old_id


def match_campaigns(current: Sequence[CampaignSet], baseline: Sequence[CampaignSet],
                    threshold: float = MATCH_THRESHOLD) -> dict[str, Match]:
    """Pair current campaigns with baseline campaigns one to one, best overlap first.

    Pairs are taken by decreasing Jaccard (ties by ids, so the answer is deterministic) while
    both sides are free; a pair below ``threshold`` is never taken.
    """
    pairs = sorted((p for p in _candidate_pairs(current, baseline) if p[0] >= threshold),
                   key=lambda p: (-p[0], p[1], p[2]))
    matches: dict[str, Match] = {}
    taken: set[str] = set()
    for score, new_id, old_id in pairs:
        if new_id not in matches and old_id not in taken:
            matches[new_id] = Match(new_id, old_id, score)
            taken.add(old_id)
    return matches


def _change(campaign: CampaignSet, previous: CampaignSet | None, match: Match | None) -> Change:
    if previous is None or match is None:
        return Change(campaign.campaign_id, NEW, len(campaign.members), campaign.events)
    grew = len(campaign.members) > len(previous.members) or campaign.events > previous.events
    return Change(campaign.campaign_id, GROWN if grew else CONTINUING, len(campaign.members),
                  campaign.events, previous.campaign_id, len(previous.members), previous.events,
                  match.jaccard)


def compare_runs(current: Sequence[CampaignSet], baseline: Sequence[CampaignSet] | None,
                 flagged_now: Iterable[Account], flagged_before: Collection[Account] | None,
                 threshold: float = MATCH_THRESHOLD) -> RunDiff:
    """New, grown and continuing campaigns, ended ones, and accounts flagged now but not in the
    baseline. ``baseline=None`` (no earlier run to compare with) makes everything new."""
    old = {c.campaign_id: c for c in baseline or ()}
    matches = match_campaigns(current, list(old.values()), threshold)
    changes = {}
    for campaign in current:
        match = matches.get(campaign.campaign_id)
        changes[campaign.campaign_id] = _change(campaign, old[match.previous_id] if match else None,
                                                match)
    matched = {m.previous_id for m in matches.values()}
    ended = tuple(i for i in old if i not in matched)
    before = set(flagged_before or ())
    return RunDiff(changes, ended, frozenset(a for a in flagged_now if a not in before))
