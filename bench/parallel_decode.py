"""Enrichment's chats one at a time (`generate`) against decoded together (`generate_many`), in one run.

    python bench/parallel_decode.py --data SHOP_DIR [--llm default] [--chats 8] [--repeats 2]

The chats are the enrichment's own: kind proposals for the shop's first titles, eight per chat. Both variants
share one loaded model and alternate `--repeats` times, so a noisy minute hits both. Printed: median seconds
for all chats, reply tokens per second, the speed-up, and how many replies are the same text (batched products
round differently, so a few may differ).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a shop folder (items.parquet)")
    parser.add_argument("--llm", default="default", help="narrator model: default, small or a GGUF path")
    parser.add_argument("--chats", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import pandas as pd

    from narrator.backends import LlmOptions, load_backend
    from narrator.enrichment import kinds

    titles = [t for t in pd.read_parquet(args.data / "items.parquet")["title"].astype(str) if kinds.shown(t)]
    chats = [kinds.prompt(titles[i * 8:(i + 1) * 8]) for i in range(args.chats)]
    backend = load_backend(LlmOptions(backend="llama.cpp", model=args.llm))
    max_tokens = 24 * 8
    backend.generate(chats[0], 1)  # both contexts hold the prompt's prefix before anything is timed
    backend.generate_many(chats[:2], 1)  # type: ignore[attr-defined]
    runs: dict[str, list[float]] = {"one at a time": [], "together": []}
    texts: dict[str, list[str]] = {}
    tokens: dict[str, int] = {}
    for _ in range(args.repeats):
        for name in runs:
            start = time.perf_counter()
            out = ([backend.generate(c, max_tokens) for c in chats] if name == "one at a time"
                   else backend.generate_many(chats, max_tokens))  # type: ignore[attr-defined]
            runs[name].append(time.perf_counter() - start)
            texts[name], tokens[name] = [g.text for g in out], sum(g.completion_tokens for g in out)
    base = statistics.median(runs["one at a time"])
    print(f"{len(chats)} enrichment chats (8 titles each) from {args.data}, model {backend.model_id}, "
          f"{args.repeats} runs each")
    print(f"{'variant':16}{'median s':>10}{'tokens/s':>10}{'speed-up':>10}{'same text':>11}")
    for name, seconds in runs.items():
        median = statistics.median(seconds)
        same = sum(a == b for a, b in zip(texts["one at a time"], texts[name], strict=True))
        print(f"{name:16}{median:>10.1f}{tokens[name] / median:>10.1f}{base / median:>9.2f}x{same:>7}/{len(chats)}")


if __name__ == "__main__":
    main()
