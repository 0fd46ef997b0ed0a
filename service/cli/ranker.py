"""`whyrec train | evaluate | report | recommend`: the ranker's life cycle on a shop folder (the report's page is
built by the job `service.jobs.model_report`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from narrator import atomic
from narrator.narrate import MODES
from service.cli.common import (
    Backend,
    DataDir,
    Llm,
    ModelDir,
    configure_runtime,
    console,
    fail,
    load_stack,
    progress_bar,
    provenance,
    settings,
    user_errors,
)
from service.cli.data import print_report


def train(
    data: DataDir,
    out: Annotated[Path, typer.Option(help="Artifacts root; each run adds a version folder.")] = Path("artifacts"),
    epochs: Annotated[int, typer.Option(min=1, help="Maximum epochs (early stopping on val NDCG@10).")] = 20,
    embedding_model: Annotated[Path | None, typer.Option(help="Any sentence-transformers folder.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and initialisation.")] = 0,
    events: Annotated[Path | None, typer.Option(
        help="A service's event store (events.db): also learn from the events and catalog changes it "
             "stored while serving.")] = None,
    tensorboard: Annotated[Path | None, typer.Option(
        help="Write TensorBoard logs here (loss, validation NDCG@10/HR@10 per epoch, weight histograms, one "
             "folder per ensemble member); view with `tensorboard --logdir DIR`.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a training setting, NAME=VALUE (repeatable), e.g. --set sequence_len=8 or "
                      "--set learning_rate=0.002; the names are TrainConfig's fields "
                      "(ranker/train_config.py).")] = None,
) -> None:
    """Train the ranker on a shop folder and write a versioned artifact (it moves LATEST; what a service
    serves moves with `whyrec model promote`)."""
    configure_runtime(settings())
    from ranker.data import load_shop, with_served
    from ranker.training.pipeline import fit, save_result
    from ranker.training.train_config import TrainConfig

    with user_errors():
        cfg = TrainConfig(epochs=epochs, seed=seed).with_settings(set_ or [])
        shop = load_shop(data)
        trained_on = {"data": str(data)}
        if events is not None:
            items, served = _served(events)
            shop = with_served(shop, items, served, events)
            trained_on["events"] = str(events)
        print_report(shop.reports)
        with progress_bar() as update:
            result, _, emb, timings = fit(shop, cfg, update, embedding_model, tensorboard=tensorboard)
        path = save_result(out, shop, result, emb, cfg, {"timings": timings, "trained_on": trained_on})
    console.print(f"model saved to [bold]{path}[/] (best epoch {result.best_epoch}, "
                  f"val NDCG@10 {result.best_val_ndcg10:.4f}); serve it with `whyrec model promote {path.name}`")


def _served(store: Path) -> tuple[Any, Any]:
    """(items, events) a service stored, read without taking the store's writer role."""
    from service.shop.store import EventStore

    if not store.is_file():
        raise FileNotFoundError(f"{store}: no event store there (a service writes events.db in its artifacts root)")
    s = EventStore(store)
    try:
        return s.frames()
    finally:
        s.close()


