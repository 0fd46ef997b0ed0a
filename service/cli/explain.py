"""`whyrec explain` (analysts: attributions, facts and sentences for a shopper's list) and `whyrec
preview` (editors: what a shopper reads for one item, every checked claim marked)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.panel import Panel

from narrator.narrate import Narrator
from narrator.prompts.library import DEFAULT_DIR
from service.cli.common import (
    Backend,
    Llm,
    ModelDir,
    attribution_chart,
    console,
    languages,
    load_stack,
    provenance,
    settings,
    user_errors,
)
from service.cli.prompts import PromptsDir, library_for


def explain(
    user: Annotated[str, typer.Option(help="Shopper id.")],
    model: ModelDir = None,
    item: Annotated[str | None, typer.Option(help="Explain this item; default: the shopper's top k.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many top items to explain.")] = 10,
    tolerance: Annotated[float, typer.Option(help="Completeness error tolerance for IG.")] = 0.01,
    lang: Annotated[str, typer.Option(help="Language of the reason sentence: zh, en or both.")] = "en",
    narrate: Annotated[str | None, typer.Option(
        help="Also write the reason sentence: template (deterministic), llm (model, verified, with "
             "fallback) or auto.")] = None,
    backend: Backend = None,
    llm: Llm = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Why these items? Integrated-gradient attributions per group, the facts they become, and
    (with --narrate) the verified reason sentence a shopper reads."""
    config = settings(artifacts=model, backend=backend, llm=llm)
    with user_errors():
        langs = languages(lang)
    stack = load_stack(config, narrate)
    with user_errors():
        writer = stack.narrator(user) if narrate else None
        results = stack.explainer_with(tolerance).explain(user, [item] if item else None, k)
        sentences = [{la: writer.explain(r.facts, la, mode=narrate) for la in langs}  # type: ignore[arg-type]
                     if writer and r.facts.facts else {} for r in results]
    if as_json:
        print(json.dumps([{"item_id": r.item_id, "score": r.facts.score,
                           "groups": r.attribution.group_table(r.pair),
                           "completeness_error": r.facts.completeness_error, "steps": r.facts.steps,
                           "facts": r.facts.to_dict(), "explanations": {la: e.to_dict() for la, e in said.items()}}
                          for r, said in zip(results, sentences, strict=True)], ensure_ascii=False))
        return
    for r, said in zip(results, sentences, strict=True):
        console.print(attribution_chart(r.attribution.group_table(r.pair),
                                        f"{r.item_id} {r.facts.item.title} — score {r.facts.score:.3f}, completeness "
                                        f"error {r.facts.completeness_error:.2%} at {r.facts.steps} steps"))
        for f in r.facts.facts:
            evidence = json.dumps(f.evidence, ensure_ascii=False)
            console.print(f"  {f.rank}. [bold]{f.kind}[/] ({f.share:.0%}): {evidence}", soft_wrap=True, highlight=False)
        if r.facts.cold_start:
            console.print("  (new shopper: only popularity can be an honest reason)")
        for la, e in said.items():
            console.print(f"  [bold]{la}[/]: {e.text}  [dim]({provenance(e)})[/]", soft_wrap=True, highlight=False)


