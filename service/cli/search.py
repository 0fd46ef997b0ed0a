"""`whyrec search`: a query in zh or en, results by meaning, re-ranked for a shopper, with reasons."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from service.cli.common import (
    Backend,
    Llm,
    ModelDir,
    console,
    languages,
    load_stack,
    provenance,
    settings,
    user_errors,
)


def search(
    query: Annotated[str, typer.Option("--query", "-q", help="What the shopper typed, in Chinese or English.")],
    model: ModelDir = None,
    user: Annotated[str | None, typer.Option(help="Re-rank for this shopper; leave out for an anonymous search.")]
    = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many results.")] = 10,
    lang: Annotated[str, typer.Option(help="Language of the reasons: zh, en or both.")] = "en",
    narrate: Annotated[str, typer.Option(help="template, llm or auto (model sentences, verified).")] = "template",
    backend: Backend = None,
    llm: Llm = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Search the catalog by meaning across languages ("无线电钻" finds "Cordless Drill"), re-ranked for a
    shopper, each result with its reasons: how well it matches the search, and what is personal."""
    config = settings(artifacts=model, backend=backend, llm=llm)
    with user_errors():
        langs = languages(lang)
    stack = load_stack(config, narrate)
    with user_errors():
        hits, q = stack.ranker.search(query, user, k)
        ids = [h.item_id for h in hits]
        facts = stack.explainer.relevance_only(ids, q) if user is None else \
            [e.facts for e in stack.explainer.explain(user, ids, allow_unknown_user=True, query=q)]
        writer = stack.narrator(user or "")
        mode = "template" if writer.backend is None else narrate
        said = [{la: writer.explain(f, la, mode=mode) for la in langs} if f.facts else {}  # type: ignore[arg-type]
                for f in facts]
    if as_json:
        items = [{"item_id": h.item_id, "rank": h.rank, "score": h.score, "facts": f.to_dict()["facts"],
                  "explanations": {la: e.to_dict() for la, e in s.items()}}
                 for h, f, s in zip(hits, facts, said, strict=True)]
        print(json.dumps({"query": query, "user_id": user, "items": items}, ensure_ascii=False))
        return
    console.print(f"[bold]{query}[/] — {'for shopper ' + user if user else 'anonymous (match only)'}")
    for h, f, s in zip(hits, facts, said, strict=True):
        console.print(f"{h.rank:>3}. {h.item_id} {f.item.title}  [dim](score {h.score:.3f})[/]", soft_wrap=True,
                      highlight=False)
        for la, e in s.items():
            console.print(f"     [bold]{la}[/]: {e.text}  [dim]({provenance(e)})[/]", soft_wrap=True, highlight=False)
