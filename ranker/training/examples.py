"""Training examples: each shopper's n-th last purchase against sampled negatives, with the features of
the window before it (`split.truncate(events, n)`), so no example ever sees its own target.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

from ranker.candidates import candidates
from ranker.data import Shop
from ranker.features import FeatureSpec, QueryMatch, as_new_items
from ranker.search import SearchIndex, training_queries
from ranker.split import nth_last_targets, target_kind, truncate
from ranker.stats.behaviour import BehaviourStats
from ranker.stats.catalog import CatalogIndex
from ranker.training.train_config import TrainConfig


@dataclass(frozen=True)
class Searching:
    """What training needs to learn search re-ranking: the catalog's multilingual vectors and the encoder."""

    index: SearchIndex
    encode: Callable[[list[str]], np.ndarray]


def sample_negatives(stats: BehaviourStats, rows: np.ndarray, positives: np.ndarray, cfg: TrainConfig,
                     rng: np.random.Generator) -> np.ndarray:
    """Negatives drawn like the items the ranker sees at serving time: uniformly from the shopper's
    candidates, plus a few from anywhere in the catalog. (Drawing mostly from the top of each source
    teaches the model that those signals mean "not bought": 0.056 NDCG@10 instead of 0.10.)"""
    n_items = stats.catalog.n
    n_uniform = max(1, cfg.negatives // 6)
    n_cand = cfg.negatives - n_uniform
    cands: list[np.ndarray] = []
    for start in range(0, len(rows), 2048):
        cands += candidates(stats, rows[start:start + 2048], cfg.candidates)
    lengths = np.array([len(c) for c in cands])
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    flat = np.concatenate(cands) if cands else np.zeros(0, np.int64)
    pick = offsets[:, None] + np.floor(rng.random((len(rows), n_cand)) * np.maximum(lengths, 1)[:, None]).astype(
        np.int64)
    from_candidates = np.where(lengths[:, None] > 0, flat[np.minimum(pick, max(len(flat) - 1, 0))],
                               rng.integers(0, n_items, (len(rows), n_cand)))
    uniform = _uniform_negatives(positives, n_uniform, n_items, rng)
    neg = np.concatenate([from_candidates, uniform], axis=1)
    clash = neg == positives[:, None]
    neg[clash] = (neg[clash] + 1 + rng.integers(0, n_items - 1, clash.sum())) % n_items
    return neg


def _uniform_negatives(positives: np.ndarray, n: int, n_items: int, rng: np.random.Generator) -> np.ndarray:
    """Negatives from anywhere in the catalog, never the positive: new arrivals are not candidates picked
    for the shopper, so the groups that teach the model to rank them are not either."""
    neg = rng.integers(0, n_items, (len(positives), n))
    clash = neg == positives[:, None]
    neg[clash] = (neg[clash] + 1 + rng.integers(0, n_items - 1, clash.sum())) % n_items
    return neg


def fold_examples(shop: Shop, catalog: CatalogIndex, spec: FeatureSpec, n: int, cfg: TrainConfig,
                  rng: np.random.Generator, skip_users: AbstractSet[str] = frozenset(),
                  search: Searching | None = None):
    kind = target_kind(shop.events)
    stats = BehaviourStats(truncate(shop.events, n, kind), catalog, kind)
    targets = nth_last_targets(shop.events, n, kind)
    targets = targets[~targets["user_id"].isin(skip_users)]
    rows = stats.rows_of(targets["user_id"])
    pos = catalog.index_of(targets["item_id"])
    neg = sample_negatives(stats, rows, pos, cfg, rng)
    cold = rng.random(len(rows)) < cfg.cold_groups
    neg[cold] = _uniform_negatives(pos[cold], cfg.negatives, catalog.n, rng)
    query = None
    if search is not None:
        asked = ~cold & (rng.random(len(rows)) < cfg.query_groups)
        sims, best = np.zeros((len(rows), 1 + cfg.negatives), np.float32), np.zeros(len(rows), np.float32)
        neg[asked], sims[asked], best[asked] = training_queries(shop.items, search.index, search.encode, pos[asked],
                                                                cfg.negatives, cfg.search_candidates, rng)
        query = QueryMatch(sims.ravel(), np.repeat(best, 1 + cfg.negatives))
    items = np.concatenate([pos[:, None], neg], axis=1).ravel()
    users = np.repeat(rows, 1 + cfg.negatives)
    x = spec.compute(stats, users, items, query)
    in_cold_group = np.repeat(cold, 1 + cfg.negatives)
    x[in_cold_group] = as_new_items(x[in_cold_group], spec.names, stats)
    y = np.tile(np.r_[1.0, np.zeros(cfg.negatives)], len(rows)).astype(np.float32)
    return x, y, items


def log_q(items: np.ndarray, n_items: int) -> np.ndarray:
    """log of each example's item share among all training examples (positives and sampled negatives), with
    add-one smoothing: the sampling distribution the logQ correction removes."""
    counts = np.bincount(items, minlength=n_items).astype(np.float64) + 1.0
    return np.log(counts / counts.sum())[items].astype(np.float32)
