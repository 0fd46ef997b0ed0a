"""Converters from public dataset formats into the canonical shop tables.

Each loader only reshapes its source into `items`/`events` strings and hands them to the same
validators as a canonical file, so every source gets the same checks and the same report.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd

from ranker.data import (
    CATEGORY_SEP,
    DataError,
    LoadReport,
    OnError,
    Shop,
    load_shop,
    validate_events,
    validate_items,
)

FORMATS = ("unisrec", "movielens", "csv")


def detect_format(path: Path) -> str:
    """The format of a dataset folder by what it holds: UniSRec/RecBole (`*.text`), MovieLens (`u.data`), else
    the canonical CSV/Parquet tables."""
    if list(path.glob("*.text")):
        return "unisrec"
    if (path / "u.data").exists():
        return "movielens"
    return "csv"


def load_any(fmt: str, src: str | Path, on_error: OnError = "raise") -> Shop:
    """Dispatch on a format name (`unisrec`, `movielens`, `csv`)."""
    if fmt == "unisrec":
        return load_unisrec(src, on_error)
    if fmt == "movielens":
        return load_movielens(src, on_error)
    if fmt == "csv":
        return load_shop(src, on_error)
    raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")


def _tsv_rows(path: Path, n_fields: int, header: bool) -> list[list[str]]:
    """Tab-separated rows, each checked for its field count (error names the line)."""
    if not path.exists():
        raise DataError(path, "file not found")
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if header and line_no == 1:
                continue
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != n_fields:
                raise DataError(path, f"expected {n_fields} tab-separated fields, found {len(parts)}", line=line_no)
            rows.append(parts)
    return rows


def split_unisrec_text(text: str) -> tuple[str, str, str]:
    """`"title. category path. brand. "` → (title, category, brand); titles may contain '. '."""
    body = text.strip()
    body = body[:-1] if body.endswith(".") else body
    parts = body.rsplit(". ", 2)
    if len(parts) == 3:
        return parts[0].strip(), parts[1].strip(), parts[2].strip()
    if len(parts) == 2:
        return parts[0].strip(), parts[1].strip(), ""
    return body, "", ""


def infer_category_levels(paths: list[str]) -> dict[str, str]:
    """Recover `A > B > C` from flattened paths like "A B C" where the separators were lost.

    A level boundary sits after a word where the catalog branches (two or more different next words)
    or where another path ends; this rebuilds the tree that the flattening erased.
    """
    children: dict[tuple[str, ...], set[str]] = defaultdict(set)
    ends: set[tuple[str, ...]] = set()
    token_lists = {p: p.split() for p in set(paths)}
    for tokens in token_lists.values():
        for j in range(len(tokens)):
            children[tuple(tokens[:j])].add(tokens[j])
        ends.add(tuple(tokens))
    out = {}
    for path, tokens in token_lists.items():
        levels, current = [], []
        for j, tok in enumerate(tokens):
            current.append(tok)
            prefix = tuple(tokens[: j + 1])
            if j + 1 < len(tokens) and (len(children[prefix]) > 1 or prefix in ends):
                levels.append(" ".join(current))
                current = []
        levels.append(" ".join(current))
        out[path] = f" {CATEGORY_SEP} ".join(lv for lv in levels if lv)
    return out


def load_unisrec(src: str | Path, on_error: OnError = "raise") -> Shop:
    """The UniSRec/RecBole downstream format (`X.text`, `X.item2index`, `X.user2index`, `X.*.inter`).

    Each user's full sequence is the test line's history plus its target; interactions become
    purchases whose timestamp is their position (the format keeps order, not time).
    """
    src = Path(src)
    texts = sorted(src.glob("*.text"))
    if not texts:
        raise DataError(src, "no *.text file: not a UniSRec/RecBole dataset folder")
    stem = texts[0].name[: -len(".text")]
    item_rows = _tsv_rows(src / f"{stem}.text", 2, header=True)
    index_to_item = {idx: asin for asin, idx in _tsv_rows(src / f"{stem}.item2index", 2, header=False)}
    index_to_user = {idx: uid for uid, idx in _tsv_rows(src / f"{stem}.user2index", 2, header=False)}
    parsed = [split_unisrec_text(text) for _, text in item_rows]
    levels = infer_category_levels([c for _, c, _ in parsed])
    items = pd.DataFrame({
        "item_id": [asin for asin, _ in item_rows],
        "title": [t for t, _, _ in parsed],
        "brand": [b for _, _, b in parsed],
        "category": [levels[c] for _, c, _ in parsed],
        "text": [text.strip() for _, text in item_rows],
    })
    inter_path = src / f"{stem}.test.inter"
    users, item_ids, stamps = [], [], []
    for line_no, (user_idx, history, target) in enumerate(_tsv_rows(inter_path, 3, header=True), start=2):
        if user_idx not in index_to_user:
            raise DataError(inter_path, f"user index {user_idx!r} not in {stem}.user2index", line_no, "user_id")
        sequence = history.split() + [target]
        for pos, idx in enumerate(sequence):
            if idx not in index_to_item:
                raise DataError(inter_path, f"item index {idx!r} not in {stem}.item2index", line_no, "item_id")
            users.append(index_to_user[user_idx])
            item_ids.append(index_to_item[idx])
            stamps.append(str(pos))
    events = pd.DataFrame({"user_id": users, "item_id": item_ids, "event": "purchase", "value": "",
                           "timestamp": stamps})
    items, item_report = validate_items(items, src / f"{stem}.text", on_error)
    events, event_report = validate_events(events, inter_path, items["item_id"], on_error)
    return Shop(items, events, [item_report, event_report])


ML_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
             "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
             "War", "Western")


def load_movielens(src: str | Path, on_error: OnError = "raise") -> Shop:
    """MovieLens-100k (`u.data` + `u.item`): every rating becomes a `rating` event with its value."""
    src = Path(src)
    item_path, data_path = src / "u.item", src / "u.data"
    if not item_path.exists():
        raise DataError(item_path, "file not found")
    rows = []
    with item_path.open(encoding="latin-1") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("|")
            if len(parts) != 5 + len(ML_GENRES):
                raise DataError(item_path, f"expected {5 + len(ML_GENRES)} '|' fields, found {len(parts)}", line_no)
            genres = [g for g, flag in zip(ML_GENRES, parts[5:], strict=True) if flag == "1"]
            year = parts[2][-4:] if parts[2] else ""
            rows.append({"item_id": parts[0], "title": parts[1], "brand": "",
                         "category": f"Movies {CATEGORY_SEP} {genres[0] if genres else 'unknown'}",
                         "genres": "|".join(genres), "year": year})
    items = pd.DataFrame(rows)
    data = _tsv_rows(data_path, 4, header=False)
    events = pd.DataFrame(data, columns=["user_id", "item_id", "value", "timestamp"])
    events["event"] = "rating"
    items, item_report = validate_items(items, item_path, on_error)
    events, event_report = validate_events(events, data_path, items["item_id"], on_error)
    return Shop(items, events, [item_report, event_report])


def report_lines(reports: list[LoadReport]) -> list[str]:
    return [line for report in reports for line in report.lines()]
