"""Candidate generation: the few hundred items worth ranking, pulled from the whole catalog.

Three sources, each a different reason an item could fit: co-purchase with the shopper's recent
purchases, text similarity to them, and global popularity (which also serves shoppers with no
history). The DNN then ranks only their union, which is what it was trained to tell apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ranker.behaviour import BehaviourStats


@dataclass(frozen=True)
class CandidateConfig:
    cooc: int = 150
    text: int = 100
    transitions: int = 50
    popular: int = 50


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.empty((scores.shape[0], 0), np.int64)
    idx = np.argpartition(-scores, kth=k - 1, axis=1)[:, :k]
    positive = np.take_along_axis(scores, idx, axis=1) > 0
    return np.where(positive, idx, -1)


def candidates(stats: BehaviourStats, rows: np.ndarray, cfg: CandidateConfig = CandidateConfig()) -> list[np.ndarray]:
    """Sorted unique candidate item indices for each shopper row."""
    rows = np.asarray(rows, np.int64)
    cooc = stats.cooc_recent[rows].toarray()
    trans = stats.trans_recent[rows].toarray()
    text = stats.text_recent[rows] @ stats.catalog.emb.T
    text[np.linalg.norm(stats.text_recent[rows], axis=1) == 0] = 0.0
    popular = np.argsort(-stats.item_buys, kind="stable")[: cfg.popular]
    picked = np.concatenate([_top(cooc, cfg.cooc), _top(trans, cfg.transitions), _top(text, cfg.text)], axis=1)
    return [np.union1d(p[p >= 0], popular) for p in picked]
