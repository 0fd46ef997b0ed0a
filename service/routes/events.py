"""Shopper events from the shop's backend, and feedback on a reason: stored durably in the event store, then
applied to the shopper's state before the answer (`service.shop.live`)."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request

from service.deps import EventsScope, Ready
from service.errors import ApiError, documented
from service.schemas import EventsRequest, EventsResponse, FeedbackRequest, FeedbackResponse, Problem
from service.shop.store import Event

router = APIRouter(prefix="/v1", tags=["events"], dependencies=[EventsScope],
                   responses=documented(401, 403, 404, 413, 422, 503))


def _checked(engine, request: Request, events: list[Event]) -> list[Event]:
    """Every item known, no timestamp from the future; the first problem is named with its row."""
    settings = request.app.state.settings
    if len(events) > settings.events_batch_max:
        raise ApiError(413, "too_large", f"{len(events)} events in one request; the most is "
                       f"{settings.events_batch_max} (WHYREC_EVENTS_BATCH_MAX)")
    latest = time.time() + settings.events_future_s
    positions = engine.ranker.catalog.index_of([e.item_id for e in events])
    for row, (e, position) in enumerate(zip(events, positions, strict=True)):
        if e.timestamp > latest:
            raise ApiError(422, "invalid_request", f"events[{row}].timestamp {e.timestamp:.0f} is in the future "
                           f"(server clock {time.time():.0f}, allowed skew {settings.events_future_s:g} s)",
                           problems=[Problem(loc=["body", "events", row, "timestamp"], message="in the future")])
        if position < 0:
            raise ApiError(404, "unknown_item", f"events[{row}].item_id: unknown item {e.item_id!r}", e.item_id,
                           [Problem(loc=["body", "events", row, "item_id"], message="unknown item")])
    return events


async def _ingest(engine, events: list[Event]):
    stored, applied = await asyncio.to_thread(engine.live.ingest, events)
    await asyncio.wrap_future(applied)
    return stored


@router.post("/events", response_model=EventsResponse)
async def post_events(body: EventsRequest, engine: Ready, request: Request) -> EventsResponse:
    """Store one or more events (durable before the answer; a repeated `event_id` is stored once) and apply
    them: the shopper's next recommendation reflects them."""
    now = time.time()
    events = _checked(engine, request, [Event(e.user_id, e.item_id, e.event, now if e.timestamp is None else
                                              e.timestamp, e.value, e.event_id or "") for e in body.events])
    stored = await _ingest(engine, events)
    return EventsResponse(stored=len(stored.stored), duplicates=stored.duplicates, applied=True,
                          shoppers=sorted({e.user_id for e in events}), model_version=engine.version)


@router.post("/feedback", response_model=FeedbackResponse)
async def feedback(body: FeedbackRequest, engine: Ready, request: Request) -> FeedbackResponse:
    """What a shopper did with a recommended item, or their reaction to its reason (stored like any event, applied
    before the answer: the shopper's next list reflects it), and whether the reason helped."""
    from ranker.critiques import event_name

    kind = body.event or event_name(str(body.reaction), body.reason or "", body.undo)
    events = _checked(engine, request, [Event(body.user_id, body.item_id, kind, time.time(), body.value,
                                              explanation_id=body.explanation_id, helpful=body.helpful)])
    stored = await _ingest(engine, events)
    return FeedbackResponse(stored=True, events=stored.last_seq)
