"""The event store: every shopper event the shop posts, durable in SQLite (WAL) before the API answers.

One writer thread takes every waiting batch, writes them in one transaction and commits once (group
commit), so many small requests share one fsync: the store keeps up with thousands of events a second
on two cores and an acknowledged event survives a `kill -9`. An event id makes a retried post harmless
(`INSERT OR IGNORE`); events without one get a fresh id. Feedback on a reason is an event too, with its
explanation id and whether it helped. Catalog changes made while serving (items added or changed, items
withdrawn) live in the same file, so a restart serves the same catalog. Several serving processes may
share the file (SQLite locks it).
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    event TEXT NOT NULL,
    value REAL,
    timestamp REAL NOT NULL,
    received REAL NOT NULL,
    explanation_id TEXT,
    helpful INTEGER
);
CREATE INDEX IF NOT EXISTS events_user ON events (user_id);
CREATE TABLE IF NOT EXISTS withdrawn (item_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS items (item_id TEXT PRIMARY KEY, record TEXT NOT NULL, added REAL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS promotions (
    item_id TEXT NOT NULL, campaign TEXT NOT NULL, label TEXT NOT NULL,
    start REAL NOT NULL, end REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (item_id, campaign)
);
CREATE TABLE IF NOT EXISTS promotions_changes (id INTEGER PRIMARY KEY CHECK (id = 0), n INTEGER NOT NULL);
INSERT OR IGNORE INTO promotions_changes VALUES (0, 0);
CREATE TRIGGER IF NOT EXISTS promotions_inserted AFTER INSERT ON promotions
    BEGIN UPDATE promotions_changes SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS promotions_updated AFTER UPDATE ON promotions
    BEGIN UPDATE promotions_changes SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS promotions_deleted AFTER DELETE ON promotions
    BEGIN UPDATE promotions_changes SET n = n + 1; END;
"""
SCHEMA_VERSION = 2
"""`PRAGMA user_version` of the file: 1 had events, withdrawals and items; 2 adds promotions and the change
counter its triggers keep (every statement above is idempotent, so an older file is brought up to date)."""
COLUMNS = ("event_id", "user_id", "item_id", "event", "value", "timestamp", "explanation_id", "helpful")


@dataclass(frozen=True)
class Event:
    """One shopper event as stored; `timestamp` in seconds since the epoch."""

    user_id: str
    item_id: str
    event: str
    timestamp: float
    value: float | None = None
    event_id: str = ""
    explanation_id: str | None = None
    helpful: bool | None = None

    def row(self) -> tuple:
        return (self.event_id or uuid.uuid4().hex, self.user_id, self.item_id, self.event, self.value,
                self.timestamp, self.explanation_id, None if self.helpful is None else int(self.helpful))


@dataclass(frozen=True)
class Stored:
    """What one `append` did: events newly stored, and duplicates of ids already stored (not stored again)."""

    stored: tuple[Event, ...]
    duplicates: int
    last_seq: int


class ShopFileError(RuntimeError):
    """The shop file was written by a newer whyrec (its schema version is unknown here)."""


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the shop's SQLite file (WAL, full sync, autocommit), its schema created or brought up to
    date first: the one place the file's tables are declared, whoever opens it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        db.close()
        raise ShopFileError(f"{path}: schema version {version} is newer than this whyrec's ({SCHEMA_VERSION}); "
                            "upgrade whyrec to serve it")
    if version < SCHEMA_VERSION:
        db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    return db


