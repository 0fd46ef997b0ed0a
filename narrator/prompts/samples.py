"""Sample facts covering every fact kind and every branch of the shipped phrases (bought or only
viewed, a similar item bought, viewed or written before that was said, item or category basis, carted or
viewed, cold start). Lint renders every template and phrase against them, so an editor's mistake shows up
before a shopper could see it."""

from __future__ import annotations

from narrator.facts import Fact, Facts, ItemRef

ITEM = ItemRef("S1", "Voltmark 20V Cordless Drill A10", "Voltmark", "Tools > Cordless Drill", 88.99,
               "Voltmark 20V无线电钻 A10", "Voltmark 20V Cordless Drill A10", "工具 > 无线电钻")

VARIANTS: dict[str, list[dict]] = {
    "brand": [{"brand": "Voltmark", "bought": 3, "viewed": 1}, {"brand": "Voltmark", "bought": 0, "viewed": 2}],
    "category": [{"category": "Cordless Drill", "category_zh": "无线电钻", "category_path": "Tools > Cordless Drill",
                  "level": "leaf", "bought": 2, "viewed": 4, "share": 0.3},
                 {"category": "Tools", "category_zh": "工具", "category_path": "Tools", "level": "parent",
                  "bought": 0, "viewed": 1, "share": 0.1}],
    "price": [{"price": 88.99, "usual_low": 40.0, "usual_high": 120.0, "currency": "$"}],
    "bought_together": [{"with_item_id": "S7", "with_title": "Brisk Drill Bit Set B12", "basis": "item",
                         "with_title_zh": "Brisk 钻头套装 B12", "shoppers_bought_both": 8},
                        {"with_item_id": "S7", "with_title": "Brisk Drill Bit Set B12", "basis": "category",
                         "with_title_zh": "Brisk 钻头套装 B12"},
                        {"with_item_id": "", "with_title": "", "with_title_zh": "", "basis": "item"}],  # no one cause
    "similar_text": [{"like_item_id": "S8", "like_title": "IronPeak 20V Cordless Drill A47",
                      "like_title_zh": "IronPeak 20V无线电钻 A47", "similarity": 0.8, "relation": relation}
                     for relation in ("viewed", "bought")]
                    + [{"like_item_id": "S8", "like_title": "IronPeak 20V Cordless Drill A47",  # written before
                        "like_title_zh": "IronPeak 20V无线电钻 A47", "similarity": 0.8},  # `relation` existed
                       {"like_item_id": "", "like_title": "", "like_title_zh": ""}],
    "recent": [{"recent_item_id": "S9", "recent_title": "Brisk Drill Bit Set B12",
                "recent_title_zh": "Brisk 钻头套装 B12", "purchases_ago": 1},
               {"recent_item_id": "S9", "recent_title": "Brisk Drill Bit Set B12",
                "recent_title_zh": "Brisk 钻头套装 B12", "purchases_ago": 3},
               {"recent_item_id": "", "recent_title": "", "recent_title_zh": ""}],
    "popular": [{"purchases": 120, "popularity_rank": 4, "catalog_size": 600}],
    "rating": [{"rating": 4.5, "ratings": 31}],
    "activity": [{"viewed": 2, "carted": 0}, {"viewed": 1, "carted": 1}, {"viewed": 1, "carted": 0}],
    "new_arrival": [{"added": "2026-11-29"}],
    "query_match": [{"query": "cordless drill", "similarity": 0.71}, {"query": "", "similarity": 0.4}],
    "feedback": [{"reaction": "not_interested_brand", "brand": "Brisk"},
                 {"reaction": "not_interested_category", "category": "Drill Bit Set", "category_zh": "钻头套装",
                  "category_en": "Drill Bit Set", "category_path": "Tools > Drill Bit Set"},
                 {"reaction": "wrong_reason", "reason": "bought_together"}],
    "promotion": [{"percent": 20, "zhe": "8", "label": "20% off", "ends": "2026-12-06", "campaign": "winter"},
                  {"percent": 0, "zhe": "", "label": "Winter Sale", "ends": "2026-12-06", "campaign": "winter"}],
}


def sample_facts() -> list[Facts]:
    """One fact set per variant (each kind ranked first once), plus a cold-start set."""
    out = []
    for kind, variants in VARIANTS.items():
        for evidence in variants:
            other = "popular" if kind != "popular" else "price"
            first = Fact(kind, ("sample",), 0.6, 0.6, 1, evidence)
            second = Fact(other, ("sample",), 0.4, 0.4, 2, VARIANTS[other][0])
            out.append(Facts("sample", ITEM, (first, second)))
    out.append(Facts("new-shopper", ITEM, (Fact("popular", ("sample",), 1.0, 1.0, 1, VARIANTS["popular"][0]),),
                     cold_start=True))
    return out
