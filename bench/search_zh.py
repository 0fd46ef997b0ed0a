"""Search on a Chinese marketplace catalog: product-type queries, relevance known from labels.

The catalog is the real Taobao titles of the e-commerce NER set (`--ner`, fetched outside the repo; HPPX brand,
HCCX product type). A query is a labelled product type ("连衣裙", "荔枝"); the items relevant to it are the
titles labelled with exactly that type (a title may have several). Queries are the types labelled on
`--min-items` to `--max-items` titles. Methods, query only (no shopper: the catalog has none):

- dense: the multilingual encoder's nearest titles (the retrieval step of `Ranker.search`);
- BM25 over the titles segmented by jieba (rank-bm25 BM25Okapi), the lexical baseline;
- words first (the service's order, `Ranker.search` without a shopper): the titles whose words hold the
  query's words (`ranker.lexical.WordIndex`), ordered by the encoder, then the encoder's others.

Printed: HR@10 (a relevant title in the ten), P@10 and NDCG@10, medians of per-query latency.

    python bench/search_zh.py --ner ../data-ext/ecommerce-ner [--min-items 5] [--max-items 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def metrics(ranked: list[int], relevant: set[int], k: int = 10) -> tuple[float, float, float]:
    top = ranked[:k]
    gains = [1.0 if i in relevant else 0.0 for i in top]
    dcg = sum(g / np.log2(r + 2) for r, g in enumerate(gains))
    ideal = sum(1 / np.log2(r + 2) for r in range(min(k, len(relevant))))
    return float(any(gains)), sum(gains) / k, dcg / ideal if ideal else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ner", type=Path, required=True)
    parser.add_argument("--min-items", type=int, default=5)
    parser.add_argument("--max-items", type=int, default=200)
    args = parser.parse_args()

    from rank_bm25 import BM25Okapi
    from zh_names import read_ner

    from ranker.lexical import WordIndex, words
    from ranker.search import SearchIndex
    from ranker.text import MultilingualEncoder

    titles, labelled = [], defaultdict(set)
    for split in ("train", "dev", "test"):
        for title, spans in read_ner(args.ner / f"{split}.txt"):
            for label, span in spans:
                if label == "HCCX":
                    labelled[span].add(len(titles))
            titles.append(title)
    queries = sorted(q for q, items in labelled.items() if args.min_items <= len(items) <= args.max_items
                     and len(q) >= 2)
    encoder = MultilingualEncoder(threads=2)
    start = time.perf_counter()
    index = SearchIndex(encoder.encode_fresh(titles))
    print(f"{len(titles)} titles encoded in {time.perf_counter() - start:.0f} s; {len(queries)} product-type "
          f"queries ({args.min_items}-{args.max_items} labelled titles each)")
    words_index = WordIndex()
    start = time.perf_counter()
    words_index.update(titles)
    print(f"words of every title: {time.perf_counter() - start:.1f} s")
    bm25 = BM25Okapi([sorted(words(t)) or ["_"] for t in titles])

    def dense(q: str) -> list[int]:
        return index.search(encoder.query(q), 100).items.tolist()

    def lexical(q: str) -> list[int]:
        scores = bm25.get_scores(sorted(words(q)))
        return np.argsort(-scores, kind="stable")[:100].tolist()

    def words_first(q: str) -> list[int]:
        vector = encoder.query(q)
        found = index.search(vector, 100)
        matched = words_index.matching(q)
        items = np.r_[found.items, np.setdiff1d(matched, found.items)]
        sims = index.similarity(vector, items)
        first = np.isin(items, matched)
        return items[np.lexsort((-sims, ~first))].tolist()

    print(f"\n{'method':34} {'HR@10':>7} {'P@10':>7} {'NDCG@10':>8} {'ms/query':>9}")
    for name, method in (("dense (encoder only)", dense), ("BM25, jieba words", lexical),
                         ("words first, then encoder", words_first)):
        scores, times = [], []
        for q in queries:
            start = time.perf_counter()
            ranked = method(q)
            times.append((time.perf_counter() - start) * 1000)
            scores.append(metrics(ranked, labelled[q]))
        hr, p, ndcg = (float(np.mean([s[j] for s in scores])) for j in range(3))
        print(f"{name:34} {hr:>7.3f} {p:>7.3f} {ndcg:>8.3f} {statistics.median(times):>9.1f}")
    for q in ("连衣裙", "荔枝", "运动鞋"):
        if q in labelled:
            top = words_first(q)[:3]
            print(f"  {q}: " + " | ".join(titles[i][:24] for i in top))


if __name__ == "__main__":
    main()
