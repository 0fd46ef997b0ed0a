"""Chinese marketplace names: the item's kind and short name read from its title, on labelled real titles.

Reads the e-commerce NER set (real Taobao titles, one character per line with BIO tags: HPPX brand, HCCX
product type, XH model; `allanj/ner_incomplete_annotation`, `data/ecommerce/*.txt`; never committed). Each
title's first labelled brand plays the catalog's brand field. Printed side by side, in one run:

- kind: share of titles whose chosen kind is one of their labelled product types (or ends with one, "冷暖空调"
  for "空调"), for `narrator.enrichment.zh_titles` and two baselines (the last noun; the noun closest to the
  title by meaning alone);
- names: median and 90th percentile length, share within 16 characters, titles left unnamed, names holding a
  marketing word of the titles (checked with a list of common ones: a measurement, not what decides);
- speed: titles per second for learning the catalog and reading every title (encoder included).

    python bench/zh_names.py --ner ../data-ext/ecommerce-ner [--split test] [--learn train]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MARKETING = ("新款", "包邮", "正品", "限时", "特价", "爆款", "促销", "热卖", "推荐", "新品", "特卖", "清仓", "秒杀",
             "代购")


def read_ner(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(label, span)]) per title of a one-character-per-line BIO file."""
    titles, chars, tags = [], [], []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = line.split()
        if parts:
            chars.append(parts[0])
            tags.append(parts[-1] if len(parts) > 1 else "O")
            continue
        if chars:
            spans, k = [], 0
            while k < len(tags):
                if tags[k].startswith("B-"):
                    label, end = tags[k][2:], k + 1
                    while end < len(tags) and tags[end] == f"I-{label}":
                        end += 1
                    spans.append((label, "".join(chars[k:end])))
                    k = end
                else:
                    k += 1
            titles.append(("".join(chars), spans))
        chars, tags = [], []
    return titles


def is_type(word: str, spans: list[tuple[str, str]]) -> bool:
    types = [s for label, s in spans if label == "HCCX"]
    return any(word == t or (len(t) >= 2 and word.endswith(t)) or (len(word) >= 2 and t.endswith(word)) for t in types)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ner", type=Path, required=True, help="folder with train.txt, dev.txt, test.txt")
    parser.add_argument("--split", default="test")
    parser.add_argument("--learn", default="train", help="split whose titles play the rest of the catalog")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import numpy as np

    from narrator.enrichment import zh_titles
    from ranker.text import MultilingualEncoder

    encoder = MultilingualEncoder(threads=args.threads)
    catalog = [t for t, _ in read_ner(args.ner / f"{args.learn}.txt")]
    labelled = [(t, s) for t, s in read_ner(args.ner / f"{args.split}.txt") if any(lab == "HCCX" for lab, _ in s)]
    titles = [t for t, _ in labelled]
    brands = [next((s for lab, s in spans if lab == "HPPX"), "") for _, spans in labelled]

    start = time.perf_counter()
    reader = zh_titles.TitleReader.learn([*catalog, *titles], [""] * (len(catalog) + len(titles)))
    learned = time.perf_counter() - start
    start = time.perf_counter()
    kinds = reader.kinds(titles, brands, encoder.encode_fresh)
    codes = [zh_titles.model_code(t, b) for t, b in zip(titles, brands, strict=True)]
    names = [zh_titles.zh_name(b, k, c) for b, k, c in zip(brands, kinds, codes, strict=True)]
    read = time.perf_counter() - start

    options = [zh_titles.candidates(zh_titles.words(t)) for t in titles]
    last = [found[-1] if found else "" for found in options]
    meaning_only = zh_titles.TitleReader(reader.ends, reader.seen, frozenset())
    zh_titles_weight = zh_titles.END_WEIGHT
    zh_titles.END_WEIGHT = 0.0
    closest = meaning_only.kinds(titles, brands, encoder.encode_fresh)
    zh_titles.END_WEIGHT = zh_titles_weight

    def share(chosen: list[str]) -> float:
        return float(np.mean([is_type(k, s) for k, (_, s) in zip(chosen, labelled, strict=True)]))

    print(f"{len(titles)} labelled titles ({args.split}); {len(catalog) + len(titles)} titles learned from")
    print(f"{'kind is a labelled product type':44} {'share':>7}")
    print(f"{'  last noun of the title (baseline)':44} {share(last):>7.1%}")
    print(f"{'  closest noun by meaning only':44} {share(closest):>7.1%}")
    print(f"{'  zh_titles (meaning + run ends)':44} {share(kinds):>7.1%}")
    lengths = [len(n) for n in names if n]
    raw = [len(t) for t in titles]
    print(f"names: median {statistics.median(lengths)} chars (titles {statistics.median(raw)}), "
          f"p90 {np.percentile(lengths, 90):.0f}, ≤16 chars {np.mean([n <= 16 for n in lengths]):.1%}, "
          f"unnamed {sum(not n for n in names)}/{len(names)}")
    leaked = [n for n in names if any(w in n for w in MARKETING)]
    in_titles = sum(any(w in t for w in MARKETING) for t in titles)
    print(f"marketing words: in {in_titles} titles, in {len(leaked)} names {leaked[:5]}")
    print(f"speed: learn {len(catalog) + len(titles)} titles {learned:.1f} s; read {len(titles)} titles "
          f"{read:.1f} s = {len(titles) / read:.0f} titles/s")
    for title, name in list(zip(titles, names, strict=True))[:12]:
        print(f"  {title[:40]:42} → {name}")


if __name__ == "__main__":
    main()
