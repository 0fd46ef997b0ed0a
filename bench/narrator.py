"""Narrator benchmark: are the served reasons true, complete, fluent and fast — per model and language.

    python bench/narrator.py --model ARTIFACTS --data DIR [--pairs 200] [--models default,small]
                             [--backend llama.cpp] [--seed 0] [--dump FILE.jsonl] [--json]

Pairs are the top 10 of `pairs / 10` shoppers (so the distinct-sentence ratio is over real top-10
lists; `--seed` picks other shoppers, so prompts chosen on one seed are measured on another). For each model and
language it prints, side by side:
- acceptance: share of reasons served from the model (verifier passed, no fallback);
- claim precision of served text: kinds of reason the text claims (by the phrase books' cue words)
  that are among the item's facts; unsupported-token rate: numbers/brands/names/claims the verifier
  cannot back, per word (en) or character (zh) of served text;
- top-2 coverage; zh/en parity (same kinds cited in both languages); distinct-sentence ratio;
- first attempts refused, by the verifier's rule (share of pairs), with one refused sentence each;
- latency per reason (median, p90; a cold cache, slots warmed first like a running service);
- decode speed: served completion tokens/s against raw llama-cpp-python (one plain `Llama`, same
  first-attempt prompts, same order) measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranker.runtime import configure  # noqa: E402


def build_facts(model_dir: Path, n_pairs: int, seed: int = 0) -> tuple[list, set[str], object]:
    """(shopper, [Facts of their top 10]) for `n_pairs / 10` random known shoppers, the brands, and the noun
    judge the service narrates with."""
    from service.settings import Settings
    from service.stack import Stack, noun_judge

    stack = Stack.load(Settings(artifacts=model_dir, backend="none"))  # as the service shows it
    ranker, explainer = stack.ranker, stack.explainer
    rng = np.random.default_rng(seed)
    known = [str(u) for u in ranker.stats.user_ids[: ranker.stats.cold_row]]
    lists = []
    for user in rng.permutation(known):
        facts = [e.facts for e in explainer.explain(user, k=10) if e.facts.facts]
        if len(facts) == 10:
            lists.append((user, facts))
        if len(lists) * 10 >= n_pairs:
            break
    return lists, ranker.brands(), noun_judge(ranker.encoder.encode_fresh, ranker.items)


def run_model(name: str, backend_name: str, lists, brands, judge, langs, dump: Path | None = None) -> dict:
    from narrator import evaluate
    from narrator.backends import load_backend
    from narrator.narrate import Narrator
    from narrator.prompts import PromptLibrary
    from service.settings import Settings

    backend = load_backend(Settings(backend=backend_name, llm=name).llm_options())
    narrator = Narrator(PromptLibrary.load(), backend, brands=brands, cache_size=0, noun_judge=judge)
    out: dict = {"model": backend.model_id, "backend": backend.name}
    facts = [f for _, fl in lists for f in fl]
    served = {}
    for lang in langs:
        narrator.explain(facts[0], lang)  # warm this language's prompt slot, as a service does at start
        served[lang] = evaluate.run(narrator, facts, lang)
        out[lang] = evaluate.metrics(narrator, served[lang], lang)
        out[lang]["first_refusals"] = evaluate.first_refusals(narrator, served[lang], lang)
        if dump is not None:
            write_dump(dump, backend.model_id, lang, served[lang])
        out[lang]["examples"] = [{"facts": [f.kind for f in r.facts.facts[:2]], "text": r.explanation.text,
                                  "fallback": r.explanation.fallback_used, "rejected": r.explanation.rejected[:1]}
                                 for r in served[lang][:10]]
    if len(langs) == 2:
        out["parity"] = evaluate.parity(served["zh"], served["en"])
        out["parity_gaps"] = evaluate.parity_gaps(served["zh"], served["en"])
    if backend.name == "llama.cpp":
        out["raw"] = raw_llama(backend.model_path, narrator, lists, langs)
    return out


def write_dump(path: Path, model: str, lang: str, served: list) -> None:
    """Every pair's facts, served text and refused attempts, one JSON line each (appended), to read as a shopper."""
    with path.open("a", encoding="utf-8") as out:
        for r in served:
            e = r.explanation
            out.write(json.dumps({"model": model, "lang": lang, "item": r.facts.item.title,
                                  "facts": [f.kind for f in r.facts.facts], "text": e.text, "verified": e.verified,
                                  "fallback": e.fallback_used, "attempts": e.attempts, "rejected": e.rejected,
                                  "seconds": round(r.seconds, 2)}, ensure_ascii=False) + "\n")


