"""Lookup: "is this message being relayed?": near-duplicate posts, their accounts, campaigns."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import Engine

from api.auth import DB, Reader
from api.routes.common import cached, errors
from api.schemas import Campaign, LookupAccount, LookupMatch, LookupRequest, LookupResult
from detector.store import queries, relations
from detector.store.detections import latest_detection
from detector.store.lookup import find_similar

router = APIRouter(prefix="/v1/lookup", tags=["lookup"])


@router.post("", response_model=LookupResult, responses=errors(400),
             summary="Is this message being relayed? Near-duplicate posts already seen")
def lookup(request: LookupRequest, http: Request, _key: Reader, engine: DB) -> LookupResult:
    """Finds stored posts whose text is a near-duplicate of `text` (same MinHash fingerprint as
    detection: character 5-grams of the normalized text, similarity at least 0.8), the accounts
    that posted them with their scores, and the campaigns those accounts belong to."""
    snapshot = relations.data_version(engine)
    return cached(http, (request.text, request.since, request.until, request.limit, snapshot),
                  lambda: _lookup(request, engine))


def _lookup(request: LookupRequest, engine: Engine) -> LookupResult:
    found = find_similar(engine, request.text, since=request.since, until=request.until,
                         limit=request.limit)
    latest = latest_detection(engine)
    keys = [(a.platform, a.account_id) for a in found.accounts]
    context = relations.accounts_context(engine, latest.id, keys) if latest else {}
    accounts = [LookupAccount.model_validate(a).model_copy(update=_scored(context.get(
        (a.platform, a.account_id)))) for a in found.accounts]
    campaign_ids = list(dict.fromkeys(c for a in accounts for c in a.campaigns))
    campaigns = relations.campaigns_by_id(engine, latest.id, campaign_ids) if latest else []
    matches = [LookupMatch.model_validate(m).model_copy(update={
        "url": queries.post_url(m.platform, m.handle, m.post_id)}) for m in found.matches]
    return LookupResult(relayed=bool(campaigns), total_matches=found.total_matches,
                        matches=matches, accounts=accounts, total_accounts=found.total_accounts,
                        campaigns=[Campaign.model_validate(c) for c in campaigns],
                        candidates_checked=found.candidates_checked, truncated=found.truncated,
                        unindexed_posts=found.unindexed_posts,
                        detection_id=latest.id if latest else None)


def _scored(context: relations.AccountContext | None) -> dict[str, object]:
    if context is None:
        return {}
    return {"score": context.score, "flagged": context.flagged, "campaigns": list(context.campaigns)}
