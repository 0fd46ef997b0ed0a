"""The merchants' promotions: validated records, kept durably in the event store's SQLite file.

A promotion is trusted data (only admins post it) and the only source of a discount in a reason, so every
record is checked before anything is stored: the item exists, the label is short text, the dates parse and
end after they start. A batch with any bad record stores nothing, and the error names the record and field.
The book is the ranker's view of them (`Ranker.promotions`): `book[item_id]` is that item's promotions. It
reads the table again when another connection changed it (another serving process, or `whyrec promotions
import` while serving), looking at most every `recheck_s`. `PRAGMA data_version` alone cannot say so: the
event writer commits to the same file many times a second, so a change counter kept by triggers on the table
decides, and the book's `stamp` (which keys every cached list) moves only when the promotions did.
"""

from __future__ import annotations

import bisect
import csv
import math
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ranker.promotions import Promotion
from service.shop.store import connect

FIELDS = ("item_id", "label", "start", "end", "campaign")
EARLIEST, LATEST = 0.0, 4_102_444_800.0
"""1970-01-01 ("since always") and 2100-01-01 UTC, in seconds: what a promotion's start and end may be."""
MAX_LABEL = 40


class PromotionError(ValueError):
    """A promotion record that cannot be stored; says which record (1-based row of the file or body) and field."""

    def __init__(self, row: int, field: str, message: str, where: str = "promotion"):
        super().__init__(f"{where} {row}, field {field!r}: {message}")
        self.row, self.field = row, field


def when(value: object, row: int, field: str, where: str) -> float:
    """Seconds since the epoch from an ISO date or time (UTC unless it says otherwise) or a number, between 1970
    and 2100: NaN, infinities and milliseconds (a common mistake: 1.7e12) are refused, naming the field."""
    seconds = _seconds(value, row, field, where)
    if not math.isfinite(seconds) or not EARLIEST <= seconds <= LATEST:
        hint = " (milliseconds? give seconds)" if math.isfinite(seconds) and seconds > LATEST else ""
        raise PromotionError(row, field, f"{value!r} is not a time between 1970 and 2100{hint}", where)
    return seconds


def _seconds(value: object, row: int, field: str, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value or "").strip()[:64]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PromotionError(row, field, f"{text!r} is not a date (2026-12-01, 2026-12-01T08:00:00Z) or epoch "
                                         "seconds", where) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def validated(records: list[dict], known_items: set[str], where: str = "promotion") -> list[Promotion]:
    """Promotions from raw records; the first bad record raises `PromotionError`. A date-only `end` means the
    whole of that day."""
    out = []
    for n, record in enumerate(records, 1):
        unknown = set(record) - set(FIELDS)
        if unknown:
            raise PromotionError(n, sorted(unknown)[0], f"unknown field; expected {', '.join(FIELDS)}", where)
        item = str(record.get("item_id") or "").strip()
        if not item:
            raise PromotionError(n, "item_id", "missing", where)
        if item not in known_items:
            raise PromotionError(n, "item_id", f"{item!r} is not in the catalog", where)
        label = " ".join(str(record.get("label") or "").split())
        if not label or len(label) > MAX_LABEL:
            raise PromotionError(n, "label", f"needs 1 to {MAX_LABEL} characters, such as \"20% off\" or \"8折\"",
                                 where)
        start = when(record.get("start"), n, "start", where)
        end_value = record.get("end")
        end = when(end_value, n, "end", where)
        if isinstance(end_value, str) and len(end_value.strip()) == 10:
            end += 86_400
        if end <= start:
            raise PromotionError(n, "end", "must be after start", where)
        out.append(Promotion(item, label, start, end, str(record.get("campaign") or "").strip()))
    return out


def read_csv(path: Path, known_items: set[str]) -> list[Promotion]:
    """Promotions from a CSV file with a header row (item_id, label, start, end, optional campaign)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("item_id", "label", "start", "end") if c not in (reader.fieldnames or [])]
        if missing:
            raise PromotionError(1, missing[0], "missing column in the header row", f"{path} row")
        rows = [{k: v for k, v in row.items() if k is not None and (v or k != "campaign")} for row in reader]
    return validated(rows, known_items, f"{path} data row")


class PromotionBook(Mapping[str, tuple[Promotion, ...]]):
    """Promotions by item, read from (and written to) the store's `promotions` table."""

    def __init__(self, path: Path, recheck_s: float = 0.5):
        self.path, self.recheck_s = path, recheck_s
        self._db = connect(path)
        self._lock = threading.Lock()
        self._by_item: dict[str, tuple[Promotion, ...]] = {}
        self._version = -1
        self._changes = -1
        self._bounds: list[float] = []
        self._checked = 0.0
        self.stamp = 0
        """Grows whenever the promotions change: cached lists keyed by it show the current offers."""
        self._reload()

    def _reload(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            self._checked = time.monotonic()
            if version == self._version:
                return
            self._version = version
            changes = self._db.execute("SELECT n FROM promotions_changes").fetchone()[0]
            if changes == self._changes:
                return
            rows = self._db.execute("SELECT item_id, label, start, end, campaign FROM promotions").fetchall()
            by_item: dict[str, list[Promotion]] = {}
            for item, label, start, end, campaign in rows:
                by_item.setdefault(item, []).append(Promotion(item, label, start, end, campaign))
            self._by_item = {k: tuple(v) for k, v in by_item.items()}
            self._bounds = sorted(t for p in rows for t in (p[2], p[3]))
            self._changes = changes
            self.stamp += 1

    def state(self, now: float | None = None) -> tuple[int, int]:
        """What the active promotions depend on: the stored records (`stamp`) and how many start or end times
        have passed, so a cached list keyed by it changes when a promotion is stored, removed, starts or ends."""
        self.fresh()
        return self.stamp, bisect.bisect_right(self._bounds, time.time() if now is None else now)

    def fresh(self) -> PromotionBook:
        if time.monotonic() - self._checked > self.recheck_s:
            self._reload()
        return self

    def put(self, promotions: list[Promotion]) -> int:
        """Store (or replace, by item and campaign) the promotions in one transaction."""
        now = time.time()
        with self._lock, self._transaction():
            self._db.executemany(
                "INSERT INTO promotions VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (item_id, campaign) DO UPDATE SET "
                "label = excluded.label, start = excluded.start, end = excluded.end, updated = excluded.updated",
                [(p.item_id, p.campaign, p.label, p.start, p.end, now) for p in promotions])
            self._version = -1
        self._reload()
        return len(promotions)

    def end_campaign(self, campaign: str) -> int:
        with self._lock, self._transaction():
            removed = self._db.execute("DELETE FROM promotions WHERE campaign = ?", (campaign,)).rowcount
            self._version = -1
        self._reload()
        return removed

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def campaign_items(self, campaign: str, now: float | None = None) -> list[str]:
        """The items of a campaign whose promotion is active now."""
        return sorted(i for i, promos in self.fresh()._by_item.items()
                      if any(p.campaign == campaign and p.active(now) for p in promos))

    def all(self) -> list[Promotion]:
        return [p for promos in self.fresh()._by_item.values() for p in promos]

    def __getitem__(self, item_id: str) -> tuple[Promotion, ...]:
        return self.fresh()._by_item[item_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fresh()._by_item)

    def __len__(self) -> int:
        return len(self.fresh()._by_item)

    def close(self) -> None:
        with closing(self._db):
            pass