def preview(
    user: Annotated[str, typer.Option(help="Shopper id.")],
    model: ModelDir = None,
    item: Annotated[str | None, typer.Option(help="Item id; default: the shopper's top item.")] = None,
    query: Annotated[str | None, typer.Option(help="Preview the item as a result of this search (its reasons may "
                                                   "then say it matches the search).")] = None,
    lang: Annotated[str, typer.Option(help="zh, en or both.")] = "both",
    prompt: Annotated[str | None, typer.Option(
        help="ID@VERSION, ID@LABEL, ID@draft or a LABEL of reason-short; default: the version the service serves "
             "this shopper (the prompt label, else the working copy).")] = None,
    mode: Annotated[str, typer.Option(help="auto, llm or template.")] = "auto",
    backend: Backend = None,
    llm: Llm = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    root: PromptsDir = DEFAULT_DIR,
    counterfactual: Annotated[bool, typer.Option(
        help="Because of what? Also the fewest of the shopper's actions without which the item leaves their top "
             "10, the item that would take its place, and the check of each reason that names an action.")] = False,
) -> None:
    """What a shopper would read for one item, and why: the item, an attribution bar chart, the facts,
    and the sentence in each language with every checked claim marked verified or failed."""
    from narrator.prompts.store import PromptStore
    from service.responses import counterfactual_out

    config = settings(artifacts=model, backend=backend, llm=llm, prompts=root if root != DEFAULT_DIR else None)
    with user_errors():
        langs = languages(lang)
        ref = prompt if prompt is None or "@" in prompt else f"reason-short@{prompt}"
        prompt_name, library = library_for(PromptStore(root), ref) if ref else ("served", None)
    stack = load_stack(config, mode)
    ranker = stack.ranker

    with user_errors():
        chosen, searched = item, None
        if query and item:  # the chosen item as a search result: the query alone, no search to re-rank
            searched = ranker.query_for(query)
        elif query:
            hits, searched = ranker.search(query, user, 1)
            chosen = hits[0].item_id if hits else None
        explained = stack.explainer.explain(user, [chosen] if chosen else None, 1, allow_unknown_user=True,
                                            query=searched)[0]
        writer = stack.narrator(user) if library is None else \
            Narrator(library, stack.backend, brands=stack.prompts.brands)
        facts = explained.facts
        said = {la: writer.explain(facts, la, mode="template" if writer.backend is None else mode)  # type: ignore[arg-type]
                for la in langs} if facts.facts else {}
        causes = counterfactual_out(stack.explainer, explained, ranker.title).model_dump() \
            if counterfactual and ranker.knows(user) else None
    groups = explained.attribution.group_table(explained.pair)
    if as_json:
        print(json.dumps({"prompt": prompt_name, "item": facts.item.__dict__, "attribution": groups,
                          "completeness_error": facts.completeness_error, "facts": facts.to_dict()["facts"],
                          "explanations": {la: e.to_dict() for la, e in said.items()},
                          **({"counterfactual": causes} if causes else {})}, ensure_ascii=False))
        return
    item_ref = facts.item
    console.print(Panel(f"[bold]{item_ref.title}[/]\n{item_ref.title_zh or ''}\n{item_ref.brand} · {item_ref.category}"
                        + (f" · ${item_ref.price:.2f}" if item_ref.price else ""),
                        title=f"{item_ref.item_id} for shopper {user} (score {facts.score:.3f})"))
    console.print(attribution_chart(groups, f"attribution (completeness error {facts.completeness_error:.2%}, "
                                            f"{facts.steps} steps)"))
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
    if causes:
        console.print(Panel(because_text(causes), title="because of what?"))


def because_text(causes: dict) -> str:
    """The counterfactual view (`service.schemas.CounterfactualOut`) as lines an editor reads."""
    actions = "; ".join(f"{a['did']} {a['item_id']} {a['title']}" for a in causes["actions"])
    lines = [f"without: {actions}" if actions else "no action of the shopper's was tried",
             f"→ rank {causes['rank_without']}" + (f", {causes['replaced_by']} takes its place" if causes["found"]
                                                   else f" (still in the top {causes['k']})"),
             f"({causes['actions_considered']} actions considered, {causes['seconds']:.2f} s)"]
    for c in causes["checks"]:
        verdict = "necessary" if c["necessary"] else "not necessary"
        served = f"the reason names {c['served']['item_id']}" if c["served"] else "the reason is said without a name"
        lines.append(f"{c['kind']}: {c['named']['item_id']} {verdict} (score {-c['drop']:+.4f} without it); {served}")
    return "\n".join(lines)
