"""``cib train``: simulate labeled dumps, fit the scorer, write it and its model card."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EPILOG = """examples:
  cib train                       # the shipped model: models/scorer.joblib and scorer.json
  cib train --quick --out /tmp/m  # a small run that checks the whole path in seconds
"""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_train(args: argparse.Namespace, _engine: object) -> int:
    from detector.train import QUICK, Plan, save, train  # scikit-learn: imported when used

    scorer, card = train(QUICK if args.quick else Plan(), _say)
    path = save(scorer, card, args.out)
    pooled = card["held_out"]["pooled"]
    model, rule = pooled["model"], pooled["rule"]
    print(f"wrote {path} and {path.with_suffix('.json').name} in {card['training_seconds']} s; "
          f"threshold {card['threshold']['value']}")
    print(f"held-out: model F1 {model['f1']:.4f} (organic FPR {model['organic_fpr']:.4f}), "
          f"rule F1 {rule['f1']:.4f} (organic FPR {rule['organic_fpr']:.4f}); "
          f"gain {pooled['f1_gain']:+.4f}")
    return 0


def add_commands(commands: Any, _add_db: Any) -> None:
    """Register ``cib train`` on the ``cib`` parser."""
    parser = commands.add_parser("train", help="train the scorer on simulated dumps; write the model card",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("models"),
                        help="directory for scorer.joblib and scorer.json (default: models)")
    parser.add_argument("--quick", action="store_true",
                        help="four small dumps instead of thirteen: checks the path, not a model to ship")
    parser.set_defaults(handler=cmd_train, needs_db=False)
