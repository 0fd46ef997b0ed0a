"""Following the model label: when `whyrec model promote|rollback` (or the admin route) moves the label this
service serves, the named version replaces the current one (`Engine.switch_to`) without a restart.

A version that fails to load is logged once and the current one keeps serving until the label moves again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

log = logging.getLogger("whyrec.model")


class Engine(Protocol):
    """What following needs of `service.engine.Engine`."""

    switching: threading.Lock
    settings: Any

    @property
    def loaded(self) -> Any: ...

    def switch_to(self, version: str) -> None: ...


def follow_label(engine: Engine) -> str:
    """Serve the version the model label names now (switching if it moved); returns that version."""
    from ranker.versions import served

    with engine.switching:
        wanted = served(engine.loaded.root, engine.settings.model_label)
        if wanted != engine.loaded.version:
            engine.switch_to(wanted)
        return wanted


class LabelWatch(threading.Thread):
    """Checks the label every `interval` seconds until stopped."""

    def __init__(self, engine: Engine, interval: float = 1.0):
        super().__init__(daemon=True, name="model-watch")
        self.engine, self.interval = engine, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        from ranker.versions import served

        failed = wanted = None
        while not self._stop_event.wait(self.interval):
            try:
                wanted = served(self.engine.loaded.root, self.engine.settings.model_label)
                if wanted not in (failed, self.engine.loaded.version):
                    follow_label(self.engine)
            except Exception:
                failed = wanted
                log.exception("could not switch to model version %s; %s keeps serving", wanted,
                              self.engine.loaded.version)

    def stop(self) -> None:
        self._stop_event.set()
