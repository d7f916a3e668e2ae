"""Campaigns: the ranked list, one campaign in detail, its graph for Gephi and the browser."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.auth import DB, Reader
from api.errors import not_found
from api.routes.common import Limit, Offset, cached, detection_id, errors
from api.schemas import Campaign, CampaignDetail, Page
from detector.export import write_graph
from detector.store import queries

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])
CampaignId = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9_.-]+$",
                                 description="As listed, e.g. C1.", examples=["C1"])]
GRAPH_TYPES = {"gexf": "application/gexf+xml", "graphml": "application/graphml+xml",
               "json": "application/json"}


@router.get("", response_model=Page[Campaign], responses=errors(),
            summary="Campaigns ranked by score")
def list_campaigns(request: Request, _key: Reader, engine: DB,
                   min_score: Annotated[float | None, Query(ge=0, le=1, description=(
                       "Only campaigns scoring at least this."))] = None,
                   min_size: Annotated[int | None, Query(ge=1, le=10_000_000, description=(
                       "Fewest accounts."))] = None,
                   signal: Annotated[Literal["text", "repost", "link", "reply", "hashtags"] | None,
                                     Query(description="Only campaigns with this signal.")] = None,
                   kind: Annotated[Literal["network", "relay"] | None, Query(description=(
                       "network: accounts tied by repeated co-action; relay: one text, one burst."))] = None,
                   sort: Annotated[Literal["-score", "score", "rank", "-rank", "-size", "size",
                                           "start", "-start"], Query(description=(
                       "Order; a leading - means descending."))] = "-score",
                   limit: Limit = 50, offset: Offset = 0) -> Page[Campaign]:
    """Campaigns of the latest detection: size, span, signals and representative text."""
    detection = detection_id(engine)
    return cached(request, (detection, min_score, min_size, signal, kind, sort, limit, offset),
                  lambda: Page[Campaign].model_validate(queries.list_campaigns(
                      engine, detection, min_score=min_score, min_size=min_size, signal=signal,
                      kind=kind, sort=sort, limit=limit, offset=offset)))


@router.get("/{campaign_id}", response_model=CampaignDetail, responses=errors(404),
            summary="One campaign: members, messages, timeline, evidence")
def get_campaign(request: Request, _key: Reader, engine: DB, campaign_id: CampaignId,
                 members_limit: Annotated[int, Query(ge=0, le=500, description=(
                     "Members per page, highest score first."))] = 100,
                 members_offset: Annotated[int, Query(ge=0, le=10_000_000, description=(
                     "Members to skip."))] = 0,
                 evidence_limit: Annotated[int, Query(ge=0, le=500, description=(
                     "Evidence posts per page."))] = 50,
                 evidence_offset: Annotated[int, Query(ge=0, le=10_000_000, description=(
                     "Evidence posts to skip."))] = 0,
                 messages_limit: Annotated[int, Query(ge=0, le=200, description=(
                     "How many of the contents it pushed to list."))] = 20,
                 bucket: Annotated[Literal["minute", "hour", "day"] | None, Query(description=(
                     "Timeline resolution; by default minutes for spans up to 6 h, else hours."
                 ))] = None) -> CampaignDetail:
    """Members with their scores, the messages it pushed, posts per minute or hour, and a page
    of evidence posts with links."""
    detection = detection_id(engine)

    def compute() -> CampaignDetail | None:
        detail = queries.campaign_detail(
            engine, detection, campaign_id, members_limit=members_limit,
            members_offset=members_offset, evidence_limit=evidence_limit,
            evidence_offset=evidence_offset, messages_limit=messages_limit, bucket=bucket)
        if detail is None:
            return None
        return CampaignDetail.model_validate(detail).model_copy(update={"detection_id": detection})

    answer = cached(request, (detection, members_limit, members_offset, evidence_limit,
                              evidence_offset, messages_limit, bucket), compute)
    if answer is None:
        raise not_found("campaign", campaign_id)
    return answer


@router.get("/{campaign_id}/graph", responses=errors(404) | {200: {
    "description": "The graph file.", "content": {t: {} for t in GRAPH_TYPES.values()}}},
    summary="The campaign's account graph (GEXF, GraphML or JSON)", response_class=Response)
def get_campaign_graph(request: Request, _key: Reader, engine: DB, campaign_id: CampaignId,
                       format: Annotated[Literal["gexf", "graphml", "json"], Query(
                           description="gexf or graphml for Gephi, json (node-link) for the browser."
                       )] = "gexf") -> Response:
    """Accounts as nodes (score, flagged, campaigns), significant ties among them as weighted
    edges (weight, number of shared contents, signals)."""
    detection = detection_id(engine)

    def compute() -> bytes | None:
        graph = queries.campaign_graph(engine, detection, campaign_id)
        if graph is None:
            return None
        out = io.BytesIO()
        write_graph(graph, format, out)
        return out.getvalue()

    content = cached(request, (detection, format), compute)
    if content is None:
        raise not_found("campaign", campaign_id)
    name = f"campaign-{campaign_id}-detection-{detection}.{format}"
    return Response(content, media_type=GRAPH_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
