"""The catalog while serving: add or change an item, withdraw it (never recommended again) or return it.
Admin scope."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Response
from fastapi import Path as PathParam
from pydantic import BaseModel

from service.deps import Admin, Ready
from service.errors import documented
from service.schemas import ItemChange, ItemIn

router = APIRouter(prefix="/v1/items", tags=["items"], dependencies=[Admin],
                   responses=documented(401, 403, 404, 503))


class Availability(BaseModel):
    item_id: str
    available: bool


@router.put("/{item_id}", response_model=ItemChange, status_code=200, responses={201: {"model": ItemChange}})
async def upsert(item_id: Annotated[str, PathParam(max_length=200)], body: ItemIn, engine: Ready,
                 response: Response) -> ItemChange:
    """Add the item (201: a new arrival, recommendable at once) or replace its record (200). Its text is
    embedded and the change stored durably before the answer; with a text model, its kind and Chinese
    name are written in the background (the catalog enrichment)."""
    record = {"item_id": item_id, **body.model_dump()}
    created = await asyncio.to_thread(engine.upsert_items, [record])
    response.status_code = 201 if created else 200
    available = not engine.ranker.unavailable[engine.ranker.known_indices([item_id])[0]]
    return ItemChange(item_id=item_id, created=bool(created), available=bool(available),
                      model_version=engine.version)


@router.delete("/{item_id}", response_model=Availability)
async def withdraw(item_id: Annotated[str, PathParam(max_length=200)], engine: Ready) -> Availability:
    """Withdraw the item: stored durably, then no list or ranking includes it (also after a restart)."""
    await asyncio.to_thread(engine.live.set_available, item_id, False)
    return Availability(item_id=item_id, available=False)


@router.post("/{item_id}/restore", response_model=Availability)
async def restore(item_id: Annotated[str, PathParam(max_length=200)], engine: Ready) -> Availability:
    """Return a withdrawn item to the catalog."""
    await asyncio.to_thread(engine.live.set_available, item_id, True)
    return Availability(item_id=item_id, available=True)
