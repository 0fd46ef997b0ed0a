"""Ranker versions from the web: which version each label names, promote, roll back. Admin scope.

Moving the label the service follows (WHYREC_MODEL_LABEL) switches the served version before the answer:
the new version is loaded beside the old, which keeps serving until one assignment replaces it.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ranker import versions
from service.deps import Admin, Ready
from service.engine import Engine
from service.errors import ApiError, documented
from service.model_label import follow_label

router = APIRouter(prefix="/v1/admin/model", tags=["admin"], dependencies=[Admin],
                   responses=documented(401, 403, 404, 503))
LabelName = Field("production", pattern=r"^[A-Za-z][\w-]*$", max_length=60)


class ModelState(BaseModel):
    serving: str = Field(description="The version answering requests now.")
    label: str = Field(description="The label this service follows.")
    labels: dict[str, str]
    versions: list[str]


class Promotion(BaseModel):
    version: str = Field(max_length=100, pattern=f"^{versions.VERSION_NAME.pattern}$",
                         description="A version folder's name, as `GET /v1/admin/model` lists them.")
    label: str = LabelName
    note: str = Field("", max_length=500)


class Rollback(BaseModel):
    label: str = LabelName
    note: str = Field("", max_length=500)


def state(engine: Engine) -> ModelState:
    root = engine.loaded.root
    return ModelState(serving=engine.version, label=engine.settings.model_label,
                      labels=versions.labels(root)["labels"], versions=[v.name for v in versions.versions(root)])


async def _moved(engine: Engine, move) -> ModelState:
    try:
        await asyncio.to_thread(move, engine.loaded.root)
    except versions.UnservableVersionError as e:
        raise ApiError(409, "unservable_version", str(e)) from None
    except versions.VersionError as e:
        raise ApiError(404, "unknown_version", str(e)) from None
    await asyncio.to_thread(follow_label, engine)
    return state(engine)


@router.get("", response_model=ModelState)
def show(engine: Ready) -> ModelState:
    return state(engine)


@router.post("/promote", response_model=ModelState)
async def promote(body: Promotion, engine: Ready) -> ModelState:
    """Point a label at a version; when it is the label served here, the answer comes after the switch."""
    return await _moved(engine, lambda root: versions.promote(root, body.version, body.label, body.note))


@router.post("/rollback", response_model=ModelState)
async def rollback(body: Rollback, engine: Ready) -> ModelState:
    """Return a label to the version it named before its last move."""
    return await _moved(engine, lambda root: versions.rollback(root, body.label, body.note))
