"""Verifier audit: recall on bad sentences and false rejection of good ones, per language and error type.

    python bench/audit.py [--set bench/audit/demo.jsonl] [--scientific ../shared/data/amazon-scientific]
                          [--pairs 150] [--json] [--judge [--without-dictionary]]

The demo set is committed: the small model's outputs labelled by reading them, template sentences,
and corruptions of both (one error each; see `narrator/audit.py`). Scientific rows are built here
from the data folder (real titles and brands, never committed): facts for each test shopper's target
item (a history item bought together with it, another viewed, the brand and popularity), their
template sentences as good rows, and the same corruptions as bad ones. The nouns set (zh) calls
hand-labelled English-titled items (`bench/nouns/held_out.jsonl`) by nouns no list holds, right ones (白板 for a
whiteboard) as good rows and wrong ones (打印机 for ink) as `other_noun`. `--judge` verifies with the
multilingual noun judge (`narrator.verification.meaning`), as the service does. Bars: recall ≥ 98%, false
rejection ≤ 5%, per language.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from narrator.facts import Fact, Facts, ItemRef  # noqa: E402
from narrator.narrate import Narrator  # noqa: E402
from narrator.prompts import PromptLibrary  # noqa: E402
from narrator.verification.audit import AuditRow, corruptions, run  # noqa: E402

ROOT = Path(__file__).resolve().parent


def load(path: Path) -> list[AuditRow]:
    return [AuditRow.from_dict(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line]


def brands_of(rows: list[AuditRow]) -> set[str]:
    out = set()
    for r in rows:
        out.add(r.facts.item.brand)
        out |= {str(f.evidence["brand"]) for f in r.facts.facts if f.evidence.get("brand")}
    return {b for b in out if b}


def scientific_rows(folder: Path, pairs: int, seed: int) -> tuple[list[AuditRow], set[str]]:
    """Facts over real Scientific items (no ranker needed: the verifier checks text against facts). As the
    ranker does for a catalog without Chinese titles, the zh title of an item is its title."""
    from ranker.loaders import load_any

    shop = load_any("unisrec", folder, "skip")
    items = shop.items.set_index("item_id")
    buys = shop.events["item_id"].value_counts()
    rng = random.Random(seed)
    histories = shop.events.groupby("user_id")["item_id"].apply(list)
    users = [u for u, h in histories.items() if len(set(h)) >= 3]
    narrator = Narrator(PromptLibrary.load())
    rows: list[AuditRow] = []

    def ref(i: str) -> ItemRef:
        row = items.loc[i]
        return ItemRef(i, str(row["title"]), str(row["brand"]), str(row["category"]))

    for user in rng.sample(users, min(pairs, len(users))):
        history = list(dict.fromkeys(histories[user]))
        target, together, like = history[-1], history[-2], history[-3]
        item = ref(target)
        same_brand = sum(items.loc[h, "brand"] == item.brand for h in history[:-1])
        facts = [Fact("bought_together", ("g",), 0.5, 0.5, 1, {"with_item_id": together,
                      "with_title": ref(together).title, "with_title_zh": ref(together).title, "basis": "item",
                      "shoppers_bought_both": 3}),
                 Fact("similar_text", ("g",), 0.3, 0.3, 2, {"like_item_id": like, "like_title": ref(like).title,
                                                              "like_title_zh": ref(like).title, "similarity": 0.7})]
        if same_brand and item.brand:
            facts.append(Fact("brand", ("g",), 0.1, 0.1, 3, {"brand": item.brand, "bought": int(same_brand),
                                                               "viewed": 0}))
        facts.append(Fact("popular", ("g",), 0.1, 0.1, len(facts) + 1, {"purchases": int(buys.get(target, 1)),
                                                                       "popularity_rank": 10, "catalog_size": 4385}))
        f = Facts(str(user), item, tuple(facts))
        for lang in ("zh", "en"):
            text = narrator.explain(f, lang, mode="template").text
            rows.append(AuditRow(lang, text, "good", "template", f))
            rows += [AuditRow(lang, bad, error, "corruption of a template sentence", f)
                     for error, bad in corruptions(text, f, narrator.prompts.phrases[lang], rng)]
    return rows, set(items["brand"].astype(str)) - {""}


def noun_rows() -> tuple[list[AuditRow], set[str]]:
    """"这款<noun>很受欢迎（已售120件），而且您已购买过3件<brand>的商品。" for each labelled noun: the two reasons'
    own phrases, so only the noun can be wrong."""
    rows, brands = [], set()
    for r in map(json.loads, (ROOT / "nouns" / "held_out.jsonl").read_text(encoding="utf-8").splitlines()):
        brand = r["name"].split()[0]
        brands.add(brand)
        item = ItemRef(r["name"], r["name"], brand, r["category"])
        f = Facts("u", item, (Fact("brand", ("g",), 0.5, 0.5, 1, {"brand": brand, "bought": 3, "viewed": 0}),
                              Fact("popular", ("g",), 0.2, 0.2, 2, {"purchases": 120, "popularity_rank": 4,
                                                                     "catalog_size": 600})))
        text = f"这款{r['noun']}很受欢迎（已售120件），而且您已购买过3件{brand}的商品。"
        rows.append(AuditRow("zh", text, "good" if r["ok"] else "other_noun", "hand label", f))
    return rows, brands


def table(name: str, results: dict) -> list[str]:
    lines = [f"== {name}"]
    for lang, metrics in sorted(results.items()):
        for key, v in metrics.items():
            lines.append(f"  {lang} {key:28} {v['rate']:7.1%}  (n={v['n']})")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=ROOT / "audit" / "demo.jsonl")
    ap.add_argument("--scientific", type=Path)
    ap.add_argument("--pairs", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--judge", action="store_true", help="judge zh nouns by meaning, as the service does")
    ap.add_argument("--without-dictionary", action="store_true",
                    help="the judge without the bilingual dictionary (the baseline of the dictionary's yes)")
    args = ap.parse_args()
    encode = None
    if args.judge:
        from ranker.text import MultilingualEncoder

        encode = MultilingualEncoder().encode_fresh

    def judge(rows: list[AuditRow]):
        """The noun judge over the set's own items as the shop's kinds (none without --judge)."""
        from narrator.verification.meaning import NounJudge, shop_kinds

        return NounJudge(encode, others=shop_kinds(r.facts.item.category for r in rows),
                         dictionary=not args.without_dictionary) if encode else None

    rows = load(args.set)
    nouns, noun_brands = noun_rows()
    out = {"demo": run(Narrator(PromptLibrary.load(), brands=brands_of(rows), noun_judge=judge(rows)), rows),
           "nouns": run(Narrator(PromptLibrary.load(), brands=noun_brands, noun_judge=judge(nouns)), nouns)}
    counts = {"demo": Counter(r.lang for r in rows), "nouns": Counter(r.lang for r in nouns)}
    if args.scientific:
        sci, brands = scientific_rows(args.scientific, args.pairs, args.seed)
        out["scientific"] = run(Narrator(PromptLibrary.load(), brands=brands, noun_judge=judge(sci)), sci)
        counts["scientific"] = Counter(r.lang for r in sci)
    if args.json:
        print(json.dumps(out))
        return
    for name, results in out.items():
        print(f"{name}: {dict(counts[name])} rows")
        print("\n".join(table(name, results)))


if __name__ == "__main__":
    main()
