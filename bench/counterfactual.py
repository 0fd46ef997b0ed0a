"""Are the actions a reason names causes? Necessity and sufficiency of named reasons before and after the check.

    python bench/counterfactual.py --model ARTIFACTS [--shoppers 20] [--k 10] [--minimal 20]

For the top k of the most active shoppers (every third of the 3 × `--shoppers` most active), every reason that
names one of the shopper's actions ("bought together with the X you bought") is re-scored without that action
(CountER's probability of necessity) and with only that action kept (probability of sufficiency):

- *before*: the action the attribution-based evidence names first (the explainer with the check off);
- *after*: the action the served reason names (the check on: kept, replaced by a necessary one, or no name).

The top k is among the shopper's 2k leading items and the items asked about, re-scored for each "what if"
shopper (as the service checks). Necessary: the item leaves the top k without it, or loses at least half the
credit its reason's groups carry (`ranker.causes`); "left top k" is CountER's stricter PN alone. Sufficient: with
only that action kept, the item is still in the top k. F_NS is their harmonic mean. Also: how many reasons keep
a name, the PRINCE-style minimal action sets (found rate, mean size, seconds) for `--minimal` items, and the extra
time per top 10 (median over shoppers of each shopper's median of `--repeats` runs, check on minus check off,
alternating, after a warm-up, in the same run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranker.runtime import configure  # noqa: E402


def named_actions(explained, causes_named):
    """(shopper, item, fact, action) of every reason that names one of the shopper's actions."""
    from ranker.counterfactual import Action

    out = []
    for e in explained:
        for fact in e.facts.facts:
            key = causes_named.get(fact.kind)
            if key and (item := fact.evidence.get(f"{key}_item_id")):
                did = "viewed" if fact.evidence.get("relation") == "viewed" else "bought"
                out.append((e, fact, Action(str(item), did)))
    return out


def score(cf, causes, user, found) -> dict[str, float]:
    """Necessity (reason-level and top-k) and sufficiency of each named action, in two batches."""
    from ranker.causes import history_credit

    if not found:
        return {"n": 0}
    actions = cf.actions(user)
    leading = cf.leading(user, [e.item_id for e, _, _ in found])
    without = cf.outcomes(user, [e.item_id for e, _, _ in found], [(a,) for _, _, a in found], leading)
    only = cf.outcomes(user, [e.item_id for e, _, _ in found],
                       [tuple(b for b in actions if b != a) for _, _, a in found], leading)
    credit = [history_credit(e.attribution.groups, e.pair, f) for e, f, _ in found]
    return {"n": len(found), "pn": sum(causes.necessary(o, c) for o, c in zip(without, credit, strict=True)),
            "left": sum(o.left_top for o in without), "ps": sum(o.rank <= cf.k for o in only)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="artifacts directory (its production version is used)")
    parser.add_argument("--shoppers", type=int, default=20)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per shopper, check off and on "
                                                                 "alternating (each shopper's median is kept)")
    parser.add_argument("--minimal", type=int, default=30, help="items to find a minimal action set for (ranked "
                                                                "1st, k/2-th and k-th in the shoppers' lists)")
    args = parser.parse_args()
    configure()
    from ranker import artifacts
    from ranker.causes import NAMED
    from ranker.explain import Explainer
    from ranker.ranking import Ranker

    ranker = Ranker.from_artifact(artifacts.load(args.model))
    on, off = Explainer(ranker), Explainer(ranker, check_causes=False)
    on.counterfactuals.k = off.counterfactuals.k = args.k
    users = ranker.most_active(3 * args.shoppers)[::3]
    totals = {side: dict.fromkeys(("n", "pn", "left", "ps"), 0) for side in ("before", "after")}
    t_on: list[float] = []
    t_off: list[float] = []
    replaced = unnamed = 0
    for user in users:
        off.explain(user, k=args.k), on.explain(user, k=args.k)
        runs: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(args.repeats):
            for side, explainer in (("off", off), ("on", on)):
                t = time.perf_counter()
                explainer.explain(user, k=args.k)
                runs[side].append(time.perf_counter() - t)
        before, after = off.explain(user, k=args.k), on.explain(user, k=args.k)
        t_off.append(statistics.median(runs["off"]))
        t_on.append(statistics.median(runs["on"]))
        checks = [c for e in after for c in e.checks]
        replaced += sum(1 for c in checks if c.served is not None and not c.necessary)
        unnamed += sum(1 for c in checks if c.served is None)
        for side, explained in (("before", before), ("after", after)):
            for key, value in score(on.counterfactuals, on.causes, user, named_actions(explained, NAMED)).items():
                totals[side][key] += value

    def share(side: str, key: str) -> float:
        return totals[side][key] / max(totals[side]["n"], 1)

    print(f"{ranker.catalog.n} items, {len(users)} shoppers' top {args.k}")
    print(f"{'named reasons':38s}{'before':>10s}{'after':>10s}")
    print(f"{'  count':38s}{totals['before']['n']:>10d}{totals['after']['n']:>10d}")
    for label, key in (("necessary (PN, drop or leaves top k)", "pn"), ("leaves top k without it (strict PN)", "left"),
                       ("sufficient alone (PS)", "ps")):
        print(f"{'  ' + label:38s}{share('before', key):>10.1%}{share('after', key):>10.1%}")
    for side in ("before", "after"):
        pn, ps = share(side, "pn"), share(side, "ps")
        totals[side]["fns"] = 2 * pn * ps / (pn + ps) if pn + ps else 0.0
    print(f"{'  F_NS':38s}{totals['before']['fns']:>10.1%}{totals['after']['fns']:>10.1%}")
    n = totals["before"]["n"]
    print(f"named first: kept {n - replaced - unnamed}, replaced by a necessary action {replaced}, said without a "
          f"name {unnamed} (of {n})")
    extra = [a - b for a, b in zip(t_on, t_off, strict=True)]
    print(f"time per top {args.k}: check off {1000 * statistics.median(t_off):.1f} ms, on "
          f"{1000 * statistics.median(t_on):.1f} ms, extra median {1000 * statistics.median(extra):.1f} ms")

    sizes, seconds, found = [], [], 0
    cf = on.counterfactuals
    ranks = sorted({0, args.k // 2 - 1, args.k - 1})
    items = [(u, top[n].item_id) for u in users if len(top := ranker.recommend(u, args.k)) == args.k
             for n in ranks][: args.minimal]
    for user, item in items:
        m = cf.minimal_set(user, item)
        seconds.append(m.seconds)
        if m.found:
            found += 1
            sizes.append(len(m.outcome.removed))
    if items:
        size = statistics.mean(sizes) if sizes else float("nan")
        print(f"minimal action sets (items ranked {', '.join(str(n + 1) for n in ranks)}; {len(items)} items): found "
              f"{found}/{len(items)}, mean size {size:.2f}, median {1000 * statistics.median(seconds):.0f} ms")


if __name__ == "__main__":
    main()
