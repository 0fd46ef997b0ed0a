"""Search: a query in Chinese or English, results by meaning, re-ranked for the shopper, each with reasons."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from service.deps import Reader, Ready
from service.errors import documented
from service.schemas import SearchRequest, SearchResponse
from service.search import search as search_items

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[Reader], responses=documented(401, 409, 422, 503))


@router.post("/search", response_model=SearchResponse)
async def search(body: SearchRequest, engine: Ready) -> SearchResponse:
    """The k items that best answer the query for this shopper. A Chinese query finds English-titled items and
    the reverse (one multilingual text space). With `user_id`, the matches are re-ranked by the ranker, and each
    reason says which part is the search ("matches your search for …") and which is the shopper's own history;
    without it (anonymous) the match orders the results and is the only reason."""
    return await run_in_threadpool(search_items, engine, body.query, body.user_id, body.k, body.lang, body.explain,
                                   body.style)
