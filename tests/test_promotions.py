"""Promotions while serving: admins store them (validated, all or nothing), active ones appear in reasons at once
in both languages, a campaign's items are ranked for a shopper, ended or expired ones are never said, and the
CLI imports a CSV where the service reads it."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.cli import app as cli
from tests.test_events import ADMIN, AUTH, make

pytestmark = pytest.mark.slow
ADMIN_AUTH = {"authorization": f"Bearer {ADMIN}"}
TODAY = time.strftime("%Y-%m-%d", time.gmtime())
LATER = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 86_400))


def promo(item: str, label: str = "20% off", campaign: str = "winter", **extra) -> dict:
    return {"item_id": item, "label": label, "start": TODAY, "end": LATER, "campaign": campaign, **extra}


def test_campaign_items_ranked_with_their_discount_in_both_languages(trained, tmp_path):
    settings = make(trained[1], tmp_path)
    with TestClient(create_app(settings, load_in_background=False)) as c:
        ranker = c.app.state.engine.ranker
        user = ranker.most_active(1)[0]
        picks = [r.item_id for r in ranker.recommend(user, 6)]
        before = c.post("/v1/recommendations", json={"user_id": user, "k": 6, "lang": "en"}).json()
        assert not any(f["kind"] == "promotion" for i in before["items"] for f in i["facts"])

        body = {"promotions": [promo(picks[0]), promo(picks[1], "8折"), promo(picks[2], "Winter Sale")]}
        assert c.put("/v1/promotions", json=body).status_code == 401
        assert c.put("/v1/promotions", json=body, headers=AUTH).status_code == 403
        r = c.put("/v1/promotions", json=body, headers=ADMIN_AUTH)
        assert r.status_code == 200 and r.json()["stored"] == 3 and r.json()["active"] == 3, r.text
        assert [p["percent_off"] for p in r.json()["promotions"]] == [20, 20, None]

        for lang, said in (("en", "20% off"), ("zh", "8折")):
            r = c.post("/v1/promotions/winter/recommendations", json={"user_id": user, "k": 5, "lang": lang})
            assert r.status_code == 200, r.text
            items = r.json()["items"]
            assert {i["item_id"] for i in items} == set(picks[:3])
            for item in items:
                kinds = [f["kind"] for f in item["facts"]]
                assert "promotion" in kinds and item["explanation"]["verified"], (item["explanation"], item["facts"])
                if item["item_id"] != picks[2]:
                    assert said in item["explanation"]["text"]
        after = c.post("/v1/recommendations", json={"user_id": user, "k": 6, "lang": "en"}).json()
        promoted = {i["item_id"] for i in after["items"] if any(f["kind"] == "promotion" for f in i["facts"])}
        assert promoted == set(picks[:3]) & {i["item_id"] for i in after["items"]}

        bad = {"promotions": [promo(picks[3]), promo("NO-SUCH-ITEM")]}
        r = c.put("/v1/promotions", json=bad, headers=ADMIN_AUTH)
        assert r.status_code == 422 and "promotion 2" in r.json()["detail"] and "item_id" in r.json()["detail"]
        for wrong, field in ((promo(picks[3], end=TODAY, start=LATER), "end"), (promo(picks[3], start="soon"), "start"),
                             (promo(picks[3], label=""), "label")):
            r = c.put("/v1/promotions", json={"promotions": [wrong]}, headers=ADMIN_AUTH)
            assert r.status_code == 422 and field in r.text, r.text
        listed = c.get("/v1/promotions").json()["promotions"]
        assert picks[3] not in {p["item_id"] for p in listed}

        assert c.post("/v1/promotions/spring/recommendations", json={"user_id": user}).status_code == 404
        expired = promo(picks[4], campaign="gone", start="2020-01-01", end="2020-01-02")
        assert c.put("/v1/promotions", json={"promotions": [expired]}, headers=ADMIN_AUTH).json()["active"] == 0
        assert c.post("/v1/promotions/gone/recommendations", json={"user_id": user}).status_code == 404

    with TestClient(create_app(settings, load_in_background=False)) as c:
        r = c.post("/v1/promotions/winter/recommendations", json={"user_id": user, "k": 5})
        assert r.status_code == 200 and len(r.json()["items"]) == 3
        assert c.delete("/v1/promotions/winter", headers=ADMIN_AUTH).status_code == 200
        assert c.post("/v1/promotions/winter/recommendations", json={"user_id": user}).status_code == 404
        again = c.post("/v1/recommendations", json={"user_id": user, "k": 6, "lang": "en"}).json()
        assert not any(f["kind"] == "promotion" for i in again["items"] for f in i["facts"])


def test_cli_imports_a_csv_all_or_nothing(trained, tmp_path):
    model = trained[1]
    events = tmp_path / "events.db"
    items = list(__import__("ranker.artifacts", fromlist=["load"]).load(model).shop.items["item_id"][:2])
    good = tmp_path / "promos.csv"
    good.write_text(f"item_id,label,start,end,campaign\n{items[0]},8折,{TODAY},{LATER},w\n{items[1]},15% off,"
                    f"{TODAY},{LATER},\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"item_id,label,start,end\n{items[0]},8折,{TODAY},{LATER}\n{items[1]},x,{LATER},{TODAY}\n",
                   encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(cli, ["promotions", "import", str(bad), "--model", str(model), "--events", str(events)])
    assert r.exit_code == 2 and "data row 2" in r.output and "'end'" in r.output, r.output
    r = runner.invoke(cli, ["promotions", "list", "--model", str(model), "--events", str(events), "--json"])
    assert r.exit_code == 0 and r.output.strip() == "[]", r.output
    r = runner.invoke(cli, ["promotions", "import", str(good), "--model", str(model), "--events", str(events)])
    assert r.exit_code == 0 and "stored 2 promotions (2 active now)" in r.output, r.output
    r = runner.invoke(cli, ["preview", "--model", str(model), "--user", "U00001", "--item", items[0], "--lang", "zh",
                            "--backend", "none", "--json"], env={"WHYREC_EVENTS": str(events)})
    assert r.exit_code == 0, r.output
    assert "8折" in r.output and "promotion" in r.output
