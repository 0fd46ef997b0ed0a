"""Catalog enrichment: once per item (not per request), what it is and what it is called in zh and en.

`enrich` runs the local model over the items not yet enriched (or whose title changed), batch by batch,
grounds every proposal (`narrator.enrichment.kinds`) and hands each finished batch to `save`, so an interrupted run
resumes where it stopped and a new item costs one more row. The table lives with the model artifacts
(`enrichment.parquet`); editors correct any row in a TOML file they own (`enrichment-overrides.toml`),
which wins over the model and is linted with file:line.

Names are composed, never written freely: zh = brand + the grounded Chinese kind + the title's model code
("Quartet 磁性白板", "DEWALT 钻头套装 DW1361"); en = the title's lead. So a name never holds a word that is
not in the title, the brand or the kind.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd

import narrator.enrichment.en_titles as en_titles
import narrator.enrichment.kinds as kinds
import narrator.enrichment.zh_titles as zh_titles
from narrator import atomic
from narrator.backends import Backend, generate_all
from narrator.prompts.names import brand_in, display_name, is_chinese
from narrator.prompts.templating import PromptError, line_of, read_toml

TABLE = "enrichment.parquet"
OVERRIDES = "enrichment-overrides.toml"
EDITABLE = ("kind_zh", "kind_en", "name_zh", "name_en")
MIN_SIMILARITY = kinds.MIN_SIMILARITY
CHINESE_BATCH = 256
ROUND_CHATS = 4
"""Title chats per round of English enrichment (a round is saved as one part)."""
EN_NAME_CHARS = 42
"""An English title's name: its lead cut at its own breaks (commas, dashes, "with"), read from the title itself, not
from what the model reads (without commas, that made "Forney 20859 Cutting Fluid Magic"); a hostile title has none."""


@dataclass(frozen=True)
class Enriched:
    """One item's row. `en_from`/`zh_from` say where each kind came from: the model (grounded), the title (a Chinese
    title's own noun, `zh_titles`; an English title's lead saying its category, `en_titles`), the category, none (the
    phrase book's neutral word), or an editor. `similarity`: the model's zh kind's agreement with what the item is in
    English (also a rejected one's, to audit the threshold); `title_hash` tells a changed title from an enriched one."""

    item_id: str
    kind_en: str
    kind_zh: str
    name_en: str
    name_zh: str
    en_from: str
    zh_from: str
    similarity: float
    title_hash: str
    model: str = ""


def title_hash(title: str, brand: str, category: str) -> str:
    return hashlib.sha256(f"{title}\x1f{brand}\x1f{category}".encode()).hexdigest()[:16]


def zh_name(brand: str, kind_zh: str, code: str) -> str:
    return " ".join(p for p in (brand.strip(), kind_zh, code) if p) if kind_zh else ""


def names(title: str, brand: str, kind_en: str, kind_zh: str) -> tuple[str, str]:
    """An item's (en, zh) names from its title, brand and kinds: a Chinese title's are composed (brand + kind +
    model code, no Chinese in the English one); an English title's English name is its lead (`EN_NAME_CHARS`)."""
    if is_chinese(title):
        code = zh_titles.model_code(title, brand)
        brand_en = brand_in(brand, "en")
        brand_en = "" if is_chinese(brand_en) else brand_en  # an English name holds no Chinese
        name_en = " ".join(p for p in (brand_en, kind_en, code) if p) if kind_en else ""
        return name_en, zh_titles.zh_name(brand, kind_zh, code)
    return display_name(html.unescape(title), EN_NAME_CHARS), zh_name(brand, kind_zh, kinds.model_code(title, brand))


def renamed(items: pd.DataFrame, done: dict[str, Enriched]) -> list[Enriched]:
    """Current rows whose names `names` now composes differently (an older version wrote them: English names cut inside
    a word before 6cf5f58), renamed from their stored kinds without the model."""
    texts = items[["item_id", "title", "brand", "category"]].fillna("").astype(str).itertuples()
    rows = [(done[i.item_id], i) for i in texts
            if i.item_id in done and done[i.item_id].title_hash == title_hash(i.title, i.brand, i.category)]
    return [replace(row, name_en=now[0], name_zh=now[1]) for row, i in rows
            if (now := names(i.title, i.brand, row.kind_en, row.kind_zh)) != (row.name_en, row.name_zh)]


def _category_leaf(category: str) -> str:
    return category.split(">")[-1].strip() if isinstance(category, str) else ""


def todo(items: pd.DataFrame, done: dict[str, Enriched]) -> pd.DataFrame:
    """The items without a current row: new, or whose title, brand or category changed since."""
    texts = items[["title", "brand", "category"]].fillna("").astype(str).itertuples(index=False)
    ids = items["item_id"].astype(str)
    stale = [done.get(i) is None or done[i].title_hash != title_hash(*t) for i, t in zip(ids, texts, strict=True)]
    return items[stale]


def enrich(backend: Backend | None, encode: kinds.Encoder, items: pd.DataFrame, done: dict[str, Enriched],
           save: Callable[[list[Enriched]], None], batch: int = 8,
           progress: Callable[[int, int], None] | None = None, min_similarity: float = MIN_SIMILARITY,
           catalog: pd.DataFrame | None = None) -> int:
    """Enrich the items `todo` finds, `batch` titles per model call; `save` receives each finished batch.
    Returns how many rows were written.

    Chinese titles are read without the model (`read_chinese`: the kind is one of the title's own nouns,
    chosen over the whole `catalog`, default `items`); the model only reads each distinct kind back into
    English, ten per call. Without a `backend`, English-titled items wait and Chinese ones get no English kind.

    A Chinese kind is a proposal the bilingual dictionary confirms (`kinds.confirmed`), or else needs two
    independent proposals to agree (`kinds.agreed`): the one written while reading
    the title, and a translation of the grounded English kind alone (one per distinct kind, cached). The
    1.5B model's single proposals are right about two times in three on the demo shop ("半透明帐篷" for a
    tent, "饮料豆" for coffee beans); its errors rarely agree with each other. What they agree on is then
    read back into English (`kinds.round_trip_ok`: its errors that do agree, "机器人吸尘器" for a robot
    mop, read back as words the title lacks) and checked by the encoder against the English kind
    (`min_similarity`)."""
    pending = todo(items, done).fillna("").astype(str).to_dict("records")
    chinese = [r for r in pending if is_chinese(r["title"])]
    english = [r for r in pending if not is_chinese(r["title"])] if backend is not None else []
    total, written = len(chinese) + len(english), 0

    def finished(out: list[Enriched]) -> None:
        nonlocal written
        save(out)
        written += len(out)
        if progress:
            progress(written, total)

    if progress:
        progress(0, total)
    if chinese:
        learned = (catalog if catalog is not None else items).fillna("").astype(str)
        learned = learned[learned["title"].map(is_chinese)]
        reader = zh_titles.TitleReader.learn(learned["title"].tolist(), learned["category"].tolist())
        readings: dict[str, str] = {}
        for start in range(0, len(chinese), CHINESE_BATCH):
            finished(read_chinese(backend, encode, reader, chinese[start:start + CHINESE_BATCH], min_similarity,
                                  readings))
    if backend is not None and english:
        for out in _read_english(backend, encode, english, batch, min_similarity):
            finished(out)
    return written


def _read_english(backend: Backend, encode: kinds.Encoder, rows: list[dict[str, str]], batch: int,
                  min_similarity: float) -> Iterator[list[Enriched]]:
    """Rows for English-titled items (the checks of `enrich`). A title whose lead names its category has its kind
    read there (`en_titles`); the others are read by the model, `batch` titles per chat and `ROUND_CHATS` chats
    decoded together per round. An English kind is translated alone only for rows whose first Chinese proposal the
    dictionary does not confirm (that one would be kept whatever the translation said)."""
    translations: dict[str, str] = {}
    readings: dict[str, str] = {}
    none = kinds.Proposal("", "")
    for start in range(0, len(rows), batch * ROUND_CHATS):
        chunk = rows[start:start + batch * ROUND_CHATS]
        named = [en_titles.category_phrase(r["title"], r["category"], r["brand"]) if kinds.shown(r["title"]) else None
                 for r in chunk]
        asked = [r for r, n in zip(chunk, named, strict=True) if n == ""]
        proposals = dict(zip((r["item_id"] for r in asked), _propose(backend, [r["title"] for r in asked], batch),
                             strict=True))
        said = [proposals.get(r["item_id"], none) for r in chunk]
        en = [n or kinds.grounded_en(p.en, r["title"], r["brand"]) for r, n, p in zip(chunk, named, said, strict=True)]
        wanted = {e for r, e, p in zip(chunk, en, said, strict=True)  # no second proposal where the dictionary
                  if e and not kinds.confirmed((p.zh,), e, r["title"])}  # confirms the first
        translations.update(kinds.translate(backend, sorted(wanted - translations.keys())))
        proposed = [(p.zh, translations.get(e, "")) for p, e in zip(said, en, strict=True)]
        zh = _chinese_kinds(backend, chunk, en, proposed, readings)
        sims = kinds.similarities(encode, zh, en)
        yield [_row(r, e, z if sim >= min_similarity else "", sim, backend.model_id, "title" if n else "model")
               for r, e, z, sim, n in zip(chunk, en, zh, sims, named, strict=True)]


def _chinese_kinds(backend: Backend, rows: list[dict[str, str]], en: list[str], proposed: list[tuple[str, str]],
                   readings: dict[str, str]) -> list[str]:
    """Each row's Chinese kind from its two proposals (from the title, and the English kind's translation): the
    one the dictionary confirms, else what both agree on, read back into the title's words, else the head noun of
    one that the dictionary confirms. `readings` caches the read-backs across rounds."""
    confirmed = [kinds.confirmed(pair, e, r["title"]) if e else ""
                 for r, e, pair in zip(rows, en, proposed, strict=True)]
    agreed = [kinds.agreed(*pair) if e and not c else "" for e, c, pair in zip(en, confirmed, proposed, strict=True)]
    agreed = [z if kinds.zh_shape_ok(z) else "" for z in agreed]
    readings.update(kinds.read_back(backend, sorted({z for z in agreed if z} - readings.keys())))
    return [c or (z if z and kinds.round_trip_ok(readings.get(z, ""), r["title"], e) else "") or
            (kinds.confirmed_head(pair, e, r["title"]) if e else "")
            for r, e, z, c, pair in zip(rows, en, agreed, confirmed, proposed, strict=True)]


def read_chinese(backend: Backend | None, encode: kinds.Encoder, reader: zh_titles.TitleReader,
                 items: list[dict[str, str]], min_similarity: float = MIN_SIMILARITY,
                 readings: dict[str, str] | None = None) -> list[Enriched]:
    """Rows for Chinese-titled items: the kind from the title (`zh_titles`), the zh name composed from brand,
    kind and model code; the English kind is the model's reading of the Chinese one, or the bilingual
    dictionary's sense where the two disagree (`kinds.english_kind`), kept when it is plain words the encoder finds
    close to it (`min_similarity`), and the English name is composed the same way.
    `readings` carries the readings of earlier batches (a kind recurs across a catalog; each is read once)."""
    zh = reader.kinds([r["title"] for r in items], [r["brand"] for r in items], encode)
    readings = {} if readings is None else readings
    wanted = sorted({z for z in zh if z} - readings.keys())
    if backend is not None and wanted:
        readings.update(kinds.read_back(backend, wanted))
    en = [kinds.english_kind(z, readings[z]) if z in readings else "" for z in zh]  # no model: no English kind
    sims = kinds.similarities(encode, zh, en)
    model = backend.model_id if backend is not None else ""
    out = []
    for item, kind_zh, kind_en, sim in zip(items, zh, en, sims, strict=True):
        kind_en = kind_en if sim >= min_similarity else ""
        out.append(Enriched(item["item_id"], kind_en, kind_zh, *names(item["title"], item["brand"], kind_en, kind_zh),
                            "model" if kind_en else "none", "title" if kind_zh else "none", round(sim, 3),
                            title_hash(item["title"], item["brand"], item["category"]), model))
    return out


def _propose(backend: Backend, titles: list[str], batch: int) -> list[kinds.Proposal]:
    """The model's proposals for `titles`, `batch` per chat, the chats decoded together where the backend can."""
    chunks = [titles[start:start + batch] for start in range(0, len(titles), batch)]
    replies = generate_all(backend, [kinds.prompt(c) for c in chunks], max_tokens=24 * batch)
    return [p for c, reply in zip(chunks, replies, strict=True) for p in kinds.parse(reply.text, len(c))]


def _row(item: dict[str, str], kind_en: str, kind_zh: str, similarity: float, model: str, en_source: str) -> Enriched:
    title, brand, category = item["title"], item["brand"], item["category"]
    leaf = _category_leaf(category) if kinds.shares_a_word(_category_leaf(category), title) else ""
    leaf_zh = _category_leaf(item.get("category_zh", ""))
    leaf_zh = leaf_zh if kinds.zh_shape_ok(leaf_zh) else ""
    en_from = en_source if kind_en else ("category" if leaf else "none")
    zh_from = "model" if kind_zh else ("category" if leaf_zh else "none")
    kind_en, kind_zh = kind_en or leaf, kind_zh or leaf_zh
    return Enriched(item["item_id"], kind_en, kind_zh, *names(title, brand, kind_en, kind_zh), en_from, zh_from,
                    round(similarity, 3), title_hash(title, brand, category), model)


def read(root: Path) -> dict[str, Enriched]:
    """The stored rows (none yet: empty)."""
    path = root / TABLE
    if not path.exists():
        return {}
    frame = pd.read_parquet(path)
    names = [f.name for f in fields(Enriched)]
    return {str(r["item_id"]): Enriched(**{k: r[k] for k in names if k in r}) for r in frame.to_dict("records")}


def write(root: Path, rows: dict[str, Enriched]) -> None:
    """All rows, atomically (a crash mid-write leaves the previous table)."""
    frame = pd.DataFrame([asdict(r) for r in rows.values()], columns=[f.name for f in fields(Enriched)])
    with atomic.atomic_path(root / TABLE) as tmp:
        frame.to_parquet(tmp, index=False)


def overrides(path: Path, known: Sequence[str] = ()) -> dict[str, dict[str, str]]:
    """The editors' rows: `[item_id]` tables of `kind_zh`, `kind_en`, `name_zh`, `name_en`. A table for an
    item the catalog lacks, an unknown field, a non-text value or a zh kind that is not Chinese is a
    `PromptError` with file:line."""
    if not path.exists():
        return {}
    data, text = read_toml(path)
    known_ids = set(known)
    out = {}
    for item_id, row in data.items():
        if not isinstance(row, dict):
            raise PromptError(path, line_of(text, item_id), f"{item_id!r} must be a table: [\"{item_id}\"]")
        if known_ids and item_id not in known_ids:
            raise PromptError(path, line_of(text, f'"{item_id}"'), f"no item {item_id!r} in the catalog")
        for key, value in row.items():
            where = line_of(text, f'"{item_id}"', f"{key}")
            if key not in EDITABLE:
                raise PromptError(path, where, f"{item_id}: unknown field {key!r}; expected one of {EDITABLE}")
            if not isinstance(value, str) or not value.strip():
                raise PromptError(path, where, f"{item_id}: {key} must be a non-empty text")
            if key == "kind_zh" and not kinds.zh_shape_ok(value.strip()):
                raise PromptError(path, where, f"{item_id}: kind_zh must be 1-8 Chinese characters, got {value!r}")
        out[item_id] = {k: str(v).strip() for k, v in row.items()}
    return out


def merged(rows: dict[str, Enriched], edits: dict[str, dict[str, str]]) -> dict[str, Enriched]:
    """The table with the editors' rows applied; an edited zh kind also renames the zh name that holds the
    old kind, unless the editor wrote the name too."""
    out = dict(rows)
    for item_id, edit in edits.items():
        base = out.get(item_id) or Enriched(item_id, "", "", "", "", "none", "none", 0.0, "")
        if "kind_zh" in edit and "name_zh" not in edit and base.kind_zh and base.kind_zh in base.name_zh:
            edit = {**edit, "name_zh": base.name_zh.replace(base.kind_zh, edit["kind_zh"])}
        sources = {f"{lang}_from": "editor" for lang in ("en", "zh") if f"kind_{lang}" in edit}
        changes: dict[str, Any] = {**edit, **sources}
        out[item_id] = replace(base, **changes)
    return out


def load(root: Path, known: Sequence[str] = ()) -> dict[str, Enriched]:
    """What the service shows: the stored table with the editors' overrides."""
    return merged(read(root), overrides(root / OVERRIDES, known))