def evaluate(
    data: DataDir,
    model: ModelDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """HR/NDCG@10/50 on each shopper's last purchase, beside MostPop and ItemKNN from the same run."""
    config = settings(artifacts=model)
    configure_runtime(config)
    from ranker import artifacts
    from ranker.candidates import CandidateConfig
    from ranker.data import load_shop
    from ranker.stats.catalog import CatalogIndex
    from ranker.training.pipeline import embed_items
    from ranker.training.pipeline import evaluate as run_evaluate

    with user_errors():
        art = artifacts.load(config.artifacts)
        shop = load_shop(data)
        emb, _ = embed_items(shop, art.meta.get("timings", {}).get("embedding_model"))
        catalog = CatalogIndex.build(shop.items, emb)
        cand = CandidateConfig(**art.meta.get("train_config", {}).get("candidates", {}))
        results = run_evaluate(shop, catalog, art.model, art.spec, cand)
    if as_json:
        print(json.dumps(results))
        return
    table = Table(title=f"test split of {data} ({results['whyrec']['users']:,} shoppers, full ranking)")
    table.add_column("metric")
    for name in results:
        table.add_column(name, justify="right")
    for metric in ("HR@10", "NDCG@10", "HR@50", "NDCG@50"):
        table.add_row(metric, *(f"{results[n][metric]:.4f}" for n in results))
    console.print(table)


def recommend(
    model: ModelDir = None,
    user: Annotated[list[str] | None, typer.Option(help="Shopper id; repeat for several.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="How many items per shopper.")] = 10,
    lang: Annotated[str, typer.Option(help="Title language: zh or en.")] = "en",
    reasons: Annotated[str | None, typer.Option(
        help="Also write each item's reason in zh and en: template, llm or auto (the model's sentence when it "
             "passes the verifier, else the template).")] = None,
    backend: Backend = None,
    llm: Llm = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Top-k recommendations with scores (default: the three most active shoppers), and with --reasons the
    sentence a shopper reads under each, in zh and en, marked model-written and verified or template."""
    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en; got {lang!r}")
    config = settings(artifacts=model, backend=backend, llm=llm)
    with user_errors():
        if reasons not in (None, *MODES):
            raise ValueError(f"--reasons must be one of {', '.join(MODES)}; got {reasons!r}")
    stack = load_stack(config, reasons)
    ranker = stack.ranker
    users = user or ranker.most_active(3)
    out: dict[str, list[dict[str, Any]]] = {}
    for u in users:
        writer = stack.narrator(u) if reasons else None
        if writer:
            explained = stack.explainer.explain(u, k=k, allow_unknown_user=True)
            rows = [(e.item_id, e.facts.score, {la: writer.explain(e.facts, la, mode=reasons)  # type: ignore[arg-type]
                                                for la in ("zh", "en")} if e.facts.facts else {})
                    for e in explained]
        else:
            rows = [(r.item_id, r.score, {}) for r in ranker.recommend(u, k)]
        out[u] = [{"rank": n, "item_id": item, "score": round(score, 4), "title": ranker.title(item, f"title_{lang}"),
                   "brand": ranker.items.at[item, "brand"],
                   **({"reasons": {la: e.to_dict() for la, e in said.items()}} if writer else {})}
                  for n, (item, score, said) in enumerate(rows, 1)]
        if as_json:
            continue
        note = "" if ranker.knows(u) else " (new shopper: popular items)"
        if writer:
            console.print(f"[bold]top {k} for shopper {u}{note}[/]")
            for row, (_, _, said) in zip(out[u], rows, strict=True):
                line = f" {row['rank']:>2}. {row['item_id']} {row['title']} · {row['brand']} · {row['score']:.3f}"
                console.print(line, soft_wrap=True, highlight=False)
                for la, e in said.items():
                    console.print(f"     {la} {e.text} [dim]({provenance(e)})[/]", soft_wrap=True, highlight=False)
            continue
        table = Table(title=f"top {k} for shopper {u}{note}")
        for col in ("#", "item", "title", "brand", "score"):
            table.add_column(col, justify="right" if col in ("#", "score") else "left")
        for row in out[u]:
            table.add_row(str(row["rank"]), row["item_id"], row["title"], row["brand"], f"{row['score']:.3f}")
        console.print(table)
    if as_json:
        print(json.dumps(out, ensure_ascii=False))


def report(
    data: DataDir,
    model: ModelDir = None,
    out: Annotated[Path, typer.Option(help="Where to write the page.")] = Path("report.html"),
    shoppers: Annotated[int, typer.Option(min=1, help="Shoppers whose top 10s are attributed and timed.")] = 100,
    narrate_pairs: Annotated[int, typer.Option(min=0, help="Reasons per language written by the text model (needs "
                                                           "--llm) for the acceptance plot.")] = 0,
    backend: Backend = None,
    llm: Llm = None,
) -> None:
    """One self-contained HTML page with plots: HR/NDCG@K curves beside MostPop and ItemKNN, attribution share
    by group, completeness-error histogram, driver-recovery confusion matrix (demo shop), narrator acceptance by
    fact kind and language, latency histograms. Figures are embedded: it opens offline."""
    from service.jobs.model_report import collect, render

    config = settings(artifacts=model, backend=backend, llm=llm)
    stack = load_stack(config, "llm" if narrate_pairs else None)
    with user_errors():
        with progress_bar() as update:
            data_ = collect(stack, data, shoppers, narrate_pairs, update)
        atomic.write_text(out, render(data_))
    console.print(f"report written to [bold]{out}[/] ({out.stat().st_size / 1024:.0f} KiB)")
