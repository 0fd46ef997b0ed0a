"""`whyrec catalog enrich | show | lint`: what each item is and is called in zh and en, written once per
item by the local model, grounded, and correctable by editors (`narrator.enrichment`)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from service.cli.common import Llm, ModelDir, console, err, fail, progress_bar, settings, user_errors

app = typer.Typer(help="Catalog enrichment: item kinds and short names in zh and en, once per item.",
                  no_args_is_help=True)


@app.command("enrich")
def catalog_enrich(
    model: ModelDir = None,
    llm: Llm = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Enrich at most this many items, the most "
                                                          "interacted-with first (rerun to continue).")] = None,
    batch: Annotated[int, typer.Option(min=1, max=32, help="Titles per model call.")] = 8,
    without_model: Annotated[bool, typer.Option(
        "--without-model", help="Load no text model: Chinese titles get their zh kind and name from the title "
                                "alone (no English kind); English titles wait for a run with the model.")] = False,
) -> None:
    """Have the local model write each item's kind noun (zh and en) and short names, keep only what checks
    out against the item's own title and category, and store it with the artifacts (enrichment.parquet).
    Chinese titles are read without the model (their own nouns; the model only reads each distinct kind back
    into English). Each category level name is translated once (categories.parquet), so category reasons
    read in the sentence's language. Resumable and incremental: a rerun does only new items and items whose
    title changed, and names it has not seen; names an older version composed differently are recomposed from
    the stored kinds first, without the model. Editors correct rows in enrichment-overrides.toml beside it (see
    `whyrec catalog lint`)."""
    from narrator import enrichment
    from narrator.backends import load_backend
    from narrator.enrichment import categories, kinds
    from ranker import artifacts
    from service.stack import root_of

    config = settings(artifacts=model, llm=llm)
    with user_errors():
        artifact_dir = artifacts.resolve(config.artifacts)
        root = root_of(config.artifacts)
        items = _items_by_activity(artifact_dir)
        done = enrichment.read(root)
        if renamed := enrichment.renamed(items, done):
            done.update({r.item_id: r for r in renamed})
            enrichment.write(root, done)
            console.print(f"  {len(renamed)} items renamed as this version composes names (kinds kept)")
        todo = enrichment.todo(items, done)
        if limit is not None:
            todo = todo.head(limit)
        names = categories.read(root)
        untranslated = [n for n in categories.levels(items["category"]) if n not in names]
        if todo.empty and (without_model or not untranslated):
            console.print(f"{root / enrichment.TABLE}: all {len(done)} items enriched and current")
            return
        backend = None if without_model else load_backend(config.llm_options())
        encode = kinds.multilingual_encoder(config.threads or 1)

        def save(rows: list[enrichment.Enriched]) -> None:
            done.update({r.item_id: r for r in rows})
            enrichment.write(root, done)

        with progress_bar() as report:
            started = time.perf_counter()
            written = enrichment.enrich(backend, encode, todo, done, save, batch=batch, catalog=items,
                                        progress=lambda n, total: report("enriching", n, total))
            took = time.perf_counter() - started
            if written:
                console.print(f"  {written} items in {took:.0f} s ({written / took:.2f} items/s)")
            started = time.perf_counter()
            if backend is not None and untranslated:
                for start in range(0, len(untranslated), 50):
                    report("category names", start, len(untranslated))
                    names.update({r.name: r for r in categories.translate(backend, encode,
                                                                           untranslated[start:start + 50])})
                    categories.write(root, names)
                report("category names", len(untranslated), len(untranslated))
                console.print(f"  {len(untranslated)} category names in {time.perf_counter() - started:.0f} s")
    _summary(done, len(items))
    translated = sum(bool(r.name_zh and r.name_en) for r in names.values())
    console.print(f"  category names: {translated}/{len(names)} in both languages ({root / categories.TABLE})")


def _items_by_activity(artifact_dir):
    """The catalog, most interacted-with items first (a partial run covers what shoppers see most)."""
    from ranker.data import load_shop

    shop = load_shop(artifact_dir / "shop")
    counts = shop.events["item_id"].astype(str).value_counts()
    items = shop.items.copy()
    items["item_id"] = items["item_id"].astype(str)
    order = items["item_id"].map(counts).fillna(0).sort_values(ascending=False, kind="stable").index
    return items.loc[order]


def _summary(rows: dict, total: int) -> None:
    from collections import Counter

    console.print(f"{len(rows)}/{total} items enriched")
    for lang in ("en", "zh"):
        counts = Counter(getattr(r, f"{lang}_from") for r in rows.values())
        console.print(f"  {lang} kinds from " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


@app.command("show")
def catalog_show(
    model: ModelDir = None,
    item: Annotated[list[str] | None, typer.Option(help="Only these item ids (repeatable).")] = None,
    rows: Annotated[int, typer.Option("-n", min=1, help="How many rows.")] = 20,
) -> None:
    """The enrichment as the service uses it (editors' overrides applied)."""
    from narrator import enrichment
    from service.stack import root_of

    config = settings(artifacts=model)
    with user_errors():
        table_rows = enrichment.load(root_of(config.artifacts))
    if not table_rows:
        fail(f"no enrichment yet under {root_of(config.artifacts)}; run `whyrec catalog enrich`")
    chosen = [table_rows[i] for i in item if i in table_rows] if item else list(table_rows.values())[:rows]
    table = Table(title="catalog enrichment")
    for col in ("item", "kind en", "kind zh", "name zh", "name en", "from (en/zh)", "zh check"):
        table.add_column(col)
    for r in chosen:
        table.add_row(r.item_id, r.kind_en, r.kind_zh, r.name_zh, r.name_en, f"{r.en_from}/{r.zh_from}",
                      f"{r.similarity:.2f}")
    console.print(table)


@app.command("lint")
def catalog_lint(model: ModelDir = None) -> None:
    """Check the editors' enrichment-overrides.toml: every table names a catalog item, every field is one of
    kind_zh, kind_en, name_zh, name_en, and a zh kind is Chinese. Exits 1 with file:line on a problem."""
    from narrator import enrichment
    from narrator.prompts.templating import PromptError
    from service.stack import root_of

    config = settings(artifacts=model)
    with user_errors():
        from ranker import artifacts
        from ranker.data import load_shop

        root = root_of(config.artifacts)
        known = load_shop(artifacts.resolve(config.artifacts) / "shop").items["item_id"].astype(str).tolist()
    path = root / enrichment.OVERRIDES
    try:
        edits = enrichment.overrides(path, known)
    except PromptError as e:
        err.print(f"[red]{escape(str(e))}[/]", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from e
    console.print(f"{path}: {len(edits)} item(s) overridden, all valid" if path.exists() else
                  f"{path}: no overrides (create it to correct rows)")
