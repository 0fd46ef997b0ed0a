"""Attacks and accidents at the edges, each with the answer it must get: concurrent writes of one file and of
the labels, prompt versions saved at once, a truncated reason-store file, promotion dates that are not times,
and a version name that is a path."""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
from pathlib import Path

import pytest

from narrator import atomic
from narrator.prompts import DEFAULT_DIR
from narrator.prompts.store import PromptStore
from narrator.reason_store import ReasonStore, write_run
from ranker import versions
from service.shop.promotions import PromotionError, validated


def _together(n: int, work) -> list[BaseException]:
    """Run `work(k)` on n threads released at once; the errors they raised."""
    start, errors = threading.Barrier(n), []

    def run(k: int) -> None:
        start.wait()
        try:
            work(k)
        except BaseException as e:  # collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_threads_writing_one_file_never_collide_or_leave_a_partial(tmp_path):
    target = tmp_path / "labels.json"
    assert not _together(24, lambda k: [atomic.write_text(target, json.dumps({"k": k, "n": n})) for n in range(25)])
    assert json.loads(target.read_text())["n"] == 24
    assert [p.name for p in tmp_path.iterdir() if p.name != "labels.json"] == []


def test_label_moves_at_once_all_land_in_the_history(tmp_path, monkeypatch):
    root = tmp_path / "artifacts"
    root.mkdir()
    monkeypatch.setattr(versions, "_check", lambda root, version: None)  # the moves are tested, not a model
    assert not _together(12, lambda k: versions.promote(root, f"v{1 + k % 2}", "production", note=str(k)))
    assert len(versions.labels(root)["history"]) == 12


def test_prompt_versions_saved_at_once_get_distinct_numbers(tmp_path):
    root = tmp_path / "prompts"
    shutil.copytree(DEFAULT_DIR, root, ignore=shutil.ignore_patterns("versions", "labels.json"))
    store = PromptStore(root)
    saved: list[int] = []
    assert not _together(4, lambda k: saved.append(store.save("reason-short", note=str(k))))
    assert sorted(saved) == [1, 2, 3, 4] and store.versions("reason-short") == [1, 2, 3, 4]


def test_a_truncated_reason_store_file_is_skipped_not_fatal(tmp_path, caplog):
    row = {"user_id": "U1", "item_id": "I1", "lang": "en", "style": "short", "prompt_id": "reason-short",
           "prompt_version": 1, "model_id": "m", "facts_hash": "abc", "text": "You bought 3 X items.",
           "verified": True, "fallback_used": False, "cited": "[]", "attempts": 1, "seconds": 1.0,
           "ranker_version": "v1"}
    good = write_run(tmp_path, [row])
    assert good is not None
    broken = tmp_path / "run-broken.parquet"
    broken.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    store = ReasonStore(tmp_path)
    assert store.get("m", "reason-short", 1, "en", "short", "abc") is not None
    assert "run-broken.parquet" in caplog.text


@pytest.mark.parametrize("value,needle", [(math.nan, "between 1970 and 2100"), (math.inf, "between 1970 and 2100"),
                                          ("nan", "between 1970 and 2100"), (1.7e12, "milliseconds"),
                                          (1e17, "milliseconds"), (-5, "between 1970 and 2100"),
                                          ("soon", "is not a date"), (True, "is not a date")])
def test_promotion_times_must_be_seconds_in_a_sane_range(value, needle):
    record = {"item_id": "I1", "label": "20% off", "start": 1_800_000_000, "end": value}
    with pytest.raises(PromotionError) as e:
        validated([record], {"I1"})
    assert e.value.field == "end" and needle in str(e.value), str(e.value)


@pytest.mark.parametrize("name", ["../x", "..", "v1/../../etc", "/etc", "v1 ", ""])
def test_a_version_name_is_never_a_path(tmp_path, name):
    (tmp_path / "v1").mkdir()
    with pytest.raises(versions.VersionError, match="not a version name"):
        versions.promote(tmp_path, name, "production")
    assert not (tmp_path / versions.LABELS).exists()


def test_the_promote_route_refuses_a_path_before_anything_moves():
    from service.routes.models import Promotion

    with pytest.raises(ValueError):
        Promotion(version="../x", label="production")
    assert Promotion(version="v20261203-110250", label="production").version == "v20261203-110250"


def test_locks_are_siblings_of_the_file_they_guard(tmp_path):
    with atomic.locked(tmp_path / "labels.json"):
        assert (tmp_path / ".labels.json.lock").exists()
    assert Path(tmp_path / "labels.json").exists() is False