class EventStore:
    """The shop's SQLite file: shoppers' events (one group-committing writer), items stored while serving and
    withdrawals; the promotions in the same file are read and written by `service.shop.promotions`."""

    def __init__(self, path: Path, max_wait_s: float = 0.002):
        self.path = path
        self._max_wait = max_wait_s
        self._queue: queue.Queue[tuple[list[Event], Future[Stored]] | None] = queue.Queue()
        connect(path).close()
        self._writer = threading.Thread(target=self._write_loop, name="event-writer", daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path)

    def append(self, events: list[Event]) -> Future[Stored]:
        """Queue events for the next group commit; the future resolves once they are on disk."""
        done: Future[Stored] = Future()
        self._queue.put((events, done))
        return done

    def close(self) -> None:
        self._queue.put(None)
        self._writer.join(timeout=10)

    def _write_loop(self) -> None:
        db = self._connect()
        while True:
            first = self._queue.get()
            if first is None:
                db.close()
                return
            waiting = [first]
            deadline = time.monotonic() + self._max_wait
            while (left := deadline - time.monotonic()) > 0:
                try:
                    more = self._queue.get(timeout=left)
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                waiting.append(more)
            self._commit(db, waiting)

    def _commit(self, db: sqlite3.Connection, waiting: list[tuple[list[Event], Future[Stored]]]) -> None:
        try:
            results = []
            db.execute("BEGIN IMMEDIATE")
            for events, _ in waiting:
                stored = []
                for event in events:
                    row = event.row()
                    if db.execute(f"INSERT OR IGNORE INTO events ({', '.join(COLUMNS)}, received) "
                                  f"VALUES ({', '.join('?' * len(COLUMNS))}, ?)", (*row, time.time())).rowcount:
                        stored.append(event if event.event_id else _with_id(event, row[0]))
                results.append((stored, len(events) - len(stored)))
            db.execute("COMMIT")
            last_seq = _last_seq(db)
        except Exception as exc:  # nothing in this group was stored; every caller hears why
            if db.in_transaction:
                db.execute("ROLLBACK")
            for _, done in waiting:
                done.set_exception(exc)
            return
        for (stored, dups), (_, done) in zip(results, waiting, strict=True):
            done.set_result(Stored(tuple(stored), dups, last_seq))

    def count(self) -> int:
        with closing(self._connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def last_seq(self) -> int:
        with closing(self._connect()) as db:
            return _last_seq(db)

    def users_after(self, after_seq: int) -> tuple[set[str], int, int]:
        """The shoppers with events stored after `after_seq`, how many events, and the last seq."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT user_id, COUNT(*), MAX(seq) FROM events WHERE seq > ? GROUP BY user_id",
                              (after_seq,)).fetchall()
        return {str(u) for u, _, _ in rows}, sum(n for _, n, _ in rows), max((s for _, _, s in rows), default=after_seq)

    def events_of(self, users: list[str], chunk: int = 500) -> list[tuple]:
        """Every stored event of these shoppers, `(user_id, item_id, event, value, timestamp)` rows: what their
        rows are recomputed from, read when needed rather than kept in memory for every shopper."""
        out: list[tuple] = []
        with closing(self._connect()) as db:
            for k in range(0, len(users), chunk):
                part = users[k:k + chunk]
                out += db.execute("SELECT user_id, item_id, event, value, timestamp FROM events WHERE user_id IN "
                                  f"({', '.join('?' * len(part))}) ORDER BY seq", part).fetchall()
        return out

    def reactions(self) -> list[tuple]:
        """Every shopper's reactions to reasons and their undos (`ranker.critiques`), `(user_id, item_id, event,
        value, timestamp)` rows, read once when a model starts serving."""
        with closing(self._connect()) as db:
            return db.execute("SELECT user_id, item_id, event, value, timestamp FROM events WHERE "
                              "(event GLOB 'critique:*' OR event GLOB 'uncritique:*') ORDER BY seq").fetchall()

    def read_ids(self, after_seq: int, limit: int = 100_000) -> list[tuple]:
        """Events stored after `after_seq`, `(seq, event_id, user_id, item_id, event, value, timestamp)` rows:
        what another process sharing the file added."""
        with closing(self._connect()) as db:
            return db.execute("SELECT seq, event_id, user_id, item_id, event, value, timestamp FROM events "
                              "WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)).fetchall()

    def set_available(self, item_id: str, available: bool) -> None:
        """Record that an item was withdrawn from (or returned to) the catalog, durably."""
        with closing(self._connect()) as db:
            if available:
                db.execute("DELETE FROM withdrawn WHERE item_id = ?", (item_id,))
            else:
                db.execute("INSERT OR REPLACE INTO withdrawn VALUES (?, ?)", (item_id, time.time()))

    def put_items(self, records: list[dict], new: list[bool], at: float) -> None:
        """Store item records (the catalog's columns) durably; `new[k]`: the k-th item was not in the catalog,
        so `at` is when it arrived (an update keeps the arrival time it had)."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            for record, is_new in zip(records, new, strict=True):
                db.execute("INSERT INTO items VALUES (?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET "
                           "record = excluded.record, updated = excluded.updated",
                           (record["item_id"], json.dumps(record, ensure_ascii=False), at if is_new else None, at))
            db.execute("COMMIT")

    def items(self, changed_after: float = 0.0) -> list[tuple[dict, float | None, float]]:
        """Stored item records changed after a time: (record, arrival time or None for changes to items the
        catalog had, when last changed), in the order they were last changed."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT record, added, updated FROM items WHERE updated > ? ORDER BY updated",
                              (changed_after,)).fetchall()
        return [(json.loads(record), added, updated) for record, added, updated in rows]

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(items, events) as tables in the shop's columns, for retraining on what was served."""
        import pandas as pd

        items = pd.DataFrame([record for record, _, _ in self.items()])
        with closing(self._connect()) as db:
            events = pd.read_sql_query("SELECT user_id, item_id, event, value, timestamp FROM events ORDER BY seq", db)
        return items, events

    def withdrawn(self) -> list[str]:
        with closing(self._connect()) as db:
            return [row[0] for row in db.execute("SELECT item_id FROM withdrawn ORDER BY at")]

    def feedback(self, limit: int = 100) -> list[dict]:
        """The latest events that carry feedback on a reason (explanation id or helpfulness); `limit` -1: all."""
        with closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM events WHERE explanation_id IS NOT NULL OR helpful IS NOT NULL "
                              "ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]


def _last_seq(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])


def _with_id(event: Event, event_id: str) -> Event:
    from dataclasses import replace

    return replace(event, event_id=event_id)


def as_rows(events: Iterable[Event]) -> list[tuple]:
    """Events as `(user_id, item_id, event, value, timestamp)` rows for `ranker.stats.live`."""
    return [(e.user_id, e.item_id, e.event, e.value, e.timestamp) for e in events]
