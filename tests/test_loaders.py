"""UniSRec/RecBole and MovieLens converters on small fixtures, including broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ranker.data import DataError
from ranker.loaders import infer_category_levels, load_movielens, load_unisrec, split_unisrec_text
from ranker.split import nth_last_targets, truncate

TEXT = "".join(line + " \n" for line in [  # the real files end every text with ". "
    "item_id:token\ttext:token_seq",
    "A1\tAcme 5. Drill Kit. Tools Power Drills. Acme.",
    "A2\tAcme Bits. Tools Power Bits. Acme.",
    "A3\tGlue. Tools Adhesives. Gorilla.",
    "A4\tTape. Tools Adhesives Tape. Gorilla.",
])


def write_unisrec(d: Path, test_lines: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "Toy.text").write_text(TEXT)
    (d / "Toy.item2index").write_text("A1\t0\nA2\t1\nA3\t2\nA4\t3\n")
    (d / "Toy.user2index").write_text("R1\t0\nR2\t1\n")
    (d / "Toy.test.inter").write_text("user_id:token\titem_id_list:token_seq\titem_id:token\n" + test_lines)
    return d


def test_unisrec_rebuilds_sequences_and_split(tmp_path):
    shop = load_unisrec(write_unisrec(tmp_path, "0\t0 1 2\t3\n1\t2 0\t1\n"))
    assert shop.items.set_index("item_id").loc["A1", "title"] == "Acme 5. Drill Kit"
    assert shop.items.set_index("item_id").loc["A1", "brand"] == "Acme"
    r1 = shop.events[shop.events["user_id"] == "R1"]
    assert list(r1["item_id"]) == ["A1", "A2", "A3", "A4"]
    assert set(shop.events["event"]) == {"purchase"}
    # leave-last-out reproduces the file: test target = last, valid = second last
    assert dict(zip(*nth_last_targets(shop.events, 1)[["user_id", "item_id"]].T.values, strict=True)) == {
        "R1": "A4", "R2": "A2"}
    assert dict(zip(*nth_last_targets(shop.events, 2)[["user_id", "item_id"]].T.values, strict=True)) == {
        "R1": "A3", "R2": "A1"}
    train = truncate(shop.events, 2)
    assert list(train[train["user_id"] == "R1"]["item_id"]) == ["A1", "A2"]


def test_unisrec_unknown_item_index_names_line(tmp_path):
    with pytest.raises(DataError, match=r"Toy\.test\.inter:3: field 'item_id' item index '9'"):
        load_unisrec(write_unisrec(tmp_path, "0\t0 1\t2\n1\t9\t1\n"))


def test_unisrec_wrong_field_count(tmp_path):
    with pytest.raises(DataError, match=r"Toy\.test\.inter:2: expected 3 tab-separated fields, found 2"):
        load_unisrec(write_unisrec(tmp_path, "0\t0 1 2\n"))


def test_unisrec_needs_text_file(tmp_path):
    with pytest.raises(DataError, match="no \\*.text file"):
        load_unisrec(tmp_path)


def test_split_text_keeps_dots_in_titles():
    assert split_unisrec_text("No. 5 Tool. Tools Hand. Brand X. ") == ("No. 5 Tool", "Tools Hand", "Brand X")


def test_category_levels_are_recovered_at_branch_points():
    levels = infer_category_levels(["Tools Power Drills", "Tools Power Bits", "Tools Adhesives"])
    assert levels["Tools Power Drills"] == "Tools > Power > Drills"
    assert levels["Tools Adhesives"] == "Tools > Adhesives"


def write_movielens(d: Path, extra_item: str = "") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    flags = ["0"] * 19
    drama = flags.copy()
    drama[8] = "1"
    (d / "u.item").write_text(
        "1|Toy Story (1995)|01-Jan-1995||http://x|" + "|".join(flags[:5] + ["1"] + flags[6:]) + "\n"
        "2|Heat (1995)|01-Jan-1995||http://y|" + "|".join(drama) + "\n" + extra_item, encoding="latin-1")
    (d / "u.data").write_text("1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t2\t4\t881250951\n")
    return d


def test_movielens_ratings(tmp_path):
    shop = load_movielens(write_movielens(tmp_path))
    assert shop.items.set_index("item_id").loc["2", "category"] == "Movies > Drama"
    assert set(shop.events["event"]) == {"rating"}
    assert shop.events["value"].tolist() == [5.0, 3.0, 4.0]
    assert nth_last_targets(shop.events, 1)["item_id"].tolist() == ["2", "2"]


def test_movielens_malformed_item_line(tmp_path):
    with pytest.raises(DataError, match=r"u\.item:3: expected 24 '\|' fields"):
        load_movielens(write_movielens(tmp_path, "3|Broken\n"))
