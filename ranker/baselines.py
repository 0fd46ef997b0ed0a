"""MostPop and ItemKNN, the baselines every ranker report prints beside whyrec.

Both read the same `BehaviourStats` window as the ranker, so they are fit on exactly the
interactions the ranker learns from.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ranker.stats.behaviour import BehaviourStats
from ranker.stats.cooccurrence import COSINE_SHRINK, cosine_similarity


def mostpop_scores(stats: BehaviourStats, rows: np.ndarray) -> np.ndarray:
    return np.broadcast_to(stats.item_buys, (len(rows), stats.catalog.n))


class ItemKNN:
    """Cosine item-item similarity on purchase histories (shrunk for pairs with little support);
    a shopper's score for an item is its decayed similarity to their last `last_n` purchases."""

    def __init__(self, stats: BehaviourStats, last_n: int = 5, decay: float = 0.7, shrink: float = COSINE_SHRINK):
        self.stats, self.last_n, self.decay = stats, last_n, decay
        similarity = cosine_similarity(stats.buy, shrink)
        n_users = stats.cold_row + 1
        users, items, weights = [], [], []
        for row, hist in stats.history.items():
            recent = hist[::-1][:last_n]
            users.extend([row] * len(recent))
            items.extend(recent.tolist())
            weights.extend((decay ** np.arange(len(recent))).tolist())
        recent_m = sp.csr_matrix((np.asarray(weights, np.float32), (users, items)), shape=(n_users, stats.catalog.n))
        recent_m.sum_duplicates()
        self.user_scores = sp.csr_matrix(recent_m @ similarity)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        dense = self.user_scores[rows].toarray()
        return dense + 1e-6 * self.stats.item_buys / (self.stats.item_buys.max() + 1.0)
