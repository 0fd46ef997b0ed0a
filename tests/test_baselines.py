"""Baselines on the toy shop: values checked by hand."""

from __future__ import annotations

import math

import pytest

from ranker.baselines import ItemKNN, mostpop_scores
from ranker.data import load_shop
from ranker.stats.behaviour import BehaviourStats
from ranker.stats.catalog import CatalogIndex


@pytest.fixture
def stats(toy_dir, toy_emb):
    shop = load_shop(toy_dir)
    return BehaviourStats(shop.events, CatalogIndex.build(shop.items, toy_emb), "purchase")


def test_itemknn_decayed_cosine(stats):
    knn = ItemKNN(stats, last_n=5, decay=0.7, shrink=0.0)
    scores = knn.scores(stats.rows_of(["u0"]))[0]
    # u0 bought i0 then i1; i2 co-occurs only with i0 (via u1): 0.7 * 1/sqrt(2*1)
    assert scores[2] == pytest.approx(0.7 / math.sqrt(2), abs=1e-5)
    assert scores[3] < 1e-5 and scores[4] < 1e-5  # never bought: only the popularity tie-break


def test_itemknn_shrink_lowers_thin_pairs(stats):
    plain = ItemKNN(stats, shrink=0.0).scores(stats.rows_of(["u0"]))[0][2]
    shrunk = ItemKNN(stats, shrink=20.0).scores(stats.rows_of(["u0"]))[0][2]
    assert shrunk == pytest.approx(0.7 / (math.sqrt(2) + 20), abs=1e-5) and shrunk < plain


def test_mostpop_counts_purchases(stats):
    assert mostpop_scores(stats, stats.rows_of(["u0", "new"]))[1].tolist() == [2, 2, 1, 0, 0]
