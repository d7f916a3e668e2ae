"""The ``cib`` command line. Parses argv, calls the library, prints; nothing else."""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine

from detector import store
from detector.cli_detect import add_commands, print_campaigns
from detector.cli_privacy import add_commands as add_privacy_commands
from detector.cli_report import add_commands as add_report_commands
from detector.cli_serve import add_commands as add_service_commands
from detector.cli_sim import add_commands as add_simulation_commands
from detector.cli_train import add_commands as add_training_commands
from detector.errors import CibError
from detector.ingest import FORMATS, load_mapping
from detector.load import IngestOptions, IngestReport, ingest_file
from detector.privacy import KEY_VARIABLE, key_from_env, load_key
from detector.store import URL_VARIABLE, open_database

EPILOG_INGEST = """examples:
  cib ingest tweets.jsonl.gz                      # twarc2, v1.1, archive CSV... sniffed
  cib ingest a.csv --format ioarchive --strict    # stop at the first bad record
  cib ingest posts.csv --map post_id=id,account_id=user,created_at=time,text=body
  cib ingest export.csv --mapping mapping.toml --db postgresql://user@host/cib
"""
EPILOG_STATS = """examples:
  cib stats
  cib stats --json | jq .posts
"""
EPILOG_DEMO = """examples:
  cib demo                    # into ./cib.db
  cib demo --db /tmp/demo.db
"""


