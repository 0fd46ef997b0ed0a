"""The catalog while serving: withdraw an item (never recommended again) or return it. Admin scope."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel

from service.deps import Admin, Ready
from service.errors import documented

router = APIRouter(prefix="/v1/items", tags=["items"], dependencies=[Admin],
                   responses=documented(401, 403, 404, 503))


class Availability(BaseModel):
    item_id: str
    available: bool


@router.delete("/{item_id}", response_model=Availability)
async def withdraw(item_id: str, engine: Ready) -> Availability:
    """Withdraw the item: stored durably, then no list or ranking includes it (also after a restart)."""
    await asyncio.to_thread(engine.live.set_available, item_id, False)
    return Availability(item_id=item_id, available=False)


@router.post("/{item_id}/restore", response_model=Availability)
async def restore(item_id: str, engine: Ready) -> Availability:
    """Return a withdrawn item to the catalog."""
    await asyncio.to_thread(engine.live.set_available, item_id, True)
    return Availability(item_id=item_id, available=True)
