"""`whyrec model list | promote | rollback`: which trained ranker version the shop serves (`ranker.versions`).

A running service follows its label (WHYREC_MODEL_LABEL, default production) and swaps versions in the
background, so promoting is how a retrained model goes live and rolling back is how it leaves.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from service.cli.common import ModelDir, console, settings, user_errors

app = typer.Typer(help="Ranker versions and their labels: list, promote, roll back (a running service follows "
                       "its label without a restart). The narrator's text models are `whyrec models`.",
                  no_args_is_help=True)
Label = Annotated[str, typer.Option(help="The label to move (a service serves WHYREC_MODEL_LABEL).")]
Note = Annotated[str, typer.Option(help="Why, kept in the label history.")]


def _root(model):
    from service.stack import root_of

    return root_of(settings(artifacts=model).artifacts)


@app.command("list")
def list_versions(model: ModelDir = None, as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object instead of a table.")] = False) -> None:
    """Every version with when it was trained, its validation NDCG@10, its data and the labels on it."""
    from ranker import versions

    with user_errors():
        root = _root(model)
        found = versions.versions(root)
        labels = versions.labels(root)["labels"]
        latest = versions.latest(root)
    def marks(name: str) -> list[str]:
        return [n for n, target in labels.items() if target == name] + (["LATEST"] if name == latest else [])

    rows = [{"version": v.name, "created": v.created, "val_ndcg10": v.val_ndcg10,
             "trained_on": v.meta.get("trained_on", {}), "labels": marks(v.name)} for v in found]
    if as_json:
        print(json.dumps({"root": str(root), "versions": rows}))
        return
    table = Table(title=f"ranker versions in {root}")
    for column in ("version", "created", "val NDCG@10", "trained on", "labels"):
        table.add_column(column, justify="right" if column == "val NDCG@10" else "left")
    for r in rows:
        ndcg = "" if r["val_ndcg10"] is None else f"{r['val_ndcg10']:.4f}"
        trained_on = ", ".join(f"{k}={v}" for k, v in r["trained_on"].items())
        table.add_row(r["version"], r["created"], ndcg, trained_on, ", ".join(r["labels"]))
    console.print(table)


@app.command()
def promote(version: Annotated[str, typer.Argument(help="A version folder name (see `whyrec model list`).")],
            label: Label = "production", note: Note = "", model: ModelDir = None) -> None:
    """Point the label at VERSION; services following it switch within a second."""
    from ranker import versions

    with user_errors():
        before = versions.promote(_root(model), version, label, note)
    console.print(f"{label}: {before or '(none)'} → [bold]{version}[/]")


@app.command()
def rollback(label: Label = "production", note: Note = "", model: ModelDir = None) -> None:
    """Return the label to the version it named before its last move."""
    from ranker import versions

    with user_errors():
        version = versions.rollback(_root(model), label, note)
    console.print(f"{label} → [bold]{version}[/] (rolled back)")
