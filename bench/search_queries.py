"""Chinese names for a catalog's category leaves, written once by the local text model and cached.

`bench/search.py` builds a shopper's search query from the category of the item they bought next
(the held-out purchase): the English query is the deepest category name, the Chinese query is that
name in Chinese. A catalog with a `category_zh` column needs nothing from here. A catalog without one
(Amazon Scientific) gets each distinct leaf translated by the default narrator model into a short
product-kind noun, kept only when it has Chinese characters and is short (12 characters at most); the result
is cached as JSON lines so a benchmark run does not depend on a model and the queries can be read and audited.

    python bench/search_queries.py --data ../shared/data/amazon-scientific --out bench/search/scientific-zh.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ranker import detect_format  # noqa: E402
from narrator.backends import LlmOptions, load_backend  # noqa: E402
from ranker.loaders import load_any  # noqa: E402

ZH_QUERY = re.compile(r"^(?=.*[\u4e00-\u9fff])[\u4e00-\u9fffA-Za-z0-9 ]{1,12}$")
SYSTEM = ("You translate shop category names into Simplified Chinese, the way a Chinese shopper would type "
          "them into a search box. Answer with the Chinese words only.")
SHOTS = [("Cordless Drills", "无线电钻"), ("Safety Glasses", "护目镜"), ("Measuring Tapes", "卷尺")]


def leaf(category: str) -> str:
    """The deepest non-empty level of a category path ("A > B > " → "B")."""
    parts = [p.strip() for p in str(category).split(">") if p.strip()]
    return parts[-1] if parts else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--llm", default="default")
    args = ap.parse_args()
    done = {}
    if args.out.exists():
        done = {r["en"]: r for r in map(json.loads, args.out.read_text().splitlines())}
    shop = load_any(detect_format(Path(args.data)), args.data)
    leaves = sorted({leaf(c) for c in shop.items["category"]} - {""} - set(done))
    backend = load_backend(LlmOptions(model=args.llm))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a", encoding="utf-8") as f:
        for en in tqdm(leaves, desc="category names"):
            messages = [{"role": "system", "content": SYSTEM}]
            for q, a in SHOTS:
                messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            messages.append({"role": "user", "content": en})
            text = backend.generate(messages, 16).text.strip().strip("。.\"'“”")
            row = {"en": en, "zh": text if ZH_QUERY.match(text) else "", "raw": text}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()


if __name__ == "__main__":
    main()
