"""Why an item for a shopper: one pair, a batch, or a live stream of the sentence being written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from service import deps, responses
from service.deps import Reader, Ready
from service.errors import ApiError, documented
from service.schemas import BatchRequest, BatchResponse, ExplanationRequest, ExplanationResponse, PairRequest
from service.settings import Settings

router = APIRouter(prefix="/v1/explanations", tags=["explanations"], dependencies=[Reader],
                   responses=documented(401, 404, 422, 503))


@router.post("", response_model=ExplanationResponse, responses=documented(403))
async def explanation(body: ExplanationRequest, engine: Ready, request: Request,
                      authorization: Annotated[str | None, Header()] = None) -> ExplanationResponse:
    """Why this item for this shopper: attribution, facts and the reason sentence. With `counterfactual: true`
    (admin token: it lists the shopper's actions), also the fewest actions without which the item would leave the
    shopper's top k, the item that would take its place, and the check of each reason that names an action."""
    if body.counterfactual:
        await deps.admin(request, authorization)
    return await asyncio.to_thread(responses.explanation, engine, body.user_id, body.item_id, body.lang, body.style,
                                   body.mode, body.counterfactual)


@router.post("/batch", response_model=BatchResponse, responses=documented(413))
def batch(body: BatchRequest, engine: Ready, settings: Annotated[Settings, Depends(deps.settings)]) -> BatchResponse:
    """Up to `batch_max` (user, item) pairs in one call."""
    if len(body.pairs) > settings.batch_max:
        raise ApiError(413, "batch_too_large", f"{len(body.pairs)} pairs; at most {settings.batch_max} per request")
    engine.ranker.item_indices([p.item_id for p in body.pairs])
    return BatchResponse(results=[responses.explanation(engine, p.user_id, p.item_id, p.lang, p.style, p.mode)
                                  for p in body.pairs])


@router.post("/stream", responses={200: {"content": {"text/event-stream": {}}}, **documented(401, 403)})
async def stream(body: PairRequest, engine: Ready, request: Request,
                 raw: Annotated[bool, Query(description="Editors: also send the model's unverified pieces as `token` "
                                                        "events (admin token required).")] = False,
                 authorization: Annotated[str | None, Header()] = None) -> EventSourceResponse:
    """Server-Sent Events: `facts`, then `progress` events as the model writes, then `final` (the verified
    text, or the template fallback with `fallback_used: true`). A shopper only ever receives verified text."""
    if raw:
        await deps.admin(request, authorization)
    engine.ranker.item_indices([body.item_id])

    def events() -> Iterator[ServerSentEvent]:
        for kind, data in responses.stream_events(engine, body.user_id, body.item_id, body.lang, body.style, raw):
            yield ServerSentEvent(data=json.dumps(data, ensure_ascii=False), event=kind)

    return EventSourceResponse(events(), headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
                               ping=15)
