"""Transformers backend speed on the CPU: the narrator's prompts through the 1.5B (or any) model,
bf16 as converted by `whyrec models prepare --transformers`, beside what the library offers to go
faster, measured in one run:

    python bench/transformers_speed.py [--model default] [--tokens 48] [--prompts 4]

- bf16 (the DESIGN baseline, ~4.3 tok/s for the 1.5B on 2 cores);
- float32 weights (oneDNN fp32 GEMV is often faster than emulated bf16 on CPUs without AVX512-BF16);
- int8 dynamic quantization of the Linear layers (torch.ao), fp32 activations;
- each with a static KV cache + torch.compile when `--compile` is given.
Decode speed counts new tokens over the time after the first token (prompt processing apart).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def prompts(n: int) -> list[list[dict]]:
    from narrator.narrate import Narrator
    from narrator.prompts import PromptLibrary
    from narrator.prompts.samples import sample_facts

    narrator = Narrator(PromptLibrary.load())
    facts = sample_facts()
    return [narrator.messages(facts[i % len(facts)], narrator.prompts.template(("en", "zh")[i % 2]))
            for i in range(n)]


def measure(model, tokenizer, messages_list, new_tokens: int) -> dict:
    import threading

    import torch
    from transformers import TextIteratorStreamer

    rates, totals = [], []
    for messages in messages_list:
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True)
        kwargs = dict(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                      repetition_penalty=1.1, streamer=streamer, pad_token_id=tokenizer.eos_token_id)
        start = time.perf_counter()
        worker = threading.Thread(target=model.generate, kwargs=kwargs)
        with torch.inference_mode():
            worker.start()
            first = None
            for _ in streamer:
                first = first or time.perf_counter()
            worker.join()
        end = time.perf_counter()
        rates.append((new_tokens - 1) / (end - first))
        totals.append(end - start)
    rates.sort()
    return {"decode_tok_s_median": rates[len(rates) // 2], "seconds_median": sorted(totals)[len(totals) // 2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--variants", default="bf16,fp32,int8")
    args = parser.parse_args()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from narrator.backends import converted_folder
    from narrator.backends.models import resolve
    from service.settings import Settings

    settings = Settings()
    torch.set_num_threads(settings.threads)
    path, model_id = resolve(args.model, settings.model_cache)
    folder = converted_folder(path, model_id, settings.model_cache)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    work = prompts(args.prompts)
    results = {}
    for variant in args.variants.split(","):
        dtype = torch.bfloat16 if variant == "bf16" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).eval()
        if variant == "int8":
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        measure(model, tokenizer, work[:1], 4)
        results[variant] = measure(model, tokenizer, work, args.tokens)
        print(f"{variant:6} decode {results[variant]['decode_tok_s_median']:.1f} tok/s, "
              f"{results[variant]['seconds_median']:.1f} s per reason of {args.tokens} tokens", flush=True)
        del model
    base = results.get("bf16", {}).get("decode_tok_s_median")
    if base:
        for variant, r in results.items():
            print(f"{variant:6} {r['decode_tok_s_median'] / base:.2f}x bf16")


if __name__ == "__main__":
    main()
