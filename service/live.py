"""The live shop inside the service: events are stored, then applied to the shoppers they touch.

`ingest` answers only after the events are on disk (`service.events`) *and* the shoppers' rows are
recomputed and swapped in (`ranker.live`), so the very next recommendation for that shopper reflects them:
a bought item leaves the list, the counts in the reasons change, a new shopper is no longer cold. One
refresher thread takes every shopper waiting at that moment and swaps once, so a burst of events costs
one recomputation, not one per event. Catalog changes (new and changed items, withdrawn ones) are stored and
applied the same way. At start the store is replayed, so a restart loses nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from service.events import Event, EventStore, Stored, as_rows

if TYPE_CHECKING:
    import pandas as pd

    from ranker.live import LiveRows
    from ranker.ranking import Ranker

log = logging.getLogger("whyrec.live")
Embed = Callable[["pd.DataFrame"], "np.ndarray"]


def _no_embedder(items: pd.DataFrame) -> np.ndarray:
    raise RuntimeError("no text encoder yet: the engine attaches one when it loads")


@dataclass
class _Prepared:
    """A ranker being brought up to date with the store: how far its replay has read."""

    ranker: Ranker
    rows: LiveRows
    seq: int = 0
    items_until: float = 0.0
    replayed: int = 0


class Gate:
    """Many may pass at once; `closed` waits until nobody is passing and keeps newcomers out meanwhile."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._passing = 0
        self._closed = False

    @contextmanager
    def passing(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._closed)
            self._passing += 1
        try:
            yield
        finally:
            with self._cond:
                self._passing -= 1
                self._cond.notify_all()

    @contextmanager
    def closed(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._closed)
            self._closed = True
            self._cond.wait_for(lambda: self._passing == 0)
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()


