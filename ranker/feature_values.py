"""How each feature's value is computed from `BehaviourStats`, vectorised over (shopper row, item) pairs: sparse
lookups, row-wise dot products and ratios. The table of features, their groups and meanings is `ranker.features`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ranker.stats.behaviour import BehaviourStats
from ranker.stats.sparse_lines import line, lookup


def lookup_where(m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """`lookup` where `ok`, 0 elsewhere (for pairs with no brand, category or last purchase)."""
    out = np.zeros(len(rows), np.float32)
    out[ok] = lookup(m, rows[ok], cols[ok])
    return out


def coded(matrix: str, code: str):
    """Share of the shopper's activity in the candidate's brand/category (0 where it has none)."""
    def fn(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        codes = getattr(s.catalog, code)[i]
        return lookup_where(getattr(s, matrix), u, codes, (codes >= 0))
    return fn


def last_match(code: str):
    def fn(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        last = s.last_item[u]
        codes = getattr(s.catalog, code)
        return ((last >= 0) & (codes[np.maximum(last, 0)] == codes[i]) & (codes[i] >= 0)).astype(np.float32)
    return fn


def pair(matrix: str):
    return lambda s, u, i: lookup(getattr(s, matrix), u, i)


def from_last(matrix: str):
    def fn(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        last = s.last_item[u]
        return lookup_where(getattr(s, matrix), last, i, last >= 0)
    return fn


def dot(user_vectors: str):
    return lambda s, u, i: np.einsum("pd,pd->p", getattr(s, user_vectors)[u], s.catalog.emb[i])


def relative(fn, user_max: str):
    """A pair value divided by the shopper's best value over the catalog: comparable across shoppers."""
    def rel(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        top = getattr(s, user_max)[u]
        return np.divide(fn(s, u, i), top, out=np.zeros(len(i), np.float32), where=top > 0)
    return rel


def text_last(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    last = s.last_item[u]
    sims = np.einsum("pd,pd->p", s.catalog.emb[np.maximum(last, 0)], s.catalog.emb[i])
    return np.where(last >= 0, sims, 0.0).astype(np.float32)


TEXT_MAX_DENSE = 1 << 22
"""Pairs × engaged items up to which `text_max` takes one masked product instead of a loop over shoppers."""


def text_max(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    """The closest text match among everything the shopper bought or viewed (content nearest neighbours):
    what an item nobody has bought yet can be recommended on. When the shoppers have engaged with few items in
    all (a "what if" batch is one shopper many times over), one product against those items, masked per shopper;
    otherwise one block per distinct shopper."""
    users, inverse = np.unique(u, return_inverse=True)
    inverse = inverse.ravel()
    engaged = sp.csr_matrix(s.buy[users] + s.view[users])
    union = np.unique(engaged.indices)
    if len(union) * len(i) <= TEXT_MAX_DENSE:
        mask = np.zeros((len(users), len(union)), bool)
        mask[np.repeat(np.arange(len(users)), np.diff(engaged.indptr)), np.searchsorted(union, engaged.indices)] = True
        sims = np.where(mask[inverse], s.catalog.emb[i] @ s.catalog.emb[union].T, -np.inf)
        best = sims.max(axis=1, initial=-np.inf)
        return np.where(np.isfinite(best), best, 0.0).astype(np.float32)
    out = np.zeros(len(i), np.float32)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(users) + 1))
    for k in range(len(users)):
        items = line(engaged, k)[0]
        if len(items):
            at = order[bounds[k]:bounds[k + 1]]
            out[at] = (s.catalog.emb[i[at]] @ s.catalog.emb[items].T).max(axis=1)
    return out


def row_dot(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Row-wise dot products of two sparse matrices with the same shape."""
    return np.asarray(a.multiply(b).sum(axis=1)).ravel().astype(np.float32)


def words_last(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    last = s.last_item[u]
    sims = row_dot(s.catalog.words[np.maximum(last, 0)], s.catalog.words[i])
    return np.where(last >= 0, sims, 0.0).astype(np.float32)


def words_recent(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    return row_dot(s.words_recent[u], s.catalog.words[i])


def ease(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    """EASE scores per pair, computed one block of distinct shoppers at a time. Items added to the catalog
    after training lie beyond the EASE matrix and score 0 (nobody has bought them in the window)."""
    out = np.zeros(len(i), np.float32)
    if s.ease is None or len(u) == 0:
        return out
    n = s.ease.shape[0]
    inside = i < n
    users, inverse = np.unique(u[inside], return_inverse=True)
    values = np.empty(len(inverse), np.float32)
    for start in range(0, len(users), 1024):
        block = np.asarray((s.buy[users[start:start + 1024]][:, :n] > 0).astype(np.float32) @ s.ease)
        sel = (inverse >= start) & (inverse < start + 1024)
        values[sel] = block[inverse[sel] - start, i[inside][sel]]
    out[inside] = values
    return out


def price_gap(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Distance from the shopper's usual (median) price in log units, scaled by their range."""
    spread = np.nan_to_num(s.price_high[u] - s.price_low[u], nan=0.0) + 0.25
    gap = np.abs(s.catalog.log_price[i] - s.price_median[u]) / spread
    return np.nan_to_num(gap, nan=0.0).astype(np.float32)


def price_in_range(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    p = s.catalog.log_price[i]
    with np.errstate(invalid="ignore"):
        inside = (p >= s.price_low[u] - 1e-6) & (p <= s.price_high[u] + 1e-6)
    return inside.astype(np.float32)


def item(values: str, log: bool = False):
    def fn(s: BehaviourStats, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        v = getattr(s, values)[i]
        return (np.log1p(v) if log else v).astype(np.float32)
    return fn


def user(values: str):
    return lambda s, u, i: np.log1p(getattr(s, values)[u]).astype(np.float32)
