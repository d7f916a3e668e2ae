"""What to simulate, and the names and units every part of the simulator shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

PLATFORM = "twitter"
COORDINATED_KINDS = ("relay", "paraphrase_ring", "corepost_ring", "link_push", "hashtag_push",
                     "slow_ring", "reply_ring")
CROWD_KINDS = ("famous_quote", "live_event", "share_button", "viral_cascade")  # label priority on ties
ORGANIC_KINDS = ("background", *CROWD_KINDS)
TRUTH_HEADER = ("platform", "account_id", "coordinated", "scenario", "campaign")

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True)
class SimulationParams:
    """What to simulate; ``scale`` multiplies both the number and the size of scenarios."""

    seed: int = 1
    accounts: int = 2000            # organic accounts (coordinated accounts are added on top)
    days: int = 7
    posts_per_account: float = 8.0  # mean organic background posts per account over the period
    scale: float = 1.0              # multiplies the number and size of scenarios
    start: datetime = datetime(2024, 3, 1, tzinfo=UTC)
