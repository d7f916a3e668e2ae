"""Accounts: the score of one, and why; lists filtered by score and campaign."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from api.auth import DB, Reader
from api.errors import not_found
from api.routes.common import NO_NUL, Limit, Offset, cached, detection_id, errors
from api.schemas import Account, AccountDetail, Page
from detector.store import queries

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.get("", response_model=Page[Account], responses=errors(),
            summary="Scored accounts, highest score first")
def list_accounts(request: Request, _key: Reader, engine: DB,
                  min_score: Annotated[float | None, Query(ge=0, le=1, description=(
                      "Only accounts scoring at least this."))] = None,
                  campaign: Annotated[str | None, Query(max_length=32, pattern=NO_NUL, description=(
                      "Only members of this campaign, e.g. C1."))] = None,
                  flagged: Annotated[bool | None, Query(description=(
                      "true: only flagged accounts; false: only the others."))] = None,
                  sort: Annotated[Literal["-score", "score", "account_id", "-account_id"], Query(
                      description="Order; a leading - means descending.")] = "-score",
                  limit: Limit = 50, offset: Offset = 0) -> Page[Account]:
    """Accounts of the latest detection with their coordination scores (signals of coordination
    with evidence, not verdicts about people)."""
    detection = detection_id(engine)
    return cached(request, (detection, min_score, campaign, flagged, sort, limit, offset),
                  lambda: Page[Account].model_validate(queries.list_accounts(
                      engine, detection, min_score=min_score, campaign=campaign, flagged=flagged,
                      sort=sort, limit=limit, offset=offset)))


@router.get("/{platform}/{account_id}", response_model=AccountDetail, responses=errors(404),
            summary="One account: score, sub-scores, campaigns and evidence posts")
def get_account(request: Request, _key: Reader, engine: DB,
                platform: Annotated[str, Path(max_length=32, pattern=NO_NUL, examples=["twitter"],
                                              description=("The platform, as in the account lists "
                                                           "(twitter for tweet dumps)."))],
                account_id: Annotated[str, Path(max_length=128, pattern=NO_NUL, examples=["2882331822"],
                                                description="The account's id on its platform (not "
                                                "its handle).")],
                evidence_limit: Annotated[int, Query(ge=0, le=1000, description=(
                    "How many of its events to show as evidence (earliest first)."))] = 10,
                partners: Annotated[int, Query(ge=0, le=100, description=(
                    "Other accounts' posts shown per event, besides its own."))] = 5) -> AccountDetail:
    """The account's score in [0, 1], the threshold it is judged by, its sub-scores, the campaigns
    it belongs to, and the posts that tie it to other accounts (with times and links)."""
    detection = detection_id(engine)

    def compute() -> AccountDetail | None:
        detail = queries.account_detail(engine, detection, platform, account_id, evidence_limit,
                                        partners)
        if detail is None:
            return None
        return AccountDetail.model_validate(detail).model_copy(update={"detection_id": detection})

    answer = cached(request, (detection, evidence_limit, partners), compute)
    if answer is None:
        raise not_found("account", f"{platform}/{account_id}")
    return answer
