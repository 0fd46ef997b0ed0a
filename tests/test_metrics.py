"""HR/NDCG on rankings small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ranker.metrics import evaluate_scorer, summarise, target_ranks


def test_ranks_exclude_history_but_not_the_target():
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    rng = np.random.default_rng(0)
    assert target_ranks(scores, np.array([2]), [np.array([], int)], rng).tolist() == [2]
    assert target_ranks(scores, np.array([2]), [np.array([0, 1])], rng).tolist() == [0]
    assert target_ranks(scores, np.array([2]), [np.array([2])], rng).tolist() == [2]


def test_summary_values():
    m = summarise(np.array([0, 1, 9, 10, 60]), cutoffs=(10,))
    assert m["HR@10"] == pytest.approx(3 / 5)
    assert m["NDCG@10"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(11)) / 5)


def test_ties_are_split_not_won():
    scores = np.zeros((2000, 20))
    ranks = target_ranks(scores, np.zeros(2000, int), [np.array([], int)] * 2000, np.random.default_rng(1))
    assert 8.5 < ranks.mean() < 10.5  # random tie-breaking: expected rank 9.5 of 0..19


def test_evaluate_scorer_chunks():
    def score(rows):
        return np.tile(np.arange(5, dtype=float)[::-1], (len(rows), 1))  # item 0 best
    m = evaluate_scorer(score, np.arange(3), np.array([0, 1, 4]), [np.array([], int)] * 3, chunk=2,
                        cutoffs=(1, 5))
    assert m["HR@1"] == pytest.approx(1 / 3)
    assert m["HR@5"] == 1.0
