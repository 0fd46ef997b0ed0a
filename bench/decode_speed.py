"""Can the 1.5B narrator decode faster on this CPU? Plain greedy decoding against prompt-lookup speculation
(draft tokens copied from the prompt, verified in one batch: the names a reason repeats are in the prompt) and
against the same weights requantized to Q4_0, on the service's own first-attempt prompts, in one run.

    python bench/decode_speed.py --model ARTIFACTS [--pairs 20] [--lookup 3,8] [--q4-0]

Prints per variant: median and mean seconds per reason, time to first token, decode tokens/s, and how many
outputs are identical to plain decoding (speculation must change nothing; requantizing may).
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranker.runtime import configure  # noqa: E402


def run(variants: dict[str, tuple[Path, int]], prompts: list, max_tokens: int) -> dict[str, dict]:
    """Each prompt through every variant in turn (interleaved, so a noisy minute hits them all alike); one
    context per variant and language, warmed first, like the service's prompt slots."""
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from narrator.backends import REPETITION_PENALTY
    from narrator.backends.local import default_threads

    def context(path: Path, lookup: int) -> Llama:
        extra = {"draft_model": LlamaPromptLookupDecoding(num_pred_tokens=lookup), "logits_all": True} if lookup else {}
        return Llama(model_path=str(path), n_ctx=1024, n_batch=512, n_threads=default_threads(),
                     n_threads_batch=default_threads(), verbose=False, **extra)

    contexts = {(name, lang): context(*variant) for name, variant in variants.items() for lang in ("zh", "en")}
    for (_, lang), llm in contexts.items():
        llm.create_chat_completion(messages=next(m for lg, m in prompts if lg == lang), max_tokens=2)
    seen: dict[str, dict[str, list]] = {name: {"seconds": [], "first": [], "texts": [], "tokens": []}
                                        for name in variants}
    for lang, messages in prompts:
        for name in variants:
            start, ttft, pieces = time.perf_counter(), 0.0, []
            for chunk in contexts[name, lang].create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=0.0, top_k=1,
                    repeat_penalty=REPETITION_PENALTY, stream=True):
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    ttft = ttft or time.perf_counter() - start
                    pieces.append(piece)
            seen[name]["seconds"].append(time.perf_counter() - start)
            seen[name]["first"].append(ttft)
            seen[name]["texts"].append("".join(pieces).strip())
            seen[name]["tokens"].append(len(pieces))
    out = {}
    for name, r in seen.items():
        decode_s = sum(s - f for s, f in zip(r["seconds"], r["first"], strict=True))
        out[name] = {"median": statistics.median(r["seconds"]), "mean": statistics.mean(r["seconds"]),
                     "ttft": statistics.median(r["first"]), "texts": r["texts"],
                     "decode": (sum(r["tokens"]) - len(r["tokens"])) / decode_s}
    return out


def requantized(source: Path, out: Path) -> Path:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.allow_requantize = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0, True
    if llama_cpp.llama_model_quantize(str(source).encode(), str(out).encode(), ctypes.byref(params)) != 0:
        raise SystemExit(f"requantizing {source} failed")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="ranker artifacts (the facts come from them)")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--llm", default="default", help="narrator model: default, small or a GGUF path")
    parser.add_argument("--lookup", default="3,8", help="prompt-lookup draft lengths to try, comma-separated")
    parser.add_argument("--q4-0", action="store_true", help="also try the weights requantized to Q4_0")
    args = parser.parse_args()
    configure()
    from narrator.backends.models import resolve
    from narrator.narrate import Narrator
    from narrator.prompts import PromptLibrary

    spec = importlib.util.spec_from_file_location("narrator_bench", Path(__file__).with_name("narrator.py"))
    assert spec is not None and spec.loader is not None
    narrator_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(narrator_bench)
    lists, brands, _ = narrator_bench.build_facts(args.model, args.pairs)  # the same facts as bench/narrator.py
    path, _ = resolve(args.llm)
    narrator = Narrator(PromptLibrary.load(), None, brands=brands, cache_size=0)
    prompts = [(lang, narrator.messages(facts, narrator.prompts.template(lang)))
               for lang in ("zh", "en") for _, facts_list in lists for facts in facts_list]
    variants = {"plain": (path, 0), **{f"prompt lookup {n}": (path, int(n)) for n in args.lookup.split(",") if n}}
    with tempfile.TemporaryDirectory() as tmp:
        if args.q4_0:
            variants["requantized Q4_0"] = (requantized(path, Path(tmp) / "q4_0.gguf"), 0)
        results = run(variants, prompts, narrator.max_tokens)
    base = results["plain"]
    print(f"{len(prompts)} first-attempt prompts (zh and en) from {args.model}, model {path.name}")
    print(f"{'variant':22}{'median s':>10}{'mean s':>9}{'ttft s':>8}{'decode tok/s':>14}"
          f"{'speed-up':>10}{'same text':>11}")
    for name, r in results.items():
        same = sum(a == b for a, b in zip(base["texts"], r["texts"], strict=True))
        print(f"{name:22}{r['median']:>10.2f}{r['mean']:>9.2f}{r['ttft']:>8.2f}{r['decode']:>14.1f}"
              f"{base['median'] / r['median']:>9.2f}x{same:>7}/{len(prompts)}")


if __name__ == "__main__":
    main()
