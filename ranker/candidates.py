"""Candidate generation: the few hundred items worth ranking, pulled from the whole catalog.

Three sources, each a different reason an item could fit: co-purchase with the shopper's recent
purchases, text similarity to them, and global popularity (which also serves shoppers with no
history). The DNN then ranks only their union, which is what it was trained to tell apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ranker.stats.behaviour import BehaviourStats


@dataclass(frozen=True)
class CandidateConfig:
    cooc: int = 150
    window: int = 50
    transitions: int = 50
    text: int = 100
    popular: int = 50


SOURCES = ("cooc", "window", "transitions", "text")


def source_scores(stats: BehaviourStats, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each source's score for every item (rows × items); 0 means "no reason from this source"."""
    rows = np.asarray(rows, np.int64)
    text = stats.text_recent[rows] @ stats.catalog.emb.T
    text[np.linalg.norm(stats.text_recent[rows], axis=1) == 0] = 0.0
    return {"cooc": stats.cooc_recent[rows].toarray(), "window": stats.window_recent[rows].toarray(),
            "transitions": stats.trans_recent[rows].toarray(), "text": text}


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Best k item indices per row, best first; -1 where the score is not positive."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.empty((scores.shape[0], 0), np.int64)
    idx = np.argpartition(-scores, kth=k - 1, axis=1)[:, :k]
    top = np.take_along_axis(scores, idx, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    idx, top = np.take_along_axis(idx, order, axis=1), np.take_along_axis(top, order, axis=1)
    return np.where(top > 0, idx, -1)


def candidates(stats: BehaviourStats, rows: np.ndarray, cfg: CandidateConfig = CandidateConfig()) -> list[np.ndarray]:
    """Sorted unique candidate item indices for each shopper row."""
    scores = source_scores(stats, rows)
    popular = np.argsort(-stats.item_buys, kind="stable")[: cfg.popular]
    picked = np.concatenate([top_k(scores[name], getattr(cfg, name)) for name in SOURCES], axis=1)
    return [np.union1d(p[p >= 0], popular) for p in picked]
