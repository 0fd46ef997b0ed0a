"""A shopper's recommendations, and a given list (search results, a promotion) reranked, with reasons."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from service import deps, responses
from service.deps import Reader, Ready
from service.errors import documented
from service.schemas import RankRequest, RecommendationsRequest, RecommendationsResponse

router = APIRouter(prefix="/v1", tags=["recommendations"], dependencies=[Reader], responses=documented(401, 422, 503))


@router.post("/recommendations", response_model=RecommendationsResponse)
async def recommendations(body: RecommendationsRequest, request: Request) -> Response:
    """Top k for a shopper (new shoppers get popular items with an honest "popular now" reason), or the top k of
    the new arrivals (`among: new`)."""
    lists = deps.lists(request)
    key = (body.user_id, body.k, body.lang, body.explain, body.style, body.among)
    content = lists.cached(key) or await run_in_threadpool(lists.body, *key)
    return Response(content, media_type="application/json")


@router.post("/rank", response_model=RecommendationsResponse, responses=documented(404))
def rank(body: RankRequest, engine: Ready) -> RecommendationsResponse:
    """The given items (search results, a promotion) reranked for the shopper, with reasons."""
    return responses.ranked(engine, body.user_id, body.item_ids, body.lang, body.explain, body.style)
