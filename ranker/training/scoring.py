"""Scores of the whole catalog for blocks of shoppers (candidates scored, the rest ranked last): what
validation during training and evaluation rank with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ranker.candidates import CandidateConfig, candidates
from ranker.features import FeatureSpec
from ranker.stats.behaviour import BehaviourStats

NOT_A_CANDIDATE = -1e9


@dataclass
class CandidateBatch:
    """Candidate features for a block of shoppers, kept so their scores can be recomputed cheaply."""

    x: np.ndarray
    positions: np.ndarray
    items: np.ndarray
    n_rows: int
    n_items: int

    @classmethod
    def build(cls, spec: FeatureSpec, stats: BehaviourStats, rows: np.ndarray,
              cand_cfg: CandidateConfig = CandidateConfig()) -> CandidateBatch:
        cands = candidates(stats, rows, cand_cfg)
        lengths = [len(c) for c in cands]
        items = np.concatenate(cands)
        x = spec.compute(stats, np.repeat(rows, lengths), items)
        return cls(x, np.repeat(np.arange(len(rows)), lengths), items, len(rows), stats.catalog.n)

    def scores(self, scorer) -> np.ndarray:
        """rows × items; items outside a shopper's candidates rank last."""
        out = np.full((self.n_rows, self.n_items), NOT_A_CANDIDATE, np.float32)
        out[self.positions, self.items] = scorer(self.x)
        return out


def score_matrix(scorer, spec: FeatureSpec, stats: BehaviourStats, rows: np.ndarray,
                 cand_cfg: CandidateConfig = CandidateConfig()) -> np.ndarray:
    """Scores of every catalog item for each shopper row; items outside the candidates rank last."""
    return CandidateBatch.build(spec, stats, rows, cand_cfg).scores(scorer)
