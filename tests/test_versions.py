"""Model versions while serving: retrain on the served events, promote and roll back under load with no
failed request, every response naming the version that answered it, and no event lost across a swap."""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ranker import versions
from service.app import create_app
from service.cli import app as cli
from tests.test_events import ADMIN, AUTH, make

pytestmark = pytest.mark.slow
ADMIN_AUTH = {"authorization": f"Bearer {ADMIN}"}


def run(*args: str) -> str:
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def test_retrain_promote_and_roll_back_under_load(trained, tmp_path):
    data, trained_root = trained
    root = tmp_path / "artifacts"
    shutil.copytree(trained_root, root)
    first = versions.latest(root)
    assert first is not None
    run("model", "promote", first, "--model", str(root), "--note", "initial")
    settings = make(root, tmp_path, events=root / "events.db")
    with TestClient(create_app(settings, load_in_background=False)) as c:
        engine = c.app.state.engine
        user = engine.ranker.most_active(1)[0]
        item = str(engine.ranker.catalog.item_ids[0])
        assert c.put("/v1/items/LIVE-1", json={"title": "Voltmark Drill Case", "brand": "Voltmark"},
                     headers=ADMIN_AUTH).status_code == 201
        assert c.post("/v1/events", json={"events": [{"user_id": user, "item_id": "LIVE-1", "event": "purchase"}]},
                      headers=AUTH).status_code == 200

    run("train", "--data", str(data), "--out", str(root), "--epochs", "1", "--events", str(root / "events.db"))
    second = versions.latest(root)
    assert second != first
    listed = {v["version"]: v for v in json.loads(run("model", "list", "--model", str(root), "--json"))["versions"]}
    assert listed[first]["labels"] == ["production"] and listed[second]["labels"] == ["LATEST"]
    assert listed[second]["trained_on"]["events"].endswith("events.db")

    with TestClient(create_app(settings, load_in_background=False)) as c:
        engine = c.app.state.engine
        assert engine.version == first and "LIVE-1" in engine.ranker.items.index
        statuses: Counter[int] = Counter()
        seen: Counter[str] = Counter()
        posted = 0
        stop = threading.Event()

        def shopper() -> None:
            while not stop.is_set():
                r = c.post("/v1/recommendations", json={"user_id": user, "k": 5, "lang": "zh"})
                statuses[r.status_code] += 1
                if r.status_code == 200:
                    seen[r.json()["model_version"]] += 1

        def shop_backend() -> None:
            nonlocal posted
            while not stop.is_set():
                r = c.post("/v1/events", json={"events": [{"user_id": "swap-shopper", "item_id": item,
                                                           "event": "view"}]}, headers=AUTH)
                statuses[r.status_code] += 1
                posted += r.status_code == 200

        threads = [threading.Thread(target=f) for f in (shopper, shopper, shop_backend)]
        for t in threads:
            t.start()
        try:
            for _ in range(2):
                r = c.post("/v1/admin/model/promote", json={"version": second}, headers=ADMIN_AUTH)
                assert r.status_code == 200 and r.json()["serving"] == second, r.text
                r = c.post("/v1/admin/model/rollback", json={"note": "test"}, headers=ADMIN_AUTH)
                assert r.status_code == 200 and r.json()["serving"] == first, r.text
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert set(statuses) == {200}, statuses
        assert seen[first] and seen[second], seen
        stats = engine.ranker.stats
        row, col = stats.rows_of(["swap-shopper"])[0], stats.catalog.index_of([item])[0]
        assert stats.view[row, col] == posted, "every event accepted during the swaps is applied exactly once"
        assert c.get("/readyz").json()["model_version"] == first
        shown = c.get("/v1/admin/model", headers=ADMIN_AUTH).json()
        assert shown["serving"] == first and shown["labels"] == {"production": first}
        assert shown["versions"] == sorted([first, second])
        refused = c.post("/v1/admin/model/promote", json={"version": "v-nope"}, headers=ADMIN_AUTH)
        assert refused.status_code == 404 and "v-nope" in refused.json()["detail"]
        assert c.post("/v1/admin/model/rollback", json={}, headers=AUTH).status_code == 403
