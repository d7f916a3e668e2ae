"""``cib detect``, ``campaigns``, ``account``, ``accounts``, ``export``: argv in, text out."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from detector.errors import CibError, NoDetection
from detector.export import FORMATS as EXPORT_FORMATS
from detector.export import build_graph, spreadsheet_safe, write_graph
from detector.link import SIGNALS
from detector.model import MODEL_VARIABLE, DeferredScorer, load_scorer, resolve_scorer
from detector.store.detections import (
    account_evidence,
    account_scores,
    campaign_members,
    latest_detection,
    ranked_campaigns,
    ties,
)

if TYPE_CHECKING:  # detection (networkx, the linking stages) is imported where it runs
    from detector.detect import DetectParams

RAW = argparse.RawDescriptionHelpFormatter
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``10m``, ``2h``, ``1d`` or plain seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise CibError(f"{text!r} is not a duration; write e.g. 30s, 10m or 2h")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_windows(values: list[str], params: DetectParams) -> DetectParams:
    """``--window text=10m,repost=1m`` (or one duration for every signal)."""
    link = params.link
    for chunk in values:
        for item in filter(None, (p.strip() for p in chunk.split(","))):
            signal, sep, duration = item.partition("=")
            if not sep:
                changes = {f"{s}_window": parse_duration(signal) for s in SIGNALS}
                link = replace(link, **changes)  # type: ignore[arg-type]
                continue
            if signal not in SIGNALS:
                raise CibError(f"unknown signal {signal!r} in --window; signals are {', '.join(SIGNALS)}")
            link = replace(link, **{f"{signal}_window": parse_duration(duration)})  # type: ignore[arg-type]
    return replace(params, link=link)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CibError(f"{text!r} is not a date; write e.g. 2024-03-01 or 2024-03-01T18:00") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _latest(engine: Engine) -> int:
    row = latest_detection(engine)
    if row is None:
        raise NoDetection()
    return row.id


def _clip(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def print_campaigns(engine: Engine, detection_id: int, limit: int) -> None:
    rows = ranked_campaigns(engine, detection_id, limit)
    if not rows:
        print("no campaigns: no group of accounts acted together more than chance explains")
        return
    print(f"{'rank':>4} {'id':>6} {'kind':7} {'score':>5} {'size':>5} {'span':>8}  signals / text")
    for r in rows:
        span = r.end - r.start
        print(f"{r.rank:4d} {r.campaign_id:>6} {r.kind:7} {r.score:5.2f} {r.size:5d} "
              f"{_span(span):>8}  {','.join(r.signals)}: {_clip(r.representative_text)}")


def _span(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def cmd_detect(args: argparse.Namespace, engine: Engine) -> int:
    from detector.coortweet import CoortweetParams
    from detector.detect import DetectParams
    from detector.pipeline import run_detection

    params = DetectParams()
    params = replace(params, cluster=replace(params.cluster, seed=args.seed),
                     fingerprint=replace(params.fingerprint, seed=args.seed),
                     similarity=args.similarity)
    params = parse_windows(args.window or [], params)
    if args.preset == "coortweet":
        params = replace(params, preset="coortweet", coortweet=CoortweetParams(
            time_window=args.time_window, min_participation=args.min_participation))
    use_rule = args.rule or args.preset == "coortweet"
    scorer = None if use_rule else DeferredScorer(
        lambda: load_scorer(args.model, lambda m: print(m, file=sys.stderr)))
    if args.engine == "dask":
        detection_id, result = _run_dask(args, engine, params, resolve_scorer(scorer))
    elif args.input:
        raise CibError("--input needs --engine dask; for the local engine load the files with `cib ingest`")
    else:
        detection_id, result = run_detection(engine, params, parse_time(args.since),
                                             parse_time(args.until), scorer, full=args.full,
                                             incremental=args.incremental)
    params = result.params
    counts = result.counts
    print(f"detection {detection_id}: {counts['posts']} posts, {counts['accounts']} accounts, "
          f"{counts['events']} co-action events, {counts['ties']} significant ties, "
          f"{counts['campaigns']} campaigns, {counts['flagged']} accounts flagged "
          f"(score >= {params.score.threshold}, scored by {result.scorer})")
    if args.incremental:             # "incremental: ..." or "full: why" (the local engine)
        print(result.path)
    print_campaigns(engine, detection_id, args.limit)
    return 0


def _run_dask(args: argparse.Namespace, engine: Engine, params: DetectParams,
              scorer: Any) -> tuple[int, Any]:
    from detector.engine_dask import Partitioning, check_inputs, run_detection_dask, session  # dask extra
    check_inputs(args.input or ())  # before starting a cluster
    partitioning = Partitioning(parse_duration(args.partition), max(2, 2 * args.workers))
    with session(args.scheduler, args.workers) as client:
        return run_detection_dask(engine, client, args.input or (), params, partitioning,
                                  parse_time(args.since), parse_time(args.until), scorer)


def cmd_campaigns(args: argparse.Namespace, engine: Engine) -> int:
    detection_id = _latest(engine)
    if args.json:
        rows = ranked_campaigns(engine, detection_id, args.limit)
        print(json.dumps([{"rank": r.rank, "id": r.campaign_id, "kind": r.kind, "score": r.score,
                           "size": r.size, "start": r.start.isoformat(), "end": r.end.isoformat(),
                           "signals": r.signals, "events": r.events, "features": r.features,
                           "representative_text": r.representative_text} for r in rows]))
        return 0
    print_campaigns(engine, detection_id, args.limit)
    return 0


def cmd_account(args: argparse.Namespace, engine: Engine) -> int:
    detection_id = _latest(engine)
    row, evidence = account_evidence(engine, detection_id, args.platform, args.account_id)
    if row is None:
        print(f"{args.platform}:{args.account_id} shows no coordination signal in detection "
              f"{detection_id} (score 0: no significant tie, no campaign)")
        return 0
    verdict = "flagged" if row.flagged else "not flagged"
    print(f"{args.platform}:{args.account_id}  score {row.score:.2f} ({verdict}; threshold "
          f"{row.threshold:.2f})  campaign {row.campaign_id or '-'}")
    print("sub-scores: " + ", ".join(f"{k} {v:.2f}" for k, v in row.subscores.items() if v))
    print("features:   " + ", ".join(f"{k} {v:g}" for k, v in row.features.items()))
    if row.explanation:
        print("pushed most: " + ", ".join(f"{r['feature']} {r['contribution']:+.2f}"
                                          for r in row.explanation))
    if evidence:
        print("evidence (posts of the events it shared; delay after the event's first post):")
    for e in evidence:
        mark = "*" if e.account_id == args.account_id else " "
        similar = f"{e.similarity:4.2f}" if e.similarity is not None else "  - "
        print(f" {mark} {e.campaign_id}#{e.event} {e.signal:8} {e.posted_at:%Y-%m-%d %H:%M:%S} "
              f"+{e.delay_s:6.0f}s sim {similar} {e.account_id:>20} {e.post_id:>20}  "
              f"{_clip(e.text, 50)}")
    return 0


ACCOUNT_COLUMNS = ("platform", "account_id", "score", "flagged", "campaign_id", "threshold")


def cmd_accounts(args: argparse.Namespace, engine: Engine) -> int:
    detection_id = _latest(engine)
    rows = (r for r in account_scores(engine, detection_id) if r.flagged or not args.flagged)
    if args.format == "json":
        print(json.dumps([{c: getattr(r, c) for c in ACCOUNT_COLUMNS} | {"subscores": r.subscores}
                          for r in rows]))
        return 0
    writer = csv.writer(sys.stdout)
    writer.writerow(ACCOUNT_COLUMNS)
    for r in rows:
        values: list[Any] = [r.platform, r.account_id, f"{r.score:.4f}", str(bool(r.flagged)).lower(),
                             r.campaign_id or "", f"{r.threshold:.2f}"]
        writer.writerow([spreadsheet_safe(v) for v in values])
    return 0


def cmd_export(args: argparse.Namespace, engine: Engine) -> int:
    detection_id = _latest(engine)
    graph = build_graph(ties(engine, detection_id), account_scores(engine, detection_id),
                        campaign_members(engine, detection_id))
    out: Path = args.out
    with out.open("wb") as handle:
        write_graph(graph, args.format, handle)
    print(f"wrote {out} ({args.format}): {graph.number_of_nodes()} accounts, "
          f"{graph.number_of_edges()} ties, detection {detection_id}")
    return 0


def add_commands(commands: Any, add_db: Any) -> None:
    """Register the detection commands on the ``cib`` parser."""
    detect = commands.add_parser("detect", help="find campaigns in the stored posts", formatter_class=RAW,
                                 epilog="examples:\n  cib detect\n  cib detect --since 2024-03-01 "
                                        "--window text=5m,repost=30s\n"
                                        "  cib detect --preset coortweet && cib export --format csv "
                                        "--out pairs.csv\n")
    detect.add_argument("--since", help="only posts at or after this UTC time (ISO 8601)")
    detect.add_argument("--until", help="only posts before this UTC time")
    detect.add_argument("--window", action="append", metavar="SIGNAL=DURATION,...",
                        help=f"time windows per signal ({', '.join(SIGNALS)}), e.g. text=10m,repost=1m")
    detect.add_argument("--similarity", type=float, default=0.8,
                        help="near-duplicate text threshold (estimated Jaccard, default 0.8)")
    detect.add_argument("--seed", type=int, default=1, help="MinHash and community detection seed")
    detect.add_argument("--limit", type=int, default=10, help="campaigns to print (default 10)")
    detect.add_argument("--incremental", action="store_true",
                        help="keep a cache of this run's events and pair totals, and when only newer "
                             "posts were added since, update it instead of rerunning on every post")
    detect.add_argument("--full", action="store_true",
                        help="with --incremental: rerun on every post and make the cache anew")
    scoring = detect.add_mutually_exclusive_group()
    scoring.add_argument("--model", type=Path, metavar="FILE",
                         help=f"trained scorer (default: ${MODEL_VARIABLE}, else models/scorer.joblib); "
                              "falls back to the rule, with a warning, when missing or incompatible")
    scoring.add_argument("--rule", action="store_true",
                         help="score with the documented rule even when a trained model exists")
    detect.add_argument("--preset", choices=("default", "coortweet"), default="default",
                        help="coortweet: CooRTweet's co-share rule alone (detect_groups + "
                             "generate_coordinated_network), to compare with its output")
    detect.add_argument("--time-window", type=int, default=10,
                        help="coortweet preset: seconds between two shares (default 10)")
    detect.add_argument("--min-participation", type=int, default=2,
                        help="coortweet preset: shares an account needs (default 2)")
    detect.add_argument("--engine", choices=("local", "dask"), default="local",
                        help="dask: fingerprint and link per time partition on a Dask cluster")
    detect.add_argument("--scheduler", metavar="ADDRESS",
                        help="dask engine: the scheduler (tcp://host:8786); default a local cluster")
    detect.add_argument("--workers", type=int, default=2,
                        help="dask engine: worker processes of the local cluster (default 2)")
    detect.add_argument("--input", type=Path, nargs="+", metavar="FILE",
                        help="dask engine: read posts from these dump or Parquet files (paths every "
                             "worker sees) instead of the database")
    detect.add_argument("--partition", default="1d", metavar="DURATION",
                        help="dask engine: time partition of the posts (default 1d)")
    add_db(detect)
    detect.set_defaults(handler=cmd_detect)

    campaigns = commands.add_parser("campaigns", help="ranked campaigns of the latest detection",
                                    formatter_class=RAW, epilog="examples:\n  cib campaigns\n"
                                    "  cib campaigns --limit 50 --json\n")
    campaigns.add_argument("--limit", type=int, default=20)
    campaigns.add_argument("--json", action="store_true", help="a JSON array")
    add_db(campaigns)
    campaigns.set_defaults(handler=cmd_campaigns)

    account = commands.add_parser("account", help="an account's score, why, and the evidence",
                                  formatter_class=RAW, epilog="examples:\n  cib account 1234567\n"
                                  "  cib account fb_12 --platform facebook\n")
    account.add_argument("account_id", metavar="ID")
    account.add_argument("--platform", default="twitter")
    add_db(account)
    account.set_defaults(handler=cmd_account)

    accounts = commands.add_parser("accounts", help="every scored account, as CSV or JSON",
                                   formatter_class=RAW, epilog="examples:\n  cib accounts --format csv "
                                   "> scores.csv\n  cib accounts --flagged --format json\n")
    accounts.add_argument("--format", choices=("csv", "json"), default="csv")
    accounts.add_argument("--flagged", action="store_true", help="only flagged accounts")
    add_db(accounts)
    accounts.set_defaults(handler=cmd_accounts)

    export = commands.add_parser("export", help="the account graph for Gephi and other tools",
                                 formatter_class=RAW, epilog="examples:\n  cib export --format gexf "
                                 "--out graph.gexf\n  cib export --format csv --out ties.csv\n")
    export.add_argument("--format", choices=EXPORT_FORMATS, required=True)
    export.add_argument("--out", type=Path, required=True, metavar="FILE")
    add_db(export)
    export.set_defaults(handler=cmd_export)
