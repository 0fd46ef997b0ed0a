"""Catalog changes while serving: PUT /v1/items adds an item that can be recommended at once, with a "new
arrival" reason, survives a restart, and replaces a known item's record; refusals are clear."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from tests.test_events import ADMIN, AUTH, make, post

pytestmark = pytest.mark.slow
ADMIN_AUTH = {"authorization": f"Bearer {ADMIN}"}


def new_like(c: TestClient, user: str) -> dict:
    """A new item of the brand and category of something the shopper bought."""
    ranker = c.app.state.engine.ranker
    bought = ranker.items.loc[str(ranker.catalog.item_ids[ranker.stats.history_of(ranker.stats.rows_of([user])[0])[0]])]
    return {"title": f"{bought['title']} Mark II", "brand": str(bought["brand"]), "category": str(bought["category"]),
            "price": 19.5}


def test_a_new_item_is_recommended_at_once_with_a_new_arrival_reason(trained, tmp_path):
    settings = make(trained[1], tmp_path)
    with TestClient(create_app(settings, load_in_background=False)) as c:
        user = c.app.state.engine.ranker.most_active(1)[0]
        body = new_like(c, user)
        assert c.put("/v1/items/NEW-1", json=body, headers=AUTH).status_code == 403
        r = c.put("/v1/items/NEW-1", json=body, headers=ADMIN_AUTH)
        assert r.status_code == 201 and r.json()["created"] and r.json()["available"], r.text
        r = c.post("/v1/recommendations", json={"user_id": user, "k": 5, "among": "new", "lang": "zh"})
        items = r.json()["items"]
        assert [i["item_id"] for i in items] == ["NEW-1"]
        kinds = [f["kind"] for f in items[0]["facts"]]
        assert "new_arrival" in kinds and "popular" not in kinds
        assert "新上架" in items[0]["explanation"]["text"] and items[0]["explanation"]["verified"]
        assert post(c, {"user_id": user, "item_id": "NEW-1", "event": "view"}).status_code == 200
        cold = c.post("/v1/recommendations", json={"user_id": "nobody-yet", "among": "new", "lang": "en"}).json()
        assert [f["kind"] for f in cold["items"][0]["facts"]] == ["new_arrival"]
        assert "new in the shop" in cold["items"][0]["explanation"]["text"]
        assert body["brand"] in c.app.state.engine.prompts.base.brands
    with TestClient(create_app(settings, load_in_background=False)) as c:
        ranker = c.app.state.engine.ranker
        assert ranker.title("NEW-1") == body["title"] and "NEW-1" in ranker.arrivals
        stats = ranker.stats
        assert stats.view[stats.rows_of([user])[0], stats.catalog.index_of(["NEW-1"])[0]] == 1
        r = c.put("/v1/items/NEW-1", json={**body, "brand": "Zyxwv", "price": 7}, headers=ADMIN_AUTH)
        assert r.status_code == 200 and not r.json()["created"]
        assert ranker.items.at["NEW-1", "brand"] == "Zyxwv" and ranker.catalog.n == stats.catalog.n


@pytest.mark.parametrize("body,needle", [
    ({"brand": "X"}, "title"),
    ({"title": "T", "price": -1}, "price"),
    ({"title": "T", "colour": "red"}, "colour"),
    ({"title": ""}, "title"),
])
def test_bad_items_are_refused_naming_the_field(trained, tmp_path, body, needle):
    with TestClient(create_app(make(trained[1], tmp_path), load_in_background=False)) as c:
        r = c.put("/v1/items/BAD-1", json=body, headers=ADMIN_AUTH)
        assert r.status_code == 422 and needle in r.text
        assert c.put("/v1/items/BAD-1", json={"title": "ok"}).status_code == 401
        assert "BAD-1" not in c.app.state.engine.ranker.items.index
