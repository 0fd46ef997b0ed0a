"""`whyrec promotions import|list|end`: the merchants' offers, stored where the service reads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import ModelDir, console, fail, load_stack, settings, user_errors

Store = Annotated[Path | None, typer.Option("--events", help="The service's event store, which holds the "
                                            "promotions [default: WHYREC_EVENTS, else events.db in the model root].")]

app = typer.Typer(help="Merchants' promotions: a reason may say \"20% off\" or \"8折\" only while one is active.",
                  no_args_is_help=True)


def _book(model: Path | None, events: Path | None):
    from service.stack import promotion_book

    config = settings(artifacts=model, events=events)
    with user_errors():
        return promotion_book(config), config


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
    from service.shop.promotions import read_csv

    if not file.exists():
        fail(f"{file} does not exist")
    book, config = _book(model, events)
    stack = load_stack(config)
    with user_errors():
        promotions = read_csv(file, set(stack.ranker.items.index))
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
