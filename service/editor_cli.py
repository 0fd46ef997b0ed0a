"""Editors' commands: `whyrec preview` and `whyrec prompts lint|list|save|eval|promote|rollback`.

Editors tune wording in `prompts/` without touching code: preview one shopper's reasons, lint,
save the working copy as an immutable version, compare versions on the committed golden set, move a
label (`production`, `staging`, …) and roll it back. A running service picks up label moves.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from narrator.prompts import DEFAULT_DIR, PromptLibrary, lint
from narrator.store import PromptStore, StoreError, parse_ref

prompts_app = typer.Typer(help="Prompt versions: lint, save, compare, promote and roll back.", no_args_is_help=True)
PromptsDir = Annotated[Path, typer.Option("--dir", help="Prompts folder.")]
GOLDEN = Path("golden/cases.jsonl")
DRAFT = "draft"


def _console():
    from service.cli import console, err, fail

    return console, err, fail


def library_for(store: PromptStore, ref: str) -> tuple[str, PromptLibrary]:
    """ID@VERSION, ID@LABEL, or ID@draft (the working copy, unsaved) → (label for display, library)."""
    prompt_id, what = parse_ref(ref)
    if what == DRAFT:
        return f"{prompt_id}@draft", PromptLibrary.load(store.root)
    prompt_id, version = store.resolve(ref)
    return f"{prompt_id}@{version}", store.library(prompt_id, version)


@prompts_app.command("lint")
def prompts_lint(root: PromptsDir = DEFAULT_DIR) -> None:
    """Check every template and phrase file: renders on sample facts of every kind, uses only documented
    variables, has its limits set. Exits 1 listing file:line for each problem."""
    console, err, _ = _console()
    problems = lint(root)
    for p in problems:
        err.print(f"[red]{p}[/]", soft_wrap=True, highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"{root}: all templates and phrases render on the sample facts")


@prompts_app.command("list")
def prompts_list(root: PromptsDir = DEFAULT_DIR) -> None:
    """Saved versions, where each label points, and the label history."""
    console, _, _ = _console()
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


@prompts_app.command("save")
def prompts_save(prompt_id: Annotated[str, typer.Argument(help="Template id, e.g. reason-short.")],
                 note: Annotated[str, typer.Option(help="Why this version.")] = "",
                 root: PromptsDir = DEFAULT_DIR) -> None:
    """Save the working copy of ID (both languages + phrases) as its next immutable version."""
    console, _, fail = _console()
    try:
        version = PromptStore(root).save(prompt_id, note=note)
    except StoreError as e:
        fail(str(e))
    console.print(f"saved {prompt_id}@{version}")


@prompts_app.command("promote")
def prompts_promote(ref: Annotated[str, typer.Argument(help="ID@VERSION to promote.")],
                    label: Annotated[str, typer.Option(help="Label to move, e.g. production.")] = "production",
                    split: Annotated[str | None, typer.Option(
                        help="A/B: VERSION:SHARE sends that share of shoppers (by hash) to another version.")] = None,
                    note: Annotated[str, typer.Option(help="Why.")] = "", root: PromptsDir = DEFAULT_DIR) -> None:
    """Point a label at a saved version (refused if it fails lint). A running service follows within ~1 s."""
    console, _, fail = _console()
    try:
        arm = None
        if split:
            version, _, share = split.partition(":")
            arm = (int(version), float(share))
        entry = PromptStore(root).promote(ref, label, note, arm)
    except (StoreError, ValueError) as e:
        fail(str(e))
    console.print(f"{parse_ref(ref)[0]}@{label} → {entry}")


@prompts_app.command("rollback")
def prompts_rollback(prompt_id: Annotated[str, typer.Argument(help="Template id.")],
                     label: Annotated[str, typer.Option(help="Label to move back.")] = "production",
                     note: Annotated[str, typer.Option(help="Why.")] = "", root: PromptsDir = DEFAULT_DIR) -> None:
    """Move a label back to the version it pointed at before its last move."""
    console, _, fail = _console()
    try:
        entry = PromptStore(root).rollback(prompt_id, label, note)
    except StoreError as e:
        fail(str(e))
    console.print(f"{prompt_id}@{label} rolled back → {entry}")


@prompts_app.command("eval")
def prompts_eval(
    ref: Annotated[str, typer.Argument(help="ID@VERSION, ID@LABEL or ID@draft.")],
    vs: Annotated[str | None, typer.Option(help="A second version to compare with.")] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="Use only the first N golden cases.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a report: .md or .html.")] = None,
    backend: Annotated[str | None, typer.Option(help="llama.cpp, transformers, openai, or none.")] = None,
    llm: Annotated[str | None, typer.Option("--llm", help="Narrator model: default, small or a path.")] = "small",
    root: PromptsDir = DEFAULT_DIR,
) -> None:
    """Run the golden set (zh and en) through one or two versions; print the narrator metrics side by
    side with the difference and example pairs; optionally write a Markdown/HTML report."""
    from narrator import evaluate
    from narrator.facts import Facts
    from narrator.narrate import Narrator

    console, _, fail = _console()
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
    text_model = None
    if (backend or "").lower() not in ("none", "template"):
        from narrator.backends import load_backend

        text_model = load_backend(backend, llm)
    columns, examples = {}, {}
    for name, library in arms:
        narrator = Narrator(library, text_model, brands=brands, cache_size=0)
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
    pairs = _example_pairs(cases, examples, names)
    for p in pairs[:6]:
        console.print(f"[bold]{p['case']}[/] ({p['lang']})", highlight=False)
        for n in names:
            console.print(f"  {n}: {p[n]}", soft_wrap=True, highlight=False)
    if report:
        write_report(report, names, columns, metric_rows, pairs)
        console.print(f"report written to {report}")


def _example_pairs(cases, examples, names) -> list[dict]:
    out = []
    for lang in ("zh", "en"):
        for n, case in enumerate(cases):
            row = {"case": case["name"], "lang": lang}
            for name in names:
                e = examples[name][lang][n].explanation
                row[name] = e.text + (" [fallback]" if e.fallback_used else "")
            out.append(row)
    changed = [p for p in out if len({p[n] for n in names}) > 1]
    return changed + [p for p in out if p not in changed]


def write_report(path: Path, names, columns, metric_rows, pairs) -> None:
    headers = ["metric", *columns]
    rows = [[label, *(fmt.format(v[key]) for v in columns.values())] for key, label, fmt in metric_rows]
    if path.suffix == ".html":
        def cells(tag, values):
            return "".join(f"<{tag}>{html.escape(str(v))}</{tag}>" for v in values)

        body = [f"<h1>Prompt evaluation: {html.escape(' vs '.join(names))}</h1>", "<table>",
                f"<tr>{cells('th', headers)}</tr>", *(f"<tr>{cells('td', r)}</tr>" for r in rows), "</table>",
                "<h2>Example pairs</h2><table>", f"<tr>{cells('th', ['case', 'lang', *names])}</tr>",
                *(f"<tr>{cells('td', [p['case'], p['lang'], *(p[n] for n in names)])}</tr>" for p in pairs),
                "</table>"]
        path.write_text("<!doctype html><meta charset='utf-8'><title>whyrec prompt eval</title>"
                        "<style>td,th{border:1px solid #ccc;padding:4px}table{border-collapse:collapse}</style>"
                        + "\n".join(body), encoding="utf-8")
        return
    lines = [f"# Prompt evaluation: {' vs '.join(names)}", "", "| " + " | ".join(headers) + " |",
             "|" + "---|" * len(headers), *("| " + " | ".join(r) + " |" for r in rows), "", "## Example pairs", "",
             "| case | lang | " + " | ".join(names) + " |", "|" + "---|" * (2 + len(names)),
             *(f"| {p['case']} | {p['lang']} | " + " | ".join(p[n].replace("|", "\\|") for n in names) + " |"
               for p in pairs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def preview(
    user: Annotated[str, typer.Option(help="Shopper id.")],
    model: Annotated[Path, typer.Option("--model", help="Ranker artifacts root or version.")] = Path("artifacts"),
    item: Annotated[str | None, typer.Option(help="Item id; default: the shopper's top item.")] = None,
    lang: Annotated[str, typer.Option(help="zh, en or both.")] = "both",
    prompt: Annotated[str | None, typer.Option(
        help="ID@VERSION, ID@LABEL, ID@draft or a LABEL of reason-short; default: the working copy.")] = None,
    mode: Annotated[str, typer.Option(help="auto, llm or template.")] = "auto",
    backend: Annotated[str | None, typer.Option(help="llama.cpp, transformers, openai or none.")] = None,
    llm: Annotated[str | None, typer.Option("--llm", help="Narrator model: default, small or a path.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    root: PromptsDir = DEFAULT_DIR,
) -> None:
    """What a shopper would read for one item, and why: the item, an attribution bar chart, the facts,
    and the sentence in each language with every checked claim marked verified or failed."""
    from rich.panel import Panel

    from narrator.narrate import MODES, Narrator
    from ranker import artifacts
    from ranker.explain import Explainer
    from ranker.ranking import Ranker
    from ranker.runtime import configure
    from service.cli import _languages, user_errors

    console, _, fail = _console()
    if mode not in MODES:
        fail(f"--mode must be one of {', '.join(MODES)}; got {mode!r}")
    configure()
    store = PromptStore(root)
    with user_errors():
        langs = _languages(lang)
        ref = prompt if prompt is None or "@" in prompt else f"reason-short@{prompt}"
        prompt_name, library = library_for(store, ref) if ref else ("working copy", PromptLibrary.load(root))
        ranker = Ranker.from_artifact(artifacts.load(model))
        explained = Explainer(ranker).explain(user, [item] if item else None, 1, allow_unknown_user=True)[0]
        text_model = None
        if mode != "template" and (backend or "").lower() not in ("none", "template"):
            from narrator.backends import load_backend

            text_model = load_backend(backend, llm)
        narrator = Narrator(library, text_model, brands=set(ranker.items["brand"].dropna().astype(str)))
        facts = explained.facts
        said = {la: narrator.explain(facts, la, mode="template" if text_model is None else mode) for la in langs} \
            if facts.facts else {}
    groups = explained.attribution.group_table(explained.pair)
    if as_json:
        print(json.dumps({"prompt": prompt_name, "item": facts.item.__dict__, "attribution": groups,
                          "completeness_error": facts.completeness_error, "facts": facts.to_dict()["facts"],
                          "explanations": {la: e.to_dict() for la, e in said.items()}}, ensure_ascii=False))
        return
    item_ref = facts.item
    console.print(Panel(f"[bold]{item_ref.title}[/]\n{item_ref.title_zh or ''}\n{item_ref.brand} · {item_ref.category}"
                        + (f" · ${item_ref.price:.2f}" if item_ref.price else ""),
                        title=f"{item_ref.item_id} for shopper {user} (score {facts.score:.3f})"))
    positive = sum(v for v in groups.values() if v > 0) or 1.0
    chart = Table(title=f"attribution (completeness error {facts.completeness_error:.2%}, {facts.steps} steps)")
    for col in ("group", "share", ""):
        chart.add_column(col)
    for g, v in sorted(groups.items(), key=lambda kv: -kv[1]):
        width = min(int(round(30 * abs(v) / positive)), 30)
        bar = f"[green]{'█' * width}[/]" if v > 0 else f"[red]{'▒' * width}[/]"
        chart.add_row(g, f"{v / positive:.0%}" if v > 0 else "against", bar)
    console.print(chart)
    for f in facts.facts:
        console.print(f"  {f.rank}. [bold]{f.kind}[/] {f.share:.0%} {json.dumps(f.evidence, ensure_ascii=False)}",
                      soft_wrap=True, highlight=False)
    if not facts.facts:
        console.print("  no reason is strong enough to state honestly")
    for la, e in said.items():
        status = ("[yellow]template fallback[/] after the model's answer was rejected" if e.fallback_used
                  else "template (no model)" if not e.attempts
                  else f"[green]model answer verified[/] ({e.model_id}, attempt {e.attempts})")
        console.print(Panel(e.text, title=f"{la} · {prompt_name} ({e.prompt_id}@{e.prompt_version}) · {status}"))
        for c in e.report["claims"]:
            mark = "[green]✓[/]" if c["ok"] else "[red]✗[/]"
            console.print(f"    {mark} {c['rule']}: {c['text']} — {c['why']}", highlight=False)
        for text in e.rejected:
            console.print(f"    [dim]rejected: {text}[/]", soft_wrap=True, highlight=False)
        console.print("    timings: " + ", ".join(f"{k} {v:.2f}" for k, v in e.timings.items()), highlight=False)
