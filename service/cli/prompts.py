"""`whyrec prompts lint|list|save|promote|rollback|eval|experiment`: the editors' commands.

Editors tune wording in `prompts/` without touching code: lint, save the working copy as an immutable
version, compare versions on the committed golden set, move a label (`production`, `staging`, …) and
roll it back, and read what shoppers said of each version (`experiment`). A running service picks up label moves.
(`whyrec preview` shows one shopper's reasons.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from narrator.prompts.library import DEFAULT_DIR, PromptLibrary, lint
from narrator.prompts.store import PromptStore, StoreError, parse_ref
from service.cli.common import Backend, ModelDir, console, err, fail, settings, text_model, user_errors
from service.cli.prompt_report import example_pairs, write_report

app = typer.Typer(help="Prompt versions: lint, save, compare, promote and roll back.", no_args_is_help=True)
PromptsDir = Annotated[Path, typer.Option("--dir", help="Prompts folder.")]
GOLDEN = Path("golden/cases.jsonl")
DRAFT = "draft"


def library_for(store: PromptStore, ref: str) -> tuple[str, PromptLibrary]:
    """ID@VERSION, ID@LABEL, or ID@draft (the working copy, unsaved) → (label for display, library)."""
    prompt_id, what = parse_ref(ref)
    if what == DRAFT:
        return f"{prompt_id}@draft", PromptLibrary.load(store.root)
    prompt_id, version = store.resolve(ref)
    return f"{prompt_id}@{version}", store.library(prompt_id, version)


@app.command("lint")
def prompts_lint(root: PromptsDir = DEFAULT_DIR) -> None:
    """Check every template and phrase file: renders on sample facts of every kind, uses only documented
    variables, has its limits set. Exits 1 listing file:line for each problem."""
    problems = lint(root)
    for p in problems:
        err.print(f"[red]{escape(str(p))}[/]", soft_wrap=True, highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"{root}: all templates and phrases render on the sample facts")


@app.command("list")
def prompts_list(root: PromptsDir = DEFAULT_DIR) -> None:
    """Saved versions, where each label points, and the label history."""
    store = PromptStore(root)
    ids = sorted({p.name.split("@")[0] for p in store.versions_dir.glob("*@*") if p.is_dir()})
    table = Table(title="prompt versions and labels")
    for col in ("id", "versions", "labels"):
        table.add_column(col)
    data = store.labels()
    for prompt_id in ids:
        labels = ", ".join(f"{name} → {e['version']}" + (f" (+{e['split']['share']:.0%} → {e['split']['version']})"
                                                         if e.get("split") else "")
                           for name, e in data["labels"].get(prompt_id, {}).items())
        table.add_row(prompt_id, ", ".join(map(str, store.versions(prompt_id))), labels or "-")
    console.print(table)
    for h in data["history"][-10:]:
        console.print(f"  {h['when']} {h['id']}@{h['label']}: {h['from'] and h['from']['version']} → "
                      f"{h['to']['version']}  {h['note']}", highlight=False)


@app.command("save")
def prompts_save(prompt_id: Annotated[str, typer.Argument(help="Template id, e.g. reason-short.")],
                 note: Annotated[str, typer.Option(help="Why this version.")] = "",
                 root: PromptsDir = DEFAULT_DIR) -> None:
    """Save the working copy of ID (both languages + phrases) as its next immutable version."""
    try:
        version = PromptStore(root).save(prompt_id, note=note)
    except StoreError as e:
        fail(str(e))
    console.print(f"saved {prompt_id}@{version}")


@app.command("promote")
def prompts_promote(ref: Annotated[str, typer.Argument(help="ID@VERSION to promote.")],
                    label: Annotated[str, typer.Option(help="Label to move, e.g. production.")] = "production",
                    split: Annotated[str | None, typer.Option(
                        help="A/B: VERSION:SHARE sends that share of shoppers (by hash) to another version.")] = None,
                    note: Annotated[str, typer.Option(help="Why.")] = "", root: PromptsDir = DEFAULT_DIR) -> None:
    """Point a label at a saved version (refused if it fails lint). A running service follows within ~1 s."""
    try:
        arm = None
        if split:
            version, _, share = split.partition(":")
            arm = (int(version), float(share))
        entry = PromptStore(root).promote(ref, label, note, arm)
    except (StoreError, ValueError) as e:
        fail(str(e))
    console.print(f"{parse_ref(ref)[0]}@{label} → {entry}")


@app.command("rollback")
def prompts_rollback(prompt_id: Annotated[str, typer.Argument(help="Template id.")],
                     label: Annotated[str, typer.Option(help="Label to move back.")] = "production",
                     note: Annotated[str, typer.Option(help="Why.")] = "", root: PromptsDir = DEFAULT_DIR) -> None:
    """Move a label back to the version it pointed at before its last move."""
    try:
        entry = PromptStore(root).rollback(prompt_id, label, note)
    except StoreError as e:
        fail(str(e))
    console.print(f"{prompt_id}@{label} rolled back → {entry}")


@app.command("eval")
def prompts_eval(
    ref: Annotated[str, typer.Argument(help="ID@VERSION, ID@LABEL or ID@draft.")],
    vs: Annotated[str | None, typer.Option(help="A second version to compare with.")] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="Use only the first N golden cases.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a report: .md or .html.")] = None,
    backend: Backend = None,
    llm: Annotated[str, typer.Option("--llm", help="Narrator model: default, small or a path.")] = "small",
    root: PromptsDir = DEFAULT_DIR,
) -> None:
    """Run the golden set (zh and en) through one or two versions; print the narrator metrics side by
    side with the difference and example pairs; optionally write a Markdown/HTML report."""
    from narrator import evaluate
    from narrator.facts import Facts
    from narrator.narrate import Narrator

    text = text_model("auto", settings(backend=backend, llm=llm))
    store = PromptStore(root)
    try:
        arms = [library_for(store, r) for r in [ref] + ([vs] if vs else [])]
    except (StoreError, ValueError) as e:
        fail(str(e))
    cases = [json.loads(line) for line in (root / GOLDEN).read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = cases[:sample] if sample else cases
    facts = [Facts.from_dict(c["facts"]) for c in cases]
    brands = {f.item.brand for f in facts} | {str(fact.evidence.get("brand")) for f in facts for fact in f.facts
                                              if fact.evidence.get("brand")}
    columns: dict[str, dict[str, float]] = {}
    examples = {}
    for name, library in arms:
        narrator = Narrator(library, text, brands=brands, cache_size=0)
        prompt_id = parse_ref(ref)[0]
        rows = {lang: evaluate.run(narrator, facts, lang, prompt_id=prompt_id) for lang in ("zh", "en")}
        for lang in ("zh", "en"):
            columns[f"{name} {lang}"] = evaluate.metrics(narrator, rows[lang], lang)
        columns[f"{name} zh"]["parity"] = columns[f"{name} en"]["parity"] = evaluate.parity(rows["zh"], rows["en"])
        examples[name] = rows
    metric_rows = evaluate.ROWS + [("parity", "zh/en parity", "{:.1%}")]
    table = Table(title=f"golden set: {len(cases)} cases × zh, en" + (f" — {arms[0][0]} vs {arms[1][0]}" if vs else ""))
    table.add_column("metric")
    for col in columns:
        table.add_column(col, justify="right")
    if vs:
        table.add_column("diff zh", justify="right")
        table.add_column("diff en", justify="right")
    names = [a[0] for a in arms]
    for key, label, fmt in metric_rows:
        cells = [fmt.format(v[key]) for v in columns.values()]
        if vs:
            cells += [f"{columns[f'{names[1]} {lang}'][key] - columns[f'{names[0]} {lang}'][key]:+.3f}"
                      for lang in ("zh", "en")]
        table.add_row(label, *cells)
    console.print(table)
    pairs = example_pairs(cases, examples, names)
    for p in pairs[:6]:
        console.print(f"[bold]{p['case']}[/] ({p['lang']})", highlight=False)
        for n in names:
            console.print(f"  {n}: {p[n]}", soft_wrap=True, highlight=False)
    if report:
        write_report(report, names, columns, metric_rows, pairs)
        console.print(f"report written to {report}")


@app.command("experiment")
def prompts_experiment(
    model: ModelDir = None,
    events: Annotated[Path | None, typer.Option("--events", help="The service's event store, which holds the "
                                                "feedback [default: WHYREC_EVENTS, else events.db in the model root].")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """What shoppers said of each prompt version and A/B arm: the share of "helpful" votes and of "this reason is
    wrong" reactions, with 95% Wilson intervals, and a test of each template's arms (Fisher's exact test for two),
    so a split can be ended on evidence rather than on a hunch."""
    from dataclasses import asdict

    from service.jobs.prompt_experiment import read, report_lines
    from service.stack import events_path, root_of

    config = settings(artifacts=model, events=events)
    with user_errors():
        found = read(config.events or events_path(config, root_of(config.artifacts)))
    if as_json:
        print(json.dumps([asdict(a) for a in found]))
        return
    if not found:
        console.print("no feedback names a prompt version yet")
        return
    for line in report_lines(found):
        console.print(line, highlight=False, soft_wrap=True)
