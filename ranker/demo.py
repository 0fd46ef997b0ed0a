"""The built-in demo shop: a bilingual catalog and simulated shoppers with known reasons.

Real logs never say *why* someone bought something; this simulator does. Every purchase is drawn by
one driver (brand loyalty, category interest, bought-together with an earlier purchase, or plain
popularity), modulated by the shopper's price band, and the driver is written to `drivers.csv`
so that attributions can be checked against ground truth. Deterministic for a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ranker.data import Shop, validate_events, validate_items

# (top en, top zh) -> leaves: (en noun, zh noun, price low, price high, [(en spec, zh spec), ...])
CATALOG: dict[tuple[str, str], list[tuple[str, str, float, float, list[tuple[str, str]]]]] = {
    ("Tools", "工具"): [
        ("Cordless Drill", "无线电钻", 39, 249, [("20V Brushless", "20V无刷"), ("Compact", "紧凑型"),
                                                 ("Hammer", "冲击"), ("12V Mini", "12V迷你")]),
        ("Drill Bit Set", "钻头套装", 8, 59, [("Titanium", "钛涂层"), ("Cobalt", "钴合金"), ("Masonry", "石工"),
                                              ("Wood", "木工")]),
        ("Angle Grinder", "角磨机", 35, 199, [("4-1/2 Inch", "4.5英寸"), ("Variable Speed", "调速"),
                                               ("Paddle Switch", "桨式开关")]),
        ("Grinding Disc Pack", "砂轮片套装", 6, 35, [("Metal", "金属"), ("Flap", "百叶"), ("Cut-Off", "切割")]),
        ("Tool Box", "工具箱", 15, 129, [("Rolling", "拉杆"), ("Steel", "钢制"), ("Stackable", "可叠放")]),
    ],
    ("Kitchen", "厨房"): [
        ("Frying Pan", "煎锅", 15, 149, [("Nonstick", "不粘"), ("Cast Iron", "铸铁"), ("Stainless", "不锈钢")]),
        ("Spatula", "锅铲", 4, 29, [("Silicone", "硅胶"), ("Wooden", "木质"), ("Slotted", "漏孔")]),
        ("Chef Knife", "厨师刀", 12, 199, [("8-Inch", "8英寸"), ("Damascus", "大马士革"), ("Santoku", "三德")]),
        ("Cutting Board", "砧板", 8, 59, [("Bamboo", "竹制"), ("Walnut", "胡桃木"), ("Plastic", "塑料")]),
        ("Coffee Maker", "咖啡机", 29, 299, [("Drip", "滴滤"), ("Espresso", "意式"), ("Pour-Over", "手冲")]),
        ("Coffee Beans", "咖啡豆", 8, 39, [("Dark Roast", "深烘"), ("Medium Roast", "中烘"), ("Decaf", "低因")]),
    ],
    ("Outdoor", "户外"): [
        ("Tent", "帐篷", 49, 399, [("2-Person", "双人"), ("4-Person", "四人"), ("Ultralight", "超轻")]),
        ("Sleeping Bag", "睡袋", 25, 249, [("Down", "羽绒"), ("Three-Season", "三季"), ("Mummy", "木乃伊式")]),
        ("Headlamp", "头灯", 10, 79, [("Rechargeable", "充电式"), ("300 Lumen", "300流明"), ("Red Light", "红光")]),
        ("Hiking Backpack", "登山包", 30, 249, [("40L", "40升"), ("65L", "65升"), ("Daypack", "日用")]),
    ],
    ("Electronics", "数码"): [
        ("Headphones", "耳机", 15, 349, [("Wireless", "无线"), ("Noise Cancelling", "降噪"), ("Over-Ear", "头戴式")]),
        ("Phone Charger", "手机充电器", 8, 59, [("65W GaN", "65W氮化镓"), ("Dual Port", "双口"),
                                                 ("Fast", "快充")]),
        ("Power Bank", "充电宝", 12, 89, [("10000mAh", "10000毫安"), ("20000mAh", "20000毫安"), ("Slim", "超薄")]),
        ("Bluetooth Speaker", "蓝牙音箱", 20, 299, [("Waterproof", "防水"), ("Portable", "便携"),
                                                    ("Party", "派对")]),
    ],
}
COMPLEMENTS = {
    "Cordless Drill": "Drill Bit Set", "Angle Grinder": "Grinding Disc Pack", "Frying Pan": "Spatula",
    "Chef Knife": "Cutting Board", "Coffee Maker": "Coffee Beans", "Tent": "Sleeping Bag",
    "Hiking Backpack": "Headlamp", "Headphones": "Phone Charger", "Bluetooth Speaker": "Power Bank",
    "Drill Bit Set": "Tool Box", "Sleeping Bag": "Headlamp", "Power Bank": "Phone Charger",
}
# brand -> (top category, tier in 0..1 where 0 is budget and 1 premium)
BRANDS = {
    "Voltmark": ("Tools", 0.85), "IronPeak": ("Tools", 0.5), "Brisk": ("Tools", 0.15),
    "Torqen": ("Tools", 0.6), "Hardline": ("Tools", 0.75),
    "Culina": ("Kitchen", 0.5), "Ferro & Co": ("Kitchen", 0.85), "PanPal": ("Kitchen", 0.15),
    "Kasumi": ("Kitchen", 0.8), "Brewford": ("Kitchen", 0.45),
    "Northtrail": ("Outdoor", 0.85), "Campwise": ("Outdoor", 0.15), "Altiva": ("Outdoor", 0.55),
    "Ridgeback": ("Outdoor", 0.45), "Lumenor": ("Outdoor", 0.25),
    "Sonivo": ("Electronics", 0.85), "Chargely": ("Electronics", 0.15), "Auralis": ("Electronics", 0.55),
    "Voltaic": ("Electronics", 0.45), "Bassline": ("Electronics", 0.25),
}
DRIVERS = ("brand_affinity", "category_interest", "bought_together", "popularity")
TIER_NAMES = ("budget", "mid", "premium")
START = pd.Timestamp("2026-01-01", tz="UTC")


@dataclass(frozen=True)
class DemoConfig:
    shoppers: int = 1500
    items: int = 600
    seed: int = 7


def _catalog(cfg: DemoConfig, rng: np.random.Generator) -> pd.DataFrame:
    leaves = [(top, leaf) for top, lv in CATALOG.items() for leaf in lv]
    per_leaf = max(1, cfg.items // len(leaves))
    rows: list[dict] = []
    for (top_en, top_zh), (noun_en, noun_zh, lo, hi, specs) in leaves:
        brands = [b for b, (t, _) in BRANDS.items() if t == top_en]
        for k in range(per_leaf):
            brand = brands[k % len(brands)]
            tier = BRANDS[brand][1]
            spec_en, spec_zh = specs[(k // len(brands)) % len(specs)]
            series = f"{chr(65 + (k // (len(brands) * len(specs))) % 26)}{(k * 37) % 90 + 10}"
            q = float(np.clip(tier + rng.normal(0, 0.12), 0.0, 1.0))
            price = float(np.exp(np.log(lo) + q * (np.log(hi) - np.log(lo))))
            rows.append({
                "item_id": f"D{len(rows):05d}",
                "title": f"{brand} {spec_en} {noun_en} {series}",
                "title_en": f"{brand} {spec_en} {noun_en} {series}",
                "title_zh": f"{brand} {spec_zh}{noun_zh} {series}",
                "brand": brand,
                "category": f"{top_en} > {noun_en}",
                "category_zh": f"{top_zh} > {noun_zh}",
                "price": round(max(1.0, round(price)) - 0.01, 2),
                "currency": "USD",
                "price_quantile": q,
                "appeal": float(rng.lognormal(0.0, 1.0)),
            })
    return pd.DataFrame(rows)


def _pick(rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray) -> int | None:
    if len(candidates) == 0 or weights.sum() <= 0:
        return None
    return int(rng.choice(candidates, p=weights / weights.sum()))


def _browse(rng: np.random.Generator, driver: str, choice: int, leaf: np.ndarray, brand: np.ndarray,
            bestsellers: np.ndarray, owned: np.ndarray) -> list[int]:
    """What a shopper looks at before buying depends on why they buy: a brand fan browses the brand,
    a category shopper compares the category, a bestseller buyer glances at other bestsellers; a
    complement is bought straight away."""
    if driver == "brand_affinity":
        pool = np.flatnonzero((brand == brand[choice]) & ~owned)
    elif driver == "category_interest":
        pool = np.flatnonzero((leaf == leaf[choice]) & ~owned)
    elif driver == "popularity":
        pool = bestsellers[~owned[bestsellers]]
    else:
        return []
    pool = pool[pool != choice]
    return list(rng.choice(pool, size=min(len(pool), int(rng.integers(1, 4))), replace=False))


def _simulate(cfg: DemoConfig, items: pd.DataFrame, rng: np.random.Generator):
    leaf = items["category"].str.split(" > ").str[-1].to_numpy()
    top = items["category"].str.split(" > ").str[0].to_numpy()
    brand = items["brand"].to_numpy()
    q = items["price_quantile"].to_numpy()
    appeal = items["appeal"].to_numpy()
    bestsellers = np.argsort(-appeal)[: max(10, len(items) // 15)]
    leaves = np.unique(leaf)
    events, drivers, shoppers = [], [], []
    for s in range(cfg.shoppers):
        user = f"U{s:05d}"
        tops = rng.choice(list({t for t, _ in BRANDS.values()}), size=2, replace=False)
        fav_brands = [b for b in BRANDS if BRANDS[b][0] in tops]
        fav_brands = list(rng.choice(fav_brands, size=int(rng.integers(1, 3)), replace=False))
        interest = list(rng.choice(leaves[np.isin([top[np.argmax(leaf == lv)] for lv in leaves], tops)],
                                   size=int(rng.integers(2, 4)), replace=False))
        tier = int(rng.integers(0, len(TIER_NAMES)))
        band = (0.15, 0.5, 0.85)[tier]
        weights = rng.dirichlet(np.full(len(DRIVERS), 0.6))
        shoppers.append({"user_id": user, "favourite_brands": "|".join(fav_brands),
                         "interest_categories": "|".join(interest),
                         "price_band": TIER_NAMES[tier],
                         **{f"w_{d}": round(float(w), 3) for d, w in zip(DRIVERS, weights, strict=True)}})
        price_fit = np.exp(-((q - band) ** 2) / (2 * 0.18**2))
        t = START + pd.Timedelta(days=float(rng.uniform(0, 60)))
        bought: list[int] = []
        for _ in range(4 + int(rng.poisson(5))):
            owned = np.zeros(len(items), bool)
            owned[bought] = True
            complements = [COMPLEMENTS[leaf[b]] for b in bought[-3:] if leaf[b] in COMPLEMENTS]
            choice: int | None = None
            driver = DRIVERS[0]
            for _attempt in range(6):
                driver = DRIVERS[int(rng.choice(len(DRIVERS), p=weights))]
                if driver == "brand_affinity":
                    mask = np.isin(brand, fav_brands) & ~np.isin(leaf, interest)
                    w = price_fit * np.sqrt(appeal)
                elif driver == "category_interest":
                    mask = np.isin(leaf, interest) & ~np.isin(brand, fav_brands)
                    w = price_fit * np.sqrt(appeal)
                elif driver == "bought_together":
                    mask = np.isin(leaf, complements) & ~np.isin(brand, fav_brands)
                    w = price_fit * np.sqrt(appeal)
                else:
                    mask = np.zeros(len(items), bool)
                    mask[bestsellers] = True
                    mask &= ~np.isin(brand, fav_brands) & ~np.isin(leaf, interest)
                    w = appeal
                candidates = np.flatnonzero(mask & ~owned)
                choice = _pick(rng, candidates, w[candidates])
                if choice is not None:
                    break
            if choice is None:
                continue
            t += pd.Timedelta(days=float(rng.exponential(9)) + 0.5)
            browsed = _browse(rng, driver, choice, leaf, brand, bestsellers, owned)
            if rng.random() < 0.15:
                browsed.append(choice)
            browsed += list(rng.choice(np.flatnonzero(np.isin(leaf, interest)), size=int(rng.integers(0, 2))))
            for j, b in enumerate(browsed):
                events.append((user, items.at[b, "item_id"], "view", "", t + pd.Timedelta(minutes=3 * j)))
            t += pd.Timedelta(days=float(rng.exponential(2)) + 0.2)
            item_id = items.at[choice, "item_id"]
            if rng.random() < 0.6:
                events.append((user, item_id, "cart", "", t))
            events.append((user, item_id, "purchase", "", t))
            drivers.append({"user_id": user, "item_id": item_id, "timestamp": t.isoformat(), "driver": driver})
            if rng.random() < 0.35:
                stars = int(np.clip(round(rng.normal(4.2 if price_fit[choice] > 0.5 else 3.3, 0.8)), 1, 5))
                events.append((user, item_id, "rating", str(stars), t + pd.Timedelta(days=3)))
            bought.append(choice)
    frame = pd.DataFrame(events, columns=["user_id", "item_id", "event", "value", "timestamp"])
    frame["timestamp"] = frame["timestamp"].map(lambda ts: ts.isoformat())
    return frame, pd.DataFrame(drivers), pd.DataFrame(shoppers)


def generate(cfg: DemoConfig = DemoConfig()) -> tuple[Shop, pd.DataFrame, pd.DataFrame]:
    """Build the demo shop, the per-purchase drivers and the shoppers' true preferences."""
    rng = np.random.default_rng(cfg.seed)
    catalog = _catalog(cfg, rng)
    events, drivers, shoppers = _simulate(cfg, catalog, rng)
    items = catalog.drop(columns=["price_quantile", "appeal"]).astype({"price": str})
    items, item_report = validate_items(items, Path("demo/items"))
    events, event_report = validate_events(events, Path("demo/events"), items["item_id"])
    return Shop(items, events, [item_report, event_report]), drivers, shoppers


def write_demo(out: str | Path, cfg: DemoConfig = DemoConfig()) -> Path:
    """Generate and write the demo shop (`items`, `events`, `drivers.csv`, `shoppers.csv`)."""
    out = Path(out)
    shop, drivers, shoppers = generate(cfg)
    shop.save(out)
    drivers.to_csv(out / "drivers.csv", index=False)
    shoppers.to_csv(out / "shoppers.csv", index=False)
    (out / "demo.json").write_text(json.dumps({"generator": "whyrec demo shop", **cfg.__dict__}, indent=2))
    return out
