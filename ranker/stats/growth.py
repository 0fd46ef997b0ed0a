"""A catalog that changes while serving: new items scored at once, changed items scored as they now are.

A new item has no behaviour yet, so every behaviour matrix gains an empty column for it (nobody bought,
viewed or co-purchased it) and the model scores it from what it has: brand, category, price fit, its text
embedding and title words against the shopper's items. A changed item keeps its index; its brand,
category, price, text and words are replaced. Nothing is mutated in place: `upserted` returns new objects
sharing every unchanged array, so the service swaps them in with one assignment (see `ranker.stats.live`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ranker.stats.behaviour import STAT_FIELDS, BehaviourStats
from ranker.stats.catalog import CatalogIndex, labels_coded, log_prices

VOCABULARIES = ("brands", "leaves", "parents")


@dataclass(frozen=True)
class Placement:
    """Where each upserted item lands: `rows[k]` is the catalog index of the k-th row given."""

    rows: np.ndarray
    new: np.ndarray

    @property
    def n_new(self) -> int:
        return int(self.new.sum())


def place(catalog: CatalogIndex, item_ids: list[str]) -> Placement:
    """Known ids keep their index; new ids are appended in the order given (a repeated id is an error)."""
    if len(set(item_ids)) != len(item_ids):
        raise ValueError("each item may appear once per upsert")
    rows = catalog.index_of(item_ids)
    new = rows < 0
    rows[new] = catalog.n + np.arange(int(new.sum()))
    return Placement(rows, new)


def _placed(old: np.ndarray, rows: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.empty((n, *old.shape[1:]), old.dtype)
    out[: len(old)] = old
    out[rows] = values
    return out


def _placed_rows(old: sp.csr_matrix, rows: np.ndarray, block: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """`old` with `block`'s rows at `rows` (replacing or appending), as CSR with n rows."""
    order = np.arange(n)
    order[rows] = old.shape[0] + np.arange(block.shape[0])
    stacked = sp.vstack([old, block], format="csr")
    return sp.csr_matrix(stacked[order])


def upserted_catalog(catalog: CatalogIndex, items: pd.DataFrame, emb: np.ndarray, at: Placement) -> CatalogIndex:
    """`catalog` with `items` (columns item_id, title, brand, category, price) placed as `at` says."""
    n = catalog.n + at.n_new
    (brand, brands), (leaf, leaves), (parent, parents) = labels_coded(
        items["brand"].fillna(""), items["category"].fillna(""), (catalog.brands, catalog.leaves, catalog.parents))
    titles = items["title"].fillna("").astype(str).str.lower()
    vectorizer: Any = catalog.vectorizer
    words = vectorizer.transform(titles) if vectorizer is not None \
        else sp.csr_matrix((len(items), catalog.words.shape[1]), dtype=np.float32)
    return replace(
        catalog,
        item_ids=_placed(catalog.item_ids, at.rows, items["item_id"].astype(str).to_numpy(dtype=object), n),
        brand=_placed(catalog.brand, at.rows, brand, n), brands=brands,
        leaf=_placed(catalog.leaf, at.rows, leaf, n), leaves=leaves,
        parent=_placed(catalog.parent, at.rows, parent, n), parents=parents,
        log_price=_placed(catalog.log_price, at.rows, log_prices(items), n),
        emb=_placed(catalog.emb, at.rows, emb.astype(np.float32), n),
        words=_placed_rows(catalog.words, at.rows, sp.csr_matrix(words, dtype=np.float32), n))


def _wider(m: sp.csr_matrix, rows: int, cols: int) -> sp.csr_matrix:
    """`m` with empty rows/columns added at the end; the data arrays are shared, not copied."""
    indptr = np.concatenate([m.indptr, np.full(rows - m.shape[0], m.indptr[-1], m.indptr.dtype)])
    return sp.csr_matrix((m.data, m.indices, indptr), shape=(rows, cols))


def upserted_stats(stats: BehaviourStats, catalog: CatalogIndex, at: Placement) -> BehaviourStats:
    """`stats` over the upserted `catalog`: new items get empty behaviour; the shoppers' best text match
    (`text_recent_max`) counts the upserted items' new text. Shoppers' brand and category shares are
    summarised again when their rows are next refreshed (`ranker.stats.live`)."""
    new = copy.copy(stats)
    new.catalog = catalog
    n, n_old = catalog.n, stats.catalog.n
    leaves = max(len(catalog.leaves), 1)
    for f in STAT_FIELDS:
        old = getattr(stats, f.name)
        if f.grows == "item_columns":
            value = _wider(old, old.shape[0], n)
        elif f.grows == "item_square":
            value = _wider(old, n, n)
        elif f.grows in VOCABULARIES:
            value = _wider(old, old.shape[0], max(len(getattr(catalog, f.grows)), 1))
        elif f.grows == "leaf_square":
            value = _wider(old, leaves, leaves)
        elif f.grows in ("item_zeros", "rating_prior"):
            fill = stats.rating_prior if f.grows == "rating_prior" else 0.0
            value = np.concatenate([old, np.full(n - n_old, fill, np.float32)])
        elif f.grows == "best_text":
            closest = (stats.text_recent @ catalog.emb[at.rows].T).max(axis=1) if len(at.rows) else 0.0
            value = np.maximum(old, closest).astype(np.float32)
        else:
            continue
        setattr(new, f.name, value)
    return new
