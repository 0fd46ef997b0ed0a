"""Chinese nouns judged by meaning (`narrator.verification.meaning`): thresholds chosen on the demo shop,
measured on hand-labelled items nobody tuned for.

Validation (the demo catalog, `ranker.demo.CATALOG`): for every leaf, an English item of that leaf called by
its own Chinese noun (right), by its companion's (`COMPLEMENTS`: a drill is not its drill bits) and by its
siblings' (wrong). The grid picks the pair (`min_head`, `margin`) that accepts the most right nouns while
refusing at least `--refuse` of the wrong ones, judged without the shop's other kinds (every wrong noun here is
one of them, which would make any threshold look right). Held out (`bench/nouns/held_out.jsonl`, written before any
run): Amazon office and industrial items with right nouns no list holds (白板, 椅子, 干擦板) and wrong ones
(a printer for ink, staples for a stapler). Printed: accepted right, refused wrong, for the chosen pair and
for the fixed glossary gate (right only when a word list knows it: none here).

    python bench/noun_meaning.py [--refuse 0.95]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HELD_OUT = Path(__file__).resolve().parent / "nouns" / "held_out.jsonl"


def validation() -> list[tuple[str, str, str, bool]]:
    """(name, category leaf, noun, right) from the demo catalog."""
    from ranker.demo import CATALOG, COMPLEMENTS

    zh = {en: noun for leaves in CATALOG.values() for en, noun, *_ in leaves}
    rows = []
    for leaves in CATALOG.values():
        for en, noun, _, _, specs in leaves:
            name = f"Acme {specs[0][0]} {en} A10"
            rows.append((name, en, noun, True))
            if en in COMPLEMENTS:
                rows.append((name, en, zh[COMPLEMENTS[en]], False))
            rows.extend((name, en, zh[other], False) for other, *_ in leaves if other != en)
    return rows


def rates(judge, rows, others: bool = True) -> tuple[float, float, int, int]:
    """Accepted right nouns and refused wrong ones; with `others`, the shop's other kinds are the rows' category
    leaves (without, the judge meets nouns of kinds the shop does not sell, which is what the thresholds are
    for: the demo's wrong nouns are all its own leaves)."""
    from narrator.verification.meaning import phrase_parts, shop_kinds

    judge.others = shop_kinds(leaf for _, leaf, _, _ in rows) if others else ()
    right = [r for r in rows if r[3]]
    wrong = [r for r in rows if not r[3]]
    accepted = sum(judge.means(noun, *phrase_parts(name, leaf)) for name, leaf, noun, _ in right)
    refused = sum(not judge.means(noun, *phrase_parts(name, leaf)) for name, leaf, noun, _ in wrong)
    return accepted / len(right), refused / len(wrong), len(right), len(wrong)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refuse", type=float, default=0.95, help="wrong nouns to refuse on validation, at least")
    args = parser.parse_args()

    from narrator.verification.meaning import MARGIN, MIN_HEAD, NounJudge, shop_kinds
    from ranker.text import MultilingualEncoder

    encode = MultilingualEncoder(threads=1).encode_fresh
    judge = NounJudge(encode)
    rows = validation()
    best = None
    for min_head, margin in itertools.product([0.4, 0.45, 0.5, 0.55, 0.6, 0.65], [-0.1, -0.05, 0.0, 0.05, 0.1]):
        judge.min_head, judge.margin = min_head, margin
        accepted, refused, _, _ = rates(judge, rows, others=False)
        if refused >= args.refuse and (best is None or accepted > best[0]):
            best = (accepted, refused, min_head, margin)
    held = [(r["name"], r["category"].split(">")[-1].strip(), r["noun"], r["ok"])
            for r in map(json.loads, HELD_OUT.read_text(encoding="utf-8").splitlines())]
    print(f"validation: demo catalog, {sum(r[3] for r in rows)} right / {sum(not r[3] for r in rows)} wrong nouns")
    print(f"held out: {sum(r[3] for r in held)} right / {sum(not r[3] for r in held)} wrong nouns\n")
    print(f"{'gate':46} {'val right ok':>12} {'val wrong no':>12} {'held right ok':>13} {'held wrong no':>13}")
    print(f"{'glossary words only (no list knows them)':46} {'-':>12} {'-':>12} {0.0:>13.1%} {1.0:>13.1%}")
    for label, pair in (("shipped", (MIN_HEAD, MARGIN)), ("chosen on validation", best[2:] if best else None)):
        if pair is None:
            continue
        judge.min_head, judge.margin = pair
        for others in (False, True):
            va, vr, _, _ = rates(judge, rows, others)
            ha, hr, _, _ = rates(judge, held, others)
            name = f"{label} {pair[0]}/{pair[1]}" + (" + shop kinds" if others else "")
            print(f"{name:46} {va:>12.1%} {vr:>12.1%} {ha:>13.1%} {hr:>13.1%}")
    judge.min_head, judge.margin = MIN_HEAD, MARGIN
    judge.others = shop_kinds(leaf for _, leaf, _, _ in held)
    print("\nheld-out decisions (shipped thresholds, shop kinds): noun, right?, accepted?, head sim, modifier sim")
    for name, leaf, noun, ok in held:
        from narrator.verification.meaning import phrase_parts

        head, modifier = judge.scores(noun, *phrase_parts(name, leaf))
        flag = "" if judge.means(noun, *phrase_parts(name, leaf)) == ok else "  <-- wrong"
        print(f"  {name[:34]:36} {noun:8} {ok!s:6} {judge.means(noun, *phrase_parts(name, leaf))!s:6} "
              f"{head:.2f} {modifier:.2f}{flag}")


if __name__ == "__main__":
    main()
