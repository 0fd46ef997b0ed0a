"""Catalog enrichment benchmark: how often the stored kinds are right, read by a person, not by the checker.

    python bench/enrichment.py --model ARTIFACTS --data DIR --labels bench/enrichment/scientific.jsonl
    python bench/enrichment.py --model ARTIFACTS --data DIR --sample 150 --write-unlabelled new.jsonl

`--labels` is a JSONL file of hand labels, one row per item: the kinds as they were read (`kind_en`,
`kind_zh`) and whether each is right for the item (`en_ok`, `zh_ok`: true/false). A label counts only while
the table still holds the kind it judged, so a changed enrichment shows up as unlabelled, never as a stale
verdict. Printed side by side: precision of the English and Chinese kinds by where they came from (model,
category) and overall; coverage (share of items with a model-written Chinese kind, the rest fall back to
the category or "商品"); and, checked mechanically over every row, whether a zh name holds any word that
is not in the title, the brand or the kind (the enrichment's promise).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def added_words(name: str, title: str, brand: str, kind: str) -> list[str]:
    """Words of a zh name that are neither the brand, the kind, nor a word of the title."""
    allowed = set(re.findall(r"[\w\-./&']+", title.lower())) | {brand.lower(), kind.lower()}
    return [w for w in name.split() if w.lower() not in allowed and w.lower() not in brand.lower().split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="artifacts root holding enrichment.parquet")
    parser.add_argument("--data", type=Path, required=True, help="the shop (items) the artifacts were trained on")
    parser.add_argument("--labels", type=Path, help="hand labels (JSONL)")
    parser.add_argument("--write-unlabelled", type=Path, help="write rows without a current label here, to read")
    parser.add_argument("--sample", type=int, default=150, help="rows to write for labelling")
    args = parser.parse_args()

    from narrator import enrichment
    from ranker.data import load_shop
    from service.stack import root_of

    rows = enrichment.load(root_of(args.model))
    items = load_shop(args.data).items.set_index("item_id")
    labels = {}
    if args.labels:
        for line in args.labels.read_text(encoding="utf-8").splitlines():
            if line.strip():
                label = json.loads(line)
                labels[str(label["item_id"])] = label
    verdicts: dict[tuple[str, str], Counter] = {}
    unlabelled = []
    for item_id, row in rows.items():
        label = labels.get(item_id)
        for lang in ("en", "zh"):
            kind, source = getattr(row, f"kind_{lang}"), getattr(row, f"{lang}_from")
            if not kind:
                continue
            if label and label.get(f"kind_{lang}") == kind and label.get(f"{lang}_ok") is not None:
                verdicts.setdefault((lang, source), Counter())[bool(label[f"{lang}_ok"])] += 1
            elif label is None or label.get(f"kind_{lang}") != kind:
                unlabelled.append(item_id)
    print(f"enrichment rows: {len(rows)}; hand-labelled items: {len(labels)}")
    print(f"{'kind':10}{'source':10}{'labelled':>10}{'right':>8}{'precision':>11}")

    def line(lang: str, source: str, c: Counter) -> str:
        return f"{lang:10}{source:10}{sum(c.values()):>10}{c[True]:>8}{c[True] / sum(c.values()):>11.1%}"

    for lang in ("en", "zh"):
        total: Counter = Counter()
        for source in ("model", "title", "category", "editor"):
            c = verdicts.get((lang, source), Counter())
            total.update(c)
            if c:
                print(line(lang, source, c))
        if total:
            print(line(lang, "all", total))
    sources = Counter(r.zh_from for r in rows.values())
    print("zh kind source over all rows: "
          + ", ".join(f"{k} {v} ({v / len(rows):.0%})" for k, v in sources.most_common()))
    added = []
    for i, r in rows.items():
        if i in items.index and r.name_zh:
            brand = str(items.loc[i].get("brand", "") or "")
            if words := added_words(r.name_zh, str(items.loc[i, "title"]), brand, r.kind_zh):
                added.append((i, r.name_zh, words))
    named = sum(1 for r in rows.values() if r.name_zh)
    print(f"zh names with a word not in title, brand or kind: {len(added)} of {named}"
          + "".join(f"\n  {i}: {n!r} adds {w}" for i, n, w in added[:10]))
    if args.write_unlabelled:
        todo = list(dict.fromkeys(unlabelled))[: args.sample]
        with args.write_unlabelled.open("w", encoding="utf-8") as out:
            for item_id in todo:
                r = rows[item_id]
                out.write(json.dumps({"item_id": item_id, "title": str(items.loc[item_id, "title"]),
                                      "kind_en": r.kind_en, "kind_zh": r.kind_zh, "en_ok": None, "zh_ok": None},
                                     ensure_ascii=False) + "\n")
        print(f"wrote {len(todo)} unlabelled rows to {args.write_unlabelled}")


if __name__ == "__main__":
    main()
