"""One thread that recomputes shoppers' rows: every shopper waiting at that moment in one recomputation, so a
burst of events costs one swap, not one per event. Each caller gets a future that resolves once its
shoppers' new rows are served (or fails with the reason)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

log = logging.getLogger("whyrec.live")


class Refresher:
    def __init__(self, refresh: Callable[[set[str]], None]):
        self._refresh = refresh
        self._pending: set[str] = set()
        self._waiting: list[Future[None]] = []
        self._cond = threading.Condition()
        self._closed = False
        self.refreshes = 0
        self._thread = threading.Thread(target=self._loop, daemon=True, name="live-refresh")
        self._thread.start()

    def queue(self, users: set[str]) -> Future[None]:
        done: Future[None] = Future()
        if not users:
            done.set_result(None)
            return done
        with self._cond:
            self._pending |= users
            self._waiting.append(done)
            self._cond.notify()
        return done

    def close(self) -> None:
        """Stop; pending refreshes are dropped (their events are stored, a restart applies them)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                users, self._pending = self._pending, set()
                waiting, self._waiting = self._waiting, []
            try:
                start = time.perf_counter()
                self._refresh(users)
                self.refreshes += 1
                log.debug("refreshed %d shoppers in %.1f ms", len(users), 1000 * (time.perf_counter() - start))
            except Exception as exc:
                log.exception("live refresh failed")
                for done in waiting:
                    done.set_exception(exc)
                continue
            for done in waiting:
                done.set_result(None)
