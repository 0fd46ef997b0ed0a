"""Ranker benchmark: import → embeddings → training → evaluation → serving latency, timed.

Prints whyrec beside MostPop and ItemKNN computed in the same run on the same interactions.

    python bench/ranker.py --data ../shared/data/amazon-scientific [--json] [--warm-cache]

`--data` is a UniSRec/RecBole folder (has `*.text`), a MovieLens-100k folder (`u.data`) or a
canonical shop folder. Embeddings use a fresh cache unless `--warm-cache`, so the end-to-end time
includes encoding the catalog.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranker.runtime import configure  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--warm-cache", action="store_true", help="reuse .cache/embeddings")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--latency-users", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    configure()
    from ranker.baselines import ItemKNN
    from ranker.loaders import detect_format, load_any
    from ranker.ranking import Ranker
    from ranker.text import DEFAULT_CACHE
    from ranker.training.pipeline import evaluate, fit
    from ranker.training.train_config import TrainConfig

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    shop = load_any(detect_format(args.data), args.data)
    timings["import_s"] = time.perf_counter() - t0

    cache = DEFAULT_CACHE if args.warm_cache else Path(tempfile.mkdtemp(prefix="whyrec-emb-"))
    cfg = TrainConfig(epochs=args.epochs, seed=args.seed)
    log = (lambda *a: None) if args.json else (lambda s, d, t: print(f"  [{time.perf_counter() - t0:6.1f}s] {s}",
                                                                        file=sys.stderr, flush=True))
    result, catalog, emb, fit_timings = fit(shop, cfg, log, cache_dir=cache)
    timings["embeddings_s"] = fit_timings["embeddings_s"]
    timings["train_s"] = fit_timings["train_s"]
    timings["end_to_end_s"] = time.perf_counter() - t0

    t = time.perf_counter()
    metrics = evaluate(shop, catalog, result.model, result.spec, cfg.candidates)
    timings["evaluate_s"] = time.perf_counter() - t

    ranker = Ranker(result.model, result.spec, shop.items, emb, shop.events, cfg.candidates)
    rng = np.random.default_rng(args.seed)
    users = rng.choice(ranker.stats.user_ids, size=min(args.latency_users, len(ranker.stats.user_ids)),
                       replace=False)
    for u in users[:5]:
        ranker.recommend(u, 10)  # warm-up: trace the scorer
    lat = []
    for u in users:
        t = time.perf_counter()
        ranker.recommend(u, 10)
        lat.append((time.perf_counter() - t) * 1000)
    knn = ItemKNN(ranker.stats)
    knn_lat = []
    for u in users:
        t = time.perf_counter()
        row = ranker.stats.rows_of([u])
        np.argpartition(-knn.scores(row)[0], 10)[:10]
        knn_lat.append((time.perf_counter() - t) * 1000)
    latency = {"whyrec_ms_median": float(np.median(lat)), "whyrec_ms_p90": float(np.percentile(lat, 90)),
               "itemknn_ms_median": float(np.median(knn_lat)), "users": len(users), "items": int(catalog.n)}

    out = {**metrics, "timings": timings, "latency": latency, "best_epoch": result.best_epoch,
           "best_val_NDCG@10": result.best_val_ndcg10, "shoppers": int(shop.events["user_id"].nunique())}
    if args.json:
        print(json.dumps(out))
        return
    print(f"\n{args.data}: {out['shoppers']:,} shoppers, {catalog.n:,} items, test = last purchase, full ranking")
    print(f"{'metric':10s} {'whyrec':>9s} {'itemknn':>9s} {'mostpop':>9s} {'whyrec/itemknn':>15s}")
    for m in ("HR@10", "NDCG@10", "HR@50", "NDCG@50"):
        w, k, p = metrics["whyrec"][m], metrics["itemknn"][m], metrics["mostpop"][m]
        print(f"{m:10s} {w:9.4f} {k:9.4f} {p:9.4f} {w / k if k else float('nan'):15.3f}")
    print("\n" + "  ".join(f"{k}={v:.1f}" for k, v in timings.items()))
    print(f"scoring one shopper over the whole catalog: median {latency['whyrec_ms_median']:.2f} ms, "
          f"p90 {latency['whyrec_ms_p90']:.2f} ms (ItemKNN median {latency['itemknn_ms_median']:.2f} ms), "
          f"{len(users)} shoppers")


if __name__ == "__main__":
    main()
