"""Live rows: a shopper's rows recomputed from their events equal the trained rows for the same events, and
new events change exactly that shopper's rows (a bought item leaves the list, views are counted, a new
shopper stops being cold)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from ranker.data import load_shop
from ranker.stats.behaviour import USER_DENSE, USER_SPARSE, BehaviourStats
from ranker.stats.catalog import CatalogIndex
from ranker.stats.live import LiveRows
from tests.conftest import TOY_EVENTS


@pytest.fixture
def toy(toy_dir, toy_emb):
    shop = load_shop(toy_dir)
    stats = BehaviourStats(shop.events, CatalogIndex.build(shop.items, toy_emb), "purchase")
    return stats, LiveRows(stats, shop.events)


def row(stats: BehaviourStats, name: str, user: str) -> np.ndarray:
    values = getattr(stats, name)
    r = stats.rows_of([user])[0]
    return values[r].toarray().ravel() if sp.issparse(values) else np.atleast_1d(values[r])


def test_recomputed_rows_equal_the_trained_rows(toy):
    stats, live = toy
    fresh = live.refresh(stats, ["u0", "u1"])
    assert fresh.cold_row == stats.cold_row and fresh.buy.shape[0] == stats.buy.shape[0]  # rows replaced
    for user in ("u0", "u1", "u2"):
        for name in (*USER_SPARSE, *USER_DENSE):
            np.testing.assert_allclose(row(fresh, name, user), row(stats, name, user), rtol=1e-6, err_msg=name)
        assert list(fresh.history_of(fresh.rows_of([user])[0])) == list(stats.history_of(stats.rows_of([user])[0]))
    assert row(fresh, "user_buys", "u9")[0] == 0 and fresh.rows_of(["u9"])[0] == fresh.cold_row


def test_new_events_change_only_that_shopper(toy):
    stats, live = toy
    live.added.add([("u2", "i2", "view", None, 10.0), ("u2", "i2", "view", None, 11.0),
                    ("u2", "i3", "purchase", None, 12.0)])
    fresh = live.refresh(stats, ["u2"])
    catalog = stats.catalog
    i2, i3 = catalog.index_of(["i2", "i3"])
    assert row(fresh, "view", "u2")[i2] == 2
    assert i3 in fresh.history_of(fresh.rows_of(["u2"])[0])
    assert row(fresh, "last_item", "u2")[0] == i3
    for name in USER_SPARSE:
        np.testing.assert_allclose(row(fresh, name, "u0"), row(stats, name, "u0"), err_msg=name)
    assert row(stats, "view", "u2")[i2] == 0  # the old object is untouched


def test_a_new_shopper_stops_being_cold(toy):
    stats, live = toy
    assert stats.rows_of(["new"])[0] == stats.cold_row
    live.added.add([("new", "i0", "purchase", None, 1.0)])
    fresh = live.refresh(stats, ["new"])
    r = fresh.rows_of(["new"])[0]
    assert r != fresh.cold_row and row(fresh, "user_buys", "new")[0] == 1
    assert fresh.buy.shape[0] == stats.buy.shape[0] + 1
    assert row(fresh, "user_buys", "u0")[0] == row(stats, "user_buys", "u0")[0]
    live.added.add([("new", "i1", "purchase", None, 2.0)])
    again = live.refresh(fresh, ["new"])
    assert again.rows_of(["new"])[0] == r and row(again, "user_buys", "new")[0] == 2
    assert len(TOY_EVENTS) == 8 and len(live.events_of(["new"])) == 2


def test_a_refreshed_shopper_keeps_their_row(toy):
    stats, live = toy
    live.added.add([("u2", "i0", "view", None, 10.0)])
    once = live.refresh(stats, ["u2"])
    live.added.add([("u2", "i0", "view", None, 11.0)])
    twice = live.refresh(once, ["u2"])
    i0 = stats.catalog.index_of(["i0"])[0]
    assert row(twice, "view", "u2")[i0] == 2
    assert twice.rows_of(["u2"])[0] == stats.rows_of(["u2"])[0] and twice.buy.shape == stats.buy.shape
    assert pd.Index(twice.user_ids).is_unique


def test_splice_rows_replaces_and_appends_like_stacking():
    from ranker.stats.sparse_lines import splice_rows

    rng = np.random.default_rng(3)
    old = sp.random(9, 7, density=0.4, format="csr", random_state=rng, dtype=np.float32)
    block = sp.random(4, 7, density=0.5, format="csr", random_state=rng, dtype=np.float32)
    target = np.array([5, 9, 0, 10])  # replace rows 5 and 0, append two rows
    rows = np.arange(11)
    rows[target] = 9 + np.arange(4)
    expected = sp.vstack([old, block], format="csr")[rows]
    got = splice_rows(old, block, target)
    assert got.shape == (11, 7)
    np.testing.assert_array_equal(got.toarray(), expected.toarray())
