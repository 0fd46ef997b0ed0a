"""A live shop: shoppers' rows recomputed from events that arrived after training, while serving.

The model and the item-level statistics (co-purchase, transitions, popularity) stay those of the trained
window until the next training run; what a shopper did since changes *their* rows at once: a bought item
leaves their list, "you viewed it 3 times" counts the new views, a new shopper stops being cold. `LiveRows`
keeps each shopper's events (the window's and the new ones) and `refresh` returns a new `BehaviourStats`
sharing every unchanged row with the old one, with fresh rows appended for the shoppers given; callers swap
it in with one assignment, so a request sees either the old or the new rows, never a mix.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ranker.behaviour import USER_DENSE, USER_SPARSE, BehaviourStats

EVENT_COLUMNS = ("user_id", "item_id", "event", "value", "timestamp")


class LiveRows:
    """Each shopper's events (the trained window's, then the ones added since) and the base stats."""

    def __init__(self, stats: BehaviourStats, window_events: pd.DataFrame):
        self.base = stats
        self._window = {str(u): frame for u, frame in window_events.groupby("user_id", sort=False)}
        self._added: dict[str, list[tuple]] = {}
        self._lock = threading.Lock()

    def add(self, events: Iterable[tuple]) -> set[str]:
        """Record events `(user_id, item_id, event, value, timestamp)`; returns the shoppers they touch."""
        touched = set()
        with self._lock:
            for event in events:
                self._added.setdefault(str(event[0]), []).append(tuple(event))
                touched.add(str(event[0]))
        return touched

    def events_of(self, user_ids: Iterable[str]) -> pd.DataFrame:
        """The shoppers' complete event lists, in time order (window first, then added)."""
        frames = []
        with self._lock:
            added = {u: list(self._added.get(u, ())) for u in user_ids}
        for user, rows in added.items():
            if user in self._window:
                frames.append(self._window[user][list(EVENT_COLUMNS)])
            if rows:
                frames.append(pd.DataFrame(rows, columns=list(EVENT_COLUMNS)))
        if not frames:
            return pd.DataFrame(columns=list(EVENT_COLUMNS))
        events = pd.concat(frames, ignore_index=True)
        events["value"] = pd.to_numeric(events["value"], errors="coerce")
        events["timestamp"] = pd.to_numeric(events["timestamp"], errors="coerce")
        return events.sort_values(["user_id", "timestamp"], kind="stable", ignore_index=True)

    def refresh(self, stats: BehaviourStats, user_ids: Iterable[str]) -> BehaviourStats:
        """`stats` with fresh rows for `user_ids` (from their complete events); every other row shared."""
        users = sorted(set(map(str, user_ids)))
        return with_rows(stats, self.base, self.events_of(users), users) if users else stats


def with_rows(stats: BehaviourStats, base: BehaviourStats, events: pd.DataFrame, users: list[str]) -> BehaviourStats:
    """A shallow copy of `stats` with one new row per shopper in `users`, computed from `events`, appended at
    the end. Rows are never rewritten or moved (the cold-start row keeps its index): a shopper's earlier
    row stays where it was and its id is retired, so a request that read a row index from the old object
    reads the same data from the new one."""
    catalog = stats.catalog
    ev = events.assign(item=catalog.index_of(events["item_id"].astype(str)))
    ev = ev[ev["item"] >= 0]
    ev = ev.assign(user=pd.Index(users).get_indexer(ev["user_id"].astype(str)))
    in_basis = base.rows_of(users)
    exclude = np.where(in_basis == base.cold_row, -1, in_basis)
    block = stats._user_level(ev, len(users), knn_exclude=exclude)
    start = stats.buy.shape[0]
    new = copy.copy(stats)
    for name in USER_SPARSE:
        setattr(new, name, sp.csr_matrix(sp.vstack([getattr(stats, name), block[name]], format="csr")))
    for name in USER_DENSE:
        setattr(new, name, np.concatenate([getattr(stats, name), block[name]]))
    new.history = {**stats.history, **{start + u: h for u, h in block["history"].items()}}
    ids = stats.user_ids.copy()
    if len(ids) == stats.cold_row:
        ids = np.append(ids, "\x00cold")
    previous = stats.rows_of(users)
    for user, row in zip(users, previous, strict=True):
        if row != stats.cold_row:
            ids[row] = f"\x00retired:{row}:{user}"
    new.user_ids = np.concatenate([ids, np.asarray(users, dtype=object)])
    new.user_index = pd.Index(new.user_ids)
    new.__dict__.pop("_user_rows", None)
    return new


def retired(user_id: str) -> bool:
    """A placeholder id of a row that no shopper reads any more."""
    return user_id.startswith("\x00")
