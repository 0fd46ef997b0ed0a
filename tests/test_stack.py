"""One stack, one shop: a (shopper, item, language) has the same facts and the same reason key through the
service, both stages of the batch and the CLI — with a promoted prompt version (and a draft edited after it), an
active promotion and a new arrival — and the promotions book does not empty the response cache on every event."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from narrator.facts import Facts
from narrator.prompts import DEFAULT_DIR
from narrator.prompts.store import PromptStore
from ranker.promotions import Promotion
from service.app import create_app
from service.cli import app as cli
from service.jobs.batch import FactsStage
from service.shop.promotions import PromotionBook
from service.stack import prompt_router, shop_brands
from tests.test_editor import edit
from tests.test_events import ADMIN, make

ADMIN_AUTH = {"authorization": f"Bearer {ADMIN}"}


def promoted_prompts(root: Path) -> Path:
    """Prompts whose label serves version 2, with a draft edited after it (so the working copy differs)."""
    shutil.copytree(DEFAULT_DIR, root, ignore=shutil.ignore_patterns("versions", "labels.json"))
    store = PromptStore(root)
    store.save("reason-short")
    edit(root / "reason-short.en.toml", 'fallback = "Recommended because', 'fallback = "Picked for you because')
    store.save("reason-short")
    store.promote("reason-short@2", "production")
    edit(root / "reason-short.en.toml", 'fallback = "Picked for you because', 'fallback = "A draft says because')
    return root


def key_of(facts: Facts, narrator, lang: str) -> tuple:
    return narrator.cache_key(facts, lang, "short")


@pytest.mark.slow
def test_one_pair_has_the_same_facts_and_reason_key_through_service_batch_and_cli(trained, tmp_path):
    root = tmp_path / "artifacts"
    shutil.copytree(trained[1], root)
    settings = make(root, tmp_path, prompts=promoted_prompts(tmp_path / "prompts"), events=root / "events.db")
    with TestClient(create_app(settings, load_in_background=False)) as c:
        engine = c.app.state.engine
        user = engine.ranker.most_active(1)[0]
        bought = engine.ranker.items.iloc[0]
        new = {"title": f"{bought['title']} Mark II", "brand": str(bought["brand"]),
               "category": str(bought["category"]), "price": 19.5}
        assert c.put("/v1/items/NEW-1", json=new, headers=ADMIN_AUTH).status_code == 201
        offered = str(engine.ranker.recommend(user, 1)[0].item_id)
        start = time.time() - 60
        r = c.put("/v1/promotions", headers=ADMIN_AUTH, json={"promotions": [
            {"item_id": offered, "label": "20% off", "start": start, "end": start + 86_400, "campaign": "w"},
            {"item_id": "NEW-1", "label": "8折", "start": start, "end": start + 86_400, "campaign": "w"}]})
        assert r.status_code == 200, r.text
        pairs = [(offered, "en"), ("NEW-1", "zh"), ("NEW-1", "en")]
        served = {}
        for item, lang in pairs:
            e = engine.explainer.explain(user, [item], allow_unknown_user=True)[0]
            narrator = engine.prompts.narrator(user, "short")
            served[item, lang] = (e.facts.content_hash(), key_of(e.facts, narrator, lang))
            kinds = [f.kind for f in e.facts.facts]
            assert "promotion" in kinds and ("new_arrival" in kinds) == (item == "NEW-1"), kinds
            body = c.post("/v1/explanations", json={"user_id": user, "item_id": item, "lang": lang,
                                                    "mode": "template"}).json()
            assert body["explanation"]["prompt_version"] == 2 and [f["kind"] for f in body["facts"]] == kinds
        assert served[offered, "en"][1][2] == 2  # the label's version, not the working copy's

    batch_settings = settings.model_copy(update={"threads": 1})
    stage = FactsStage(batch_settings, k=1)
    rows = stage({"user_id": np.array([user])})
    assert list(rows["item_id"]) == [offered] and not rows["error"][0]
    batch_facts = {offered: Facts.from_dict(json.loads(rows["facts"][0])),
                   "NEW-1": Facts.from_dict(json.loads(stage.explainer.explain(user, ["NEW-1"])[0].facts.to_json()))}
    router = prompt_router(batch_settings, None, shop_brands(batch_settings), cache_size=0)
    for item, lang in pairs:
        facts = batch_facts[item]
        assert (facts.content_hash(), key_of(facts, router.narrator(user, "short"), lang)) == served[item, lang]

    for item, lang in pairs:
        r = CliRunner().invoke(cli, ["explain", "--model", str(root), "--user", user, "--item", item, "--lang", lang,
                                     "--narrate", "template", "--json"], env={"WHYREC_PROMPTS": str(settings.prompts),
                                                                               "WHYREC_BACKEND": "none"})
        assert r.exit_code == 0, r.output
        out = json.loads(r.output.strip().splitlines()[-1])[0]
        facts = Facts.from_dict(out["facts"])
        said = out["explanations"][lang]
        key = ("template", said["prompt_id"], said["prompt_version"], lang, "short", facts.content_hash())
        assert (facts.content_hash(), key) == served[item, lang]


def test_events_committed_to_the_store_leave_the_promotions_stamp_alone(tmp_path):
    from service.shop.store import Event, EventStore

    path = tmp_path / "events.db"
    events = EventStore(path)
    book = PromotionBook(path, recheck_s=0.0)
    other = PromotionBook(path, recheck_s=0.0)  # another process's view of the same file
    try:
        before = book.state()
        for n in range(5):
            events.append([Event("u", "i", "view", float(n))]).result()
            assert book.state() == before
        now = time.time()
        other.put([Promotion("i", "20% off", now - 10, now + 3600, "w")])
        assert book.state() != before and book["i"][0].label == "20% off"
        changed = book.state()
        events.append([Event("u", "i", "view", 9.0)]).result()
        assert book.state() == changed
        assert book.state(now + 7200) != changed  # the promotion ended: cached lists must not keep it
    finally:
        events.close()
        book.close()
        other.close()
