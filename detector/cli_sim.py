"""``cib simulate`` and ``cib evaluate``: labeled dumps in, precision and recall out."""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from detector.dumps import WRITABLE, write_dump
from detector.errors import CibError, NoDetection
from detector.store.detections import account_scores, latest_detection

RAW = argparse.RawDescriptionHelpFormatter
SUFFIX = {"twarc2": "jsonl", "v1": "jsonl", "v1-array": "json", "ioarchive": "csv", "coortweet": "csv"}


def cmd_simulate(args: argparse.Namespace, _engine: Engine | None) -> int:
    from detector.simulate import SimulationParams, simulate, write_truth  # only when simulating

    params = SimulationParams(seed=args.seed, accounts=args.accounts, days=args.days,
                              scale=args.scale)
    result = simulate(params)
    args.out.mkdir(parents=True, exist_ok=True)
    dump = args.out / f"simulated-{args.seed}.{SUFFIX[args.format]}.gz"
    with gzip.open(dump, "wt", encoding="utf-8", newline="") as out:
        write_dump(args.format, result.posts, out, result.accounts)
    truth = args.out / f"simulated-{args.seed}.truth.csv"
    with truth.open("w", encoding="utf-8", newline="") as out:
        write_truth(result.truth, out)
    coordinated = sum(t.coordinated for t in result.truth)
    print(f"wrote {dump} ({len(result.posts)} posts, {len(result.accounts)} accounts, "
          f"{coordinated} coordinated) and {truth}")
    return 0


def cmd_evaluate(args: argparse.Namespace, engine: Engine) -> int:
    from detector.simulate import read_truth

    row = latest_detection(engine)
    if row is None:
        raise NoDetection()
    try:
        with args.truth.open(encoding="utf-8", newline="") as stream:
            truth = read_truth(stream)
    except (OSError, ValueError) as exc:
        raise CibError(f"cannot read the ground truth {args.truth}: {exc}") from exc
    flagged = {(s.platform, s.account_id): s.campaign_id
               for s in account_scores(engine, row.id) if s.flagged}
    print(f"detection {row.id} against {args.truth.name}")
    from detector.evaluate import evaluate  # scikit-learn: 2 s to import, only needed here

    print(evaluate(truth, flagged).render())
    return 0


def add_commands(commands: Any, add_db: Any) -> None:
    """Register ``simulate`` and ``evaluate``."""
    sim = commands.add_parser("simulate", help="write a labeled synthetic dump and its ground truth",
                              formatter_class=RAW, epilog="examples:\n  cib simulate --out sim/\n"
                              "  cib simulate --out sim/ --format ioarchive --seed 7 --scale 3\n")
    sim.add_argument("--out", type=Path, required=True, metavar="DIR")
    sim.add_argument("--format", choices=WRITABLE, default="twarc2")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--accounts", type=int, default=2000, help="organic accounts (default 2000)")
    sim.add_argument("--days", type=int, default=7)
    sim.add_argument("--scale", type=float, default=1.0,
                     help="multiplies the number and size of coordinated and crowd scenarios")
    sim.set_defaults(handler=cmd_simulate, needs_db=False)

    ev = commands.add_parser("evaluate", help="score the latest detection against a ground truth",
                             formatter_class=RAW, epilog="examples:\n  cib simulate --out sim/ && "
                             "cib ingest sim/simulated-1.jsonl.gz && cib detect && "
                             "cib evaluate --truth sim/simulated-1.truth.csv\n")
    ev.add_argument("--truth", type=Path, required=True, metavar="CSV",
                    help="platform,account_id,coordinated,scenario,campaign")
    add_db(ev)
    ev.set_defaults(handler=cmd_evaluate)
