"""Cold items: can whyrec recommend items it was never trained on, added while serving?

10% of the catalog's items are held out of training entirely (every interaction with them removed), the
model is trained on the rest, then the held-out items are added through the service's own path for
`PUT /v1/items` (`LiveShop.upsert`: embedded with the trained encoder, stored, scored at once). The test
cases are the shoppers whose last purchase is one of those items. Printed side by side, in one run:

- **new arrivals** (新品推荐): each method ranks only the added items (what `among: new` serves);
- **full catalog**: the added items compete with everything (whyrec's list as served, candidates and all).

Baselines: content-only nearest neighbours (the added item's text embedding against the shopper's items:
`knn-max` the closest one, `knn-mean` their mean) and popularity (`popularity`: item purchases, all zero
for items nobody could buy yet, so ties break at random; `category-pop`: purchases in the item's category).

    python bench/cold_items.py --data ../shared/data/amazon-scientific [--share 0.1] [--seed 0] [--epochs 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranker.loaders import detect_format  # noqa: E402
from ranker.runtime import configure  # noqa: E402

ITEM_COLUMNS = ("item_id", "title", "brand", "category", "price", "title_zh", "title_en", "category_zh")


def held_out_shop(shop, share: float, seed: int):
    """(training shop without the cold items or any interaction with them, the cold item rows)."""
    from ranker.data import Shop

    rng = np.random.default_rng(seed)
    ids = shop.items["item_id"].astype(str).to_numpy()
    cold = set(rng.choice(ids, size=max(1, round(share * len(ids))), replace=False).tolist())
    warm_items = shop.items[~shop.items["item_id"].astype(str).isin(cold)].reset_index(drop=True)
    warm_events = shop.events[~shop.events["item_id"].astype(str).isin(cold)].reset_index(drop=True)
    cold_items = shop.items[shop.items["item_id"].astype(str).isin(cold)].reset_index(drop=True)
    return Shop(warm_items, warm_events), cold_items


def records(items: pd.DataFrame) -> list[dict]:
    """Catalog rows as the PUT body gives them (the service's record shape)."""
    out = []
    for row in items.to_dict("records"):
        rec = {c: row.get(c) for c in ITEM_COLUMNS if c in row}
        rec["price"] = None if pd.isna(pd.to_numeric(rec.get("price"), errors="coerce")) else float(rec["price"])
        out.append({k: ("" if v is None and k != "price" else v) for k, v in rec.items()})
    return out


def ranks_among(scores: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from ranker.metrics import target_ranks

    return target_ranks(scores, targets, [np.empty(0, np.int64)] * len(targets), rng)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--share", type=float, default=0.1, help="share of the catalog held out as new items")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--cold-groups", type=float, default=None,
                    help="share of training groups shown as new arrivals [default: TrainConfig's]")
    args = ap.parse_args()

    configure()
    from ranker.loaders import load_any
    from ranker.metrics import summarise, target_ranks
    from ranker.model import CompiledScorer
    from ranker.ranking import Ranker
    from ranker.split import nth_last_targets, target_kind, truncate
    from ranker.text import TextEmbedder, item_texts
    from ranker.training.pipeline import fit
    from ranker.training.scoring import score_matrix
    from ranker.training.train_config import TrainConfig
    from service.shop.live import LiveShop
    from service.shop.store import EventStore

    t0 = time.perf_counter()
    shop = load_any(detect_format(args.data), args.data)
    kind = target_kind(shop.events)
    train_shop, cold_items = held_out_shop(shop, args.share, args.seed)
    cold_ids = cold_items["item_id"].astype(str).tolist()
    test = nth_last_targets(shop.events, 1, kind)
    test = test[test["item_id"].astype(str).isin(set(cold_ids))].reset_index(drop=True)
    print(f"{args.data}: {len(shop.items):,} items, {len(cold_ids):,} held out as new ({args.share:.0%}, "
          f"seed {args.seed}); {len(test):,} shoppers whose last purchase is a new item", flush=True)

    cfg = TrainConfig(epochs=args.epochs, seed=args.seed)
    if args.cold_groups is not None:
        cfg = replace(cfg, cold_groups=args.cold_groups)
    cache = Path(tempfile.mkdtemp(prefix="whyrec-cold-"))
    result, _, emb, _ = fit(train_shop, cfg, lambda s, d, t: None, cache_dir=cache)
    print(f"trained without the new items in {time.perf_counter() - t0:.0f} s (cold_groups {cfg.cold_groups}, "
          f"warm validation NDCG@10 {result.best_val_ndcg10:.4f})", flush=True)

    window = truncate(shop.events, 1, kind)
    window = window[~window["item_id"].astype(str).isin(set(cold_ids))].reset_index(drop=True)
    ranker = Ranker(result.model, result.spec, train_shop.items, emb, window, cfg.candidates)
    embedder = TextEmbedder(cache_dir=cache)
    live = LiveShop()
    live.attach(ranker, window, EventStore(cache / "events.db"),
                lambda items: embedder.encode(item_texts(items.fillna(""))))
    t = time.perf_counter()
    added = live.upsert(records(cold_items))
    print(f"added {len(added):,} items through the PUT /v1/items path in {time.perf_counter() - t:.1f} s", flush=True)

    stats, catalog = ranker.stats, ranker.catalog
    rows = stats.rows_of(test["user_id"].astype(str))
    cold = catalog.index_of(cold_ids)
    position = {int(i): k for k, i in enumerate(cold)}
    targets = np.array([position[int(i)] for i in catalog.index_of(test["item_id"].astype(str))])
    scorer = CompiledScorer(ranker.model)

    def whyrec_among(row: int) -> np.ndarray:
        return scorer(ranker.spec.compute(stats, np.full(len(cold), row), cold))

    engaged = [np.union1d(stats.history_of(r), stats.view[r].indices) for r in rows]
    sims = [catalog.emb[e] @ catalog.emb[cold].T if len(e) else np.zeros((1, len(cold))) for e in engaged]
    leaf_buys = np.bincount(np.maximum(catalog.leaf[stats.buy.indices], 0), minlength=len(catalog.leaves) + 1)
    category_pop = np.where(catalog.leaf[cold] >= 0, leaf_buys[np.maximum(catalog.leaf[cold], 0)], 0)
    methods = {
        "whyrec": np.stack([whyrec_among(r) for r in rows]),
        "knn-max": np.stack([s.max(axis=0) for s in sims]),
        "knn-mean": np.stack([s.mean(axis=0) for s in sims]),
        "popularity": np.tile(stats.item_buys[cold], (len(rows), 1)),
        "category-pop": np.tile(category_pop.astype(np.float64), (len(rows), 1)),
    }
    among = {m: summarise(ranks_among(s, targets, np.random.default_rng(args.seed))) for m, s in methods.items()}

    full_targets = catalog.index_of(test["item_id"].astype(str))
    exclude = [stats.history_of(r) for r in rows]
    all_sims = [catalog.emb[e] @ catalog.emb.T if len(e) else np.zeros((1, catalog.n)) for e in engaged]
    full_scores = {
        "whyrec": score_matrix(scorer, ranker.spec, stats, rows, cfg.candidates),
        "knn-max": np.stack([s.max(axis=0) for s in all_sims]),
        "knn-mean": np.stack([s.mean(axis=0) for s in all_sims]),
        "popularity": np.tile(stats.item_buys, (len(rows), 1)),
    }
    full = {m: summarise(target_ranks(s, full_targets, exclude, np.random.default_rng(args.seed)))
            for m, s in full_scores.items()}

    print(f"\nnew arrivals: rank the {len(cold):,} added items       full catalog: rank all {catalog.n:,} items")
    print(f"{'method':14s} {'HR@10':>7s} {'NDCG@10':>8s}     {'HR@10':>7s} {'NDCG@10':>8s}")
    for m in methods:
        a, f = among[m], full.get(m)
        tail = f"     {f['HR@10']:7.4f} {f['NDCG@10']:8.4f}" if f else ""
        print(f"{m:14s} {a['HR@10']:7.4f} {a['NDCG@10']:8.4f}{tail}")
    best = max((m for m in methods if m.startswith("knn")), key=lambda m: among[m]["HR@10"])
    ratio = among["whyrec"]["HR@10"] / among[best]["HR@10"] if among[best]["HR@10"] else float("nan")
    print(f"\nwhyrec / best content-only ({best}) HR@10 among new items: {ratio:.3f}; "
          f"{len(rows):,} test shoppers; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
