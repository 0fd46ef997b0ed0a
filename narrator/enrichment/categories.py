"""The catalog's category names in the other language, translated once per name, not per item.

A category phrase in a zh sentence reads "您在Adapters类已购买过1件商品" when the catalog names its categories
only in English, and an en sentence "you have bought 10 items in 裤子" for a Chinese marketplace. A catalog
has a few hundred distinct level names, so the local model translates each once (ten per call) and keeps what
checks out, as for item kinds (`narrator.enrichment.kinds`):

- an English name's Chinese translation must be Chinese (1-8 characters), confirmed by the bilingual dictionary
  (`kinds.confirmed`) or read back into English with only the name's own words (`kinds.round_trip_ok`), and the
  multilingual encoder must find it close to the name;
- a Chinese name's English reading must be one to four plain words (the dictionary's sense where the two disagree,
  `kinds.english_kind`) the encoder finds close to it.

What fails stays in its own language (the phrase shows the catalog's name, as before). The table is
`categories.parquet` beside the item enrichment; a rerun translates only names it has not seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from narrator import atomic
from narrator.backends import Backend
from narrator.enrichment import kinds
from narrator.prompts.names import hostile, is_chinese

TABLE = "categories.parquet"


@dataclass(frozen=True)
class CategoryName:
    """One level name of the catalog's category paths and its names in zh and en ("" where a translation did
    not check out; the catalog's own language is the name itself)."""

    name: str
    name_zh: str
    name_en: str
    similarity: float
    model: str = ""


def levels(categories: Iterable[str]) -> list[str]:
    """Every distinct level name of the category paths ("Office > Boards" → "Office", "Boards")."""
    names = (p.strip() for c in categories if isinstance(c, str) for p in c.split(">"))
    return sorted({n for n in names if n})


def translate(backend: Backend, encode: kinds.Encoder, names: Sequence[str],
              min_similarity: float = kinds.MIN_SIMILARITY) -> list[CategoryName]:
    """Names of `names` in the other language, checked (module docstring)."""
    english = [n for n in names if not is_chinese(n) and not hostile(n)]
    chinese = [n for n in names if is_chinese(n) and not hostile(n)]
    zh = {n: z for n, z in kinds.translate(backend, english).items() if kinds.zh_shape_ok(z)}
    sure = {n for n, z in zh.items() if kinds.confirmed([z], n, n)}
    back = kinds.read_back(backend, sorted({z for n, z in zh.items() if n not in sure}))
    zh = {n: z for n, z in zh.items() if n in sure or kinds.round_trip_ok(back.get(z, ""), n, n)}
    en = {n: kinds.english_kind(n, e) for n, e in kinds.read_back(backend, chinese).items()}
    pairs = [(n, zh.get(n, "") or en.get(n, "")) for n in names]
    sims = kinds.similarities(encode, [other for _, other in pairs], [n for n, _ in pairs])
    out = []
    for (name, other), sim in zip(pairs, sims, strict=True):
        other = other if sim >= min_similarity else ""
        name_zh, name_en = (name, other) if is_chinese(name) else (other, name)
        out.append(CategoryName(name, name_zh, name_en, round(sim, 3), backend.model_id))
    return out


def read(root: Path) -> dict[str, CategoryName]:
    path = root / TABLE
    if not path.exists():
        return {}
    names = [f.name for f in fields(CategoryName)]
    return {str(r["name"]): CategoryName(**{k: r[k] for k in names if k in r})
            for r in pd.read_parquet(path).to_dict("records")}


def write(root: Path, rows: dict[str, CategoryName]) -> None:
    frame = pd.DataFrame([asdict(r) for r in rows.values()], columns=[f.name for f in fields(CategoryName)])
    with atomic.atomic_path(root / TABLE) as tmp:
        frame.to_parquet(tmp, index=False)


def paths_in(category: str, names: dict[str, CategoryName], language: str) -> str:
    """A category path in `language`: every level translated, else "" (a half-translated path would mix)."""
    parts = [p.strip() for p in category.split(">") if p.strip()]
    shown = [getattr(names[p], f"name_{language}") if p in names else "" for p in parts]
    return " > ".join(shown) if parts and all(shown) else ""
