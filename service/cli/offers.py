"""`whyrec search` (a query in zh or en, results by meaning, re-ranked for a shopper, with reasons) and
`whyrec promotions import|list|end` (the merchants' offers, stored where the service reads them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from narrator.library import PromptLibrary
from narrator.narrate import Narrator
from service.cli.common import (
    Backend,
    Llm,
    ModelDir,
    console,
    fail,
    languages,
    load_ranker,
    provenance,
    settings,
    text_model,
    user_errors,
)

Store = Annotated[Path | None, typer.Option("--events", help="The service's event store, which holds the "
                                            "promotions [default: WHYREC_EVENTS, else events.db in the model root].")]


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
    ranker = load_ranker(config)
    from ranker.explain import Explainer

    with user_errors():
        langs = languages(lang)
        hits, q = ranker.search(query, user, k)
        explainer = Explainer(ranker)
        ids = [h.item_id for h in hits]
        facts = explainer.relevance_only(ids, q) if user is None else \
            [e.facts for e in explainer.explain(user, ids, allow_unknown_user=True, query=q)]
        writer = Narrator(PromptLibrary.load(), text_model(narrate, config), brands=ranker.brands())
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


app = typer.Typer(help="Merchants' promotions: a reason may say \"20% off\" or \"8折\" only while one is active.",
                  no_args_is_help=True)


def _book(model: Path | None, events: Path | None):
    from ranker import artifacts
    from service.promotions import PromotionBook

    config = settings(artifacts=model, events=events)
    with user_errors():
        root = artifacts.resolve(config.artifacts).parent
    return PromotionBook(config.events or root / "events.db"), config


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV with a header row: item_id,label,start,end[,campaign]. label as "
                                              "the merchant writes it (\"20% off\", \"8折\"); dates ISO (UTC), end "
                                              "exclusive, a date alone meaning the whole day.")],
    model: ModelDir = None,
    events: Store = None,
) -> None:
    """Validate every row (one bad row stores nothing; the error names file, row and field), then store them
    where the service reads them: a running service shows them within a second."""
    from service.promotions import read_csv

    if not file.exists():
        fail(f"{file} does not exist")
    book, config = _book(model, events)
    ranker = load_ranker(config)
    with user_errors():
        promotions = read_csv(file, set(ranker.items.index))
    book.put(promotions)
    active = sum(p.active() for p in promotions)
    console.print(f"stored {len(promotions)} promotions ({active} active now) in {book.path}")


@app.command("list")
def list_(model: ModelDir = None, events: Store = None,
          as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False) -> None:
    """The stored promotions, and which are active now."""
    book, _ = _book(model, events)
    rows = [{"item_id": p.item_id, "label": p.label, "campaign": p.campaign, "percent_off": p.percent,
             "active": p.active(), **{k: v for k, v in p.evidence().items() if k == "ends"}} for p in book.all()]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        console.print(f"{r['item_id']:<16} {r['label']:<16} {r['campaign'] or '-':<12} until {r['ends']} "
                      f"{'[green]active[/]' if r['active'] else '[dim]inactive[/]'}", highlight=False)


@app.command("end")
def end(campaign: Annotated[str, typer.Argument(help="The campaign to end now.")], model: ModelDir = None,
        events: Store = None) -> None:
    """End a campaign now: its promotions are removed, and reasons stop mentioning them."""
    book, _ = _book(model, events)
    console.print(f"removed {book.end_campaign(campaign)} promotions of campaign {campaign!r}")
