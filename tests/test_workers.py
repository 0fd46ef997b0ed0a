"""Several serving processes on one event store: `whyrec serve --workers 2` answers from either worker with
the same state (each follows what the other stores) and `/metrics` counts every worker's requests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.test_events import TOKEN

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_share_events_and_metrics(trained, tmp_path):
    port = free_port()
    env = {**os.environ, "WHYREC_EVENTS": str(tmp_path / "events.db"), "WHYREC_EVENTS_TOKEN": TOKEN,
           "WHYREC_WARM": "false", "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--model", str(trained[1]), "--port",
                               str(port), "--backend", "none", "--workers", "2"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    sent = 0
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            deadline = time.time() + 240
            ready = 0
            while ready < 6 and time.time() < deadline:  # both workers loaded: several readies in a row
                try:
                    ready = ready + 1 if http.get("/readyz").status_code == 200 else 0
                except httpx.TransportError:
                    ready = 0
                time.sleep(0.5)
            assert ready >= 6, "workers not ready"
            body = {"user_id": "shared-shopper", "k": 10, "explain": "none"}
            first = http.post("/v1/recommendations", json=body).json()["items"][0]["item_id"]
            sent += 1
            r = http.post("/v1/events", headers={"authorization": f"Bearer {TOKEN}"},
                          json={"events": [{"user_id": "shared-shopper", "item_id": first, "event": "purchase"}]})
            sent += 1
            assert r.status_code == 200
            time.sleep(1.0)  # the other worker looks at the store every 0.2 s
            for _ in range(20):  # new connections: either worker answers
                with httpx.Client(base_url=base, timeout=30) as fresh:
                    listed = fresh.post("/v1/recommendations", json=body).json()
                sent += 1
                assert not listed["cold_start"] and first not in [i["item_id"] for i in listed["items"]]
            metrics = http.get("/metrics").text
        counted = sum(float(v) for route, v in re.findall(r'whyrec_requests_total\{route="([^"]+)"[^}]*\} (\S+)',
                                                          metrics) if route.startswith("/v1/"))
        assert counted == sent, (counted, sent)
    finally:
        server.terminate()
        server.wait(timeout=30)