def test_what_a_catalog_can_never_back_it_can_never_show():
    """Every claim word the verifier never accepts from catalog text is also kept out of names, brands and
    categories by the hostile-text filter, in any width or case: the two lists cannot drift apart."""
    from narrator.prompts.names import hostile
    from narrator.verification.verify import NEVER_FROM_CATALOG

    for word in NEVER_FROM_CATALOG:
        assert hostile(f"Acme {word} drill"), word
        wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word.upper())
        assert hostile(f"Acme {wide} drill"), wide
    assert not hostile("Voltmark 20V Cordless Drill") and hostile("限时8折") and not hostile("8折", offers_allowed=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("field,value", [("brand", "限时8折"), ("brand", "ＦＲＥＥ ＳＨＩＰＰＩＮＧ"),
                                         ("brand", "正品包邮"), ("category", "Official Store > 秒杀"),
                                         ("category_zh", "全场5折"), ("brand", "Click www.x.com")])
def test_hostile_merchant_text_never_reaches_a_sentence(lang, field, value):
    from dataclasses import replace

    from narrator.narrate import Narrator
    from narrator.prompts import PromptLibrary
    from tests.narrator_cases import BRANDS, EVIDENCE, fact, facts_of

    facts = facts_of("brand", "category", "price")
    spam = {"brand": fact("brand", 1, 0.5, {**EVIDENCE["brand"], field: value}),
            "category": fact("category", 1, 0.5, {**EVIDENCE["category"], field: value}),
            "category_zh": fact("category", 1, 0.5, {**EVIDENCE["category"], field: value})}[field]
    writer = Narrator(PromptLibrary.load(), None, brands=BRANDS | {value})
    e = writer.explain(replace(facts, facts=(spam, *facts.facts[1:])), lang, mode="template")
    assert e.verified and value not in e.text and "dropped_reasons" in e.timings, e.text
    for word in ("8折", "包邮", "正品", "秒杀", "FREE", "free", "Official", "www"):
        assert word not in e.text


OPEN_ROUTES = {("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("post", "/v1/recommendations"),
               ("post", "/v1/rank"), ("post", "/v1/search"), ("get", "/v1/promotions"),
               ("post", "/v1/promotions/{campaign}/recommendations"), ("post", "/v1/explanations"),
               ("post", "/v1/explanations/batch"), ("post", "/v1/explanations/stream")}
"""Routes the shop's backend calls without a token (they change nothing). Every other route is listed in the
OpenAPI schema and needs a token: the events scope for these, the admin scope for the rest."""
EVENTS_ROUTES = {("post", "/v1/events"), ("post", "/v1/feedback")}
PUBLIC_ROUTES = {("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("get", "/v1/promotions")}
"""The open routes that show no shopper's history: everything else open needs `WHYREC_READ_TOKEN` once it is set."""


@pytest.mark.slow
def test_every_route_that_is_not_open_needs_its_token(trained, tmp_path):
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings

    settings = Settings(artifacts=trained[1], backend="none", events=tmp_path / "events.db", warm=False,
                        admin_token="adm1n", events_token="ev3nts", playground=True)
    with TestClient(create_app(settings, load_in_background=False)) as c:
        operations = [(m, path) for path, ops in c.app.openapi()["paths"].items() for m in ops]
        assert set(operations) >= OPEN_ROUTES | EVENTS_ROUTES
        guarded = [(m, p) for m, p in operations if (m, p) not in OPEN_ROUTES]
        assert len(guarded) >= 15
        for method, path in guarded:
            url = path.replace("{item_id}", "X1").replace("{campaign}", "w")
            body = {} if method in ("post", "put") else None
            assert c.request(method, url, json=body).status_code == 401, (method, path)
            assert c.request(method, url, json=body, headers={"authorization": "Bearer wrong"}).status_code == 401
            if (method, path) not in EVENTS_ROUTES:
                r = c.request(method, url, json=body, headers={"authorization": "Bearer ev3nts"})
                assert r.status_code == 403 and r.json()["error"] == "forbidden", (method, path, r.text)
        assert c.get("/playground/").status_code == 200
    with TestClient(create_app(settings.model_copy(update={"playground": False}), load_in_background=False)) as c:
        assert c.get("/playground/").status_code == 404
        r = c.get("/v1/playground/shoppers", headers={"authorization": "Bearer adm1n"})
        assert r.status_code == 404 and r.json()["error"] == "playground_off"


@pytest.mark.slow
def test_a_read_token_closes_every_personalised_route(trained, tmp_path):
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings

    settings = Settings(artifacts=trained[1], backend="none", events=tmp_path / "events.db", warm=False,
                        admin_token="adm1n", events_token="ev3nts", read_token="r3ad")
    with TestClient(create_app(settings, load_in_background=False)) as c:
        ranker = c.app.state.engine.ranker
        items = [str(i) for i in ranker.items.index[:3]]
        body = {"user_id": str(ranker.stats.user_ids[0]), "item_id": items[0], "item_ids": items, "query": "drill",
                "k": 3}
        for method, path in OPEN_ROUTES - PUBLIC_ROUTES:
            url = path.replace("{campaign}", "w")
            json = body if method == "post" else None
            assert c.request(method, url, json=json).status_code == 401, path
            r = c.request(method, url, json=json, headers={"authorization": "Bearer wrong"})
            assert r.status_code == 401 and r.json()["error"] == "unauthorized", path
            for token in ("r3ad", "ev3nts", "adm1n"):
                r = c.request(method, url, json=json, headers={"authorization": f"Bearer {token}"})
                assert r.status_code not in (401, 403), (path, token, r.text)
        for method, path in PUBLIC_ROUTES:
            assert c.request(method, path).status_code == 200, path


@pytest.mark.slow
def test_random_shoppers_share_one_entry_and_the_cache_keeps_its_byte_budget(trained, tmp_path):
    import uuid

    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings

    settings = Settings(artifacts=trained[1], backend="none", events=tmp_path / "events.db", warm=False,
                        response_cache_mb=0.05)
    with TestClient(create_app(settings, load_in_background=False)) as c:
        lists = c.app.state.lists
        lists.forget({f"active-{n}" for n in range(20_000)})  # other shoppers' events touch every change bucket
        computed = []
        items = lists._items
        lists._items = lambda *a: computed.append(a) or items(*a)
        bodies = [lists.body(uuid.uuid4().hex, 10, "en", "template", "short") for _ in range(2)]
        for _ in range(9_998):
            lists.body(uuid.uuid4().hex, 10, "en", "template", "short")
        assert len(lists._cache) == 0 and len(lists._cold) == 1 and len(computed) == 1  # 10,000 ids, one entry
        first, second = json.loads(bodies[0]), json.loads(bodies[1])
        assert first["cold_start"] and [i["item_id"] for i in first["items"]] == [i["item_id"] for i in second["items"]]
        ids = [i["explanation"]["id"] for i in first["items"] if i["explanation"]]
        assert ids and ids != [i["explanation"]["id"] for i in second["items"] if i["explanation"]]
        r = c.post("/v1/recommendations", json={"user_id": "someone-new", "k": 10, "explain": "template"})
        assert r.status_code == 200 and r.json()["user_id"] == "someone-new"
        for user in c.app.state.engine.ranker.stats.user_ids[:150]:
            lists.body(str(user), 10, "en", "template", "short")
        assert 0 < len(lists._cache) < 150 and lists._cache.currsize <= 0.05 * 2**20


@pytest.mark.slow
def test_the_access_log_holds_no_shopper_id_or_query_text(trained, tmp_path, caplog):
    import logging

    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings

    settings = Settings(artifacts=trained[1], backend="none", events=tmp_path / "events.db", warm=False)
    with TestClient(create_app(settings, load_in_background=False)) as c, caplog.at_level(logging.DEBUG):
        user = str(c.app.state.engine.ranker.stats.user_ids[0])
        item = str(c.app.state.engine.ranker.items.index[0])
        c.post("/v1/recommendations", json={"user_id": user, "k": 3})
        c.post("/v1/search", json={"user_id": user, "query": "secretquerytext", "k": 3})
        c.post("/v1/explanations", json={"user_id": user, "item_id": item})
        c.get(f"/v1/playground/items?user_id={user}&query=secretquerytext")
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))  # the client's
    assert "request_id=" in logged and user not in logged and "secretquerytext" not in logged


def test_uvicorn_writes_no_access_log_of_its_own(trained, monkeypatch):
    """Uvicorn's access line holds the query string (`?user_id=…&query=…`): `whyrec serve` turns it off."""
    import uvicorn
    from typer.testing import CliRunner

    from service.cli import app

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    monkeypatch.setattr(os, "environ", dict(os.environ))  # several workers get their settings through it
    for workers in ("1", "2"):
        r = CliRunner().invoke(app, ["serve", "--model", str(trained[1]), "--backend", "none", "--workers", workers])
        assert r.exit_code == 0, r.output
    assert len(calls) == 2 and all(kw["access_log"] is False for kw in calls)
