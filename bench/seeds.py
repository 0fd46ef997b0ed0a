"""Seed benchmark: train the ranker with several seeds (and optional settings), report validation and test
NDCG/HR@10 per seed and their means, beside ItemKNN and MostPop from the same runs.

    python bench/seeds.py --data ../shared/data/amazon-scientific [--seeds 0,1,2] [--set NAME=VALUE ...] [--json]

Choose settings by the validation column (what training's early stopping sees, held-out shoppers' second-last
purchase); the test column (each shopper's last purchase, full ranking) is for the closing note only. The
training time is the wall clock of `ranker.training.pipeline.fit` (embeddings cached after the first seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranker.runtime import configure  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a shop folder or a UniSRec/RecBole folder")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                    help="a TrainConfig setting, as `whyrec train --set` (repeatable)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    configure()

    from bench.ranker import detect_format
    from ranker.loaders import load_any
    from ranker.training.pipeline import evaluate, fit
    from ranker.training.train_config import TrainConfig

    shop = load_any(detect_format(args.data), args.data)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        cfg = TrainConfig(seed=seed).with_settings(args.settings)
        t = time.perf_counter()
        result, catalog, _, timings = fit(shop, cfg)
        train_s = time.perf_counter() - t
        test = evaluate(shop, catalog, result.model, result.spec, cfg.candidates)
        rows.append({"seed": seed, "val_NDCG@10": result.best_val_ndcg10, "train_s": train_s,
                     **{f"{m}_{k}": test[m][k] for m in test for k in ("NDCG@10", "HR@10")}})
        print(f"seed {seed}: val NDCG@10 {rows[-1]['val_NDCG@10']:.4f}, test NDCG@10 {rows[-1]['whyrec_NDCG@10']:.4f} "
              f"(ItemKNN {rows[-1]['itemknn_NDCG@10']:.4f}), {train_s:.0f} s", file=sys.stderr)
    keys = [k for k in rows[0] if k != "seed"]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    if args.json:
        print(json.dumps({"settings": args.settings, "seeds": rows, "mean": mean}))
        return
    print(f"settings: {' '.join(args.settings) or '(defaults)'}")
    print(f"{'seed':>6} " + " ".join(f"{k:>17}" for k in keys))
    for r in rows:
        print(f"{r['seed']:>6} " + " ".join(f"{r[k]:>17.4f}" for k in keys))
    print(f"{'mean':>6} " + " ".join(f"{mean[k]:>17.4f}" for k in keys))
    print(f"whyrec / ItemKNN test NDCG@10: {mean['whyrec_NDCG@10'] / mean['itemknn_NDCG@10']:.3f}x")


if __name__ == "__main__":
    main()
