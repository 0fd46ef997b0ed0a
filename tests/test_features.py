"""Feature values on the toy shop, worked out by hand (see the comments in conftest.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ranker.data import load_shop
from ranker.features import GROUPS, FeatureSpec
from ranker.stats.behaviour import SEQUENCE_LEN, BehaviourStats
from ranker.stats.catalog import CatalogIndex


@pytest.fixture
def toy(toy_dir, toy_emb):
    shop = load_shop(toy_dir)
    catalog = CatalogIndex.build(shop.items, toy_emb)
    stats = BehaviourStats(shop.events, catalog, "purchase")
    spec = FeatureSpec.default(toy_emb.shape[1], sequence_len=SEQUENCE_LEN)
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
        "cooc_sum": math.log(1.5) / 6, "cooc_last": 0.0,
        "cooc_recent": 0.7 * math.log(1.5) / 6,  # the same PMI, from i0 two purchases back (weight 0.7)
        # window counts: i0-i1 (u0) and i0-i2 (u1), both orders, total 4, i0 in 2 of them: lift(i0, i2) =
        # log(1·4 / (2·1)), shrunk by 1/(1+5)
        "window_recent": 0.7 * math.log(2) / 6, "window_last": 0.0,
        "similar_shoppers": 0.5 / math.sqrt(2),  # u1 shares i0 with u0: cosine 1/2, votes i2 with 1/sqrt(2)
        # transitions i0→i1, i0→i2: i2 follows i0 exactly as often as i0's popularity predicts, lift 0
        "trans_recent": 0.0, "trans_last": 0.0,
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


def test_sequence_slots_follow_purchase_order(toy):
    """u0 bought i0 then i1: slot 1 is i1 (the latest), slot 2 is i0, the rest are empty (all 0)."""
    _, catalog, stats, _ = toy
    assert stats.recent_items[stats.rows_of(["u0"])[0]][:3].tolist() == [1, 0, -1]
    f = features_of(toy, "u0", "i2")
    # i1 (bits) → i2 (drill): text 0.6, never bought together or after; Bits→Drills follow each other once
    # (u0: i0 drill, i1 bits), lift 1/(sqrt(3 drills · 2 bits) + 10)
    assert [f[f"seq1_{k}"] for k in ("here", "text", "pmi", "trans")] == pytest.approx([1.0, 0.6, 0.0, 0.0])
    assert f["seq1_cat"] == pytest.approx(1 / (math.sqrt(6) + 10), abs=1e-5)
    # i0 → i2: same text, positive PMI as in cooc_sum; u1 bought i2 right after i0, but i0 is followed by i1 as
    # often, so no lift; same category: no follow-on
    assert [f[f"seq2_{k}"] for k in ("here", "text", "pmi", "trans", "cat")] == pytest.approx(
        [1.0, 1.0, math.log(1.5) / 6, 0.0, 0.0], abs=1e-5)
    assert all(f[f"seq{k}_{name}"] == 0.0 for k in range(3, 9) for name in ("here", "text", "pmi", "trans", "cat"))


def test_new_arrivals_have_no_sequence_behaviour(toy):
    from ranker.features import as_new_items

    _, catalog, stats, spec = toy
    x = spec.compute(stats, stats.rows_of(["u0"]), catalog.index_of(["i2"]))
    new = dict(zip(spec.names, as_new_items(x, spec.names, stats)[0].tolist(), strict=True))
    assert new["seq2_pmi"] == 0.0 and new["seq2_trans"] == 0.0
    assert new["seq2_here"] == 1.0 and new["seq2_text"] == pytest.approx(1.0)  # what it is, it has from the start


def test_spec_round_trip_and_older_feature_sets_are_refused(toy):
    from ranker.features import FEATURE_SET, FeatureSetError

    spec = toy[3]
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    without = FeatureSpec.default(spec.embedding_dim)  # the default: no sequence group
    loaded = FeatureSpec.from_dict(without.to_dict())
    assert loaded.sequence_len == 0 and loaded.sequence_start == loaded.n_scalar
    old = {k: v for k, v in spec.to_dict().items() if k != "feature_set"}  # written before feature sets existed
    with pytest.raises(FeatureSetError, match=f"feature set 1 .* set {FEATURE_SET}.*whyrec train"):
        FeatureSpec.from_dict(old)


def test_sequence_slot_without_category_scores_the_whole_catalog(tmp_path, toy_emb):
    """Serving scores one shopper against every item: a latest purchase without a category has no category
    follow-on (0), and the other slot features are still there."""
    from tests.conftest import TOY_EVENTS, TOY_ITEMS, write_shop

    items = TOY_ITEMS.assign(category=["Tools > Drills", "", "Tools > Drills", "Kitchen > Pans", "Kitchen > Pans"])
    shop = load_shop(write_shop(tmp_path / "shop", items, TOY_EVENTS))
    catalog = CatalogIndex.build(shop.items, toy_emb)
    stats = BehaviourStats(shop.events, catalog, "purchase")
    spec = FeatureSpec.default(toy_emb.shape[1], sequence_len=SEQUENCE_LEN)
    row = stats.rows_of(["u0"])[0]
    x = spec.compute(stats, np.full(catalog.n, row), np.arange(catalog.n))
    f = {name: x[:, k] for k, name in enumerate(spec.names)}
    assert (f["seq1_cat"] == 0).all() and (f["seq1_here"] == 1).all()
    np.testing.assert_allclose(f["seq1_text"], toy_emb @ toy_emb[1], rtol=1e-5)


def test_text_max_is_the_same_through_the_masked_product_and_the_loop(toy, monkeypatch):
    """A "what if" batch takes one masked product; many shoppers take the loop: the values agree, cold shoppers 0."""
    from ranker import feature_values

    _, catalog, stats, _ = toy
    users = np.repeat(np.arange(stats.cold_row + 1), catalog.n)
    items = np.tile(np.arange(catalog.n), stats.cold_row + 1)
    masked = feature_values.text_max(stats, users, items)
    monkeypatch.setattr(feature_values, "TEXT_MAX_DENSE", 0)
    looped = feature_values.text_max(stats, users, items)
    np.testing.assert_allclose(masked, looped, atol=1e-6)
    assert masked.any() and not masked[users == stats.cold_row].any()
