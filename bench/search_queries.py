"""Chinese names for a catalog's category leaves, written once by the local text model and cached.

`bench/search.py` builds a shopper's search query from the category of the item they bought next
(the held-out purchase): the English query is the deepest category name, the Chinese query is that
name in Chinese. A catalog with a `category_zh` column needs nothing from here. A catalog without one
(Amazon Scientific) gets each distinct leaf translated by the default narrator model into a short
product-kind noun, kept only when it has Chinese characters and is short (12 characters at most); the result
is cached as JSON lines so a benchmark run does not depend on a model and the queries can be read and audited.

Each kept name is then translated back into English by the same model (`back`): `bench/search.py` uses a
Chinese query only when its back-translation shares a word with the English name (a check on the translation
that does not involve the search encoder), so "Grommets" → "螺栓" (bolts) is not a query for a grommet.

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
from narrator import atomic  # noqa: E402
from narrator.backends import LlmOptions, load_backend  # noqa: E402
from ranker.loaders import load_any  # noqa: E402

ZH_QUERY = re.compile(r"^(?=.*[\u4e00-\u9fff])[\u4e00-\u9fffA-Za-z0-9 ]{1,12}$")
SYSTEM = ("You translate shop category names into Simplified Chinese, the way a Chinese shopper would type "
          "them into a search box. Answer with the Chinese words only.")
SHOTS = [("Cordless Drills", "无线电钻"), ("Safety Glasses", "护目镜"), ("Measuring Tapes", "卷尺")]
BACK = ("You translate Chinese shop category names into English. Answer with the English words only.")


def leaf(category: str) -> str:
    """The deepest non-empty level of a category path ("A > B > " → "B")."""
    parts = [p.strip() for p in str(category).split(">") if p.strip()]
    return parts[-1] if parts else ""


def ask(backend, system: str, shots: list[tuple[str, str]], text: str) -> str:
    messages = [{"role": "system", "content": system}]
    for q, a in shots:
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    messages.append({"role": "user", "content": text})
    return backend.generate(messages, 16).text.strip().strip("。.\"'“”")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--llm", default="default")
    args = ap.parse_args()
    rows: dict[str, dict] = {}
    if args.out.exists():
        rows = {r["en"]: r for r in map(json.loads, args.out.read_text(encoding="utf-8").splitlines())}
    shop = load_any(detect_format(Path(args.data)), args.data)
    backend = load_backend(LlmOptions(model=args.llm))
    for en in tqdm(sorted({leaf(c) for c in shop.items["category"]} - {""} - set(rows)), desc="category names"):
        text = ask(backend, SYSTEM, SHOTS, en)
        rows[en] = {"en": en, "zh": text if ZH_QUERY.match(text) else "", "raw": text}
    for row in tqdm([r for r in rows.values() if r["zh"] and "back" not in r], desc="back-translations"):
        row["back"] = ask(backend, BACK, [(b, a) for a, b in SHOTS], row["zh"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(args.out, "".join(json.dumps(r, ensure_ascii=False) + "\n"
                                        for r in sorted(rows.values(), key=lambda r: r["en"])))


if __name__ == "__main__":
    main()
