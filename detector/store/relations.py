"""What the latest detection says about a handful of accounts: their scores and campaigns.

Used to put a lookup's accounts in context ("are these accounts in a campaign?").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, tuple_

from detector.store.queries import CampaignSummary, _campaign_summary
from detector.store.schema import AccountScoreRow, CampaignMemberRow, CampaignRow, PostRow

CHUNK = 500  # accounts per IN (...) query


@dataclass(frozen=True)
class AccountContext:
    score: float
    flagged: bool
    campaigns: tuple[str, ...]      # best-ranked first


def accounts_context(engine: Engine, detection_id: int,
                     accounts: Sequence[tuple[str, str]]) -> dict[tuple[str, str], AccountContext]:
    """Score, flag and campaigns of each scored account among ``accounts``."""
    found: dict[tuple[str, str], AccountContext] = {}
    with engine.connect() as c:
        for start in range(0, len(accounts), CHUNK):
            chunk = list(accounts[start:start + CHUNK])
            scores = c.execute(select(AccountScoreRow.platform, AccountScoreRow.account_id,
                                      AccountScoreRow.score, AccountScoreRow.flagged).where(
                AccountScoreRow.detection_id == detection_id,
                tuple_(AccountScoreRow.platform, AccountScoreRow.account_id).in_(chunk)))
            member_rows = c.execute(select(CampaignMemberRow.platform, CampaignMemberRow.account_id,
                                           CampaignMemberRow.campaign_id).join(
                CampaignRow, (CampaignRow.detection_id == CampaignMemberRow.detection_id)
                & (CampaignRow.campaign_id == CampaignMemberRow.campaign_id)).where(
                CampaignMemberRow.detection_id == detection_id,
                tuple_(CampaignMemberRow.platform, CampaignMemberRow.account_id).in_(chunk))
                .order_by(CampaignRow.rank))
            memberships: dict[tuple[str, str], list[str]] = {}
            for platform, account_id, campaign_id in member_rows:
                memberships.setdefault((platform, account_id), []).append(campaign_id)
            for platform, account_id, score, flagged in scores:
                key = (platform, account_id)
                found[key] = AccountContext(score, bool(flagged), tuple(memberships.get(key, ())))
    return found


def campaigns_by_id(engine: Engine, detection_id: int, ids: Sequence[str]) -> list[CampaignSummary]:
    """The campaigns with these ids, best-ranked first."""
    if not ids:
        return []
    with engine.connect() as c:
        rows = c.execute(select(CampaignRow.__table__).where(
            CampaignRow.detection_id == detection_id, CampaignRow.campaign_id.in_(list(ids)))
            .order_by(CampaignRow.rank))
        return [_campaign_summary(r) for r in rows]


def count_posts(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(PostRow)).scalar_one())


def data_version(engine: Engine) -> tuple[int, ...]:
    """A marker that changes whenever what a lookup can see changes: posts stored, datasets
    added, completed or deleted (deleting posts means deleting their dataset), the lookup index
    advanced, a detection run stored. Cheap: every part is an index lookup."""
    with engine.connect() as c:
        row = c.exec_driver_sql(
            "SELECT (SELECT MAX(id) FROM posts), (SELECT COUNT(*) FROM datasets), "
            "(SELECT MAX(id) FROM datasets), "
            "(SELECT COUNT(*) FROM datasets WHERE status = 'complete'), "
            "(SELECT MAX(last_post_ref) FROM lookup_state), (SELECT MAX(id) FROM detections)").one()
    return tuple(int(value or 0) for value in row)
