"""A Chinese marketplace shop for end-to-end runs: real Taobao titles, simulated shoppers (never committed).

Items are titles of the e-commerce NER set (`--ner`, fetched outside the repo) as a marketplace lists them:
keyword-stuffed, tags and selling words left in. The brand field is the title's first labelled brand, else
"other/其他" as marketplace exports write it (a placeholder the loader must treat as no brand); the category
is a crawl bucket "<top> > <type>" from the title's most frequent labelled product type, grouped under a few
top-level buckets by the type's last character (what Chinese product words end on); prices in yuan
(`currency` CNY). Shoppers prefer two product types and a brand each and buy with some noise; the events are
time-ordered purchases and views. Deterministic for a seed.

    python bench/marketplace_shop.py --ner ../data-ext/ecommerce-ner --out /tmp/market [--items 2000]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ner", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--shoppers", type=int, default=600)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    from zh_names import read_ner

    from ranker.data import Shop, validate_events, validate_items

    rng = np.random.default_rng(args.seed)
    rows = []
    for split in ("train", "dev", "test"):
        for title, spans in read_ner(args.ner / f"{split}.txt"):
            types = Counter(s for label, s in spans if label == "HCCX" and len(s) >= 2)
            if not types:
                continue
            brand = next((s for label, s in spans if label == "HPPX"), "other/其他")
            rows.append((title, brand, types.most_common(1)[0][0]))
    kinds = Counter(kind for _, _, kind in rows)
    common = {k for k, n in kinds.items() if n >= 8}
    rows = [r for r in rows if r[2] in common]
    picked = rng.choice(len(rows), size=min(args.items, len(rows)), replace=False)
    items = pd.DataFrame([{
        "item_id": f"M{n:05d}", "title": rows[i][0], "brand": rows[i][1],
        "category": f"{rows[i][2][-1]}类 > {rows[i][2]}", "price": float(np.round(rng.lognormal(4.0, 0.8), 1)),
        "currency": "CNY"} for n, i in enumerate(picked)])
    item_kinds = items["category"].str.split(" > ").str[-1].to_numpy()
    brands = items["brand"].to_numpy()
    distinct = sorted(set(item_kinds))
    events, t = [], 1_600_000_000
    for u in range(args.shoppers):
        liked = set(rng.choice(distinct, size=2, replace=False))
        real_brands = [b for b in set(brands) if b != "other/其他"]
        brand = rng.choice(real_brands)
        weight = np.where(np.isin(item_kinds, list(liked)), 8.0, 0.2) * np.where(brands == brand, 4.0, 1.0)
        weight /= weight.sum()
        for _ in range(int(rng.integers(4, 14))):
            i = int(rng.choice(len(items), p=weight))
            t += int(rng.integers(60, 3600))
            kind = "purchase" if rng.random() < 0.45 else "view"
            events.append({"user_id": f"S{u:04d}", "item_id": items["item_id"][i], "event": kind, "value": "",
                           "timestamp": t})
    path = args.out
    items_table, item_report = validate_items(items.astype(str), path / "items.csv")
    events_table, event_report = validate_events(pd.DataFrame(events).astype(str), path / "events.csv",
                                                 items_table["item_id"])
    Shop(items_table, events_table, [item_report, event_report]).save(path)
    print("\n".join(item_report.lines()))
    print(f"{len(items_table)} items ({len(distinct)} product types), {len(events_table)} events of "
          f"{args.shoppers} shoppers written to {path}")


if __name__ == "__main__":
    main()
