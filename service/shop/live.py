"""The live shop inside the service: events are stored, then applied to the shoppers they touch.

`ingest` answers only after the events are on disk (`service.shop.store`) *and* the shoppers' rows are
recomputed and swapped in (`ranker.stats.live`), so the very next recommendation for that shopper reflects them:
a bought item leaves the list, the counts in the reasons change, a new shopper is no longer cold. One
refresher thread takes every shopper waiting at that moment and swaps once, so a burst of events costs
one recomputation, not one per event. Catalog changes (new and changed items, withdrawn ones) are stored and
applied the same way, and shoppers' reactions to reasons (`service.shop.reactions`). At start the store is
replayed (after the last snapshot), so a restart loses nothing; rows are recomputed from events read back.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from service.shop import snapshot
from service.shop.gate import Gate
from service.shop.reactions import react, refreshed
from service.shop.refresher import Refresher
from service.shop.store import Event, EventStore, Stored, as_rows

if TYPE_CHECKING:
    import pandas as pd

    from ranker.ranking import Ranker
    from ranker.stats.live import LiveRows

log = logging.getLogger("whyrec.live")
Embed = Callable[["pd.DataFrame"], "np.ndarray"]
CLOCK_OVERLAP_S = 60.0


def _no_embedder(items: pd.DataFrame) -> np.ndarray:
    raise RuntimeError("no text encoder yet: the engine attaches one when it loads")


@dataclass
class _Prepared:
    """A ranker being brought up to date with the store: how far its replay has read."""

    ranker: Ranker
    rows: LiveRows
    snapshot: Path | None = None
    seq: int = 0
    items_until: float = 0.0
    replayed: int = 0
    item_versions: dict[str, float] = field(default_factory=dict)


class LiveShop:
    def __init__(self) -> None:
        self._store: EventStore | None = None
        self.listeners: list[Callable[[set[str] | None], None]] = []
        """Called with the shoppers whose rows changed, or None when every list may have (the response cache
        forgets them)."""
        self._ranker: Ranker | None = None
        self._rows: LiveRows | None = None
        self._refresher = Refresher(self._refresh)
        self._own_lock = threading.Lock()
        self.applied = 0
        self.changing = threading.Lock()
        """Held while the served catalog or stats are recomputed and replaced (refreshes, catalog changes, new
        item descriptions), so none overwrites another's result."""
        self.embed: Embed = _no_embedder
        self._gate = Gate()
        self._tail_gate = Gate()
        """Ingests pass while a look at the store (`follow_once`) waits, so an event of this process is
        noted as its own before the look can see it stored."""
        self._own: set[str] = set()
        self._seq = 0
        self._items_until = 0.0
        self._item_versions: dict[str, float] = {}
        self.snapshots = snapshot.Schedule(self.write_snapshot)
        self._complete_through = 0
        """Every stored event up to this seq is in the served rows (what a snapshot may promise)."""

    @property
    def store(self) -> EventStore:
        if self._store is None:
            raise RuntimeError("no event store yet: the engine attaches one when it loads")
        return self._store

    def attach(self, ranker: Ranker, window_events, store: EventStore, embed: Embed,
               snapshot_path: Path | None = None) -> int:
        """Serve `ranker` live from `store`: replay its catalog changes and events onto the ranker (a restart
        loses nothing), starting from the snapshot at `snapshot_path` when it still describes the shop. `embed`
        turns item rows into text embeddings for items added while serving. Returns how many events were
        replayed."""
        self._store, self.embed = store, embed
        self._serve(self._prepare(ranker, window_events, snapshot_path))
        return self.applied

    def switch(self, ranker: Ranker, window_events, snapshot_path: Path | None = None) -> int:
        """Serve another model version from now on: replayed from the store while the old one serves, then
        brought up to date and swapped in while events wait a moment, so no event is lost or counted twice."""
        self._serve(self._prepare(ranker, window_events, snapshot_path))
        return self.applied

    def _prepare(self, ranker: Ranker, window_events, snapshot_path: Path | None) -> _Prepared:
        """The slow part of serving a ranker: the store's items and events replayed onto it (those after the
        snapshot, when there is a usable one)."""
        from ranker.stats.live import LiveRows

        prepared = _Prepared(ranker, None, snapshot_path)  # type: ignore[arg-type]
        self._catch_up_items(prepared)
        prepared.rows = LiveRows(ranker.stats, window_events, self.store)
        found = snapshot.read(snapshot_path, ranker.stats, self.store.last_seq(), prepared.items_until) \
            if snapshot_path is not None else None
        if found is not None:
            ranker.use_stats(found.stats)
            prepared.seq = found.seq
        react(ranker, self.store)
        self._catch_up_events(prepared)
        return prepared

    def _unseen_items(self, until: float, versions: dict[str, float]) -> list[tuple[dict, float | None, float]]:
        """Stored item records changed since `until` that `versions` has not applied yet. A minute's overlap:
        the processes sharing the store stamp their changes with their own clocks."""
        return [row for row in self.store.items(until - CLOCK_OVERLAP_S) if versions.get(row[0]["item_id"]) != row[2]]

    def _catch_up_items(self, p: _Prepared) -> None:
        stored = self._unseen_items(p.items_until, p.item_versions)
        if stored:
            import pandas as pd

            frame = pd.DataFrame([record for record, _, _ in stored])
            self._upsert(p.ranker, frame, self.embed(frame), [added for _, added, _ in stored])
            p.items_until = max(p.items_until, *(updated for _, _, updated in stored))
            p.item_versions.update({r["item_id"]: updated for r, _, updated in stored})

    def _catch_up_events(self, p: _Prepared) -> None:
        users, count, p.seq = self.store.users_after(p.seq)
        if users:
            refreshed(p.ranker, p.rows, users)
        p.replayed += count

    def _serve(self, p: _Prepared) -> None:
        """Bring a prepared ranker up to date with what arrived while it was prepared, and serve it: events
        wait at the gate meanwhile (milliseconds), so each is applied to exactly one of old and new."""
        with self._gate.closed(), self.changing:
            self._catch_up_items(p)
            self._catch_up_events(p)
            known = set(p.ranker.catalog.item_ids.tolist())
            p.ranker.set_available([i for i in self.store.withdrawn() if i in known], False)
            self._ranker, self._rows, self.applied = p.ranker, p.rows, p.replayed
            p.ranker.shopper_events = p.rows
            self._seq, self._items_until, self._item_versions = p.seq, p.items_until, p.item_versions
            self._complete_through = p.seq
            with self._own_lock:
                self._own.clear()  # every event so far is in the replay
        self.snapshots.serve(p.snapshot, p.replayed)

    def set_available(self, item_id: str, available: bool) -> None:
        """Withdraw an item (or return it): checked, stored, then applied; every cached list is dropped."""
        with self.changing:
            assert self._ranker is not None
            self._ranker.known_indices([item_id])
            self.store.set_available(item_id, available)
            self._ranker.set_available([item_id], available)
        for listener in self.listeners:
            listener(None)

    def upsert(self, records: list[dict]) -> list[str]:
        """Add or change catalog items: embedded, stored durably, then served (new items can be recommended at
        once; shoppers who engaged with a changed item get their rows refreshed). Returns the new ids."""
        import pandas as pd

        frame = pd.DataFrame(records)
        emb = self.embed(frame)
        with self.changing:
            assert self._ranker is not None
            new = (self._ranker.catalog.index_of([r["item_id"] for r in records]) < 0).tolist()
            at = time.time()
            self.store.put_items(records, new, at)
            return self._items_changed(frame, emb, [at if n else None for n in new], [at] * len(records))

    def _items_changed(self, frame: pd.DataFrame, emb: np.ndarray, arrived: list[float | None],
                       updated: list[float]) -> list[str]:
        """Serve stored item records (called holding `changing`); returns the new ids."""
        ranker = self._ranker
        assert ranker is not None
        ids = frame["item_id"].astype(str).tolist()
        known = [i for i, at in zip(ids, ranker.catalog.index_of(ids), strict=True) if at >= 0]
        added = self._upsert(ranker, frame, emb, arrived)
        self._item_versions.update(zip(ids, updated, strict=True))
        self._items_until = max(self._items_until, *updated)
        changed = ranker.known_indices(known)
        engaged = (ranker.stats.buy[:, changed] + ranker.stats.view[:, changed]).nonzero()[0]
        users = {str(u) for u in ranker.stats.user_ids[np.unique(engaged)]}
        for listener in self.listeners:
            listener(None)
        if users:
            self._refresher.queue(users)
        return added

    @staticmethod
    def _upsert(ranker: Ranker, frame: pd.DataFrame, emb: np.ndarray, arrived: list[float | None]) -> list[str]:
        arrivals = {i: t for i, t in zip(frame["item_id"], arrived, strict=True) if t is not None}
        return ranker.upsert(frame, emb, arrivals)

    def ingest(self, events: list[Event]) -> tuple[Stored, Future[None]]:
        """Store the events (durable before it returns), then queue their shoppers; the future resolves once their
        new rows are served. Their ids are noted first, so the tail (`follow`) never applies them twice."""
        events = [e if e.event_id else replace(e, event_id=uuid.uuid4().hex) for e in events]
        with self._gate.passing(), self._tail_gate.passing():
            with self._own_lock:
                self._own.update(e.event_id for e in events)
            stored = self.store.append(events).result()
            with self._own_lock:
                self._own.difference_update({e.event_id for e in events} - {e.event_id for e in stored.stored})
            return stored, self.apply(stored.stored)

    def follow(self, every_s: float = 0.2) -> None:
        """Apply what other processes sharing the store add (`whyrec serve --workers N`) every `every_s` s."""
        def loop() -> None:
            while not self._refresher.closed:
                time.sleep(every_s)
                try:
                    self.follow_once()
                except Exception:  # the store is read again next time
                    log.exception("following the shared event store failed")

        threading.Thread(target=loop, daemon=True, name="live-follow").start()

    def follow_once(self) -> int:
        """One look at the store; returns how many events of other processes were applied."""
        with self._gate.passing():
            with self._tail_gate.closed():
                rows = self.store.read_ids(self._seq)
                with self._own_lock:
                    foreign = [r for r in rows if r[1] not in self._own]
                    self._own.difference_update(r[1] for r in rows)
                if rows:
                    self._seq = rows[-1][0]
            if foreign:
                self.apply(Event(u, i, e, t, v, eid) for _, eid, u, i, e, v, t in foreign)
        self._follow_catalog()
        return len(foreign)

    def _follow_catalog(self) -> None:
        changed = self._unseen_items(self._items_until, self._item_versions)
        if changed:
            import pandas as pd

            frame = pd.DataFrame([record for record, _, _ in changed])
            emb = self.embed(frame)
            with self.changing:
                self._items_changed(frame, emb, [a for _, a, _ in changed], [u for _, _, u in changed])
        with self.changing:
            assert self._ranker is not None
            withdrawn = set(self.store.withdrawn()) & set(self._ranker.catalog.item_ids.tolist())
            now = set(np.asarray(self._ranker.catalog.item_ids)[self._ranker.unavailable].tolist())
            if withdrawn != now:
                self._ranker.set_available(list(now - withdrawn), True)
                self._ranker.set_available(list(withdrawn - now), False)
        if withdrawn != now:
            for listener in self.listeners:
                listener(None)

    def apply(self, events: Iterable[Event]) -> Future[None]:
        """Queue the events' shoppers for fresh rows; the future resolves once they are served."""
        rows = as_rows(events)
        self.snapshots.count(len(rows))
        return self._refresher.queue({str(row[0]) for row in rows} if self._rows is not None else set())

    def write_snapshot(self, path: Path) -> int:
        """Refresh every shopper with events after the last complete point, then save the rows (`Schedule`)."""
        users, _, last = self.store.users_after(self._complete_through)
        if users:
            self._refresh(users)
        with self.changing:
            if self.snapshots.path != path:  # another version serves now
                return last
            stats, items_until, self._complete_through = self._ranker.stats, self._items_until, last  # type: ignore[union-attr]
        snapshot.write(path, stats, last, items_until)
        return last

    def _refresh(self, users: set[str]) -> None:
        with self.changing:
            assert self._ranker is not None and self._rows is not None
            refreshed(self._ranker, self._rows, users)
        for listener in self.listeners:
            listener(users)

    def close(self) -> None:
        """Stop refreshing and following (a snapshot being written is finished first), and close the store."""
        self.snapshots.join()
        self._refresher.close()
        if self._store is not None:
            self._store.close()
