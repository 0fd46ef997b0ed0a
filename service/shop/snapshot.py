"""The served shoppers' rows saved beside the event store, so a restart replays only the events after them.

Without it a restart recomputes every shopper who ever had an event from the whole stored history (about ten
seconds per million events on two cores, and growing). A snapshot holds, for one model version, the shopper
rows (`USER_SPARSE`, `USER_DENSE`, `history`, the shopper ids) with every event up to `seq` in them. It is a
plain `.npz` (no pickle: the file is read back as data, never as code), written to a temporary sibling and
renamed. A snapshot is used only when it still describes the shop: same version and matrix shapes, no item
changed after it, and no fewer events stored than it has seen (a replaced store); otherwise the full replay
runs and a new snapshot is written.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from narrator.atomic import atomic_path
from ranker.stats.behaviour import USER_DENSE, USER_SPARSE, BehaviourStats

FORMAT = 1
log = logging.getLogger("whyrec.live")


@dataclass(frozen=True)
class Snapshot:
    stats: BehaviourStats
    seq: int
    """Every stored event up to this one is in `stats`."""
    items_until: float
    """The last item change applied when it was taken."""


class Schedule:
    """When the live shop saves: `every` events after the last save (or a replay of that many), one save at a
    time, in a background thread that `write(path)` runs in."""

    def __init__(self, write: Callable[[Path], int], every: int = 100_000):
        self.write, self.every = write, every
        self.path: Path | None = None
        self._since = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def serve(self, path: Path | None, replayed: int) -> None:
        """A version starts serving, saved to `path` (None: never); `replayed` events were not in a snapshot."""
        with self._lock:
            self.path, self._since = path, 0
        self.count(replayed)

    def count(self, events: int) -> None:
        with self._lock:
            self._since += events
            if self.path is None or self._since < self.every or (self._thread and self._thread.is_alive()):
                return
            self._since = 0
            self._thread = threading.Thread(target=self._save, args=(self.path,), daemon=True, name="live-snapshot")
            self._thread.start()

    def _save(self, path: Path) -> None:
        start = time.perf_counter()
        try:
            last = self.write(path)
        except Exception:  # the next save tries again; a restart replays more meanwhile
            log.exception("saving a snapshot of the shoppers' rows failed")
            return
        log.info("snapshot of the shoppers' rows through event %d written in %.1f s", last, time.perf_counter() - start)

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()


def path_for(store: Path, version: str) -> Path:
    """`events.db` → `events.snapshots/<version>.npz`."""
    return store.with_name(f"{store.stem}.snapshots") / f"{version}.npz"


def write(path: Path, stats: BehaviourStats, seq: int, items_until: float) -> None:
    arrays: dict[str, np.ndarray] = {}
    for name in USER_SPARSE:
        m = sp.csr_matrix(getattr(stats, name))
        arrays.update({f"{name}.data": m.data, f"{name}.indices": m.indices, f"{name}.indptr": m.indptr,
                       f"{name}.shape": np.asarray(m.shape)})
    for name in USER_DENSE:
        arrays[name] = np.asarray(getattr(stats, name))
    rows = sorted(stats.history)
    arrays["history.rows"] = np.asarray(rows, np.int64)
    arrays["history.lengths"] = np.asarray([len(stats.history[r]) for r in rows], np.int64)
    arrays["history.items"] = np.concatenate([np.asarray(stats.history[r], np.int64) for r in rows]) \
        if rows else np.empty(0, np.int64)
    meta = {"format": FORMAT, "seq": seq, "items_until": items_until, "user_ids": [str(u) for u in stats.user_ids]}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, allow_pickle=False, **arrays)


def read(path: Path, base: BehaviourStats, stored_seq: int, items_until: float) -> Snapshot | None:
    """The snapshot at `path` over `base` (the trained stats), or None (and why, in the log) when it does not
    describe the shop any more: the store now holds `stored_seq` events and its items changed until
    `items_until`."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(arrays.pop("meta").tobytes())
        why = _stale(meta, arrays, base, stored_seq, items_until)
        if why:
            log.info("snapshot %s not used: %s; replaying every stored event", path.name, why)
            return None
        return Snapshot(_stats(arrays, meta["user_ids"], base), int(meta["seq"]), float(meta["items_until"]))
    except (OSError, ValueError, KeyError, EOFError) as e:
        log.warning("snapshot %s unreadable (%s); replaying every stored event", path, e)
        return None


def _stale(meta: dict, arrays: dict[str, np.ndarray], base: BehaviourStats, stored_seq: int,
           items_until: float) -> str | None:
    if meta.get("format") != FORMAT:
        return f"format {meta.get('format')}, not {FORMAT}"
    if meta["seq"] > stored_seq:
        return f"it has seen {meta['seq']} events and the store holds fewer"
    if items_until > meta["items_until"]:
        return "items changed after it"
    for name in USER_SPARSE:
        if int(arrays[f"{name}.shape"][1]) != getattr(base, name).shape[1]:
            return f"{name} has another width"
    for name in USER_DENSE:
        if arrays[name].shape[1:] != np.asarray(getattr(base, name)).shape[1:]:
            return f"{name} has another shape"
    return None


def _stats(arrays: dict[str, np.ndarray], user_ids: list[str], base: BehaviourStats) -> BehaviourStats:
    stats = copy.copy(base)
    for name in USER_SPARSE:
        shape = tuple(int(n) for n in arrays[f"{name}.shape"])
        setattr(stats, name, sp.csr_matrix((arrays[f"{name}.data"], arrays[f"{name}.indices"],
                                            arrays[f"{name}.indptr"]), shape=shape))
    for name in USER_DENSE:
        setattr(stats, name, arrays[name])
    ends = np.cumsum(arrays["history.lengths"])
    items = arrays["history.items"]
    stats.history = {int(r): items[end - n:end] for r, n, end in
                     zip(arrays["history.rows"], arrays["history.lengths"], ends, strict=True)}
    stats.user_ids = np.asarray(user_ids, dtype=object)
    stats.user_index = pd.Index(stats.user_ids)
    stats.__dict__.pop("_user_rows", None)
    return stats
