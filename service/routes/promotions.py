"""Promotions: merchants' offers (admin scope to change them), and a campaign's items ranked for a shopper."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ranker.promotions import Promotion
from service import deps
from service.deps import Admin, Reader, Ready
from service.errors import ApiError, documented
from service.schemas import CampaignRequest, PromotionOut, PromotionsIn, PromotionsOut, RecommendationsResponse
from service.shop.promotions import PromotionBook, validated

Campaign = Annotated[str, Path(max_length=100)]
router = APIRouter(prefix="/v1/promotions", tags=["promotions"], responses=documented(422, 503))


def _book(engine) -> PromotionBook:
    if engine.promotions is None:
        raise ApiError(503, "not_ready", "the promotion store is not open yet")
    return engine.promotions


def _listing(promotions: list[Promotion], stored: int = 0) -> PromotionsOut:
    now = time.time()
    out = [PromotionOut(item_id=p.item_id, label=p.label, start=p.start, end=p.end, campaign=p.campaign,
                        percent_off=p.percent, active=p.active(now)) for p in promotions]
    return PromotionsOut(stored=stored, active=sum(p.active for p in out), promotions=out)


@router.put("", response_model=PromotionsOut, dependencies=[Admin], responses=documented(401, 403))
async def put_promotions(body: PromotionsIn, engine: Ready, request: Request) -> PromotionsOut:
    """Store promotions (replacing any with the same item and campaign). Every record is validated first (the
    item exists, the label is short, the dates parse and end after start); one bad record stores nothing and
    the error names it. Active promotions appear in reasons at once ("it is 20% off until …", "限时8折")."""
    book = _book(engine)
    records = [p.model_dump() for p in body.promotions]
    promotions = validated(records, set(engine.ranker.items.index))
    await asyncio.to_thread(book.put, promotions)
    deps.lists(request).forget(None)
    return _listing(promotions, len(promotions))


@router.get("", response_model=PromotionsOut)
def list_promotions(engine: Ready) -> PromotionsOut:
    """Every stored promotion, with whether it is active now."""
    return _listing(_book(engine).all())


@router.delete("/{campaign}", response_model=PromotionsOut, dependencies=[Admin], responses=documented(401, 403))
async def end_campaign(campaign: Campaign, engine: Ready, request: Request) -> PromotionsOut:
    """End a campaign now: its promotions are removed and no reason mentions them again."""
    removed = await asyncio.to_thread(_book(engine).end_campaign, campaign)
    deps.lists(request).forget(None)
    return PromotionsOut(stored=-removed, active=0, promotions=[])


@router.post("/{campaign}/recommendations", response_model=RecommendationsResponse, responses=documented(401, 404),
             dependencies=[Reader])
async def campaign_recommendations(campaign: Campaign, body: CampaignRequest, engine: Ready,
                                   request: Request) -> Response:
    """The campaign's active items ranked for the shopper, with reasons ("you bought 3 Voltmark items, and it is
    20% off until …")."""
    if not _book(engine).campaign_items(campaign):
        raise ApiError(404, "unknown_campaign", f"campaign {campaign!r} has no active promotions")
    lists = deps.lists(request)
    key = (body.user_id, body.k, body.lang, body.explain, body.style, f"campaign:{campaign}")
    content = lists.cached(key) or await run_in_threadpool(lists.body, *key)
    return Response(content, media_type="application/json")
