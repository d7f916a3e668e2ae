"""``cib report``: argv in, a report folder out, one line printed."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from detector.cli_detect import RAW, parse_duration
from detector.errors import CibError

if TYPE_CHECKING:   # the report pulls in matplotlib: imported when a report is made
    from detector.report.make import Written

EPILOG = """examples:
  cib report --out report/                       # what is new since the last report
  cib report --since 24h --out report/           # ... since the newest detection a day ago
  cib report --since-last --out '/var/lib/cib/reports/{date}'   # a dated folder, for cron
  cib report --top 50 --full --out report/ --db postgresql://cib@db/cib

--out may hold {date} (YYYY-MM-DD) and {time} (HHMMSS), in the machine's local time like the
folders people name by hand (the page itself gives every time in UTC); cron and systemd would
need % escaped to expand dates themselves. The folder gets index.html (open it in a browser: it
loads nothing from any other host), img/*.png, report.json, campaigns.csv and flagged_accounts.csv.
"""


class BadOutputPath(CibError, ValueError):
    """An --out with a placeholder other than {date} and {time}."""

    code = "bad_output_path"


def expand_out(template: str, now: datetime) -> Path:
    """``reports/{date}`` -> ``reports/2026-11-23``, in the machine's local time."""
    moment = now.astimezone()
    try:
        return Path(template.format(date=f"{moment:%Y-%m-%d}", time=f"{moment:%H%M%S}"))
    except (KeyError, IndexError, ValueError) as exc:
        raise BadOutputPath(f"--out {template!r} has an unknown placeholder ({exc}); only {{date}} and "
                            "{time} are filled in") from exc


def _summary(written: Written) -> str:
    data = written.data
    counts = data.counts()
    head = f"wrote {written.out / 'index.html'}: detection {data.run.detection_id}, "
    if data.nothing_new:
        return head + f"nothing new {data.baseline.describe()} (report {written.report_id})"
    return head + (f"{counts['campaigns']} campaigns ({counts['new']} new, {counts['grown']} grew), "
                   f"{counts['flagged']} accounts flagged for review ({counts['newly_flagged']} newly); "
                   f"{counts['detailed']} drawn in detail (report {written.report_id})")


def cmd_report(args: argparse.Namespace, engine: Engine) -> int:
    now = datetime.now(UTC)
    if args.top < 1:
        raise CibError(f"--top {args.top}: give 1 or more")
    from detector.report.make import ReportOptions, make_report

    since = parse_duration(args.since) if args.since else None
    options = ReportOptions(out=expand_out(args.out, now), since=since,
                            since_label=args.since.strip() if args.since else "last",
                            top=args.top, full=args.full)
    written = make_report(engine, options, now)
    print(_summary(written))
    if args.timings:
        print(json.dumps(written.timings.seconds), file=sys.stderr)
    return 0


def add_commands(commands: Any, add_db: Any) -> None:
    """Register ``cib report`` on the ``cib`` parser."""
    report = commands.add_parser("report", formatter_class=RAW, epilog=EPILOG,
                                 help="a self-contained HTML report (plus JSON and CSV) of what is new")
    report.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write into, created; {date} and {time} are filled in "
                             "(local time)")
    since = report.add_mutually_exclusive_group()
    since.add_argument("--since-last", action="store_true",
                       help="new since the run the last report showed (the default; the first "
                            "report finds everything new)")
    since.add_argument("--since", metavar="DURATION",
                       help="new since the newest detection older than this, e.g. 24h, 7d, 90m")
    report.add_argument("--top", type=int, default=20,
                        help="campaigns drawn in detail: timeline, network, evidence (default 20)")
    report.add_argument("--full", action="store_true",
                        help="draw the top campaigns even when nothing is new (default: a short report)")
    report.add_argument("--timings", action="store_true", help=argparse.SUPPRESS)  # for bench/
    add_db(report)
    report.set_defaults(handler=cmd_report)
