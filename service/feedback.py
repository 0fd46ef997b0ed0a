"""The feedback store: what shoppers did with a recommendation, durable before the API answers."""

from __future__ import annotations

import csv
import fcntl
import io
import os
import threading
import time
from pathlib import Path
from typing import IO


class FeedbackStore:
    """Append-only CSV in the canonical events schema (plus explanation id and helpfulness), so the
    next training run can import it. Each event is flushed and fsynced before the request returns;
    an exclusive file lock keeps rows whole and the count right when several processes share the file."""

    COLUMNS = ("user_id", "item_id", "event", "value", "timestamp", "explanation_id", "helpful")

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._rows, self._size = 0, 0

    def _catch_up(self, f: IO[bytes]) -> None:
        """Count the rows written since we last looked (by this process or another); a quoted field
        may hold a newline, so rows are parsed, not lines counted."""
        f.seek(self._size)
        chunk = f.read()
        self._rows += sum(1 for _ in csv.reader(io.StringIO(chunk.decode("utf-8"), newline="")))
        self._size += len(chunk)

    def append(self, user_id: str, item_id: str, event: str, value: float | None, explanation_id: str | None,
               helpful: bool | None) -> int:
        """Stores one event; returns how many events the store holds."""
        row = [user_id, item_id, event, "" if value is None else f"{value:g}", f"{time.time():.3f}",
               explanation_id or "", "" if helpful is None else str(helpful).lower()]
        text = io.StringIO()
        writer = csv.writer(text)
        with self._lock, self.path.open("a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            self._catch_up(f)
            if self._size == 0:
                writer.writerow(self.COLUMNS)
            writer.writerow(row)
            data = text.getvalue().encode("utf-8")
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            self._rows += 2 if self._size == 0 else 1
            self._size += len(data)
            return self._rows - 1
