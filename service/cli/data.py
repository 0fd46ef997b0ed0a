"""`whyrec data …`: create the demo shop or import a dataset into the canonical tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from service.cli.common import console, err, fail, user_errors

app = typer.Typer(help="Create and import shop data (items + events).", no_args_is_help=True)


def print_report(reports: Any) -> None:
    from ranker.loaders import report_lines

    for line in report_lines(reports):
        err.print(line, soft_wrap=True, highlight=False)


@app.command("demo")
def data_demo(
    out: Annotated[Path, typer.Option(help="Folder to write the demo shop into.")],
    shoppers: Annotated[int, typer.Option(min=10, help="Number of simulated shoppers.")] = 1500,
    items: Annotated[int, typer.Option(min=20, help="Approximate catalog size.")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same shop.")] = 7,
) -> None:
    """Generate the bilingual demo shop with known purchase drivers (drivers.csv)."""
    from ranker.demo import DemoConfig, write_demo

    with user_errors():
        path = write_demo(out, DemoConfig(shoppers=shoppers, items=items, seed=seed))
    console.print(f"demo shop written to [bold]{path}[/] (items, events, drivers.csv, shoppers.csv)")


@app.command("import")
def data_import(
    src: Annotated[Path, typer.Argument(help="Source folder or file set.")],
    out: Annotated[Path, typer.Option(help="Folder for the canonical items/events tables.")],
    fmt: Annotated[str, typer.Option("--format", help="unisrec | movielens | csv")] = "csv",
    skip_bad: Annotated[bool, typer.Option(help="Skip and count bad rows instead of stopping at the first.")] = False,
    currency: Annotated[str | None, typer.Option(
        help="The shop's currency (ISO 4217, e.g. CNY, USD) for items whose table does not say one; prices are "
             "shown with its symbol (¥, $). Without it, and without a currency column, prices show as bare "
             "numbers.")] = None,
) -> None:
    """Convert a dataset into canonical items/events Parquet tables, reporting what was skipped."""
    from ranker.data import CURRENCY
    from ranker.loaders import FORMATS, load_any

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if currency is not None and not CURRENCY.fullmatch(currency.upper()):
        fail(f"--currency must be a three-letter ISO 4217 code such as CNY or USD; got {currency!r}")
    with user_errors():
        shop = load_any(fmt, src, "skip" if skip_bad else "raise")
        if currency is not None:
            shop = shop.priced_in(currency.upper())
        shop.save(out)
    print_report(shop.reports)
    console.print(f"{len(shop.items):,} items and {len(shop.events):,} events written to [bold]{out}[/]")
