"""The canonical `items` and `events` tables: loading, validation and saving.

Every other part of whyrec reads a shop through this module, so it is the one place that decides
what a valid shop is. A broken file fails loudly with the file, line and field; rows that real logs
always contain (duplicates, events for items missing from the catalog) are skipped, but counted in a
`LoadReport`, so nothing disappears in silence.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from narrator import atomic
from ranker.tables import (
    DataError,
    LoadReport,
    OnError,
    examples_of,
    line_of,
    read_table,
    reject,
    require_columns,
)

ITEM_REQUIRED = ("item_id", "title", "brand", "category")
ITEM_OPTIONAL = ("price", "currency", "title_zh", "title_en")
EVENT_REQUIRED = ("user_id", "item_id", "event", "timestamp")
EVENT_KINDS = ("view", "cart", "purchase", "rating")
CATEGORY_SEP = ">"

CURRENCY = re.compile(r"[A-Z]{3}")
"""A price's currency is the catalog's to say (ISO 4217: "CNY", "USD"); a catalog without one shows no symbol."""
NO_BRAND = frozenset({"", "other", "others", "其他", "其它", "无", "无品牌", "none", "no brand", "nobrand", "unbranded",
                      "generic", "n/a", "na", "null", "unknown", "未知", "杂牌", "-"})
"""What a brand field holds when the item has none ("other/其他" in marketplace exports): the meaning "no brand"
in zh and en, not any shop's vocabulary."""


@dataclass
class Shop:
    """A validated catalog plus behaviour log, in canonical form."""

    items: pd.DataFrame
    events: pd.DataFrame
    reports: list[LoadReport] = field(default_factory=list)

    def save(self, out: str | Path, fmt: Literal["parquet", "csv"] = "parquet") -> Path:
        """Write `items.<fmt>` and `events.<fmt>` atomically (temp file, then rename)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name, df in (("items", self.items), ("events", self.events)):
            target = out / f"{name}.{fmt}"
            with atomic.atomic_path(target) as tmp:
                if fmt == "parquet":
                    df.to_parquet(tmp, index=False)
                else:
                    df.to_csv(tmp, index=False)
        return out

    def priced_in(self, currency: str) -> Shop:
        """The shop with `currency` for every item whose record does not name one."""
        items = self.items.copy()
        own = items["currency"].fillna("").astype(str) if "currency" in items else pd.Series("", index=items.index)
        items["currency"] = own.where(own.ne(""), currency)
        return Shop(items, self.events, self.reports)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Epoch seconds (float) from epoch numbers or ISO-8601 strings; NaN where unparsable."""
    numeric = pd.to_numeric(values, errors="coerce")
    iso_mask = numeric.isna() & values.astype(str).str.strip().ne("")
    if iso_mask.any():
        parsed = pd.to_datetime(values[iso_mask], errors="coerce", utc=True, format="ISO8601")
        seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        numeric = numeric.astype(float)
        numeric[iso_mask] = seconds
    return numeric.astype(float)


def validate_items(df: pd.DataFrame, path: Path, on_error: OnError = "raise") -> tuple[pd.DataFrame, LoadReport]:
    """Check and normalise an items table; extra columns are kept as they are."""
    report = LoadReport(str(path), rows_read=len(df))
    require_columns(path, df, ITEM_REQUIRED)
    df = df.copy()
    for col in ITEM_REQUIRED + tuple(c for c in ITEM_OPTIONAL if c in df.columns):
        df[col] = df[col].astype(str).str.strip()
    df = reject(path, df, df["item_id"].eq(""), "item_id", "empty id", on_error, report)
    _unescape(path, df, report)
    _unbrand(path, df, report)
    _name_untitled(path, df, report)
    if "price" in df.columns:
        price = pd.to_numeric(df["price"], errors="coerce")
        bad = (price.isna() & df["price"].ne("")) | (price < 0)
        df = reject(path, df, bad, "price", "not a non-negative number", on_error, report)
        df["price"] = pd.to_numeric(df["price"], errors="coerce")
    else:
        df["price"] = np.nan
    if "currency" in df.columns:
        df["currency"] = df["currency"].str.upper()
        bad = df["currency"].ne("") & ~df["currency"].map(lambda c: bool(CURRENCY.fullmatch(c)))
        df = reject(path, df, bad, "currency", "not a three-letter ISO 4217 code such as CNY or USD", on_error,
                     report)
    dup = df["item_id"].duplicated(keep="first")
    report.skip("duplicate item_id, first kept", int(dup.sum()),
                examples_of(path, df.loc[dup, "item_id"]))
    df = df[~dup]
    df["category"] = df["category"].map(normalise_category)
    report.rows_kept = len(df)
    return df.reset_index(drop=True), report


TEXT_COLUMNS = ("title", "title_zh", "title_en", "brand", "category")


def _unescape(path: Path, df: pd.DataFrame, report: LoadReport) -> None:
    """Catalog exports often carry HTML entities ("Copy &amp; Print", "Quartet&reg;"): text is stored as a
    shopper reads it."""
    for col in (c for c in TEXT_COLUMNS if c in df.columns):
        clean = df[col].map(html.unescape)
        changed = clean.ne(df[col])
        report.repair(f"{col}: HTML entities unescaped", int(changed.sum()),
                      examples_of(path, df.loc[changed, col]))
        df[col] = clean


def means_no_brand(brand: str) -> bool:
    """"other/其他", "无品牌", "N/A": a brand field that says the item has none (each part of a "zh/en" pair)."""
    folded = unicodedata.normalize("NFKC", brand).casefold().strip()
    return folded in NO_BRAND or all(p.strip() in NO_BRAND for p in re.split(r"[/|\\]", folded))


