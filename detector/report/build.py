"""The report as plain data: the run, what is new against a baseline, the top campaigns with
their evidence, timelines and network pictures, the accounts flagged for review.

Pure: every input is a record already read from the store; nothing here touches a file or the
database, so the whole report can be checked on hand-made records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import networkx as nx

from detector.report.diff import NEW, CampaignSet, Change, RunDiff
from detector.report.timeline import Series, bin_times, burst_zoom

if TYPE_CHECKING:
    from detector.store.queries import AccountSummary, CampaignSummary, EvidenceItem, Message
    from detector.store.reports import RunInfo

MAX_NODES = 300          # a network picture shows at most this many accounts, highest scores first


@dataclass(frozen=True)
class Baseline:
    """What "new" is measured against: the run of the last report, or the newest run before a
    moment; ``run`` is None when there is none (then everything is new)."""

    since: str                       # "last" or a duration as given, e.g. "24h"
    reference: datetime | None       # the last report's time, or now minus the duration
    run: RunInfo | None

    def describe(self) -> str:
        if self.since == "last":
            if self.reference is None:
                return "first report on this database: every campaign is new"
            return f"since the last report ({self.reference:%Y-%m-%d %H:%M} UTC)"
        moment = f"{self.reference:%Y-%m-%d %H:%M} UTC" if self.reference else "the start"
        if self.run is None:
            return f"since {moment} ({self.since} ago): no earlier detection, every campaign is new"
        return f"since {moment} ({self.since} ago)"


@dataclass(frozen=True)
class Node:
    id: str                          # "platform:account_id", or "event:N" in an event picture
    kind: str                        # "account" or "event"
    score: float
    flagged: bool


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    weight: float


@dataclass(frozen=True)
class Picture:
    """The network image of a campaign: its accounts and significant ties ("ties"), or, when
    its members share no tie (a relay of single bursts), its accounts linked to the events they
    took part in ("events")."""

    kind: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    accounts_shown: int
    accounts_total: int


@dataclass(frozen=True)
class CampaignInput:
    """What the store gives for one top campaign."""

    summary: CampaignSummary
    features: dict[str, float]
    messages: tuple[Message, ...]
    evidence: tuple[EvidenceItem, ...]
    times: tuple[datetime, ...]          # of every evidence post
    graph: nx.Graph


@dataclass(frozen=True)
class CampaignSection:
    summary: CampaignSummary
    change: Change
    features: dict[str, float]
    messages: tuple[Message, ...]
    evidence: tuple[EvidenceItem, ...]
    evidence_posts: int              # all evidence posts of the campaign (the table shows a sample)
    flagged_members: int
    timeline: Series
    burst: Series | None
    picture: Picture
    timeline_image: str              # paths relative to the report's folder
    network_image: str


@dataclass(frozen=True)
class ReportData:
    generated_at: datetime
    run: RunInfo
    baseline: Baseline
    diff: RunDiff
    campaigns: tuple[CampaignSummary, ...]      # every campaign of the run, by rank
    top: int                                    # how many campaigns the page shows
    sections: tuple[CampaignSection, ...]       # the top ones, in detail (none if nothing new)
    flagged: tuple[AccountSummary, ...]         # every flagged account, highest score first

    @property
    def nothing_new(self) -> bool:
        return self.diff.nothing_new

    def changes_with(self, status: str) -> list[tuple[CampaignSummary, Change]]:
        return [(c, self.diff.changes[c.campaign_id]) for c in self.campaigns
                if self.diff.changes[c.campaign_id].status == status]

    def newly_flagged(self) -> list[AccountSummary]:
        return [a for a in self.flagged if (a.platform, a.account_id) in self.diff.newly_flagged]

    def counts(self) -> dict[str, int]:
        """The numbers a report is remembered by."""
        return {"campaigns": len(self.campaigns), "new": len(self.changes_with(NEW)),
                "grown": len(self.changes_with("grown")), "ended": len(self.diff.ended),
                "flagged": len(self.flagged), "newly_flagged": len(self.diff.newly_flagged),
                "detailed": len(self.sections)}


def campaign_sets(campaigns: Sequence[CampaignSummary],
                  members: dict[str, frozenset[tuple[str, str]]]) -> list[CampaignSet]:
    return [CampaignSet(c.campaign_id, members.get(c.campaign_id, frozenset()), c.events)
            for c in campaigns]


def _node(node: str, data: dict[str, object]) -> Node:
    if data.get("kind") == "event":
        return Node(node, "event", 0.0, False)
    return Node(node, "account", float(data.get("score", 0.0)),  # type: ignore[arg-type]
                bool(data.get("flagged", False)))


def network_picture(graph: nx.Graph, limit: int = MAX_NODES) -> Picture:
    """The campaign graph (``queries.campaign_graph``) to draw: its ``limit`` highest-scored
    accounts, every event node (a relay's bursts, whose accounts have no pairwise tie), and the
    edges among those."""
    nodes = [_node(n, d) for n, d in graph.nodes(data=True)]
    accounts = sorted((n for n in nodes if n.kind == "account"), key=lambda n: (-n.score, n.id))
    events = sorted((n for n in nodes if n.kind == "event"), key=lambda n: n.id)
    kept = events + accounts[:limit]
    ids = {n.id for n in kept}
    edges = sorted(Edge(min(a, b), max(a, b), float(d.get("weight", 1.0)))
                   for a, b, d in graph.edges(data=True) if a in ids and b in ids)
    return Picture("events" if events else "ties", tuple(kept), tuple(edges),
                   min(limit, len(accounts)), len(accounts))


def campaign_section(item: CampaignInput, change: Change) -> CampaignSection:
    s = item.summary
    times = item.times
    image = f"img/campaign-{s.rank:03d}"
    return CampaignSection(
        summary=s, change=change, features=item.features, messages=item.messages,
        evidence=item.evidence, evidence_posts=len(times),
        flagged_members=sum(1 for _, d in item.graph.nodes(data=True) if d.get("flagged")),
        timeline=bin_times(times), burst=burst_zoom(times),
        picture=network_picture(item.graph),
        timeline_image=f"{image}-timeline.png", network_image=f"{image}-network.png")


def build_report(*, generated_at: datetime, run: RunInfo, baseline: Baseline, diff: RunDiff,
                 campaigns: Sequence[CampaignSummary], top: int, details: Sequence[CampaignInput],
                 flagged: Sequence[AccountSummary]) -> ReportData:
    """Assemble the report; ``details`` are the campaigns to show in full (none when nothing is
    new and the short report is enough)."""
    sections = tuple(campaign_section(d, diff.changes[d.summary.campaign_id]) for d in details)
    return ReportData(generated_at, run, baseline, diff, tuple(campaigns), top, sections, tuple(flagged))
