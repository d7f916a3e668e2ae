"""``cib purge`` (retention) and ``cib privacy`` (pseudonymization keys): argv in, lines out."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from detector.cli_detect import parse_duration
from detector.errors import CibError
from detector.privacy import KEY_VARIABLE, key_from_env, load_key, new_key_file

if TYPE_CHECKING:  # the purge brings the lookup index (numpy): imported where it runs
    from detector.store.retention import PurgeReport

RETENTION_VARIABLE = "CIB_RETENTION_DAYS"

EPILOG_PURGE = """examples:
  cib purge --older-than 90d                 # posts made more than 90 days ago, then detect again
  cib purge --older-than 90d --dry-run       # only count what would go
  CIB_RETENTION_DAYS=90 cib purge            # the retention setting (a number of days)

Removed, in one transaction: posts made before the cutoff and their text-lookup index rows,
accounts left with no post, the rejected-record notes of datasets left with no post, and every
stored detection run (each was made from posts that are now gone; when no post goes, only runs
made before the cutoff). Dataset rows stay (file name, SHA-256, counts). Detection then runs
again on what is left (--no-detect skips it). Reports already written to disk are files:
delete old report folders with the same policy.
"""

EPILOG_PRIVACY = f"""examples:
  cib privacy new-key /etc/cib/pseudonym.key            # 32 random bytes, owner-readable only
  cib ingest dump.jsonl --pseudonymize-key /etc/cib/pseudonym.key
  {KEY_VARIABLE}=/etc/cib/pseudonym.key cib serve       # uploads are pseudonymized too
  cib privacy pseudonym --key /etc/cib/pseudonym.key 12345 @SomeHandle

Keep the key outside the database and its backups: with it, anyone can test whether a named
account is in the data; without it, nobody can. A database holds datasets of one key, or of none.
"""


class BadRetention(CibError, ValueError):
    """A retention period that is not a positive number of days or a duration."""

    code = "bad_retention"


def retention_period(value: str | None, environ: dict[str, str] | None = None) -> timedelta:
    """``--older-than`` (``90d``, ``12h``, or a plain number of days), else ``$CIB_RETENTION_DAYS``."""
    env = os.environ if environ is None else environ
    raw = value if value is not None else env.get(RETENTION_VARIABLE)
    if not raw:
        raise BadRetention(f"say how old posts must be to go: --older-than 90d, or set {RETENTION_VARIABLE}")
    text = raw.strip()
    try:
        period = timedelta(days=float(text)) if text.replace(".", "", 1).isdigit() else parse_duration(text)
    except CibError as exc:
        raise BadRetention(f"retention {raw!r}: {exc}") from None
    if period <= timedelta(0):
        raise BadRetention(f"retention {raw!r} must be longer than zero")
    return period


def describe(report: PurgeReport) -> str:
    verb = "would remove" if report.dry_run else "removed"
    line = (f"{verb} {report.posts} posts made before {report.cutoff:%Y-%m-%d %H:%M} UTC, "
            f"{report.accounts} accounts left with no post and {report.detections} detection runs")
    if not report.dry_run:
        line += f"; {report.lookup_rows} lookup-index rows"
    return line


def cmd_purge(args: argparse.Namespace, engine: Engine) -> int:
    from detector.store.retention import purge_before

    cutoff = datetime.now(UTC) - retention_period(args.older_than)
    report = purge_before(engine, cutoff, dry_run=args.dry_run)
    print(describe(report))
    if report.dry_run or args.no_detect or not (report.posts or report.detections):
        return 0
    from detector.model import load_scorer
    from detector.pipeline import run_detection
    from detector.store.relations import count_posts
    if not count_posts(engine):
        print("no post is left: no detection to run")
        return 0
    detection_id, result = run_detection(engine, scorer=load_scorer(warn=lambda m: print(m, file=sys.stderr)))
    print(f"detection {detection_id}: {result.counts['campaigns']} campaigns, "
          f"{result.counts['flagged']} accounts flagged on what is left")
    return 0


def cmd_new_key(args: argparse.Namespace, _engine: None) -> int:
    key = new_key_file(args.file)
    print(f"wrote a new pseudonymization key to {args.file} (key id {key.key_id}); keep it outside "
          "the database and its backups")
    return 0


def cmd_pseudonym(args: argparse.Namespace, _engine: None) -> int:
    key = load_key(args.key) if args.key else key_from_env()
    if key is None:
        raise CibError(f"give the key: --key FILE or ${KEY_VARIABLE}")
    for value in args.values:
        if value.startswith("@"):
            print(f"{value}\thandle\t{key.handle(args.platform, value)}")
        else:
            print(f"{value}\taccount_id\t{key.account_id(args.platform, value)}")
    return 0


def add_commands(commands: Any, add_db: Any) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    purge = commands.add_parser("purge", help="remove posts older than the retention period",
                                epilog=EPILOG_PURGE, formatter_class=raw)
    purge.add_argument("--older-than", metavar="AGE",
                       help=f"90d, 12h, or a number of days (default: ${RETENTION_VARIABLE})")
    purge.add_argument("--dry-run", action="store_true", help="count what would go, remove nothing")
    purge.add_argument("--no-detect", action="store_true",
                       help="do not run detection again afterwards")
    add_db(purge)
    purge.set_defaults(handler=cmd_purge)

    privacy = commands.add_parser("privacy", help="pseudonymization keys and pseudonyms",
                                  epilog=EPILOG_PRIVACY, formatter_class=raw)
    actions = privacy.add_subparsers(dest="action", required=True, metavar="ACTION")
    new_key = actions.add_parser("new-key", help="write a new random key to FILE")
    new_key.add_argument("file", type=Path, metavar="FILE")
    new_key.set_defaults(handler=cmd_new_key, needs_db=False)
    pseudonym = actions.add_parser("pseudonym", help="the pseudonyms of account ids and @handles")
    pseudonym.add_argument("values", nargs="+", metavar="ID|@HANDLE")
    pseudonym.add_argument("--key", type=Path, metavar="FILE",
                           help=f"the key file (default: ${KEY_VARIABLE})")
    pseudonym.add_argument("--platform", default="twitter",
                           help="platform of the accounts (default: twitter)")
    pseudonym.set_defaults(handler=cmd_pseudonym, needs_db=False)
