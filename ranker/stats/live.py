"""A live shop: shoppers' rows recomputed from events that arrived after training, while serving.

The model and the item-level statistics (co-purchase, transitions, popularity) stay those of the trained
window until the next training run; what a shopper did since changes *their* rows at once: a bought item
leaves their list, "you viewed it 3 times" counts the new views, a new shopper stops being cold. `LiveRows`
reads each shopper's events (the window's, and the new ones from an `EventSource`) and `refresh` returns a
new `BehaviourStats` with fresh rows for the shoppers given (in place of their old rows; appended for new
shoppers); callers swap it in with one assignment, so a request sees either the old or the new object, and a
row index it holds names the same shopper in both.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from typing import Protocol

import numpy as np
import pandas as pd

from ranker.stats.behaviour import USER_DENSE, USER_SPARSE, BehaviourStats
from ranker.stats.sparse_lines import splice_rows

EVENT_COLUMNS = ("user_id", "item_id", "event", "value", "timestamp")


class EventSource(Protocol):
    def events_of(self, users: list[str]) -> list[tuple]:
        """Every event of these shoppers since training, `(user_id, item_id, event, value, timestamp)` rows."""
        ...


class MemoryEvents:
    """Events kept in memory, for a shop without a store (tests, one-off replays); the service reads its
    event store instead, so no per-shopper list grows with the shop's history."""

    def __init__(self) -> None:
        self._by_user: dict[str, list[tuple]] = {}
        self._lock = threading.Lock()

    def add(self, events: Iterable[tuple]) -> set[str]:
        """Record events `(user_id, item_id, event, value, timestamp)`; returns the shoppers they touch."""
        touched = set()
        with self._lock:
            for event in events:
                self._by_user.setdefault(str(event[0]), []).append(tuple(event))
                touched.add(str(event[0]))
        return touched

    def events_of(self, users: list[str]) -> list[tuple]:
        with self._lock:
            return [row for u in users for row in self._by_user.get(u, ())]


class LiveRows:
    """Each shopper's events (the trained window's, then the ones `added` since) and the base stats."""

    def __init__(self, stats: BehaviourStats, window_events: pd.DataFrame, added: EventSource | None = None):
        self.base = stats
        self.added = added if added is not None else MemoryEvents()
        self._columns = {c: window_events[c].to_numpy() for c in EVENT_COLUMNS}
        self._window = {str(u): rows for u, rows in window_events.groupby("user_id", sort=False).indices.items()}

    def events_of(self, user_ids: Iterable[str]) -> pd.DataFrame:
        """The shoppers' complete event lists, in time order (window first, then added). Column arrays and
        plain tuples, not a frame per shopper: a refresh covers hundreds of shoppers."""
        users = list(user_ids)
        added = self.added.events_of(users)
        empty = np.empty(0, np.int64)
        at = np.concatenate([self._window.get(u, empty) for u in users] or [empty]).astype(np.int64)
        columns = {c: values[at] for c, values in self._columns.items()}
        if added:
            columns = {c: np.concatenate([columns[c].astype(object), np.asarray(new, dtype=object)])
                       for c, new in zip(EVENT_COLUMNS, zip(*added, strict=True), strict=True)}
        for c in ("value", "timestamp"):
            if columns[c].dtype.kind not in "fiu":
                columns[c] = pd.to_numeric(pd.Series(columns[c]), errors="coerce").to_numpy()
        who = np.unique(columns["user_id"].astype(str), return_inverse=True)[1].ravel()
        order = np.lexsort((columns["timestamp"], who))
        return pd.DataFrame({c: v[order] for c, v in columns.items()})

    def refresh(self, stats: BehaviourStats, user_ids: Iterable[str], events: pd.DataFrame | None = None
                ) -> BehaviourStats:
        """`stats` with fresh rows for `user_ids` (from their complete events, `events` when the caller has read
        them already); every other row shared."""
        users = sorted(set(map(str, user_ids)))
        if not users:
            return stats
        return with_rows(stats, self.base, self.events_of(users) if events is None else events, users)


def with_rows(stats: BehaviourStats, base: BehaviourStats, events: pd.DataFrame, users: list[str]) -> BehaviourStats:
    """A copy of `stats` where each shopper in `users` has rows computed from `events`: a shopper with a row
    keeps its index (the row's content is replaced), a new shopper gets a row appended. Indices never
    move and never change owner, so a request that read a shopper's row index from the old object reads
    that same shopper (fresher) from the new one; rows grow only with new shoppers."""
    in_basis = base.rows_of(users)
    block = stats.user_rows(events, users, knn_exclude=np.where(in_basis == base.cold_row, -1, in_basis))
    n = stats.buy.shape[0]
    previous = stats.rows_of(users)
    known = previous != stats.cold_row
    target = np.where(known, previous, n + np.cumsum(~known) - 1)  # each shopper's row in the new object
    rows = np.arange(n + int((~known).sum()))
    rows[target] = n + np.arange(len(users))  # row r of the new object is row rows[r] of [old; block]
    new = copy.copy(stats)
    for name in USER_SPARSE:
        setattr(new, name, splice_rows(getattr(stats, name), block[name], target))
    for name in USER_DENSE:
        setattr(new, name, np.concatenate([getattr(stats, name), block[name]])[rows])
    new.history = {**stats.history}
    for u, row in enumerate(target):
        new.history.pop(int(row), None)
        if u in block["history"]:
            new.history[int(row)] = block["history"][u]
    ids = stats.user_ids
    if len(ids) == stats.cold_row and (~known).any():
        ids = np.append(ids, "\x00cold")
    new.user_ids = np.concatenate([ids, np.asarray(users, dtype=object)[~known]])
    new.user_index = pd.Index(new.user_ids)
    new.__dict__.pop("_user_rows", None)
    return new


def detached(stats: BehaviourStats, user: np.ndarray, item: np.ndarray, event: np.ndarray,
             knn_exclude: np.ndarray) -> BehaviourStats:
    """A copy of `stats` whose only user rows are `len(knn_exclude)` "what if" shoppers (one without some of their
    actions), computed from coded events (`BehaviourStats.coded_rows`), item-level statistics shared: scored
    without building or touching the served rows."""
    users = [f"\x00what-if-{n}" for n in range(len(knn_exclude))]
    block = stats.coded_rows(user, item, event, len(users), knn_exclude=knn_exclude)
    new = copy.copy(stats)
    for name in (*USER_SPARSE, *USER_DENSE):
        setattr(new, name, block[name])
    new.history = block["history"]
    new.user_ids = np.asarray(users, dtype=object)
    new.user_index = pd.Index(new.user_ids)
    new.cold_row = len(users)
    new.__dict__.pop("_user_rows", None)
    return new
