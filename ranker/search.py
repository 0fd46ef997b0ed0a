"""Search retrieval: the items whose multilingual text is nearest a query, exact or through an ANN index.

A query is matched against every title the catalog has (zh and en), the category and the brand, encoded
by the multilingual encoder (`ranker.text.MultilingualEncoder`), so a Chinese query finds English-titled
items and the reverse. Below `ANN_FROM` items an exact matrix product is both exact and fast enough
(4,385 items: 0.2 ms); above it an hnswlib HNSW index answers in well under a millisecond at any size.
`bench/ann.py` compared usearch, faiss and hnswlib at 200,000 items: same recall@100 (0.83-0.84 on
clusters of near-duplicates, ef 128), hnswlib built fastest (25 s vs 31 s faiss, 54 s usearch) and
answered fastest (p99 0.49 ms vs 0.63 ms and 1.02 ms); it also updates a changed item's vector in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ranker.features import QueryMatch
from ranker.text import leaf_name

MIN_RELEVANCE = 0.5
"""Personalised results whose match is below this share of the best match rank after the others: a search
answers its query before it is personal. 0.5 is the highest floor that cost nothing on Scientific's validation
shoppers (`bench/search.py --split valid --min-relevance 0,0.5,…,0.9`, zh queries before the back-translation
check: NDCG@10 zh 0.2425 → 0.2426, en 0.3712 → 0.3702; 0.7 already lost 8% in zh); it keeps an under-trained
model from answering "tent" with a charger."""
ANN_FROM = 50_000
"""Catalog size from which retrieval goes through the ANN index instead of an exact product."""


@dataclass(frozen=True)
class Retrieved:
    items: np.ndarray
    """Catalog positions, best match first."""
    similarity: np.ndarray


@dataclass(frozen=True)
class Query:
    """A shopper's search: its text (shown in the reason), its vector, and the best similarity among the
    items it retrieved (the scale of the relative query feature)."""

    text: str
    vector: np.ndarray
    best: float

    def match(self, index: SearchIndex, items: np.ndarray) -> QueryMatch:
        return QueryMatch(index.similarity(self.vector, items), self.best)


class SearchUnavailableError(RuntimeError):
    """The model version was trained before search existed (no query features, no multilingual vectors)."""

    def __str__(self) -> str:
        return "this model version was trained without search; retrain it with `whyrec train` to search"


class SearchIndex:
    """Nearest item vectors by inner product (vectors are L2-normalised: cosine). Rows follow catalog
    positions; `upsert` places new or changed items (the catalog grows while serving)."""

    def __init__(self, vectors: np.ndarray, ann_from: int = ANN_FROM):
        self.vectors = np.ascontiguousarray(vectors, np.float32)
        self.ann_from = ann_from
        self._ann = self._build_ann(self.vectors) if len(self.vectors) >= ann_from else None

    @staticmethod
    def _build_ann(vectors: np.ndarray):
        import hnswlib

        index = hnswlib.Index(space="ip", dim=vectors.shape[1])
        index.init_index(max_elements=max(len(vectors), 1), ef_construction=128, M=16)
        index.add_items(vectors, np.arange(len(vectors)))
        index.set_ef(128)
        return index

    @property
    def n(self) -> int:
        return len(self.vectors)

    def upsert(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Set the vectors of catalog positions `rows` (positions beyond the end grow the index)."""
        rows = np.asarray(rows, np.int64)
        grown = np.zeros((max(self.n, int(rows.max(initial=-1)) + 1), self.vectors.shape[1]), np.float32)
        grown[: self.n] = self.vectors
        grown[rows] = vectors
        self.vectors = grown
        if self._ann is not None:
            if self.n > self._ann.get_max_elements():
                self._ann.resize_index(max(self.n, 2 * self._ann.get_max_elements()))
            self._ann.add_items(np.ascontiguousarray(vectors, np.float32), rows)
        elif self.n >= self.ann_from:
            self._ann = self._build_ann(self.vectors)

    def similarity(self, query: np.ndarray, items: np.ndarray) -> np.ndarray:
        return (self.vectors[items] @ query).astype(np.float32)

    def search(self, query: np.ndarray, n: int, allowed: np.ndarray | None = None) -> Retrieved:
        """The n nearest items; `allowed` (a boolean mask over positions) drops the others, asking the ANN
        index for more until n allowed items are found or the catalog is exhausted."""
        n = min(n, self.n)
        if self._ann is None:
            sims = self.vectors @ query
            if allowed is not None:
                sims = np.where(allowed, sims, -np.inf)
            top = np.argpartition(-sims, n - 1)[:n] if n < self.n else np.arange(self.n)
            top = top[np.argsort(-sims[top], kind="stable")]
            top = top[np.isfinite(sims[top])]
            return Retrieved(top.astype(np.int64), sims[top].astype(np.float32))
        ask = n
        while True:
            self._ann.set_ef(max(128, ask))
            keys = np.asarray(self._ann.knn_query(query[None, :], min(ask, self.n))[0][0], np.int64)
            keep = keys if allowed is None else keys[allowed[keys]]
            if len(keep) >= n or ask >= self.n:
                keep = keep[:n]
                return Retrieved(keep, self.similarity(query, keep))
            ask *= 4


def query_texts(items: pd.DataFrame, positions: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Training queries: the category name of each positive item, as a shopper searching for that kind of
    thing would type it; in Chinese for half of them when the catalog names its categories in Chinese
    (`category_zh`), so the query features are learned in both languages."""
    en = items["category"].fillna("").astype(str).map(leaf_name).to_numpy()
    zh = items["category_zh"].fillna("").astype(str).map(leaf_name).to_numpy() \
        if "category_zh" in items.columns else np.full(len(items), "")
    out = []
    for i in positions:
        use_zh = bool(zh[i]) and rng.random() < 0.5
        out.append(str(zh[i] if use_zh else en[i]) or str(items["title"].iloc[i]))
    return out


def training_queries(items: pd.DataFrame, index: SearchIndex, encode, positives: np.ndarray, n_negatives: int,
                     retrieve: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For groups that answer a query: negatives drawn from what the query retrieves (the candidates a
    search re-ranks), and the similarity of each group member and the best retrieved similarity per group.
    Returns (negatives, similarity groups × (1 + n_negatives), best per group)."""
    texts = query_texts(items, positives, rng)
    distinct, which = np.unique(np.array(texts, dtype=object), return_inverse=True)
    vectors = encode([str(t) for t in distinct])
    found = [index.search(v, retrieve + 1) for v in vectors]
    negatives = np.empty((len(positives), n_negatives), np.int64)
    sims = np.empty((len(positives), 1 + n_negatives), np.float32)
    best = np.empty(len(positives), np.float32)
    for g, (pos, q) in enumerate(zip(positives, which, strict=True)):
        pool = found[q].items[found[q].items != pos][:retrieve]
        negatives[g] = pool[rng.integers(0, len(pool), n_negatives)] if len(pool) else rng.integers(0, index.n,
                                                                                                      n_negatives)
        members = np.r_[pos, negatives[g]]
        sims[g] = index.similarity(vectors[q], members)
        best[g] = max(float(found[q].similarity.max(initial=0.0)), float(sims[g, 0]))
    return negatives, sims, best
