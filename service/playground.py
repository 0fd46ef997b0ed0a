"""The editors' web playground (`/playground`) and the token-protected prompt admin routes.

Editors pick a shopper and item (or paste facts), edit a template in the browser, and see zh and en
output side by side with each claim verified or failed; then save the edit as a new version and
promote it to a label. Edited templates are rendered from a temporary folder with the same strict,
sandboxed loader as production, so an error shows as `template:line: message`, never a 500.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from narrator.facts import Facts
from narrator.narrate import Narrator
from narrator.prompts import LANGUAGES, PromptError, PromptLibrary
from narrator.store import StoreError
from service.prompt_router import PromptReloadError
from service.schemas import Lang, Style

STATIC = Path(__file__).parent / "static"


class RenderRequest(BaseModel):
    user_id: str | None = Field(None, max_length=200)
    item_id: str | None = Field(None, max_length=200)
    facts: dict | None = Field(None, description="Facts JSON instead of a shopper and item.")
    style: Style = "short"
    templates: dict[Lang, str] | None = Field(None, description="Edited template files (TOML) per language.")
    mode: str = Field("auto", pattern="^(auto|template|llm)$")


class SaveRequest(BaseModel):
    prompt_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    templates: dict[Lang, str]
    note: str = Field("", max_length=500)


class PromoteRequest(BaseModel):
    ref: str = Field(max_length=120)
    label: str = Field("production", pattern=r"^[A-Za-z][\w-]*$", max_length=60)
    note: str = Field("", max_length=500)


def _library_with(root: Path, prompt_id: str, templates: dict[str, str], into: Path) -> PromptLibrary:
    """The prompts folder with `templates` replacing the working copy of `prompt_id`."""
    for lang in LANGUAGES:
        (into / f"phrases.{lang}.toml").write_text((root / f"phrases.{lang}.toml").read_text(encoding="utf-8"))
        text = templates.get(lang) or (root / f"{prompt_id}.{lang}.toml").read_text(encoding="utf-8")
        (into / f"{prompt_id}.{lang}.toml").write_text(text, encoding="utf-8")
    return PromptLibrary.load(into)


def router(ready, settings) -> APIRouter:
    """`ready()` returns the loaded engine or raises the app's not-ready error (503)."""
    api = APIRouter()

    def admin(token: str | None) -> None:
        if not settings.admin_token:
            raise HTTPException(403, "admin routes are disabled: set WHYREC_ADMIN_TOKEN")
        if token != settings.admin_token:
            raise HTTPException(401, "wrong or missing x-admin-token")

    @api.get("/playground", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "playground.html")

    @api.get("/playground/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        if name not in ("playground.js", "playground.css"):
            raise HTTPException(404, f"no asset {name!r}")
        return FileResponse(STATIC / name)

    @api.get("/v1/playground/shoppers")
    def shoppers(n: int = 20) -> list[str]:
        """The most active shoppers, to pick from."""
        return ready().ranker.most_active(min(n, 200))

    @api.get("/v1/playground/items")
    def items(user_id: str) -> list[dict]:
        engine = ready()
        return [{"item_id": r.item_id, "title": engine.title(r.item_id, "en")}
                for r in engine.ranker.recommend(user_id, 10)]

    @api.get("/v1/playground/templates")
    def templates(style: Style = "short") -> dict:
        """The working copy of the template for `style`, both languages, as editors see the files."""
        base = ready().prompts.base.prompts
        t = base.template("en", style)
        return {"prompt_id": t.id, **{lang: base.template(lang, style).text for lang in LANGUAGES}}

    @api.post("/v1/playground/render")
    def render(body: RenderRequest) -> dict:
        """Facts (from a shopper and item, or pasted) through the (edited) template in zh and en."""
        engine = ready()
        attribution = None
        if body.facts is not None:
            try:
                facts = Facts.from_dict(body.facts)
            except (KeyError, TypeError, ValueError) as e:
                raise HTTPException(422, f"facts JSON: {e}") from None
        elif body.user_id and body.item_id:
            explained = engine.explainer.explain(body.user_id, [body.item_id], allow_unknown_user=True)[0]
            facts, attribution = explained.facts, explained.attribution.group_table(explained.pair)
        else:
            raise HTTPException(422, "give user_id and item_id, or facts")
        if not facts.facts:
            raise HTTPException(422, "these facts hold no reason to state")
        base = engine.prompts.base
        prompt_id = base.prompts.template("en", body.style).id
        with tempfile.TemporaryDirectory() as tmp:
            try:
                library = _library_with(base.prompts.root, prompt_id, body.templates or {}, Path(tmp))
            except PromptError as e:
                return {"errors": [f"{Path(e.path).name}:{e.line}: {e.message}"], "facts": facts.to_dict(),
                        "attribution": attribution}
            narrator = Narrator(library, engine.backend, brands=base.brands, cache_size=0)
            mode = "template" if engine.backend is None else body.mode
            try:
                outputs = {lang: narrator.explain(facts, lang, body.style, mode).to_dict() for lang in LANGUAGES}
            except PromptError as e:
                return {"errors": [f"{Path(e.path).name}:{e.line}: {e.message}"], "facts": facts.to_dict(),
                        "attribution": attribution}
        return {"errors": [], "facts": facts.to_dict(), "attribution": attribution, "outputs": outputs}

    @api.post("/v1/admin/prompts/save")
    def save(body: SaveRequest, x_admin_token: str | None = Header(None)) -> dict:
        admin(x_admin_token)
        engine = ready()
        root = engine.prompts.base.prompts.root
        with tempfile.TemporaryDirectory() as tmp:
            try:
                _library_with(root, body.prompt_id, body.templates, Path(tmp))
                version = engine.prompts.store.save(body.prompt_id, source=Path(tmp), note=body.note)
            except (PromptError, StoreError) as e:
                raise HTTPException(422, str(e)) from None
        return {"ref": f"{body.prompt_id}@{version}"}

    @api.post("/v1/admin/prompts/promote")
    def promote(body: PromoteRequest, x_admin_token: str | None = Header(None)) -> dict:
        admin(x_admin_token)
        engine = ready()
        try:
            entry = engine.prompts.store.promote(body.ref, body.label, body.note)
            engine.prompts.reload()
        except (StoreError, PromptReloadError) as e:
            raise HTTPException(422, str(e)) from None
        return {"label": body.label, "entry": entry}

    @api.post("/v1/admin/prompts/reload")
    def reload(request: Request, x_admin_token: str | None = Header(None)) -> dict:
        """Load what the labels point to now; a broken version is refused (422, file:line) and the old
        versions keep serving."""
        admin(x_admin_token)
        engine = ready()
        try:
            return {"serving": engine.prompts.reload()}
        except PromptReloadError as e:
            raise HTTPException(422, {"refused": e.problems, "serving": engine.prompts.entries}) from None

    return api