def _unbrand(path: Path, df: pd.DataFrame, report: LoadReport) -> None:
    """A placeholder brand is no brand: it would credit "2 items of other/其他" as a brand history."""
    empty = df["brand"].ne("") & df["brand"].map(means_no_brand)
    report.repair("brand: says the item has none, left empty", int(empty.sum()),
                  examples_of(path, df.loc[empty, "brand"]))
    df.loc[empty, "brand"] = ""


def _name_untitled(path: Path, df: pd.DataFrame, report: LoadReport) -> None:
    """An item without a title is still sold and still has events: it is named by brand and the last level
    of its category (its id when it has neither), and kept."""
    empty = df["title"].eq("")
    if not empty.any():
        return
    leaf = df.loc[empty, "category"].map(lambda c: str(c).split(CATEGORY_SEP)[-1].strip())
    named = (df.loc[empty, "brand"] + " " + leaf).str.strip()
    df.loc[empty, "title"] = named.where(named.ne(""), df.loc[empty, "item_id"])
    report.repair("title: empty, named by brand and category", int(empty.sum()),
                  examples_of(path, df.loc[empty, "title"]))


def normalise_category(path: str) -> str:
    """`A > B >C` → `A > B > C`, so category levels compare as strings."""
    return f" {CATEGORY_SEP} ".join(p.strip() for p in str(path).split(CATEGORY_SEP) if p.strip())


def validate_events(
    df: pd.DataFrame, path: Path, item_ids: pd.Series, on_error: OnError = "raise"
) -> tuple[pd.DataFrame, LoadReport]:
    """Check and normalise an events table against a catalog; sorts by user, then time."""
    report = LoadReport(str(path), rows_read=len(df))
    require_columns(path, df, EVENT_REQUIRED)
    df = df.copy()
    if "value" not in df.columns:
        df["value"] = ""
    for col in ("user_id", "item_id", "event", "value", "timestamp"):
        df[col] = df[col].astype(str).str.strip()
    df["event"] = df["event"].str.lower()
    df = reject(path, df, df["user_id"].eq(""), "user_id", "empty id", on_error, report)
    df = reject(path, df, df["item_id"].eq(""), "item_id", "empty id", on_error, report)
    df = reject(path, df, ~df["event"].isin(EVENT_KINDS), "event", f"not one of {list(EVENT_KINDS)}",
                 on_error, report)
    value = pd.to_numeric(df["value"], errors="coerce")
    bad_value = (value.isna() & df["value"].ne("")) | (df["event"].eq("rating") & value.isna())
    df = reject(path, df, bad_value, "value", "not a number (ratings need one)", on_error, report)
    ts = parse_timestamps(df["timestamp"])
    df = reject(path, df, ts.isna(), "timestamp", "not an epoch number or ISO-8601 time", on_error, report)
    df["timestamp"] = parse_timestamps(df["timestamp"])
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    unknown = ~df["item_id"].isin(set(item_ids))
    report.skip("item_id not in catalog", int(unknown.sum()),
                examples_of(path, df.loc[unknown, "item_id"]))
    df = df[~unknown]
    dup = df.duplicated(subset=["user_id", "item_id", "event", "value", "timestamp"], keep="first")
    report.skip("exact duplicate event", int(dup.sum()),
                [f"line {line_of(path, int(i))}" for i in df.index[dup][:3]])
    df = df[~dup]
    extra = [c for c in df.columns if c not in ("user_id", "item_id", "event", "value", "timestamp")]
    df = df[["user_id", "item_id", "event", "value", "timestamp", *extra]]
    df = df.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    report.rows_kept = len(df)
    return df, report


def _find(directory: Path, name: str) -> Path:
    for suffix in (".parquet", ".csv"):
        candidate = directory / f"{name}{suffix}"
        if candidate.exists():
            return candidate
    raise DataError(directory / f"{name}.csv", f"no {name}.parquet or {name}.csv in {directory}")


def load_items(path: str | Path, on_error: OnError = "raise") -> tuple[pd.DataFrame, LoadReport]:
    path = Path(path)
    return validate_items(read_table(path), path, on_error)


def load_shop(directory: str | Path, on_error: OnError = "raise") -> Shop:
    """Load a canonical shop folder (`items` and `events`, CSV or Parquet)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(directory, "not a folder with items and events tables")
    items_path, events_path = _find(directory, "items"), _find(directory, "events")
    items, item_report = load_items(items_path, on_error)
    events, event_report = validate_events(read_table(events_path), events_path, items["item_id"], on_error)
    return Shop(items, events, [item_report, event_report])


def with_served(shop: Shop, items: pd.DataFrame, events: pd.DataFrame, source: Path) -> Shop:
    """The shop plus what was served since: items added or changed while serving (a changed item's record
    replaces the shop's) and the events the service stored, validated like a shop folder (`source` names
    the store in reports). Retraining on this learns from what shoppers did with the live catalog."""
    def blank(df: pd.DataFrame) -> pd.DataFrame:  # tables read from files have "" where a value is missing
        return df.astype(object).where(df.notna(), "")

    if len(items):
        changed, _ = validate_items(blank(items), source)
        kept = shop.items[~shop.items["item_id"].isin(set(changed["item_id"]))]
        merged = pd.concat([kept, changed.reindex(columns=kept.columns)], ignore_index=True)
    else:
        merged = shop.items
    served, report = validate_events(blank(events), source, merged["item_id"])
    combined = pd.concat([shop.events, served], ignore_index=True)
    combined = combined.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    return Shop(merged, combined, [*shop.reports, report])
