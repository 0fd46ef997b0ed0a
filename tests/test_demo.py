"""The demo shop is deterministic, bilingual and records a driver for every purchase."""

from __future__ import annotations

import pandas as pd

from ranker.data import load_shop
from ranker.demo import DRIVERS, DemoConfig, generate, write_demo

SMALL = DemoConfig(shoppers=60, items=120, seed=3)


def test_same_seed_same_shop():
    a, da, _ = generate(SMALL)
    b, db, _ = generate(SMALL)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.items, b.items)
    pd.testing.assert_frame_equal(da, db)
    c, _, _ = generate(DemoConfig(shoppers=60, items=120, seed=4))
    assert not a.events.equals(c.events)


def test_catalog_is_bilingual_with_prices_and_paths():
    shop, _, _ = generate(SMALL)
    items = shop.items
    assert items["title_zh"].str.contains(r"[\u4e00-\u9fff]").all()
    assert items["title_en"].str.match(r"^[\x00-\x7f]+$").all()
    assert (items["price"] > 0).all()
    assert items["category"].str.contains(" > ").all()


def test_every_purchase_has_a_true_driver(tmp_path):
    write_demo(tmp_path, SMALL)
    shop = load_shop(tmp_path)
    drivers = pd.read_csv(tmp_path / "drivers.csv")
    purchases = shop.events[shop.events["event"] == "purchase"]
    assert len(drivers) == len(purchases)
    assert set(drivers["driver"]) <= set(DRIVERS)
    assert set(zip(drivers["user_id"], drivers["item_id"], strict=True)) == set(
        zip(purchases["user_id"], purchases["item_id"], strict=True))
    assert (tmp_path / "shoppers.csv").exists()
