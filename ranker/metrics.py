"""Full-ranking metrics: HR@K and NDCG@K with the shopper's history excluded.

Ranks are computed against every item in the catalog (no sampled candidates), items the shopper
already bought are removed, and ties are broken uniformly at random with a fixed seed, so a model
that gives many items the same score is neither flattered nor punished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

CUTOFFS = (10, 50)


def target_ranks(scores: np.ndarray, targets: np.ndarray, exclude: list[np.ndarray],
                 rng: np.random.Generator) -> np.ndarray:
    """0-based rank of each row's target among all non-excluded items."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    for r, hist in enumerate(exclude):
        keep_target = hist[hist != targets[r]]
        scores[r, keep_target] = -np.inf
    target_scores = scores[np.arange(len(targets)), targets][:, None]
    greater = (scores > target_scores).sum(axis=1)
    ties = (scores == target_scores).sum(axis=1) - 1
    return greater + np.floor(ties * rng.random(len(targets))).astype(np.int64)


def summarise(ranks: np.ndarray, cutoffs: Iterable[int] = CUTOFFS) -> dict[str, float]:
    ranks = np.asarray(ranks)
    out: dict[str, float] = {}
    for k in cutoffs:
        hit = ranks < k
        out[f"HR@{k}"] = float(hit.mean()) if len(ranks) else 0.0
        out[f"NDCG@{k}"] = float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean()) if len(ranks) else 0.0
    out["users"] = int(len(ranks))
    return out


def scorer_ranks(score_rows: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, targets: np.ndarray,
                 exclude: list[np.ndarray], chunk: int = 256, seed: int = 0) -> np.ndarray:
    """Score shoppers in chunks (rows → items matrix); each target's 0-based rank."""
    rng = np.random.default_rng(seed)
    ranks = []
    for start in range(0, len(rows), chunk):
        sl = slice(start, start + chunk)
        ranks.append(target_ranks(score_rows(rows[sl]), targets[sl], exclude[sl], rng))
    return np.concatenate(ranks) if ranks else np.zeros(0, np.int64)


def evaluate_scorer(score_rows: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, targets: np.ndarray,
                    exclude: list[np.ndarray], chunk: int = 256, seed: int = 0,
                    cutoffs: Iterable[int] = CUTOFFS) -> dict[str, float]:
    """Score shoppers in chunks and summarise their targets' ranks."""
    return summarise(scorer_ranks(score_rows, rows, targets, exclude, chunk, seed), cutoffs)
