"""Events while serving: durable before the answer, applied before the next recommendation, idempotent by
event id, replayed after a restart (also after `kill -9`), refused clearly when malformed or unauthorised."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings

pytestmark = pytest.mark.slow
TOKEN, ADMIN = "ev-t0ken", "adm1n"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def make(model: Path, tmp: Path, **extra) -> Settings:
    return Settings(**{"artifacts": model, "backend": "none", "events": tmp / "events.db", "warm": False,
                       "events_token": TOKEN, "admin_token": ADMIN, **extra})


@pytest.fixture
def client(trained, tmp_path):
    with TestClient(create_app(make(trained[1], tmp_path), load_in_background=False)) as c:
        yield c


def top(client: TestClient, user: str, k: int = 10) -> list[str]:
    r = client.post("/v1/recommendations", json={"user_id": user, "k": k, "explain": "none"})
    assert r.status_code == 200, r.text
    return [i["item_id"] for i in r.json()["items"]]


def post(client: TestClient, *events: dict, headers: dict | None = None) -> httpx.Response:
    return client.post("/v1/events", json={"events": list(events)}, headers=AUTH if headers is None else headers)


def test_a_purchase_leaves_the_next_list_and_views_are_counted(client):
    engine = client.app.state.engine
    user = str(engine.ranker.stats.user_ids[0])
    first = top(client, user)
    r = post(client, {"user_id": user, "item_id": first[0], "event": "purchase", "event_id": "p-1"},
             *[{"user_id": user, "item_id": first[1], "event": "view"} for _ in range(3)])
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == 4 and r.json()["applied"] and r.json()["shoppers"] == [user]
    assert first[0] not in top(client, user)
    stats = engine.ranker.stats
    row, col = stats.rows_of([user])[0], stats.catalog.index_of([first[1]])[0]
    assert stats.view[row, col] >= 3
    again = post(client, {"user_id": user, "item_id": first[0], "event": "purchase", "event_id": "p-1"})
    assert again.json()["stored"] == 0 and again.json()["duplicates"] == 1


def test_a_new_shopper_stops_being_cold(client):
    cold = client.post("/v1/recommendations", json={"user_id": "brand-new", "k": 5, "explain": "none"}).json()
    assert cold["cold_start"]
    item = str(client.app.state.engine.ranker.catalog.item_ids[3])
    assert post(client, {"user_id": "brand-new", "item_id": item, "event": "purchase"}).status_code == 200
    warm = client.post("/v1/recommendations", json={"user_id": "brand-new", "k": 5, "explain": "none"}).json()
    assert not warm["cold_start"] and item not in [i["item_id"] for i in warm["items"]]


def test_a_restart_replays_the_store(trained, tmp_path):
    settings = make(trained[1], tmp_path)
    with TestClient(create_app(settings, load_in_background=False)) as c:
        user = str(c.app.state.engine.ranker.stats.user_ids[1])
        bought = top(c, user)[0]
        assert post(c, {"user_id": user, "item_id": bought, "event": "purchase"}).status_code == 200
        assert c.post("/v1/feedback", json={"user_id": user, "item_id": bought, "event": "rating", "value": 4,
                                            "explanation_id": "e1", "helpful": True}, headers=AUTH).json()["stored"]
    with TestClient(create_app(settings, load_in_background=False)) as c:
        assert bought not in top(c, user)
        assert c.app.state.engine.live.applied == 2
        feedback = c.app.state.engine.live.store.feedback()
        assert feedback[0]["explanation_id"] == "e1" and feedback[0]["helpful"] == 1


@pytest.mark.parametrize("events,status,needle", [
    ([{"user_id": "u", "item_id": "NOPE-7", "event": "view"}], 404, "events[0].item_id"),
    ([{"user_id": "u", "item_id": "{item}", "event": "wishlist"}], 422, "event"),
    ([{"user_id": "u", "item_id": "{item}", "event": "view", "timestamp": 4e9}], 422, "in the future"),
    ([{"user_id": "u", "item_id": "{item}", "event": "rating"}], 422, "value is required"),
    ([{"user_id": "u", "item_id": "{item}", "event": "view"}] * 6, 413, "the most is 5"),
    ([], 422, "events"),
])
def test_bad_events_are_refused_whole_with_a_reason(trained, tmp_path, events, status, needle):
    with TestClient(create_app(make(trained[1], tmp_path, events_batch_max=5), load_in_background=False)) as c:
        item = str(c.app.state.engine.ranker.catalog.item_ids[0])
        body = [{k: (item if v == "{item}" else v) for k, v in e.items()} for e in events]
        r = post(c, *body)
        assert r.status_code == status, r.text
        assert needle in r.text and r.json()["request_id"]
        assert c.app.state.engine.live.store.count() == 0


def test_tokens_and_scopes(trained, tmp_path):
    with TestClient(create_app(make(trained[1], tmp_path), load_in_background=False)) as c:
        item = str(c.app.state.engine.ranker.catalog.item_ids[0])
        event = {"user_id": "u", "item_id": item, "event": "view"}
        assert post(c, event, headers={}).status_code == 401
        assert post(c, event, headers={"authorization": "Bearer nope"}).status_code == 401
        assert post(c, event, headers={"authorization": f"Bearer {ADMIN}"}).status_code == 200
        refused = c.post("/v1/admin/prompts/reload", headers=AUTH)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    with TestClient(create_app(make(trained[1], tmp_path, events_token=None, admin_token=None),
                               load_in_background=False)) as c:
        off = post(c, event)
        assert off.status_code == 403 and "WHYREC_EVENTS_TOKEN" in off.json()["detail"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_kill_9_loses_no_acknowledged_event(trained, tmp_path):
    """A server killed mid-load: every event it acknowledged is in the store, and a restart serves them."""
    port, db = free_port(), tmp_path / "events.db"
    env = {**os.environ, "WHYREC_ARTIFACTS": str(trained[1]), "WHYREC_BACKEND": "none", "WHYREC_EVENTS": str(db),
           "WHYREC_EVENTS_TOKEN": TOKEN, "WHYREC_WARM": "false", "WHYREC_LLM_PRECOMPUTE": "0"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--port",
                               str(port), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        item = httpx.post(f"{url}/v1/recommendations", json={"user_id": "x", "k": 1, "explain": "none"}
                          ).json()["items"][0]["item_id"]
        acknowledged: list[str] = []

        def load(worker: int) -> None:
            with httpx.Client(base_url=url, headers=AUTH, timeout=10) as http:
                for n in range(10_000):
                    ids = [f"w{worker}-{n}-{j}" for j in range(5)]
                    try:
                        r = http.post("/v1/events", json={"events": [
                            {"user_id": f"k{worker}", "item_id": item, "event": "view", "event_id": i} for i in ids]})
                    except httpx.HTTPError:
                        return
                    if r.status_code == 200:
                        acknowledged.extend(ids)

        threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(3)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        for t in threads:
            t.join(30)
    finally:
        if server.poll() is None:
            server.kill()
    stored = {row[0] for row in sqlite3.connect(db).execute("SELECT event_id FROM events")}
    assert len(acknowledged) > 50
    assert set(acknowledged) <= stored, f"{len(set(acknowledged) - stored)} acknowledged events lost"


def test_a_withdrawn_item_is_never_recommended_again(trained, tmp_path):
    settings = make(trained[1], tmp_path)
    admin = {"authorization": f"Bearer {ADMIN}"}
    with TestClient(create_app(settings, load_in_background=False)) as c:
        user = str(c.app.state.engine.ranker.stats.user_ids[2])
        item = top(c, user)[0]
        assert c.delete(f"/v1/items/{item}", headers=AUTH).status_code == 403
        r = c.delete(f"/v1/items/{item}", headers=admin)
        assert r.status_code == 200 and r.json() == {"item_id": item, "available": False}
        assert item not in top(c, user)
        ranked = c.post("/v1/rank", json={"user_id": user, "item_ids": [item]})
        assert ranked.status_code == 404 and ranked.json()["error"] == "unavailable_item"
        assert c.delete("/v1/items/NOPE-3", headers=admin).status_code == 404
    with TestClient(create_app(settings, load_in_background=False)) as c:
        assert item not in top(c, user)
        assert c.post(f"/v1/items/{item}/restore", headers=admin).json()["available"]
        assert c.post("/v1/rank", json={"user_id": user, "item_ids": [item]}).status_code == 200
