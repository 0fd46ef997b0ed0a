"""Event ingest benchmark: sustained events/s with durable writes, and nothing lost across `kill -9`.

    python bench/events.py --model ARTIFACTS [--seconds 20] [--clients 8] [--batch 50] [--json]

Starts `whyrec serve` (template reasons, one process) with a fresh event store, then:
1. ingest: `--clients` threads post batches of `--batch` view/cart/purchase events (random known items,
   random shoppers, each with an event id) for `--seconds`; prints acknowledged events/s, the POST latency
   (stored *and* applied to the shoppers' state before the answer), and, after a clean stop, events stored
   vs acknowledged;
2. kill: the same load, then `kill -9` of the server mid-load; counts acknowledged event ids missing from
   the store (must be 0) and stored events no client heard about (answers lost with the process, stored
   all the same: retried with the same id, they are stored once);
3. single events (batch of 1) from the same clients: the group commit's share of the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.service import free_port, start_server  # noqa: E402

TOKEN = "bench-events-token"


def load(port: int, items: list[str], users: list[str], seconds: float, clients: int, batch: int,
         stop: threading.Event) -> tuple[list[str], list[float]]:
    acknowledged: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.time() + seconds

    def client(worker: int) -> None:
        rng = random.Random(worker)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"authorization": f"Bearer {TOKEN}"}) as http:
            n = 0
            while time.time() < deadline and not stop.is_set():
                ids = [f"{worker}-{n}-{j}" for j in range(batch)]
                n += 1
                events = [{"user_id": rng.choice(users), "item_id": rng.choice(items), "event_id": i,
                           "event": rng.choice(("view", "view", "view", "cart", "purchase"))} for i in ids]
                start = time.perf_counter()
                try:
                    r = http.post("/v1/events", json={"events": events})
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    with lock:
                        acknowledged.extend(ids)
                        latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return acknowledged, latencies


def stored_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT event_id FROM events")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from ranker import artifacts

    shop = artifacts.load(args.model).shop
    items = shop.items["item_id"].astype(str).tolist()
    users = sorted(set(shop.events["user_id"].astype(str)))[:2000] + [f"new-{i}" for i in range(200)]
    out: dict = {}
    os.environ["WHYREC_EVENTS_TOKEN"] = TOKEN
    with tempfile.TemporaryDirectory() as tmp:
        for run, batch, kill in (("ingest", args.batch, False), ("kill -9", args.batch, True), ("single", 1, False)):
            db = Path(tmp) / f"{run.replace(' ', '')}.db"
            port = free_port()
            proc = start_server(args.model, port, "none", None, db)
            stop = threading.Event()
            if kill:
                threading.Timer(args.seconds / 2, lambda p=proc: p.send_signal(signal.SIGKILL)).start()
            start = time.perf_counter()
            acknowledged, latencies = load(port, items, users, args.seconds, args.clients, batch, stop)
            elapsed = time.perf_counter() - start
            if not kill:
                proc.terminate()
            proc.wait(timeout=60)
            stored = stored_ids(db)
            lat = np.asarray(latencies) * 1000 if latencies else np.zeros(1)
            out[run] = {"acknowledged": len(acknowledged), "stored": len(stored),
                        "events_per_s": len(acknowledged) / (args.seconds / 2 if kill else elapsed),
                        "lost": len(set(acknowledged) - stored),
                        "unacknowledged_stored": len(stored - set(acknowledged)),
                        "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99))}
    if args.json:
        print(json.dumps(out))
        return
    print(f"{args.clients} clients, {args.seconds:g} s per run, durable writes (SQLite WAL, synchronous=FULL)")
    print(f"{'run':10}{'batch':>7}{'events/s':>10}{'POST p50 ms':>13}{'p99 ms':>9}{'acked':>9}{'stored':>9}{'lost':>6}")
    for run, batch in (("ingest", args.batch), ("kill -9", args.batch), ("single", 1)):
        r = out[run]
        print(f"{run:10}{batch:>7}{r['events_per_s']:>10.0f}{r['p50_ms']:>13.1f}{r['p99_ms']:>9.1f}"
              f"{r['acknowledged']:>9}{r['stored']:>9}{r['lost']:>6}")
    print(f"kill -9: {out['kill -9']['unacknowledged_stored']} events stored whose answer died with the server "
          "(a retry with the same event id is stored once)")


if __name__ == "__main__":
    main()
