"""Shoppers answer back: a reaction to a reason changes that shopper's next list, says so in both languages, can be
undone, and survives a restart."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from narrator.facts import Facts
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from ranker.critiques import Critiques, Told, critiques_of, event_name
from service.app import create_app
from service.settings import Settings

TOKEN = "ev-t0ken"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def ranker(trained):
    from ranker import artifacts
    from ranker.ranking import Ranker

    return Ranker.from_artifact(artifacts.load(trained[1]))


def test_reactions_replay_in_time_order_and_undo_takes_one_back():
    rows = [("u", "A", event_name("not_interested_brand"), None, 1.0),
            ("u", "B", event_name("wrong_reason", "brand"), None, 2.0),
            ("u", "A", event_name("not_interested_brand", undo=True), None, 3.0),
            ("u", "A", "purchase", None, 4.0),
            ("v", "C", event_name("already_have"), None, 5.0)]
    found = critiques_of(rows)
    assert [(t.reaction, t.item_id, t.reason) for t in found["u"].told] == [("wrong_reason", "B", "brand")]
    assert [t.reaction for t in found["v"].told] == ["already_have"]
    assert critiques_of(rows[:1] + rows[2:3])["u"].told == []
    with pytest.raises(ValueError, match="unknown reaction"):
        event_name("meh")


def test_not_interested_in_a_brand_changes_the_list_and_says_so(ranker):
    from ranker.explain import Explainer

    def brands(items: list[str]) -> np.ndarray:
        return ranker.catalog.brand[ranker.catalog.index_of(items)]

    user, before = next((u, top) for u in ranker.most_active(40)
                        if len(set(top := [r.item_id for r in ranker.recommend(u, 10)])) and
                        np.bincount(brands(top)[brands(top) >= 0]).max(initial=0) >= 3)
    brand = int(np.bincount(brands(before)[brands(before) >= 0]).argmax())
    reacted = next(i for i in before if ranker.catalog.brand[ranker.catalog.index_of([i])[0]] == brand)
    ranker.critiques[user] = Critiques([Told("not_interested_brand", reacted, "", time.time())])
    try:
        after = [r.item_id for r in ranker.recommend(user, 10)]
        assert reacted not in after and after != before
        ranked = [r.item_id for r in ranker.recommend(user, 40)]  # out of the top 10 is allowed: still ranked
        same_brand = [i for i in ranked if ranker.catalog.brand[ranker.catalog.index_of([i])[0]] == brand][:3]
        assert same_brand, "the brand's other items still compete, without their brand affinity"
        for item in same_brand:  # brand affinity carries nothing for the brand's items any more
            explained = Explainer(ranker).explain(user, [item])[0]
            assert abs(explained.attribution.groups["brand_affinity"][0]) < 1e-6
            feedback = [f for f in explained.facts.facts if f.kind == "feedback"]
            assert feedback and feedback[0].evidence["brand"] == str(ranker.catalog.brands[brand])
            assert explained.facts.facts[1].kind == "feedback" or len(explained.facts.facts) == 1
            said = {lang: Narrator(PromptLibrary.load()).explain(explained.facts, lang, mode="template")
                    for lang in ("en", "zh")}
            assert said["en"].verified and "you told us you are less interested in" in said["en"].text
            assert said["zh"].verified and "您告诉过我们" in said["zh"].text
    finally:
        ranker.critiques.pop(user)
    assert [r.item_id for r in ranker.recommend(user, 10)] == before


def test_a_wrong_offer_or_a_reason_without_groups_changes_nothing_but_the_list(ranker):
    """"This reason is wrong" about an offer (no attribution group behind it): the item's features stay, and the
    reaction is still taken (nothing fails)."""
    user = ranker.most_active(1)[0]
    items = ranker.catalog.index_of([r.item_id for r in ranker.recommend(user, 5)])
    x = ranker.spec.compute(ranker.stats, np.full(len(items), ranker.stats.rows_of([user])[0]), items)
    for reason in ("promotion", "new_arrival", "feedback"):
        told = Critiques([Told("wrong_reason", str(ranker.catalog.item_ids[items[0]]), reason, time.time())])
        same, listed = told.apply(x, items, ranker.catalog, ranker.spec, x.mean(axis=0), time.time())
        assert np.array_equal(same, x) and listed.all()


def test_a_reason_said_to_be_wrong_is_not_said_again(ranker):
    """"This offer is not a reason" about an item on promotion: the promotion fact leaves that item's reasons (there
    is no attribution to remove), the item says it heard the shopper, in both languages; undone, the offer is back."""
    from ranker.explain import Explainer
    from ranker.promotions import Promotion

    user = ranker.most_active(1)[0]
    item = ranker.recommend(user, 1)[0].item_id
    ranker.promotions = {item: (Promotion(item, "20% off", time.time() - 60, time.time() + 3600),)}
    try:
        def kinds() -> list[str]:
            return [f.kind for f in Explainer(ranker).explain(user, [item])[0].facts.facts]

        assert "promotion" in kinds()
        ranker.critiques[user] = Critiques([Told("wrong_reason", item, "promotion", time.time())])
        facts = Explainer(ranker).explain(user, [item])[0].facts
        assert "promotion" not in [f.kind for f in facts.facts] and "feedback" in [f.kind for f in facts.facts]
        assert [f.rank for f in facts.facts] == list(range(1, len(facts.facts) + 1))
        for lang, needle in (("en", "a reason we gave for it was wrong"), ("zh", "之前的一条理由不对")):
            said = Narrator(PromptLibrary.load()).explain(facts, lang, mode="template")
            assert said.verified and needle in said.text and "%" not in said.text, said.text
        ranker.critiques.pop(user)
        assert "promotion" in kinds()
    finally:
        ranker.critiques.pop(user, None)
        ranker.promotions = {}


def test_each_reaction_as_a_fact_reads_in_both_languages():
    from narrator.facts import Fact, ItemRef

    item = ItemRef("S1", "Voltmark 20V Cordless Drill A10", "Voltmark", "Tools > Cordless Drill", 88.99)
    narrator = Narrator(PromptLibrary.load())
    for evidence, en, zh in (
            ({"reaction": "not_interested_brand", "brand": "Voltmark"}, "less interested in Voltmark",
             "Voltmark不太感兴趣"),
            ({"reaction": "not_interested_category", "category": "Cordless Drill", "category_zh": "无线电钻",
              "category_en": "Cordless Drill", "category_path": "Tools > Cordless Drill"}, "in Cordless Drill",
             "无线电钻类不太感兴趣"),
            ({"reaction": "wrong_reason", "reason": "bought_together"}, "a reason we gave for it was wrong",
             "之前的一条理由不对")):
        facts = Facts("u", item, (Fact("popular", ("popularity",), 1.0, 1.0, 1, {"purchases": 40, "popularity_rank": 3,
                                                                             "catalog_size": 500}),
                                  Fact("feedback", (), 0.0, 0.0, 2, evidence)))
        for lang, needle in (("en", en), ("zh", zh)):
            said = narrator.explain(facts, lang, mode="template")
            assert said.verified and needle in said.text, said.text


def settings(model: Path, tmp: Path) -> Settings:
    return Settings(artifacts=model, backend="none", events=tmp / "events.db", warm=False, events_token=TOKEN)


def top(c: TestClient, user: str) -> list[str]:
    r = c.post("/v1/recommendations", json={"user_id": user, "k": 10, "explain": "none"})
    assert r.status_code == 200, r.text
    return [i["item_id"] for i in r.json()["items"]]


def test_a_reaction_changes_the_next_list_is_undone_and_survives_a_restart(trained, tmp_path):
    with TestClient(create_app(settings(trained[1], tmp_path), load_in_background=False)) as c:
        ranker = c.app.state.engine.ranker
        user = ranker.most_active(2)[1]
        before = top(c, user)
        held = before[0]
        leaf = ranker.catalog.leaf[ranker.catalog.index_of([held])[0]]
        body = {"user_id": user, "item_id": held, "reaction": "already_have"}
        assert c.post("/v1/feedback", json=body, headers=AUTH).json()["stored"]
        after = top(c, user)
        assert after != before and held not in after
        assert not np.any(ranker.catalog.leaf[ranker.catalog.index_of(after)] == leaf)  # the category is held back
        for bad, needle in (({**body, "event": "view"}, "either event or reaction"),
                            ({**body, "reaction": "wrong_reason"}, "reason is required"),
                            ({**body, "reaction": "wrong_reason", "reason": "vibes"}, "reason must be one of"),
                            ({"user_id": user, "item_id": held, "event": "view", "undo": True}, "undo takes back")):
            r = c.post("/v1/feedback", json=bad, headers=AUTH)
            assert r.status_code == 422 and needle in r.text, r.text
    with TestClient(create_app(settings(trained[1], tmp_path), load_in_background=False)) as c:
        assert top(c, user) == after  # replayed from the store
        assert c.post("/v1/feedback", json={**body, "undo": True}, headers=AUTH).status_code == 200
        assert top(c, user) == before
