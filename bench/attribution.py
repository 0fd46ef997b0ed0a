"""Attribution benchmark: completeness, deletion check, driver recovery and IG speed.

    python bench/attribution.py --model ARTIFACTS --data DIR [--json] [--pairs 1000]

- completeness error (median, p99) at the default tolerance over `--pairs` (shopper, item) pairs:
  each sampled shopper's top-10 recommendations;
- deletion check: setting the top positive group to its baseline must lower the score more than
  setting a random other positive group to baseline;
- driver recovery (demo shop only, needs `drivers.csv`): for each shopper's last purchase, scored on
  the window before it, is the top attributed group the simulated driver?
- speed: IG for one shopper's top 10 at ≤ 1% error (median ms), beside a naive per-step
  GradientTape loop, and alibi's IntegratedGradients when it is installed (benchmark-only: its
  licence keeps it out of the project's dependencies), with agreement at equal steps.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranker.runtime import configure  # noqa: E402


def naive_ig(model, x: np.ndarray, baseline: np.ndarray, steps: int) -> np.ndarray:
    """The textbook loop: one GradientTape call per step (what our batched version replaces)."""
    import tensorflow as tf

    from ranker.attribution import quadrature

    alphas, weights = quadrature(steps, "trapezoid")
    total = np.zeros_like(x)
    for a, w in zip(alphas, weights, strict=True):
        point = tf.convert_to_tensor(baseline + a * (x - baseline))
        with tf.GradientTape() as tape:
            tape.watch(point)
            out = tf.reduce_sum(model(point, training=False))
        total += w * tape.gradient(out, point).numpy()
    return (x - baseline) * total


def alibi_ig(model, x: np.ndarray, baseline: np.ndarray, steps: int) -> np.ndarray | None:
    try:
        from alibi.explainers import IntegratedGradients as AlibiIG
    except ImportError:
        return None
    explainer = AlibiIG(model, method="riemann_trapezoid", n_steps=steps, internal_batch_size=len(x) * steps)
    explanation = explainer.explain(x, baselines=np.repeat(baseline[None], len(x), axis=0), target=None)
    return np.asarray(explanation.attributions[0])


def alibi_trapezoid_rule(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """alibi's `riemann_trapezoid` (alibi/utils/approximation_methods.py): nodes linspace(0, 1, n), but
    weights 1/n with halved ends, which sum to (n-1)/n instead of 1. Its attributions are therefore
    (n-1)/n of the integral; running our IG with the same rule makes "equal steps" mean equal sums.
    (`target=0` would also flip the sign: alibi treats a one-output model as a binary classifier.)"""
    weights = np.full(steps, 1.0 / steps)
    weights[[0, -1]] /= 2
    return np.linspace(0.0, 1.0, steps), weights


def timed(fn, repeats: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times)), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", choices=("test", "valid"), default="test",
                    help="driver recovery on each shopper's test purchase, or on the validation shoppers' "
                         "validation purchase (the model's own held-out set: what to choose settings on)")
    ap.add_argument("--method", choices=("gauss-legendre", "trapezoid"), default=None,
                    help="quadrature rule (default: the shipped one)")
    args = ap.parse_args()
    configure()

    from ranker import artifacts
    from ranker.attribution import IntegratedGradients
    from ranker.drivers import check_drivers
    from ranker.ranking import Ranker

    art = artifacts.load(args.model)
    ranker = Ranker.from_artifact(art)
    ig = IntegratedGradients(ranker.model, ranker.spec, **({"method": args.method} if args.method else {}))
    rng = np.random.default_rng(args.seed)
    users = rng.choice(ranker.stats.user_ids, size=min(len(ranker.stats.user_ids), max(1, args.pairs // 10)),
                       replace=False)

    errors, steps_used, deletion_wins, deletion_pairs = [], [], 0, 0
    for u in users:
        items = [r.item_id for r in ranker.recommend(u, 10)]
        x = ranker.features(u, items)
        res = ig.explain(x)
        errors += res.completeness_error.tolist()
        steps_used.append(res.steps)
        names = list(res.groups)
        table = np.stack([res.groups[g] for g in names], axis=1)
        index = ranker.spec.group_index()
        for p in range(len(items)):
            positive = [k for k in np.argsort(-table[p]) if table[p, k] > 0]
            if len(positive) < 2:
                continue
            top, other = positive[0], rng.choice(positive[1:])
            variants = np.repeat(x[p:p + 1], 2, axis=0)
            for row, g in ((0, top), (1, other)):
                cols = index[names[g]]
                variants[row, cols] = ig.baseline[cols]
            drop = res.scores[p] - ranker.scorer(variants)
            deletion_wins += int(drop[0] > drop[1])
            deletion_pairs += 1

    out: dict = {
        "pairs": len(errors),
        "completeness_median": float(np.median(errors)), "completeness_p99": float(np.percentile(errors, 99)),
        "steps_median": float(np.median(steps_used)),
        "deletion_top_beats_random": deletion_wins / max(deletion_pairs, 1), "deletion_pairs": deletion_pairs,
    }

    drivers_path = args.data / "drivers.csv"
    if drivers_path.exists():
        kind = art.meta.get("target_kind", "purchase")
        if args.split == "valid":
            from ranker.training.train_config import TrainConfig, validation_targets

            known = {k: v for k, v in art.meta.get("train_config", {}).items() if k in ("folds", "val_users", "seed")}
            cfg = TrainConfig(**{**known, "folds": tuple(known.get("folds", TrainConfig().folds))})
            held_out = set(validation_targets(art.shop.events, cfg)["user_id"])
            check = check_drivers(ranker, art.shop.events, pd.read_csv(drivers_path), kind, ig, cfg.folds[0], held_out)
        else:
            check = check_drivers(ranker, art.shop.events, pd.read_csv(drivers_path), kind, ig)
        out["driver_recovery"] = check.recovery
        out["driver_recovery_by_driver"] = check.by_driver()
        out["driver_confusion"] = check.confusion().to_dict()
        out["driver_purchases"] = int(len(check.true))

    per_shopper = [ranker.features(v, [r.item_id for r in ranker.recommend(v, 10)]) for v in users[:30]]
    ig.explain(per_shopper[0])  # trace once
    shopper_ms = [timed(lambda xs=xs: ig.explain(xs), 3)[0] for xs in per_shopper]
    ours_ms = float(np.median(shopper_ms))
    x = per_shopper[0]
    steps = ig.explain(x).steps
    ours_equal_trap = IntegratedGradients(ranker.model, ranker.spec, method="trapezoid")
    ours_equal_trap.run(x, steps)
    ours_trap_ms, ours_trap = timed(lambda: ours_equal_trap.run(x, steps), 30)
    naive_ms, naive = timed(lambda: naive_ig(ranker.model, x, ig.baseline, steps), 3)
    out["speed"] = {"steps": steps, "ours_ms_median": ours_ms, "ours_ms_p90": float(np.percentile(shopper_ms, 90)),
                    "shoppers_timed": len(shopper_ms), "ours_trapezoid_ms_median": ours_trap_ms,
                    "naive_loop_ms_median": naive_ms, "naive_over_ours": naive_ms / ours_trap_ms,
                    "max_abs_diff_vs_naive": float(np.abs(naive - ours_trap.features).max())}
    alibi_ms, alibi = timed(lambda: alibi_ig(ranker.model, x, ig.baseline, steps), 3)
    if alibi is not None:
        ours_alibi_rule = ours_equal_trap.run_rule(x, *alibi_trapezoid_rule(steps)).features
        out["speed"].update({"alibi_ms_median": alibi_ms, "alibi_over_ours": alibi_ms / ours_trap_ms,
                             "max_abs_diff_vs_alibi_same_rule": float(np.abs(alibi - ours_alibi_rule).max()),
                             "max_abs_diff_vs_alibi_our_trapezoid": float(np.abs(alibi - ours_trap.features).max())})
    else:
        out["speed"]["alibi"] = "not installed (pip install alibi in a benchmark environment)"

    if args.json:
        print(json.dumps(out, default=str))
        return
    print(f"completeness error over {out['pairs']} pairs: median {out['completeness_median']:.5f}, "
          f"p99 {out['completeness_p99']:.5f} (median steps {out['steps_median']:.0f})")
    print(f"deletion check: top group drop > random positive group drop on "
          f"{out['deletion_top_beats_random']:.1%} of {deletion_pairs} pairs")
    if "driver_recovery" in out:
        print(f"driver recovery on {out['driver_purchases']} held-out purchases: {out['driver_recovery']:.1%}  "
              + ", ".join(f"{d} {v:.0%}" for d, v in out["driver_recovery_by_driver"].items()))
    s = out["speed"]
    print(f"IG for one shopper's top 10 at <= 1% error: median {s['ours_ms_median']:.1f} ms, "
          f"p90 {s['ours_ms_p90']:.1f} ms over {s['shoppers_timed']} shoppers")
    print(f"at equal steps ({s['steps']}, trapezoid): ours {s['ours_trapezoid_ms_median']:.1f} ms, naive loop "
          f"{s['naive_loop_ms_median']:.1f} ms ({s['naive_over_ours']:.1f}x), "
          f"max |diff| {s['max_abs_diff_vs_naive']:.2e}")
    if "alibi_ms_median" in s:
        print(f"alibi riemann_trapezoid: {s['alibi_ms_median']:.1f} ms ({s['alibi_over_ours']:.1f}x ours); "
              f"max |diff| per feature vs ours with alibi's rule {s['max_abs_diff_vs_alibi_same_rule']:.2e} "
              f"(vs our exact trapezoid {s['max_abs_diff_vs_alibi_our_trapezoid']:.2e}: alibi's weights sum to "
              f"(n-1)/n)")
    else:
        print(f"alibi: {s['alibi']}")


if __name__ == "__main__":
    main()
