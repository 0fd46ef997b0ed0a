"""Counterfactual reasons: the item re-scored without some of the shopper's actions, named reasons that are causes,
PRINCE-style minimal action sets, and the API that shows them to editors."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from narrator.facts import Facts
from narrator.narrate import Narrator
from ranker.causes import NAMED


@pytest.fixture(scope="module")
def ranker(trained):
    from ranker import artifacts
    from ranker.ranking import Ranker

    return Ranker.from_artifact(artifacts.load(trained[1]))


@pytest.fixture(scope="module")
def explained(ranker):
    from ranker.explain import Explainer

    explainer = Explainer(ranker)
    return explainer, {u: explainer.explain(u, k=10) for u in ranker.most_active(12)[::3]}


def test_a_what_if_shopper_with_every_action_scores_as_served(ranker):
    from ranker.counterfactual import Action, Counterfactuals

    cf = Counterfactuals(ranker)
    user = ranker.most_active(1)[0]
    top = [r.item_id for r in ranker.recommend(user, 10)]
    never = next(i for i in ranker.catalog.item_ids if i not in set(cf.events_of(user)["item_id"].astype(str)))
    same, untouched = cf.outcomes(user, top[:2], [(), (Action(str(never), "bought"),)])
    assert same.drop == pytest.approx(0.0, abs=1e-5) and untouched.drop == pytest.approx(0.0, abs=1e-5)
    assert same.score == pytest.approx(float(ranker.score(user, [top[0]])[0]), abs=1e-4)
    assert same.rank == 1 and not same.left_top


def test_taking_an_action_away_changes_what_its_features_see(ranker):
    from ranker.counterfactual import BOUGHT, Counterfactuals

    cf = Counterfactuals(ranker)
    user = ranker.most_active(1)[0]
    purchases = [a for a in cf.actions(user) if a.did == BOUGHT]
    top = [r.item_id for r in ranker.recommend(user, 10)]
    outcomes = cf.outcomes(user, [top[0]] * len(purchases), [(a,) for a in purchases])
    assert any(abs(o.drop) > 1e-4 for o in outcomes)  # the history matters to the score
    everything = cf.outcomes(user, [top[0]], [tuple(cf.actions(user))])[0]
    assert everything.score != pytest.approx(outcomes[0].score)


def test_a_removal_asked_for_several_items_is_one_what_if_shopper(ranker):
    """The batch holds one shopper per distinct removal; each item is read against its own removal's row."""
    from ranker.counterfactual import Counterfactuals

    cf = Counterfactuals(ranker)
    user = ranker.most_active(1)[0]
    a, b = cf.actions(user)[:2]
    top = [r.item_id for r in ranker.recommend(user, 10)]
    together = cf.outcomes(user, [top[0], top[1], top[0]], [(a,), (a,), (b,)])
    alone = [cf.outcomes(user, [t], [r])[0] for t, r in ((top[0], (a,)), (top[1], (a,)), (top[0], (b,)))]
    for got, want in zip(together, alone, strict=True):
        assert got.removed == want.removed and got.rank == want.rank and got.left_top == want.left_top
        assert got.score == pytest.approx(want.score, abs=1e-5)


def test_every_named_reason_names_a_necessary_action(explained, ranker):
    from ranker.counterfactual import Action

    explainer, by_user = explained
    checks = [c for es in by_user.values() for e in es for c in e.checks]
    assert checks, "the demo shop's top 10s name the shoppers' purchases"
    for user, items in by_user.items():
        for e in items:
            for fact in e.facts.facts:
                if fact.kind not in NAMED or not (named := fact.evidence[f"{NAMED[fact.kind]}_item_id"]):
                    continue
                check = next(c for c in e.checks if c.kind == fact.kind)
                assert check.served is not None and check.served.removed[0].item_id == named
                did = "viewed" if fact.evidence.get("relation") == "viewed" else "bought"
                again = explainer.counterfactuals.outcomes(user, [e.item_id], [(Action(str(named), did),)])[0]
                credit = sum(float(e.attribution.groups[g][e.pair]) for g in fact.groups if g != "item_text_embedding")
                assert explainer.causes.necessary(again, credit)
    assert any(c.served is None for c in checks) or all(c.necessary for c in checks)


