"""Make a report: read the store, build the report data, draw, write the folder, remember it.

The one place that joins the report's stages, as ``pipeline.py`` does for detection.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from detector.errors import NoDetection
from detector.report.build import Baseline, CampaignInput, ReportData, build_report, campaign_sets
from detector.report.diff import RunDiff, compare_runs
from detector.report.plots import Plotter
from detector.report.render import render_html, report_json, write_campaigns_csv, write_flagged_csv
from detector.store.queries import CampaignSummary, campaign_detail, campaign_graph
from detector.store.reports import (
    RunInfo,
    all_campaigns,
    evidence_sample,
    evidence_times,
    flagged_accounts,
    flagged_keys,
    last_report,
    latest_run,
    member_sets,
    record_report,
    run_before,
    run_info,
)

MESSAGES = 5                 # contents shown per campaign ("what it pushed")
IMAGES = "img"


@dataclass(frozen=True)
class ReportOptions:
    out: Path
    since: timedelta | None = None     # None: since the last report
    since_label: str = "last"          # how the user wrote it, kept with the report
    top: int = 20
    full: bool = False                 # draw the top campaigns even when nothing is new


@dataclass
class Timings:
    """Seconds spent per stage, for ``bench/bench_report.py``."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


@dataclass(frozen=True)
class Written:
    report_id: int
    out: Path
    data: ReportData
    timings: Timings


def resolve_baseline(engine: Engine, since: timedelta | None, label: str, now: datetime) -> Baseline:
    """The run of the last report (``since=None``), or the newest run before ``now - since``."""
    if since is None:
        last = last_report(engine)
        if last is None:
            return Baseline("last", None, None)
        return Baseline("last", last.created_at, run_info(engine, last.detection_id))
    reference = now - since
    return Baseline(label, reference, run_before(engine, reference))


def compare(engine: Engine, run: RunInfo, campaigns: list[CampaignSummary],
            baseline: RunInfo | None) -> RunDiff:
    """The run against the baseline run: campaigns matched by members, newly flagged accounts."""
    current = campaign_sets(campaigns, member_sets(engine, run.detection_id))
    if baseline is None:
        return compare_runs(current, None, flagged_keys(engine, run.detection_id), None)
    before = campaign_sets(all_campaigns(engine, baseline.detection_id),
                           member_sets(engine, baseline.detection_id))
    return compare_runs(current, before, flagged_keys(engine, run.detection_id),
                        flagged_keys(engine, baseline.detection_id))


def campaign_inputs(engine: Engine, detection_id: int,
                    campaigns: list[CampaignSummary]) -> list[CampaignInput]:
    """Everything the page shows of each of ``campaigns``."""
    times = evidence_times(engine, detection_id, [c.campaign_id for c in campaigns])
    found = []
    for c in campaigns:
        detail = campaign_detail(engine, detection_id, c.campaign_id, members_limit=0, evidence_limit=0,
                                 messages_limit=MESSAGES)
        graph = campaign_graph(engine, detection_id, c.campaign_id)
        assert detail is not None and graph is not None   # the campaign was just listed
        found.append(CampaignInput(c, detail.features, detail.messages,
                                   evidence_sample(engine, detection_id, c.campaign_id),
                                   tuple(times[c.campaign_id]), graph))
    return found


def gather(engine: Engine, options: ReportOptions, now: datetime, timings: Timings) -> ReportData:
    """Read what the report needs and build it."""
    with timings.stage("queries"):
        run = latest_run(engine)
        if run is None:
            raise NoDetection()
        baseline = resolve_baseline(engine, options.since, options.since_label, now)
        campaigns = all_campaigns(engine, run.detection_id)
        diff = compare(engine, run, campaigns, baseline.run)
        detailed = campaigns[:options.top] if options.full or not diff.nothing_new else []
        inputs = campaign_inputs(engine, run.detection_id, detailed)
        flagged = flagged_accounts(engine, run.detection_id)
    with timings.stage("build"):
        return build_report(generated_at=now, run=run, baseline=baseline, diff=diff, campaigns=campaigns,
                            top=options.top, details=inputs, flagged=flagged)


def _save(path: Path, content: bytes) -> None:
    """Write through a temporary file, so a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def draw(data: ReportData, out: Path) -> None:
    """The PNGs of every detailed campaign, into ``out/img``; older ones there are removed."""
    images = out / IMAGES
    images.mkdir(parents=True, exist_ok=True)
    for old in images.glob("campaign-*.png"):
        old.unlink()
    plotter = Plotter()
    for section in data.sections:
        _save(out / section.timeline_image, plotter.timeline(section.timeline, section.burst))
        _save(out / section.network_image, plotter.network(section.picture))


def _csv(write_rows: Callable[[ReportData, TextIO], None], data: ReportData) -> bytes:
    text = io.StringIO(newline="")
    write_rows(data, text)
    return text.getvalue().encode("utf-8-sig")   # with a BOM, spreadsheets read UTF-8 as UTF-8


def write(data: ReportData, out: Path) -> None:
    """index.html, report.json, campaigns.csv and flagged_accounts.csv into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    _save(out / "campaigns.csv", _csv(write_campaigns_csv, data))
    _save(out / "flagged_accounts.csv", _csv(write_flagged_csv, data))
    _save(out / "report.json", json.dumps(report_json(data), ensure_ascii=False).encode())
    _save(out / "index.html", render_html(data).encode())   # last: the page comes once all is there


def make_report(engine: Engine, options: ReportOptions, now: datetime | None = None) -> Written:
    """Write the report folder and remember the report in the database."""
    now = now or datetime.now(UTC)
    timings = Timings()
    data = gather(engine, options, now, timings)
    out = options.out.expanduser().resolve()
    with timings.stage("plots"):
        draw(data, out)
    with timings.stage("writing"):
        write(data, out)
        report_id = record_report(engine, detection_id=data.run.detection_id,
                                  baseline_detection_id=data.baseline.run.detection_id
                                  if data.baseline.run else None,
                                  since=options.since_label, out_dir=str(out), counts=data.counts(),
                                  created_at=now)
    return Written(report_id, out, data, timings)
