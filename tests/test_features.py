"""Feature values on the toy shop, worked out by hand (see the comments in conftest.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ranker.behaviour import BehaviourStats, CatalogIndex
from ranker.data import load_shop
from ranker.features import GROUPS, FeatureSpec


@pytest.fixture
def toy(toy_dir, toy_emb):
    shop = load_shop(toy_dir)
    catalog = CatalogIndex.build(shop.items, toy_emb)
    stats = BehaviourStats(shop.events, catalog, "purchase")
    spec = FeatureSpec.default(toy_emb.shape[1])
    return shop, catalog, stats, spec


def features_of(toy, user: str, item: str) -> dict[str, float]:
    _, catalog, stats, spec = toy
    x = spec.compute(stats, stats.rows_of([user]), catalog.index_of([item]))[0]
    return dict(zip(spec.names, x.tolist(), strict=True))


def test_every_feature_has_a_known_group(toy):
    spec = toy[3]
    assert set(spec.groups) <= set(GROUPS)
    assert spec.names[-3:] == ["text_emb_0", "text_emb_1", "text_emb_2"]
    assert len(set(spec.names)) == len(spec.names)


def test_u0_and_zed_drill(toy):
    f = features_of(toy, "u0", "i2")
    log_median = (math.log1p(10) + math.log1p(20)) / 2
    spread = math.log1p(20) - math.log1p(10) + 0.25
    expected = {
        "brand_buy_share": 0.0, "brand_view_share": 1.0, "brand_last_match": 0.0,
        "leaf_buy_share": 0.5, "leaf_view_share": 1.0, "parent_buy_share": 1.0, "leaf_last_match": 0.0,
        "log_price": math.log1p(40), "price_gap": abs(math.log1p(40) - log_median) / spread, "price_in_range": 0.0,
        # positive PMI of i0 (bought by 2 of 3 shoppers) with i2 (1 of 3), bought together once: log(1·3/(2·1)) ·
        # 1/(1+5); u0's other purchase i1 was never bought with i2
        "cooc_sum": math.log(1.5) / 6, "cooc_recent": 0.7 / (math.sqrt(2) + 20), "cooc_last": 0.0,
        "window_recent": 0.7 * math.log(2),
        "similar_shoppers": 0.5 / math.sqrt(2),  # u1 shares i0 with u0: cosine 1/2, votes i2 with 1/sqrt(2)
        "trans_recent": 0.7 * math.log(2), "trans_last": 0.0,
        "pop_buys": math.log1p(1), "pop_views": math.log1p(2), "rating_count": 0.0, "rating_mean": 4.0,
        "user_buys": math.log1p(2), "user_views": math.log1p(2), "viewed_item": math.log1p(2), "carted_item": 0.0,
        "text_emb_0": 1.0, "text_emb_1": 0.0,
    }
    for name, value in expected.items():
        assert f[name] == pytest.approx(value, abs=1e-5), name


def test_u0_text_similarity(toy):
    engaged = np.array([1 + 0.6 + 2, 0.8, 0.0])  # i0 + i1 bought, i2 viewed twice
    mean = engaged / np.linalg.norm(engaged)
    f = features_of(toy, "u0", "i4")
    assert f["text_mean"] == pytest.approx(mean @ np.array([0, 0.6, 0.8]), abs=1e-5)
    assert f["text_last"] == pytest.approx(0.8 * 0.6, abs=1e-5)  # last purchase i1 = (.6, .8, 0)
    assert f["brand_buy_share"] == 1.0 and f["brand_last_match"] == 1.0
    assert f["log_price"] == 0.0 and f["price_gap"] == 0.0  # i4 has no price


def test_cold_shopper_gets_only_item_features(toy):
    f = features_of(toy, "someone-new", "i0")
    shopper_side = [k for k in f if k not in ("log_price", "pop_buys", "pop_views", "rating_mean", "rating_count")
                    and not k.startswith("text_emb")]
    assert all(f[k] == 0.0 for k in shopper_side), {k: f[k] for k in shopper_side if f[k]}
    assert f["pop_buys"] == pytest.approx(math.log1p(2))


def test_single_shopper_path_equals_pair_path(toy):
    _, catalog, stats, spec = toy
    items = np.arange(catalog.n)
    one = spec.compute(stats, np.full(catalog.n, stats.rows_of(["u0"])[0]), items)
    mixed_rows = np.array([stats.rows_of(["u0"])[0]] * catalog.n + [stats.rows_of(["u1"])[0]])
    mixed = spec.compute(stats, mixed_rows, np.r_[items, 0])
    np.testing.assert_allclose(one, mixed[:-1], rtol=1e-6)
