"""Do shoppers' reactions lead them to what they want? The latent-linear-critiquing protocol, adapted.

    python bench/critiquing.py --model ARTIFACTS [--shoppers 200] [--k 10] [--critiques 3]

The ranker serves the window before each shopper's last purchase (the held-out target). For shoppers whose target
is not in their top k, a simulated shopper who knows what they want reacts to the top item they did not buy: of its
brand and category, the one the target does *not* share (the more credited of the two by integrated gradients when
neither is shared) becomes "not interested in this brand/category" (`ranker.critiques`, exactly what
`POST /v1/feedback` stores). After each reaction the list is recomputed; success@n = the target is in the top k
within n reactions. Printed beside the same shoppers without any reaction (the target's rank as served) and with a
reaction to a random item of the list instead (same count), and the share of lists that change after one reaction.
The "ideal reactions" row bounds what any negative reactions could reach (`ideal_bound`).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranker.runtime import configure  # noqa: E402


def rank_of(ranker, user: str, target: str, depth: int) -> int:
    """The target's rank in the shopper's list (depth + 1 when it is not in the first `depth`)."""
    ids = [r.item_id for r in ranker.recommend(user, depth)]
    return ids.index(target) + 1 if target in ids else depth + 1


def reaction(ranker, explainer, user: str, top: str, target: str, rng: random.Random | None) -> str | None:
    """The reaction the simulated shopper gives to `top` (a random one with `rng`), or None when the top item shares
    both brand and category with the target (nothing to say against it)."""
    c = ranker.catalog
    i, t = c.index_of([top, target])
    options = [r for r, codes in (("not_interested_brand", c.brand), ("not_interested_category", c.leaf))
               if codes[i] >= 0 and codes[i] != codes[t]]
    if rng is not None:
        return rng.choice(["not_interested_brand", "not_interested_category"])
    if len(options) < 2:
        return options[0] if options else None
    groups = explainer.explain(user, [top])[0].attribution.groups
    return max(options, key=lambda r: float(groups["brand_affinity" if r.endswith("brand") else
                                                 "category_interest"][0]))


def ideal_bound(ranker, user: str, target: str, k: int, critiques: int) -> bool:
    """Could `critiques` negative reactions reach the target at all? True when removing *every* item of the best
    `critiques` brands/categories (the target's own excluded) ranked above it would put it in the top k: an upper
    bound for any shopper who can only say what they do not want, whatever the ranker does with it."""
    c = ranker.catalog
    listed = [r.item_id for r in ranker.recommend(user, c.n)]
    if target not in listed:
        return False
    t = c.index_of([target])[0]
    groups: dict[tuple[str, int], set[int]] = {}
    for a in c.index_of(listed[: listed.index(target)]):
        for kind, codes in (("brand", c.brand), ("category", c.leaf)):
            if codes[a] >= 0 and codes[a] != codes[t]:
                groups.setdefault((kind, int(codes[a])), set()).add(int(a))
    gone: set[int] = set()
    for _ in range(min(critiques, len(groups))):
        best = max(groups, key=lambda g: len(groups[g] - gone))
        gone |= groups.pop(best)
    return listed.index(target) - len(gone) < k


def session(ranker, explainer, user: str, target: str, k: int, critiques: int, rng: random.Random | None
            ) -> tuple[list[int], bool | None]:
    """The target's rank after 0..critiques reactions, and whether the first reaction changed the list (None when
    the simulated shopper had nothing to react to)."""
    from ranker.critiques import Critiques, Told

    told: list[Told] = []
    ranks: list[int] = [rank_of(ranker, user, target, 100)]
    changed: bool | None = None
    for n in range(critiques):
        before = [r.item_id for r in ranker.recommend(user, k)]
        pool = [i for i in before if i != target]
        if not pool or target in before:
            ranks.append(ranks[-1])
            continue
        top = rng.choice(pool) if rng is not None else pool[0]
        what = reaction(ranker, explainer, user, top, target, rng)
        if what is None:
            ranks.append(ranks[-1])
            continue
        told.append(Told(what, top, "", time.time()))
        ranker.critiques[user] = Critiques(list(told))
        if n == 0:
            changed = [r.item_id for r in ranker.recommend(user, k)] != before
        ranks.append(rank_of(ranker, user, target, 100))
    ranker.critiques.pop(user, None)
    return ranks, changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="artifacts directory (its production version is used)")
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--critiques", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    configure()
    from ranker import artifacts
    from ranker.candidates import CandidateConfig, candidates
    from ranker.explain import Explainer
    from ranker.ranking import Ranker
    from ranker.split import nth_last_targets, truncate

    art = artifacts.load(args.model)
    config = art.meta.get("train_config", {})
    events = art.shop.events
    ranker = Ranker(art.model, art.spec, art.shop.items, art.emb, truncate(events, 1),
                    CandidateConfig(**config.get("candidates", {})), art.search_emb)
    explainer = Explainer(ranker, check_causes=False)
    targets = nth_last_targets(events, 1)
    targets = targets[targets["user_id"].map(ranker.knows)]
    pairs = list(targets[["user_id", "item_id"]].astype(str).itertuples(index=False))
    random.Random(args.seed).shuffle(pairs)
    results: dict[str, list[list[int]]] = {"LLC-style reaction": [], "random reaction": []}
    changed, found_first, tried, reachable, bound = [], 0, 0, [], []
    for user, target in pairs:
        if tried >= args.shoppers:
            break
        if ranker.catalog.index_of([target])[0] < 0 or target in set(ranker.catalog.item_ids[
                ranker.stats.history_of(ranker.stats.rows_of([user])[0])]):
            continue
        if rank_of(ranker, user, target, args.k) <= args.k:
            found_first += 1
            continue
        tried += 1
        row = ranker.stats.rows_of([user])[0]
        reachable.append(bool(np.isin(ranker.catalog.index_of([target])[0],
                                      candidates(ranker.stats, np.array([row]), ranker.cand_cfg)[0])))
        bound.append(ideal_bound(ranker, user, target, args.k, args.critiques))
        ranks, first_changed = session(ranker, explainer, user, target, args.k, args.critiques, None)
        results["LLC-style reaction"].append(ranks)
        if first_changed is not None:
            changed.append(first_changed)
        results["random reaction"].append(session(ranker, explainer, user, target, args.k, args.critiques,
                                                  random.Random(args.seed + tried))[0])
    print(f"{ranker.catalog.n} items; {tried} shoppers whose held-out purchase was not in their top {args.k} "
          f"({found_first} others had it there already)")
    print(f"{'':24s}{'success@1':>10s}{'success@3':>10s}{'median rank before → after':>30s}")
    for name, rows in results.items():
        if not rows:
            continue
        at = [sum(r[min(n, len(r) - 1)] <= args.k for r in rows) / len(rows) for n in (1, args.critiques)]
        before, after = statistics.median(r[0] for r in rows), statistics.median(r[-1] for r in rows)
        print(f"{name:24s}{at[0]:>10.1%}{at[1]:>10.1%}{before:>20.0f} → {after:<8.0f}")
    within = [r for r, ok in zip(results["LLC-style reaction"], reachable, strict=True) if ok]
    if within:
        at = [sum(r[min(n, len(r) - 1)] <= args.k for r in within) / len(within) for n in (1, args.critiques)]
        print(f"{'  target a candidate':24s}{at[0]:>10.1%}{at[1]:>10.1%}   ({len(within)} of {tried} shoppers: a "
              "reaction reorders the candidates, it cannot bring in an item outside them)")
    print(f"{'ideal reactions (bound)':24s}{'':>10s}{sum(bound) / max(len(bound), 1):>10.1%}  (every item of the best "
          f"{args.critiques} brands/categories above the target removed)")
    print(f"{'no reaction':24s}{0.0:>10.1%}{0.0:>10.1%}  (by construction: the target was not in the top {args.k})")
    if changed:
        print(f"lists changed by the first reaction: {sum(changed)}/{len(changed)} ({sum(changed) / len(changed):.1%}; "
              f"{tried - len(changed)} top items shared brand and category with the target: no reaction)")


if __name__ == "__main__":
    main()
