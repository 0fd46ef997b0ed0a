"""Resident memory of a serving process as random shoppers ask for their lists.

Starts the app in this process (template reasons, the default response cache), then asks for the top 10 of
N random shopper ids the ranker has never seen (what a crawler or an attacker sends), then of N known
shoppers, printing resident memory after each phase and the response cache's size. Run it against two
checkouts (`PYTHONPATH=<other checkout> python bench/memory.py`) for a before/after in one table.

    python bench/memory.py --artifacts artifacts/demo --shoppers 10000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

if sys.path[0] == str(Path(__file__).resolve().parent):
    sys.path.pop(0)  # bench/ranker.py would shadow the package; the code comes from PYTHONPATH or the install


def rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=Path("artifacts/demo"))
    parser.add_argument("--shoppers", type=int, default=10_000)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    import service
    from service.app import create_app
    from service.settings import Settings

    print(f"code from {Path(service.__file__).resolve().parents[1]}")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(artifacts=args.artifacts, backend="none", warm=False, events=Path(tmp) / "events.db")
        with TestClient(create_app(settings, load_in_background=False)) as c:
            engine = c.app.state.engine
            known = [str(u) for u in engine.ranker.stats.user_ids if not str(u).startswith("\x00")]
            print(f"{'phase':<44}{'RSS MiB':>9}{'seconds':>9}")
            print(f"{'loaded':<44}{rss_mib():>9.0f}{'':>9}")
            for name, users in [(f"{args.shoppers:,} random unknown shoppers", [uuid.uuid4().hex for _ in
                                                                              range(args.shoppers)]),
                                (f"{args.shoppers:,} known shoppers (cycled)", [known[n % len(known)] for n in
                                                                                range(args.shoppers)])]:
                start = time.perf_counter()
                for user in users:
                    r = c.post("/v1/recommendations", json={"user_id": user, "k": 10, "lang": "en",
                                                            "explain": "template"})
                    assert r.status_code == 200, r.text
                print(f"{name:<44}{rss_mib():>9.0f}{time.perf_counter() - start:>9.1f}")
            cache = c.app.state.lists._cache
            if cache is not None:
                print(f"response cache: {len(cache):,} entries, {cache.currsize / 2**20:.1f} of "
                      f"{cache.maxsize / 2**20:.1f} (size units in MiB when bounded in bytes)")


if __name__ == "__main__":
    main()
