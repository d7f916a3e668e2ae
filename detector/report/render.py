"""The report as text: an HTML page (Jinja2, autoescaped), a JSON document, two CSV tables.

Post texts, handles and every other stored string are untrusted: the template escapes them all
(autoescape is on and nothing is marked safe), and the page forbids scripts and remote requests
with its Content-Security-Policy.
"""

from __future__ import annotations

import csv
from datetime import datetime
from functools import cache
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, StrictUndefined

from detector.export import spreadsheet_safe
from detector.report.build import CampaignSection, Picture, ReportData
from detector.report.diff import Change
from detector.report.timeline import Series

PAGE_ACCOUNTS = 200          # the page lists this many flagged accounts; the CSV has them all
PAGE_CAMPAIGNS = 50          # ... and this many new (or grown) campaigns
CAMPAIGN_COLUMNS = ("rank", "campaign_id", "status", "previous_id", "kind", "score", "size",
                    "previous_size", "events", "start", "end", "span_seconds", "signals",
                    "representative_text")
ACCOUNT_COLUMNS = ("platform", "account_id", "handle", "score", "threshold", "campaign_id", "new")


def utc(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "-"


def span(seconds: float) -> str:
    """A duration in the unit a reader expects: ``45s``, ``12 min``, ``5.5 h``, ``3.2 days``."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def content(signal: str, key: str) -> str:
    """What a campaign's content is, in words: the reposted post, the link, the hashtags..."""
    match signal:
        case "repost":
            return f"repost of post {key}"
        case "reply":
            return f"replies to post {key}"
        case "hashtags":
            return " ".join(f"#{tag}" for tag in key.split())
        case "link":
            return key
        case _:
            return "near-identical text"


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("detector.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(utc=utc, span=span, content=content)
    return env


def render_html(data: ReportData) -> str:
    return _environment().get_template("report.html").render(
        data=data, run=data.run, accounts_shown=PAGE_ACCOUNTS, campaigns_shown=PAGE_CAMPAIGNS,
        new=data.changes_with("new"), grown=data.changes_with("grown"),
        newly_flagged=data.newly_flagged(), flagged_total=len(data.flagged))


# JSON

def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _series(series: Series | None) -> dict[str, Any] | None:
    if series is None:
        return None
    return {"unit": series.unit, "starts": [_iso(s) for s in series.starts], "counts": list(series.counts)}


def _picture(picture: Picture) -> dict[str, Any]:
    return {"kind": picture.kind, "accounts_shown": picture.accounts_shown,
            "accounts_total": picture.accounts_total,
            "nodes": [{"id": n.id, "kind": n.kind, "score": n.score, "flagged": n.flagged}
                      for n in picture.nodes],
            "edges": [{"source": e.source, "target": e.target, "weight": e.weight} for e in picture.edges]}


def _change(change: Change) -> dict[str, Any]:
    return {"status": change.status, "previous_id": change.previous_id,
            "previous_size": change.previous_size, "previous_events": change.previous_events,
            "jaccard": change.jaccard}


def _section(section: CampaignSection) -> dict[str, Any]:
    return {
        "features": section.features,
        "flagged_members": section.flagged_members,
        "messages": [{"signal": m.signal, "content_key": m.content_key, "text": m.text, "posts": m.posts,
                      "accounts": m.accounts, "first": _iso(m.first), "last": _iso(m.last)}
                     for m in section.messages],
        "evidence_posts": section.evidence_posts,
        "evidence": [{"event": e.event, "signal": e.signal, "platform": e.platform,
                      "account_id": e.account_id, "handle": e.handle, "post_id": e.post_id,
                      "posted_at": _iso(e.posted_at), "delay_s": e.delay_s, "event_size": e.event_size,
                      "similarity": e.similarity, "text": e.text, "url": e.url}
                     for e in section.evidence],
        "timeline": _series(section.timeline),
        "burst": _series(section.burst),
        "network": _picture(section.picture),
        "images": {"timeline": section.timeline_image, "network": section.network_image},
    }


def _run(data: ReportData) -> dict[str, Any]:
    run = data.run
    return {"detection_id": run.detection_id, "created_at": _iso(run.created_at),
            "since": _iso(run.since), "until": _iso(run.until), "counts": run.counts,
            "params": run.params, "versions": run.versions,
            "datasets": [{"id": d.id, "name": d.name, "format": d.format, "status": d.status,
                          "stored": d.stored, "rejected": d.rejected} for d in run.datasets]}


def _baseline(data: ReportData) -> dict[str, Any]:
    b = data.baseline
    return {"since": b.since, "reference": _iso(b.reference), "description": b.describe(),
            "detection_id": b.run.detection_id if b.run else None,
            "created_at": _iso(b.run.created_at) if b.run else None}


def report_json(data: ReportData) -> dict[str, Any]:
    """Everything the page shows, machine-readable, times in ISO 8601 (UTC)."""
    details = {s.summary.campaign_id: _section(s) for s in data.sections}
    newly = data.diff.newly_flagged
    return {
        "generated_at": _iso(data.generated_at),
        "run": _run(data),
        "baseline": _baseline(data),
        "what_is_new": {
            "nothing_new": data.nothing_new,
            "new_campaigns": [c.campaign_id for c, _ in data.changes_with("new")],
            "grown_campaigns": [c.campaign_id for c, _ in data.changes_with("grown")],
            "ended_campaigns": list(data.diff.ended),
            "newly_flagged": len(newly),
        },
        "counts": data.counts(),
        "campaigns": [{"rank": c.rank, "campaign_id": c.campaign_id, "kind": c.kind, "score": c.score,
                       "size": c.size, "start": _iso(c.start), "end": _iso(c.end),
                       "span_seconds": c.span_seconds, "signals": list(c.signals), "events": c.events,
                       "representative_text": c.representative_text,
                       **_change(data.diff.changes[c.campaign_id]),
                       "detail": details.get(c.campaign_id)}
                      for c in data.campaigns],
        "flagged_accounts": [{"platform": a.platform, "account_id": a.account_id, "handle": a.handle,
                              "score": a.score, "threshold": a.threshold, "campaign_id": a.campaign_id,
                              "new": (a.platform, a.account_id) in newly, "explanation": a.explanation}
                             for a in data.flagged],
    }


# CSV

def _row(values: tuple[object, ...]) -> list[object]:
    return [spreadsheet_safe("" if v is None else v) for v in values]


def write_campaigns_csv(data: ReportData, out: TextIO) -> None:
    """One row per campaign of the run, with what it was in the baseline run."""
    writer = csv.writer(out)
    writer.writerow(CAMPAIGN_COLUMNS)
    for c in data.campaigns:
        change = data.diff.changes[c.campaign_id]
        writer.writerow(_row((c.rank, c.campaign_id, change.status, change.previous_id, c.kind,
                              f"{c.score:.4f}", c.size, change.previous_size, c.events,
                              _iso(c.start), _iso(c.end), f"{c.span_seconds:.0f}", ",".join(c.signals),
                              c.representative_text)))


def write_flagged_csv(data: ReportData, out: TextIO) -> None:
    """One row per account flagged for review; ``new`` is true when the baseline did not flag it."""
    writer = csv.writer(out)
    writer.writerow(ACCOUNT_COLUMNS)
    for a in data.flagged:
        new = (a.platform, a.account_id) in data.diff.newly_flagged
        writer.writerow(_row((a.platform, a.account_id, a.handle, f"{a.score:.4f}", f"{a.threshold:.2f}",
                              a.campaign_id, str(new).lower())))
