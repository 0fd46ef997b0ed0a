"""Prompt versions from the web: save an edit, move a label, reload what the labels point to.

Every route needs the admin token (`deps.admin`); a refused version answers 422 with its `file:line`
problems, and the versions already serving keep serving.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from narrator.prompts.library import copy_with
from narrator.prompts.sandbox import MAX_TEMPLATE_CHARS, lint_bounded
from narrator.prompts.store import StoreError
from narrator.prompts.templating import PromptError
from service.deps import Admin, Ready
from service.errors import ApiError, documented
from service.prompt_router import PromptReloadError
from service.schemas import Lang, Problem

router = APIRouter(prefix="/v1/admin/prompts", tags=["admin"], dependencies=[Admin],
                   responses=documented(401, 403, 422, 503))


class SaveRequest(BaseModel):
    prompt_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    templates: dict[Lang, Annotated[str, Field(max_length=MAX_TEMPLATE_CHARS)]]
    note: str = Field("", max_length=500)


class PromoteRequest(BaseModel):
    ref: str = Field(max_length=120)
    label: str = Field("production", pattern=r"^[A-Za-z][\w-]*$", max_length=60)
    note: str = Field("", max_length=500)


def refused(problems: list[str]) -> ApiError:
    """422 naming each problem (`file:line: message`); the versions already serving keep serving."""
    return ApiError(422, "prompt_refused", "\n".join(problems), problems=[Problem(message=p) for p in problems])


@router.post("/save")
def save(body: SaveRequest, engine: Ready) -> dict[str, str]:
    """Store an edit as the next version once every template and phrase renders the sample facts within the
    sandbox's budget (so no stored version can hang a server), and lints clean."""
    root = engine.prompts.base.prompts.root
    if problems := lint_bounded(root, body.prompt_id, body.templates):
        raise refused(problems)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            copy_with(root, body.prompt_id, body.templates, Path(tmp))
            version = engine.prompts.store.save(body.prompt_id, source=Path(tmp), note=body.note)
        except (PromptError, StoreError) as e:
            raise refused(str(e).splitlines()) from None
    return {"ref": f"{body.prompt_id}@{version}"}


@router.post("/promote")
def promote(body: PromoteRequest, engine: Ready) -> dict[str, Any]:
    try:
        entry = engine.prompts.store.promote(body.ref, body.label, body.note)
        engine.prompts.reload()
    except StoreError as e:
        raise refused(str(e).splitlines()) from None
    except PromptReloadError as e:
        raise refused(e.problems) from None
    return {"label": body.label, "entry": entry}


@router.post("/reload")
def reload(engine: Ready) -> dict[str, Any]:
    """Load what the labels point to now; a broken version is refused (422, file:line) and the old
    versions keep serving."""
    try:
        return {"serving": engine.prompts.reload()}
    except PromptReloadError as e:
        raise refused(e.problems) from None
