"""Canonical table validation: bad files name file, line and field; skipped rows are counted."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import TOY_EVENTS, TOY_ITEMS, write_shop

from ranker.data import DataError, load_shop, parse_timestamps


def test_loads_valid_shop(toy_dir):
    shop = load_shop(toy_dir)
    assert list(shop.items["item_id"]) == ["i0", "i1", "i2", "i3", "i4"]
    assert shop.items["price"].isna().sum() == 1
    assert len(shop.events) == len(TOY_EVENTS)
    assert shop.events.groupby("user_id")["timestamp"].apply(lambda t: t.is_monotonic_increasing).all()
    assert all(not r.skipped for r in shop.reports)


def test_missing_column_names_file_and_field(tmp_path):
    write_shop(tmp_path, items=TOY_ITEMS.drop(columns=["brand"]))
    with pytest.raises(DataError, match=r"items\.csv:1: field 'brand' missing required column"):
        load_shop(tmp_path)


def test_bad_price_names_line(tmp_path):
    items = TOY_ITEMS.copy()
    items.loc[2, "price"] = "cheap"
    write_shop(tmp_path, items=items)
    with pytest.raises(DataError, match=r"items\.csv:4: field 'price' not a non-negative number \(value 'cheap'\)"):
        load_shop(tmp_path)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("event", "click", "not one of"),
    ("timestamp", "yesterday", "not an epoch number or ISO-8601 time"),
    ("value", "five", "not a number"),
    ("user_id", "", "empty id"),
])
def test_bad_event_fields(tmp_path, field, value, message):
    events = TOY_EVENTS.copy()
    events.loc[3, field] = value
    write_shop(tmp_path, events=events)
    with pytest.raises(DataError, match=rf"events\.csv:5: field '{field}' {message}"):
        load_shop(tmp_path)


def test_rating_without_value_is_an_error(tmp_path):
    events = TOY_EVENTS.copy()
    events.loc[7, "value"] = ""
    write_shop(tmp_path, events=events)
    with pytest.raises(DataError, match=r"events\.csv:9: field 'value'"):
        load_shop(tmp_path)


def test_skip_mode_counts_bad_rows(tmp_path):
    events = TOY_EVENTS.copy()
    events.loc[3, "event"] = "click"
    events.loc[4, "event"] = "hover"
    write_shop(tmp_path, events=events)
    shop = load_shop(tmp_path, on_error="skip")
    report = shop.reports[1]
    assert len(shop.events) == len(TOY_EVENTS) - 2
    (reason, count), = report.skipped.items()
    assert reason.startswith("event:") and count == 2
    assert "line 5: 'click'" in report.lines()[1]


def test_duplicates_and_unknown_items_are_counted_not_silent(tmp_path):
    items = pd.concat([TOY_ITEMS, TOY_ITEMS.iloc[[0]]])
    events = pd.concat([TOY_EVENTS, TOY_EVENTS.iloc[[0]],
                        pd.DataFrame([{"user_id": "u9", "item_id": "nope", "event": "view", "value": "",
                                       "timestamp": "9"}])])
    write_shop(tmp_path, items=items, events=events)
    shop = load_shop(tmp_path)
    assert shop.reports[0].skipped == {"duplicate item_id, first kept": 1}
    assert shop.reports[1].skipped == {"item_id not in catalog": 1, "exact duplicate event": 1}
    assert shop.reports[1].rows_read == len(TOY_EVENTS) + 2
    assert shop.reports[1].rows_kept == len(TOY_EVENTS)


def test_parquet_round_trip(toy_dir, tmp_path):
    shop = load_shop(toy_dir)
    shop.save(tmp_path / "pq")
    again = load_shop(tmp_path / "pq")
    pd.testing.assert_frame_equal(shop.events, again.events)
    assert list(again.items["item_id"]) == list(shop.items["item_id"])


def test_timestamps_accept_epoch_and_iso():
    parsed = parse_timestamps(pd.Series(["10", "1970-01-01T00:01:00Z", "2026-01-01", "bad"]))
    assert parsed.iloc[0] == 10 and parsed.iloc[1] == 60
    assert parsed.iloc[2] == pd.Timestamp("2026-01-01", tz="UTC").timestamp()
    assert pd.isna(parsed.iloc[3])


def test_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        load_shop(tmp_path / "absent")


def test_entities_are_unescaped_and_an_untitled_item_is_kept_with_its_events(tmp_path):
    items = TOY_ITEMS.copy()
    items.loc[0, "title"] = "Copy &amp; Print Drill&reg;"
    items.loc[1, "title"] = ""
    items.loc[3, ["title", "brand", "category"]] = ["", "", ""]
    write_shop(tmp_path, items=items)
    shop = load_shop(tmp_path)
    titles = shop.items.set_index("item_id")["title"]
    assert titles["i0"] == "Copy & Print Drill®"
    assert titles["i1"] == "Acme Bits" and titles["i3"] == "i3"
    assert len(shop.items) == len(TOY_ITEMS) and len(shop.events) == len(TOY_EVENTS)
    lines = "\n".join(shop.reports[0].lines())
    assert "repaired 1 (title: HTML entities unescaped)" in lines
    assert "repaired 2 (title: empty, named by brand and category), e.g. line 3: 'Acme Bits'" in lines
