"""A catalog that grows while serving: an item added through `upsert` is scored exactly as if the catalog
had held it from the start (it has no behaviour either way), and a changed item keeps its index."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.data import load_shop
from ranker.features import FeatureSpec
from ranker.stats.behaviour import BehaviourStats
from ranker.stats.catalog import CatalogIndex
from ranker.stats.growth import place, upserted_catalog, upserted_stats

WORD_FEATURES = {"words_last", "words_recent"}  # TF-IDF vocabulary: fitted on the catalog it was built from


@pytest.fixture
def shop(toy_dir):
    return load_shop(toy_dir)


def grown(shop, emb, first: int):
    """Stats over the first `first` items, then the rest upserted."""
    small, rest = shop.items.iloc[:first], shop.items.iloc[first:]
    stats = BehaviourStats(shop.events, CatalogIndex.build(small, emb[:first]), "purchase")
    at = place(stats.catalog, rest["item_id"].tolist())
    catalog = upserted_catalog(stats.catalog, rest, emb[first:], at)
    return upserted_stats(stats, catalog, at)


def test_added_items_score_as_if_the_catalog_always_had_them(shop, toy_emb):
    full = BehaviourStats(shop.events, CatalogIndex.build(shop.items, toy_emb), "purchase")
    late = grown(shop, toy_emb, 3)  # i3, i4 arrive later; nobody has engaged with them in either case
    assert list(late.catalog.item_ids) == list(full.catalog.item_ids)
    spec = FeatureSpec.default(toy_emb.shape[1])
    users = np.repeat(full.rows_of(["u0", "u1", "u2", "nobody"]), 5)
    items = np.tile(np.arange(5), 4)
    a, b = spec.compute(full, users, items), spec.compute(late, users, items)
    for k, name in enumerate(spec.names):
        if name not in WORD_FEATURES:
            np.testing.assert_allclose(b[:, k], a[:, k], rtol=1e-5, atol=1e-6, err_msg=name)
    assert late.item_buys[3:].sum() == 0 and late.cosine.shape == (5, 5) and late.brand_buy.shape[1] == 2


def test_a_new_items_title_words_use_the_trained_vocabulary(shop, toy_emb):
    late = grown(shop, toy_emb, 3)
    zed_pan, zed_drill, acme_drill = late.catalog.words[3], late.catalog.words[2], late.catalog.words[0]
    assert zed_pan.multiply(zed_drill).sum() > 0  # "zed" was seen in training; "pan" was not
    assert zed_pan.multiply(acme_drill).sum() == 0


def test_a_changed_item_keeps_its_index_and_takes_its_new_brand(shop, toy_emb):
    stats = BehaviourStats(shop.events, CatalogIndex.build(shop.items, toy_emb), "purchase")
    changed = shop.items.iloc[[1]].assign(brand="Newco", price="99")
    at = place(stats.catalog, ["i1"])
    catalog = upserted_catalog(stats.catalog, changed, toy_emb[[1]], at)
    assert catalog.n == 5 and at.n_new == 0
    assert catalog.brands[catalog.brand[1]] == "Newco" and np.isclose(np.expm1(catalog.log_price[1]), 99)
    assert catalog.brand[0] == stats.catalog.brand[0]
    with pytest.raises(ValueError, match="once"):
        place(catalog, ["i9", "i9"])


def test_training_shows_new_arrivals_exactly_as_serving_scores_them(shop, toy_emb):
    """`as_new_items` (the training groups shown as new arrivals) must equal the features a grown catalog
    computes for an item nobody has engaged with; else the model learns a cold regime it never sees."""
    from ranker.features import as_new_items

    late = grown(shop, toy_emb, 3)
    spec = FeatureSpec.default(toy_emb.shape[1])
    users = np.repeat(late.rows_of(["u0", "u1", "u2", "nobody"]), 2)
    new = np.tile([3, 4], 4)
    x = spec.compute(late, users, new)
    np.testing.assert_allclose(as_new_items(x, spec.names, late), x, atol=1e-6)
    old = spec.compute(late, users, np.tile([0, 1], 4))
    assert not np.allclose(as_new_items(old, spec.names, late), old)


def test_every_array_of_the_statistics_is_in_the_field_registry(shop, toy_emb):
    """`STAT_FIELDS` is what growth and the live shop read: an array it does not list would keep its old shape
    when the catalog grows, or its old rows when a shopper's events arrive."""
    import scipy.sparse as sp

    from ranker.stats.behaviour import STAT_FIELDS

    stats = BehaviourStats(shop.events, CatalogIndex.build(shop.items, toy_emb), "purchase")
    arrays = {name for name, value in vars(stats).items()
              if (sp.issparse(value) or isinstance(value, np.ndarray)) and name not in ("user_ids",)}
    listed = {f.name for f in STAT_FIELDS}
    assert arrays - {"ease"} <= listed and listed <= arrays | {"ease"}, (arrays ^ listed)
    for f in STAT_FIELDS:
        value = getattr(stats, f.name)
        if value is not None:
            assert sp.issparse(value) == f.sparse, f.name
            assert not f.user_row or value.shape[0] == stats.cold_row + 1, f.name