def raw_llama(model_path: Path, narrator, lists, langs, limit: int = 60) -> dict:
    """Plain llama-cpp-python on the same first-attempt prompts (one context, same order, same sampling)."""
    from llama_cpp import Llama

    from narrator.backends import REPETITION_PENALTY
    from service.settings import Settings

    llm = Llama(model_path=str(model_path), n_ctx=1024, n_threads=Settings().threads, n_batch=512, verbose=False)
    tokens, seconds, decode_tokens, decode_seconds = 0, 0.0, 0, 0.0
    prompts = [(lang, facts) for lang in langs for _, fl in lists for facts in fl][:limit]
    for lang, facts in prompts:
        messages = narrator.messages(facts, narrator.prompts.template(lang))
        start = time.perf_counter()
        first = None
        n = 0
        for chunk in llm.create_chat_completion(messages=messages, max_tokens=narrator.max_tokens, temperature=0.0,
                                                top_k=1, repeat_penalty=REPETITION_PENALTY, stream=True):
            if chunk["choices"][0]["delta"].get("content"):
                n += 1
                first = first or time.perf_counter()
        end = time.perf_counter()
        tokens, seconds = tokens + n, seconds + end - start
        if first and n > 1:
            decode_tokens, decode_seconds = decode_tokens + n - 1, decode_seconds + end - first
    return {"prompts": len(prompts), "tokens_per_s": tokens / seconds, "latency_mean_s": seconds / len(prompts),
            "decode_tokens_per_s": decode_tokens / max(decode_seconds, 1e-9)}


def print_table(results: list[dict], langs: list[str]) -> None:
    from narrator.evaluate import ROWS

    cols = [(r, lang) for r in results for lang in langs]
    print(f"{'metric':28}" + "".join(f"{r['model'][:20] + ' ' + lang:>28}" for r, lang in cols))
    for key, label, fmt in ROWS:
        print(f"{label:28}" + "".join(f"{fmt.format(r[lang][key]):>28}" for r, lang in cols))
    for r in results:
        if "parity" in r:
            gaps = ", ".join(f"{k} {n}" for k, n in r["parity_gaps"].items()) or "none"
            print(f"zh/en parity ({r['model']}): {r['parity']:.1%}; cited in one language only: {gaps}")
        if "raw" in r:
            raw = r["raw"]
            served = np.mean([r[lang]["served_tokens_per_s"] for lang in langs])
            print(f"raw llama-cpp-python ({r['model']}, {raw['prompts']} same prompts, one context): "
                  f"{raw['tokens_per_s']:.1f} tokens/s incl. prompt, {raw['decode_tokens_per_s']:.1f} decode-only, "
                  f"{raw['latency_mean_s']:.2f} s mean; served/raw = {served / raw['tokens_per_s']:.2f}x")
    for r in results:
        for lang in langs:
            refusals = r[lang]["first_refusals"]
            n = r[lang]["pairs"]
            print(f"first attempts refused ({r['model']} {lang}): " + (", ".join(
                f"{rule} {len(texts) / n:.1%}" for rule, texts in refusals.items()) or "none"))
            for rule, texts in refusals.items():
                print(f"    {rule}: {texts[0]}")
    for r in results:
        for lang in langs:
            for ex in r[lang]["examples"]:
                print(f"  [{r['model'][:24]} {lang}] {ex['facts']} → {ex['text']}"
                      + (" (fallback)" if ex["fallback"] else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="ranker artifacts (root or version)")
    parser.add_argument("--data", type=Path, required=True, help="the shop the artifacts were trained on")
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--models", default="default,small", help="narrator models, comma-separated")
    parser.add_argument("--backend", default="llama.cpp")
    parser.add_argument("--langs", default="zh,en")
    parser.add_argument("--seed", type=int, default=0, help="which shoppers (another seed, other pairs)")
    parser.add_argument("--dump", type=Path, help="append every pair's served and refused text here (JSON lines)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure()
    start = time.perf_counter()
    lists, brands, judge = build_facts(args.model, args.pairs, args.seed)
    langs = args.langs.split(",")
    facts_s = time.perf_counter() - start
    results = [run_model(m, args.backend, lists, brands, judge, langs, args.dump) for m in args.models.split(",")]
    if args.json:
        print(json.dumps({"data": str(args.data), "facts_s": facts_s, "results": results}, ensure_ascii=False))
        return
    print(f"{sum(len(f) for _, f in lists)} pairs from {len(lists)} shoppers of {args.data} (facts in {facts_s:.0f} s)")
    print_table(results, langs)


if __name__ == "__main__":
    main()