def _progress(stream: TextIO) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A records/s bar on a terminal; silent in pipes and files."""
    if not stream.isatty():
        return (lambda _n: None), (lambda: None)
    from tqdm import tqdm

    # a terminal that reports a 0x0 size (ptys of CI runners, `script`) makes tqdm hide the bar
    size = shutil.get_terminal_size((100, 24))
    bar = tqdm(unit=" records", unit_scale=True, file=stream, ncols=size.columns or 100,
               nrows=size.lines or 24, leave=False, mininterval=0.2)
    return bar.update, bar.close


def _warn(message: str) -> None:
    print(message, file=sys.stderr)


def _print_report(report: IngestReport, out: TextIO, err: TextIO) -> None:
    if report.status == "skipped":
        print(f"{report.path.name}: already ingested completely as dataset {report.dataset_id} "
              f"({report.read} records); nothing to do (--force reads it again)", file=out)
        return
    print(f"{report.path.name}: {report.format}, dataset {report.dataset_id} {report.status}: "
          f"read {report.read}, stored {report.stored}, duplicates {report.duplicates}, "
          f"rejected {report.rejected}", file=out)
    for rejected in report.rejections:
        print(f"  rejected: {rejected}", file=err)
    if report.read and report.rejected == report.read:
        print(f"warning: every record of {report.path.name} was rejected; if the format is not "
              f"{report.format}, give the right one with --format", file=err)
    if report.rejected > len(report.rejections):
        print(f"  ... and {report.rejected - len(report.rejections)} more rejected records", file=err)


def cmd_ingest(args: argparse.Namespace, engine: Engine) -> int:
    mapping = None
    if args.map or args.mapping:
        mapping = load_mapping(args.mapping, args.map or (), args.platform, args.time_format)
    key = load_key(args.pseudonymize_key) if args.pseudonymize_key else key_from_env()
    options = IngestOptions(fmt=args.format, mapping=mapping, strict=args.strict, force=args.force,
                            batch_size=args.batch_size, pseudonymizer=key)
    failed = 0
    for path in args.files:
        update, close = _progress(sys.stderr)
        try:
            report = ingest_file(engine, path, options, update)
        except CibError as exc:
            close()
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        close()
        _print_report(report, sys.stdout, sys.stderr)
    return 1 if failed else 0


def _stats_json(engine: Engine) -> dict[str, Any]:
    s = store.stats(engine)
    return {"posts": s.posts, "accounts": s.accounts, "datasets": s.datasets,
            "complete_datasets": s.complete_datasets,
            "first_post": s.first_post.isoformat() if s.first_post else None,
            "last_post": s.last_post.isoformat() if s.last_post else None,
            "platforms": s.platforms}


def cmd_stats(args: argparse.Namespace, engine: Engine) -> int:
    data = _stats_json(engine)
    if args.json:
        print(json.dumps(data))
        return 0
    print(f"posts     {data['posts']}\naccounts  {data['accounts']}\n"
          f"datasets  {data['datasets']} ({data['complete_datasets']} complete)\n"
          f"span      {data['first_post']} .. {data['last_post']}")
    for row in store.datasets(engine):
        print(f"  #{row.id} {row.name} [{row.format}] {row.status}: read {row.read}, "
              f"stored {row.stored}, duplicates {row.duplicates}, rejected {row.rejected}"
              + (f" ({row.error})" if row.error else ""))
    return 0


def demo_dump() -> Path:
    return Path(str(resources.files("detector") / "demo" / "ira_2016-10-06.csv.gz"))


def cmd_demo(args: argparse.Namespace, engine: Engine) -> int:
    from detector.model import load_scorer
    from detector.pipeline import run_detection
    from detector.summary import summarize

    report = ingest_file(engine, demo_dump(), IngestOptions())
    _print_report(report, sys.stdout, sys.stderr)
    print(summarize(store.iter_posts(engine)).render())
    detection_id, result = run_detection(engine, scorer=load_scorer(warn=_warn))
    print(f"\ndetection {detection_id}: {result.counts['campaigns']} campaigns, "
          f"{result.counts['flagged']} accounts flagged; the top ones:")
    print_campaigns(engine, detection_id, 5)
    print("\nnext: cib campaigns, cib account ID, cib accounts --format csv, "
          "cib export --format gexf --out g.gexf")
    return 0


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL|FILE",
                        help=f"SQLAlchemy URL or SQLite file (default: ${URL_VARIABLE}, else ./cib.db)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cib", description=(
        "Detect coordinated posting in social-media dumps. Reports coordination signals with "
        "evidence, not verdicts about people."))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    ingest = commands.add_parser("ingest", help="read dump files into the database",
                                 epilog=EPILOG_INGEST, formatter_class=raw)
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="dump files; .gz and .zip are opened transparently")
    ingest.add_argument("--format", choices=FORMATS, help="skip sniffing and read as this format")
    ingest.add_argument("--map", action="append", metavar="FIELD=COLUMN,...",
                        help="column mapping for any other CSV (post_id, account_id, created_at "
                             "required; text, handle, repost_of, urls, hashtags... optional)")
    ingest.add_argument("--mapping", type=Path, metavar="FILE",
                        help="mapping file (TOML or JSON): [columns], platform, time_format")
    ingest.add_argument("--platform", help="platform name for a mapped CSV (default: generic)")
    ingest.add_argument("--time-format", choices=("auto", "iso", "unix", "unix_ms", "twitter"),
                        help="time column format for a mapped CSV (default: auto)")
    ingest.add_argument("--strict", action="store_true",
                        help="refuse the file at its first bad record (default: count and skip)")
    ingest.add_argument("--force", action="store_true",
                        help="read a file again even if it was ingested completely before")
    ingest.add_argument("--pseudonymize-key", type=Path, metavar="FILE",
                        help="replace account ids and handles by keyed pseudonyms, with the key in "
                             f"FILE (default: ${KEY_VARIABLE}; make one with `cib privacy new-key`)")
    ingest.add_argument("--batch-size", type=int, default=10_000, help=argparse.SUPPRESS)
    _add_db(ingest)
    ingest.set_defaults(handler=cmd_ingest)

    stats = commands.add_parser("stats", help="what the database holds", epilog=EPILOG_STATS,
                                formatter_class=raw)
    stats.add_argument("--json", action="store_true",
                       help="one JSON object with posts, accounts, datasets, ...")
    _add_db(stats)
    stats.set_defaults(handler=cmd_stats)

    add_commands(commands, _add_db)
    add_report_commands(commands, _add_db)
    add_simulation_commands(commands, _add_db)
    add_service_commands(commands, _add_db)
    add_training_commands(commands, _add_db)
    add_privacy_commands(commands, _add_db)

    demo = commands.add_parser("demo", help="ingest the bundled demo dump, detect, show the campaigns",
                               epilog=EPILOG_DEMO, formatter_class=raw)
    _add_db(demo)
    demo.set_defaults(handler=cmd_demo)
    return parser


# A run holds millions of long-lived objects (posts, events, pair totals, an incremental cache);
# at Python's default thresholds (700, 10, 10) the cyclic collector walks them all again and
# again: 5-25% of `cib ingest` and `cib detect` (measured on the month and bursty dumps; our
# objects make no cycles, so this only delays collecting other libraries' few).
GC_THRESHOLDS = (50_000, 20, 100)


def main(argv: Sequence[str] | None = None) -> int:
    gc.set_threshold(*GC_THRESHOLDS)
    args = build_parser().parse_args(argv)
    try:
        engine = open_database(args.db) if getattr(args, "needs_db", True) else None
        return int(args.handler(args, engine))
    except CibError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the dataset is marked interrupted; run the same command again to "
              "redo it", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cib ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
