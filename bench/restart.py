"""Restart time with many stored events: a served stack loaded over an event store of N events, twice.

The first load replays every stored event; the second finds the snapshot the first left (when snapshots
are on) and replays only what came after it. Both times, and the resident memory, are printed side by side
with a load that ignores snapshots (`WHYREC_SNAPSHOTS=false`), in the same run.

    python bench/restart.py --artifacts artifacts/demo --events 1000000
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def fill(path: Path, users: np.ndarray, items: np.ndarray, n: int, seed: int = 0) -> None:
    """N events in one transaction: shoppers drawn from the trained ones and as many new ones, Zipf-like items."""
    from service.shop.store import connect

    rng = np.random.default_rng(seed)
    new_users = np.array([f"N{k:07d}" for k in range(len(users))], dtype=object)
    pool = np.concatenate([users.astype(object), new_users])
    who = pool[rng.integers(0, len(pool), n)]
    what = items[np.minimum(rng.zipf(1.3, n) - 1, len(items) - 1)]
    kind = rng.choice(np.array(["view", "cart", "purchase"], dtype=object), n, p=[0.8, 0.12, 0.08])
    start = time.time() - 86_400 * 30
    with sqlite3.connect(path) as db:
        connect(path).close()
        db.executemany("INSERT INTO events (event_id, user_id, item_id, event, value, timestamp, received) "
                       "VALUES (?, ?, ?, ?, NULL, ?, ?)",
                       ((uuid.uuid4().hex, str(u), str(i), str(e), start + k, start + k)
                        for k, (u, i, e) in enumerate(zip(who, what, kind, strict=True))))


def load_once(artifacts: Path, events: Path, snapshots: bool) -> tuple[float, int]:
    from service.settings import Settings
    from service.shop.live import LiveShop
    from service.stack import Stack

    settings = Settings(artifacts=artifacts, events=events, backend="none", warm=False, snapshots=snapshots)
    live = LiveShop()
    start = time.perf_counter()
    stack = Stack.load(settings, live=live)
    seconds = time.perf_counter() - start
    replayed = live.applied
    stack.close()
    live.close()
    return seconds, replayed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=Path("artifacts/demo"))
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()

    from ranker import artifacts as store_of_versions

    artifact = store_of_versions.load(args.artifacts)
    users = np.asarray(artifact.shop.events["user_id"].unique(), dtype=object)
    items = np.asarray(artifact.shop.items["item_id"], dtype=object)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "events.db"
        start = time.perf_counter()
        fill(db, users, items, args.events)
        print(f"stored {args.events:,} events for {2 * len(users):,} shoppers in {time.perf_counter() - start:.1f} s")
        print(f"{'load':<34}{'seconds':>9}{'replayed':>12}")
        for name, snapshots in [("no snapshot (full replay)", False), ("first load (writes a snapshot)", True),
                                ("restart (reads the snapshot)", True), ("no snapshot again", False)]:
            seconds, replayed = load_once(args.artifacts, db, snapshots)
            print(f"{name:<34}{seconds:>9.2f}{replayed:>12,}")
    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
