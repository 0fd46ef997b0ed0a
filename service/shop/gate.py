"""A gate many threads may pass at once, which one thread can close to work while nobody passes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


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
