"""Which nearest-neighbour library serves search retrieval: exact numpy vs usearch, faiss (HNSW) and hnswlib.

Item vectors are the catalog's multilingual (USE) text vectors; a large catalog is simulated by copies of
them with small Gaussian noise (clusters of near-duplicates, as real catalogs have), re-normalised. Queries
are the catalog's category names in English and their item texts' first words. For each library: build
seconds, recall@100 against the exact top 100, and single-query latency (p50/p99, one thread).

    python bench/ann.py --data ../shared/data/amazon-scientific --sizes 4385,200000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ranker.loaders import (
    detect_format,  # noqa: E402
    load_any,  # noqa: E402
)
from ranker.text import MultilingualEncoder, leaf_name, normalised, search_texts  # noqa: E402

TOP = 100


def exact(vectors: np.ndarray):
    def search(q: np.ndarray) -> np.ndarray:
        sims = vectors @ q
        top = np.argpartition(-sims, TOP)[:TOP]
        return top[np.argsort(-sims[top])]
    return search


def with_usearch(vectors: np.ndarray):
    from usearch.index import Index

    index = Index(ndim=vectors.shape[1], metric="ip", dtype="f32", connectivity=16, expansion_add=128,
                  expansion_search=128)
    index.add(np.arange(len(vectors)), vectors, threads=2)
    return lambda q: index.search(q, TOP, threads=1).keys


def with_faiss(vectors: np.ndarray):
    import faiss

    faiss.omp_set_num_threads(2)
    index = faiss.IndexHNSWFlat(vectors.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 128
    index.add(vectors)
    index.hnsw.efSearch = 128
    faiss.omp_set_num_threads(1)
    return lambda q: index.search(q[None, :], TOP)[1][0]


def with_hnswlib(vectors: np.ndarray):
    import hnswlib

    index = hnswlib.Index(space="ip", dim=vectors.shape[1])
    index.init_index(max_elements=len(vectors), ef_construction=128, M=16)
    index.add_items(vectors, np.arange(len(vectors)), num_threads=2)
    index.set_ef(128)
    index.set_num_threads(1)
    return lambda q: index.knn_query(q[None, :], TOP)[0][0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--sizes", default="4385,200000")
    ap.add_argument("--queries", type=int, default=400)
    args = ap.parse_args()
    shop = load_any(detect_format(args.data), args.data)
    encoder = MultilingualEncoder()
    base = encoder.encode(search_texts(shop.items))
    names = sorted({leaf_name(c) for c in shop.items["category"]} - {""})
    rng = np.random.default_rng(0)
    queries = encoder.encode(list(rng.choice(names, min(args.queries, len(names)), replace=False)))
    print(f"{len(base)} items, {len(queries)} queries (category names), top {TOP}")
    print(f"{'items':>8} {'library':<8} {'build s':>8} {'recall@100':>10} {'p50 ms':>7} {'p99 ms':>7}")
    for size in (int(s) for s in args.sizes.split(",")):
        picks = rng.integers(0, len(base), size)
        vectors = base[picks] if size == len(base) else normalised(base[picks] + rng.normal(0, 0.02, (size, 512)))
        vectors = np.ascontiguousarray(vectors, np.float32)
        truth = [set(exact(vectors)(q).tolist()) for q in queries]
        for name, build in (("numpy", exact), ("usearch", with_usearch), ("faiss", with_faiss),
                            ("hnswlib", with_hnswlib)):
            t = time.perf_counter()
            try:
                search = build(vectors)
            except ImportError:
                print(f"{size:>8} {name:<8} not installed (pip install faiss-cpu==1.15.1 usearch==2.26.6 to compare)")
                continue
            built = time.perf_counter() - t
            times, recall = [], []
            for q, true in zip(queries, truth, strict=True):
                t = time.perf_counter()
                found = search(q)
                times.append((time.perf_counter() - t) * 1000)
                recall.append(len(true & set(np.asarray(found).tolist())) / TOP)
            print(f"{size:>8} {name:<8} {built:>8.2f} {np.mean(recall):>10.4f} {np.median(times):>7.2f} "
                  f"{np.percentile(times, 99):>7.2f}", flush=True)


if __name__ == "__main__":
    main()
