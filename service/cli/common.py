"""What every command shares: the consoles, one-line errors, progress bars, the process's settings
with the command line's options over them, the text model for a narration mode and the attribution chart.

Errors a user can fix (a bad file, an unknown id, a missing model, a bad setting) print one red line
naming the problem and exit with code 2; only bugs produce tracebacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from narrator.backends import Backend as TextModel
    from narrator.narrate import Explanation
    from service.settings import Settings
    from service.stack import Stack

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path, typer.Option("--data", help="Folder with items and events (CSV or Parquet).")]
ModelDir = Annotated[Path | None, typer.Option("--model", help="Ranker artifacts root (uses LATEST) or one version "
                                               "folder [default: WHYREC_ARTIFACTS, else artifacts].")]
Backend = Annotated[str | None, typer.Option(help="Narrator backend: llama.cpp, transformers, openai, or none for "
                                                  "template reasons only [default: WHYREC_BACKEND, else llama.cpp "
                                                  "when installed].")]
Llm = Annotated[str | None, typer.Option("--llm", help="Narrator model: default, small or a path "
                                                       "[default: WHYREC_LLM, else default].")]
LANG_CHOICES = ("zh", "en", "both")


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one clear line and exit code 2."""
    from narrator.backends.models import ModelError
    from narrator.prompts.store import StoreError
    from ranker.data import DataError
    from ranker.errors import UnknownIdError
    from ranker.search import SearchUnavailableError

    try:
        yield
    except (DataError, FileNotFoundError, UnknownIdError, ValueError, ModelError, StoreError,
            SearchUnavailableError) as exc:
        fail(str(exc))


def settings(**overrides: Any) -> Settings:
    """The process's one settings object: `WHYREC_*` and `WHYREC_SETTINGS`, with the options given on the
    command line (those not None) over them."""
    from service.settings import Settings

    with user_errors():
        return Settings(**{k: v for k, v in overrides.items() if v is not None})


def configure_runtime(config: Settings) -> None:
    """Thread pools and offline hub access, before TensorFlow or torch start."""
    from ranker.runtime import configure

    configure(config.threads)


def load_stack(config: Settings, mode: str | None = None) -> Stack:
    """What the service serves for `config` (`service.stack.Stack`), with the text model of `mode` (none for
    template reasons); the runtime configured first, and a missing or broken artifact a one-line error."""
    configure_runtime(config)
    from service.stack import Stack

    with user_errors():
        return Stack.load(config, (lambda: text_model(mode, config)) if mode else None)


@contextmanager
def progress_bar() -> Iterator[Callable[[str, float, float], None]]:
    """A Rich progress bar driven by `(stage, done, total)` callbacks."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"),
                  TimeElapsedColumn(), console=err, transient=False) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: float, total: float) -> None:
            key = stage.split(":")[0].split(" ")[0]
            if key not in tasks:
                tasks[key] = bar.add_task(stage, total=total)
            bar.update(tasks[key], description=stage, completed=done, total=total)

        yield update


def languages(lang: str) -> list[str]:
    if lang not in LANG_CHOICES:
        raise ValueError(f"--lang must be zh, en or both; got {lang!r}")
    return ["zh", "en"] if lang == "both" else [lang]


def text_model(mode: str, config: Settings) -> TextModel | None:
    """The text model for `mode`: loaded only for llm/auto, and never with backend none."""
    from narrator.backends import load_backend
    from narrator.narrate import MODES

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    return load_backend(config.llm_options()) if mode != "template" and config.narrates_with_model else None


def provenance(e: Explanation) -> str:
    """Who wrote a served sentence, as a reader should know it."""
    if not e.attempts:
        return "template"
    if e.fallback_used:
        return "template: the model's sentence failed the verifier"
    return f"✓ {e.model_id}, verified"


def attribution_chart(groups: dict[str, float], title: str) -> Table:
    """Attribution per group, strongest first: its value, its share of the positive total, and a bar
    (green for, red against)."""
    positive = sum(v for v in groups.values() if v > 0) or 1.0
    chart = Table(title=title)
    for col in ("group", "attribution", "share", ""):
        chart.add_column(col, justify="left" if col in ("group", "") else "right")
    for g, v in sorted(groups.items(), key=lambda kv: -kv[1]):
        width = min(int(round(30 * abs(v) / positive)), 30)
        bar = f"[green]{'█' * width}[/]" if v > 0 else f"[red]{'▒' * width}[/]"
        chart.add_row(g, f"{v:+.3f}", f"{v / positive:.0%}" if v > 0 else "against", bar)
    return chart
