"""Bayes ceiling of driver recovery on the demo shop: the best any attribution could score.

    python bench/driver_ceiling.py --data data/demo

For each shopper's last purchase (the test purchase `bench/attribution.py` checks) the generator's own choice
rule gives each driver's probability of having produced that item, from everything the simulator knew: the
shopper's driver weights, favourite brands, interests and price band, the complements of the last three purchases,
the bestsellers and every item's appeal. Picking the most probable driver is the ceiling; the share of purchases
whose item fits more than one driver says how ambiguous the labels are. Needs the shop written by `whyrec data demo`
with the default catalog settings (it rebuilds the catalog's hidden appeal from the seed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranker import demo  # noqa: E402


def posterior(choice: int, bought: list[int], shopper: pd.Series, items: pd.DataFrame, best: np.ndarray) -> np.ndarray:
    """P(driver | item) up to a constant: the driver's weight times its chance of picking this item."""
    leaf = items["category"].str.split(" > ").str[-1].to_numpy()
    brand, appeal = items["brand"].to_numpy(), items["appeal"].to_numpy()
    fav, interest = str(shopper["favourite_brands"]).split("|"), str(shopper["interest_categories"]).split("|")
    band = {"budget": 0.15, "mid": 0.5, "premium": 0.85}[shopper["price_band"]]
    price_fit = np.exp(-((items["price_quantile"].to_numpy() - band) ** 2) / (2 * 0.18**2))
    owned = np.zeros(len(items), bool)
    owned[bought] = True
    complements = [demo.COMPLEMENTS[leaf[b]] for b in bought[-3:] if leaf[b] in demo.COMPLEMENTS]
    masks = {"brand_affinity": np.isin(brand, fav) & ~np.isin(leaf, interest),
             "category_interest": np.isin(leaf, interest) & ~np.isin(brand, fav),
             "bought_together": np.isin(leaf, complements) & ~np.isin(brand, fav),
             "popularity": np.isin(np.arange(len(items)), best) & ~np.isin(brand, fav) & ~np.isin(leaf, interest)}
    out = np.zeros(len(demo.DRIVERS))
    for k, driver in enumerate(demo.DRIVERS):
        weight = appeal if driver == "popularity" else price_fit * np.sqrt(appeal)
        candidates = masks[driver] & ~owned
        if candidates[choice]:
            out[k] = shopper[f"w_{driver}"] * weight[choice] / weight[candidates].sum()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="the demo shop folder (drivers.csv, shoppers.csv)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    meta = json.loads((args.data / "demo.json").read_text())
    cfg = demo.DemoConfig(shoppers=meta["shoppers"], items=meta["items"], seed=meta["seed"])
    items = demo._catalog(cfg, np.random.default_rng(cfg.seed))
    best = np.argsort(-items["appeal"].to_numpy())[: max(10, len(items) // 15)]
    position = {item_id: k for k, item_id in enumerate(items["item_id"])}
    drivers = pd.read_csv(args.data / "drivers.csv")
    shoppers = pd.read_csv(args.data / "shoppers.csv").set_index("user_id")
    rows = []
    for user, purchases in drivers.groupby("user_id", sort=False):
        sequence = [position[i] for i in purchases.sort_values("timestamp")["item_id"]]
        p = posterior(sequence[-1], sequence[:-1], shoppers.loc[user], items, best)
        rows.append({"driver": purchases.sort_values("timestamp")["driver"].iloc[-1],
                     "ceiling": demo.DRIVERS[int(np.argmax(p))], "ambiguous": int((p > 0).sum() > 1)})
    table = pd.DataFrame(rows)
    hit = table["driver"] == table["ceiling"]
    out = {"purchases": len(table), "ceiling": float(hit.mean()), "ambiguous": float(table["ambiguous"].mean()),
           "by_driver": {d: float(hit[table["driver"] == d].mean()) for d in sorted(set(table["driver"]))}}
    if args.json:
        print(json.dumps(out))
        return
    print(f"driver recovery ceiling on {out['purchases']} last purchases: {out['ceiling']:.1%} "
          f"(items that fit more than one driver: {out['ambiguous']:.1%})")
    print("  " + ", ".join(f"{d} {v:.1%}" for d, v in out["by_driver"].items()))


if __name__ == "__main__":
    main()