def test_a_reason_without_a_single_cause_is_said_without_a_name(explained):
    from narrator.prompts import PromptLibrary

    _, by_user = explained
    unnamed = [(e.facts, f) for es in by_user.values() for e in es for f in e.facts.facts
               if f.kind in NAMED and not f.evidence[f"{NAMED[f.kind]}_item_id"]]
    assert unnamed, "some attributed co-purchase partner is not a cause on the demo shop"
    facts, fact = unnamed[0]
    only = Facts(facts.user_id, facts.item, (fact,))
    narrator = Narrator(PromptLibrary.load())
    words = {"bought_together": ("things you bought", "您买过的商品"),
             "similar_text": ("things you have bought or looked at", "您买过或浏览过的商品"),
             "recent": ("your recent purchases", "您最近购买的商品")}[fact.kind]
    for lang, said in zip(("en", "zh"), words, strict=True):
        e = narrator.explain(only, lang, mode="template")
        assert e.verified and said in e.text, e.text


def test_the_minimal_set_takes_the_item_out_of_the_top_k(ranker):
    from ranker.counterfactual import Counterfactuals

    cf = Counterfactuals(ranker)
    tried = 0
    for user in ranker.most_active(20):
        top = [r.item_id for r in ranker.recommend(user, cf.k)]
        found = cf.minimal_set(user, top[-1])
        tried += 1
        if found.found:
            break
    assert found.found, f"no minimal set for the 10th item of {tried} shoppers"
    o = found.outcome
    assert 1 <= len(o.removed) <= 5 and o.rank > cf.k and o.replaced_by and o.replaced_by not in top
    assert {a.item_id for a in o.removed}.isdisjoint({top[-1]})
    again = cf.outcomes(user, [top[-1]], [o.removed])[0]
    assert again.left_top and again.replaced_by == o.replaced_by


def test_editors_see_because_of_what_with_the_admin_token(trained, tmp_path):
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(artifacts=trained[1], backend="none", events=tmp_path / "ev.db", warm=False,
                        admin_token="adm", read_token="rd")
    with TestClient(create_app(settings, load_in_background=False)) as c:
        engine = c.app.state.engine
        user = engine.ranker.most_active(1)[0]
        item = engine.ranker.recommend(user, 10)[-1].item_id
        body = {"user_id": user, "item_id": item, "lang": "zh", "mode": "template", "counterfactual": True}
        assert c.post("/v1/explanations", json=body, headers={"authorization": "Bearer rd"}).status_code == 401
        r = c.post("/v1/explanations", json=body, headers={"authorization": "Bearer adm"})
        assert r.status_code == 200, r.text
        out = r.json()["counterfactual"]
        assert out["k"] == 10 and out["actions_considered"] > 0 and out["actions"]
        assert all(a["did"] in ("bought", "viewed") and a["title"] for a in out["actions"])
        assert not out["found"] or (out["rank_without"] > 10 and out["replaced_by"])
        plain = c.post("/v1/explanations", json={**body, "counterfactual": False},
                       headers={"authorization": "Bearer rd"}).json()
        assert plain["counterfactual"] is None
        batch = {"pairs": [body]}
        assert c.post("/v1/explanations/batch", json=batch, headers={"authorization": "Bearer rd"}).status_code == 422
        assert np.isfinite(out["score_without"])


def test_the_preview_shows_because_of_what(trained, ranker):
    import json

    from typer.testing import CliRunner

    from service.cli import app

    user = ranker.most_active(1)[0]
    result = CliRunner().invoke(app, ["preview", "--user", user, "--model", str(trained[1]), "--mode", "template",
                                      "--lang", "en", "--json", "--counterfactual"])
    assert result.exit_code == 0, result.output
    causes = json.loads(result.output)["counterfactual"]
    assert causes["actions_considered"] > 0 and all(a["did"] in ("bought", "viewed") for a in causes["actions"])
    assert not causes["found"] or causes["rank_without"] > 10
