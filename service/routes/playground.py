"""The editors' web playground: its data routes (`/v1/playground/…`); the page itself is static files.

Editors pick a shopper and item (or paste facts), edit a template in the browser, and see zh and en
output side by side with each claim verified or failed. Edited templates are rendered with the same strict,
sandboxed loader as production, in a child process with a time and memory budget
(`narrator.prompts.sandbox`), their model calls through the service's model queue; an error shows as
`template:line: message` (or the budget that was spent), never a 500.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from narrator.facts import Facts
from narrator.prompts.phrases import LANGUAGES
from narrator.prompts.sandbox import MAX_TEMPLATE_CHARS, SandboxError, render_bounded
from narrator.prompts.templating import PromptError
from service.deps import Admin, Ready
from service.errors import ApiError, documented
from service.responses import counterfactual_out
from service.schemas import Lang, Style

STATIC = Path(__file__).resolve().parents[1] / "static"


def enabled(request: Request) -> None:
    """The playground is for editors of a shop that turned it on (`WHYREC_PLAYGROUND=true`): it shows any
    shopper's history and renders editors' templates, so it is off by default and needs the admin scope."""
    if not request.app.state.settings.playground:
        raise ApiError(404, "playground_off", "the editors' playground is off: set WHYREC_PLAYGROUND=true")


router = APIRouter(prefix="/v1/playground", tags=["playground"], dependencies=[Depends(enabled), Admin],
                   responses=documented(401, 403, 404, 422, 503))


class RenderRequest(BaseModel):
    user_id: str | None = Field(None, max_length=200)
    item_id: str | None = Field(None, max_length=200)
    query: str | None = Field(None, max_length=200, description="A search the item answers (its reasons then "
                              "may include \"matches your search\").")
    facts: dict | None = Field(None, description="Facts JSON instead of a shopper and item.")
    style: Style = "short"
    templates: dict[Lang, Annotated[str, Field(max_length=MAX_TEMPLATE_CHARS)]] | None = Field(
        None, description=f"Edited template files (TOML) per language, at most {MAX_TEMPLATE_CHARS:,} characters each.")
    mode: str = Field("auto", pattern="^(auto|template|llm)$")


@router.get("/shoppers")
def shoppers(engine: Ready, n: Annotated[int, Query(ge=1, le=200)] = 20) -> list[str]:
    """The most active shoppers, to pick from."""
    return engine.ranker.most_active(n)


@router.get("/items")
def items(user_id: Annotated[str, Query(max_length=200)], engine: Ready,
          query: Annotated[str | None, Query(max_length=200)] = None) -> list[dict[str, str]]:
    """The shopper's top 10, or their top 10 results for a search."""
    listed = engine.ranker.search(query, user_id, 10)[0] if query else engine.ranker.recommend(user_id, 10)
    return [{"item_id": r.item_id, "title": engine.title(r.item_id, "en")} for r in listed]


@router.get("/templates")
def templates(engine: Ready, style: Style = "short") -> dict[str, str]:
    """The working copy of the template for `style`, both languages, as editors see the files."""
    base = engine.prompts.base.prompts
    return {"prompt_id": base.template("en", style).id, **{lang: base.template(lang, style).text for lang in LANGUAGES}}


def _errors(message: str, facts: Facts, attribution: dict | None) -> dict[str, Any]:
    return {"errors": [message], "facts": facts.to_dict(), "attribution": attribution}


@router.post("/render")
def render(body: RenderRequest, engine: Ready) -> dict[str, Any]:
    """Facts (from a shopper and item, or pasted) through the (edited) template in zh and en."""
    attribution, causes = None, None
    if body.facts is not None:
        try:
            facts = Facts.from_dict(body.facts)
        except (KeyError, TypeError, ValueError) as e:
            raise ApiError(422, "invalid_facts", f"facts JSON: {e}") from None
    elif body.user_id and body.item_id:
        query = engine.ranker.query_for(body.query) if body.query else None
        explained = engine.explainer.explain(body.user_id, [body.item_id], allow_unknown_user=True, query=query)[0]
        facts, attribution = explained.facts, explained.attribution.group_table(explained.pair)
        if engine.ranker.knows(body.user_id):
            causes = counterfactual_out(engine.explainer, explained, lambda i: engine.title(i, "en")).model_dump()
    else:
        raise ApiError(422, "invalid_request", "give user_id and item_id, or facts")
    if not facts.facts:
        raise ApiError(422, "no_reason", "these facts hold no reason to state")
    base = engine.prompts.base
    prompt_id = base.prompts.template("en", body.style).id
    backend = engine.backend
    generate = None if backend is None else partial(engine.llm.generate, backend)
    try:
        outputs = render_bounded(base.prompts.root, prompt_id, body.templates or {}, facts.to_dict(),
                                 sorted(base.brands), body.style, "template" if backend is None else body.mode,
                                 LANGUAGES, generate, engine.model_id)
    except PromptError as e:
        return _errors(f"{Path(e.path).name}:{e.line}: {e.message}", facts, attribution)
    except SandboxError as e:
        return _errors(f"template: {e}", facts, attribution)
    return {"errors": [], "facts": facts.to_dict(), "attribution": attribution, "outputs": outputs,
            "counterfactual": causes}