class LiveShop:
    def __init__(self) -> None:
        self._store: EventStore | None = None
        self.listeners: list[Callable[[set[str] | None], None]] = []
        """Called with the shoppers whose rows changed, or None when every list may have (the response cache
        forgets them)."""
        self._ranker: Ranker | None = None
        self._rows: LiveRows | None = None
        self._pending: set[str] = set()
        self._waiting: list[Future[None]] = []
        self._cond = threading.Condition()
        self.applied = 0
        self.refreshes = 0
        self._thread: threading.Thread | None = None
        self.changing = threading.Lock()
        """Held while the served catalog or stats are recomputed and replaced (refreshes, catalog changes, new
        item descriptions), so none overwrites another's result."""
        self.embed: Embed = _no_embedder
        self._gate = Gate()
        self._closed = False

    @property
    def store(self) -> EventStore:
        if self._store is None:
            raise RuntimeError("no event store yet: the engine attaches one when it loads")
        return self._store

    def attach(self, ranker: Ranker, window_events, store: EventStore, embed: Embed) -> int:
        """Serve `ranker` live from `store`: replay its catalog changes and events onto the ranker (a restart
        loses nothing). `embed` turns item rows into text embeddings for items added while serving. Returns
        how many events were replayed."""
        self._store, self.embed = store, embed
        self._serve(self._prepare(ranker, window_events))
        if self._thread is None:
            self._thread = threading.Thread(target=self._refresh_loop, daemon=True, name="live-refresh")
            self._thread.start()
        return self.applied

    def switch(self, ranker: Ranker, window_events) -> int:
        """Serve another model version from now on: replayed from the store while the old one serves, then
        brought up to date and swapped in while events wait a moment, so no event is lost or counted twice."""
        self._serve(self._prepare(ranker, window_events))
        return self.applied

    def _prepare(self, ranker: Ranker, window_events) -> _Prepared:
        """The slow part of serving a ranker: the store's items and events replayed onto it."""
        from ranker.live import LiveRows

        prepared = _Prepared(ranker, None)  # type: ignore[arg-type]
        self._catch_up_items(prepared)
        prepared.rows = LiveRows(ranker.stats, window_events)
        self._catch_up_events(prepared)
        return prepared

    def _catch_up_items(self, p: _Prepared) -> None:
        stored = self.store.items(p.items_until)
        if stored:
            import pandas as pd

            frame = pd.DataFrame([record for record, _, _ in stored])
            self._upsert(p.ranker, frame, self.embed(frame), [added for _, added, _ in stored])
            p.items_until = max(updated for _, _, updated in stored)

    def _catch_up_events(self, p: _Prepared) -> None:
        users: set[str] = set()
        for chunk in self.store.read(p.seq):
            users |= p.rows.add((u, i, e, v, t) for _, u, i, e, v, t in chunk)
            p.replayed += len(chunk)
            p.seq = chunk[-1][0]
        if users:
            p.ranker.stats = p.rows.refresh(p.ranker.stats, users)

    def _serve(self, p: _Prepared) -> None:
        """Bring a prepared ranker up to date with what arrived while it was prepared, and serve it: events
        wait at the gate meanwhile (milliseconds), so each is applied to exactly one of old and new."""
        with self._gate.closed(), self.changing:
            self._catch_up_items(p)
            self._catch_up_events(p)
            known = set(p.ranker.catalog.item_ids.tolist())
            p.ranker.set_available([i for i in self.store.withdrawn() if i in known], False)
            self._ranker, self._rows, self.applied = p.ranker, p.rows, p.replayed

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
            ranker = self._ranker
            assert ranker is not None
            new = (ranker.catalog.index_of([r["item_id"] for r in records]) < 0).tolist()
            at = time.time()
            self.store.put_items(records, new, at)
            added = self._upsert(ranker, frame, emb, [at if n else None for n in new])
            changed = ranker.known_indices([r["item_id"] for r, n in zip(records, new, strict=True) if not n])
            engaged = (ranker.stats.buy[:, changed] + ranker.stats.view[:, changed]).nonzero()[0]
            users = {str(u) for u in ranker.stats.user_ids[np.unique(engaged)]}
        for listener in self.listeners:
            listener(None)
        if users:
            self._queue(users)
        return added

    @staticmethod
    def _upsert(ranker: Ranker, frame: pd.DataFrame, emb: np.ndarray, arrived: list[float | None]) -> list[str]:
        added = ranker.upsert(frame, emb)
        ranker.arrivals.update({i: t for i, t in zip(frame["item_id"], arrived, strict=True) if t is not None})
        return added

    def ingest(self, events: list[Event]) -> tuple[Stored, Future[None]]:
        """Store the events (blocking until they are durable), then queue their shoppers for a refresh; the
        returned future resolves once the shoppers' new rows are served."""
        with self._gate.passing():
            stored = self.store.append(events).result()
            return stored, self.apply(stored.stored)

    def apply(self, events: Iterable[Event]) -> Future[None]:
        done: Future[None] = Future()
        rows = self._rows
        if rows is None:
            done.set_result(None)
            return done
        users = rows.add(as_rows(events))
        if not users:
            done.set_result(None)
            return done
        return self._queue(users, done)

    def _queue(self, users: set[str], done: Future[None] | None = None) -> Future[None]:
        """Have the refresher recompute these shoppers' rows; `done` resolves once they are served."""
        done = done or Future()
        with self._cond:
            self._pending |= users
            self._waiting.append(done)
            self._cond.notify()
        return done

    def close(self) -> None:
        """Stop the refresher and close the store (pending refreshes are dropped: their events are stored)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._store is not None:
            self._store.close()

    def _refresh_loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                users, self._pending = self._pending, set()
                waiting, self._waiting = self._waiting, []
            try:
                assert self._ranker is not None and self._rows is not None
                start = time.perf_counter()
                with self.changing:
                    self._ranker.stats = self._rows.refresh(self._ranker.stats, users)
                for listener in self.listeners:
                    listener(users)
                self.refreshes += 1
                log.debug("refreshed %d shoppers in %.1f ms", len(users), 1000 * (time.perf_counter() - start))
            except Exception as exc:  # the events are stored; a restart applies them
                log.exception("live refresh failed")
                for done in waiting:
                    done.set_exception(exc)
                continue
            for done in waiting:
                done.set_result(None)
