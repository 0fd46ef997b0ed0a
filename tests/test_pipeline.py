"""End to end through the CLI on a small demo shop: train, save/load identity, evaluate, recommend."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from service.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, list(args))
    return result


def test_artifact_layout_and_metadata(trained):
    _, model = trained
    version = model / (model / "LATEST").read_text().strip()
    for name in ("model.keras", "spec.json", "metadata.json", "embeddings.npy", "shop/items.parquet"):
        assert (version / name).exists(), name
    meta = json.loads((version / "metadata.json").read_text())
    assert len(meta["data_hash"]) == 64
    assert meta["libraries"]["keras"].startswith("3.")
    assert meta["history"] and "val_NDCG@10" in meta["history"][0]
    assert not list(model.glob(".tmp-*"))


def test_reloaded_model_gives_identical_scores(trained):
    from ranker import artifacts
    from ranker.ranking import Ranker

    _, model = trained
    a, b = Ranker.from_artifact(artifacts.load(model)), Ranker.from_artifact(artifacts.load(model))
    user = str(a.stats.user_ids[0])
    items = list(a.catalog.item_ids)
    np.testing.assert_array_equal(a.score(user, items), b.score(user, items))
    assert a.recommend(user, 10) == b.recommend(user, 10)


def test_evaluate_json_has_all_models_and_metrics(trained):
    data, model = trained
    r = run("evaluate", "--data", str(data), "--model", str(model), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    assert set(out) == {"whyrec", "mostpop", "itemknn"}
    for scores in out.values():
        assert {"HR@10", "NDCG@10", "HR@50", "NDCG@50"} <= set(scores)
        assert 0.0 <= scores["NDCG@10"] <= scores["HR@10"] <= 1.0


def test_recommend_excludes_history_and_handles_new_shoppers(trained):
    from ranker import artifacts
    from ranker.ranking import Ranker

    data, model = trained
    ranker = Ranker.from_artifact(artifacts.load(model))
    user = str(ranker.stats.user_ids[3])
    r = run("recommend", "--model", str(model), "--user", user, "--user", "nobody", "-k", "5", "--json",
            "--lang", "zh")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    bought = set(ranker.catalog.item_ids[ranker.stats.history_of(ranker.stats.rows_of([user])[0])])
    assert len(out[user]) == 5 and not bought & {x["item_id"] for x in out[user]}
    assert [x["rank"] for x in out[user]] == [1, 2, 3, 4, 5]
    assert out[user][0]["score"] >= out[user][-1]["score"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in out[user][0]["title"])
    popular = set(ranker.catalog.item_ids[np.argsort(-ranker.stats.item_buys)[:50]])
    assert {x["item_id"] for x in out["nobody"]} <= popular


def test_recommend_with_reasons_in_both_languages(trained):
    """`make demo`'s first impression: each item with its zh and en reason and who wrote it."""
    _, model = trained
    plain = json.loads(run("recommend", "--model", str(model), "-k", "3", "--json").output.strip().splitlines()[-1])
    r = run("recommend", "--model", str(model), "-k", "3", "--reasons", "template", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    assert out.keys() == plain.keys()
    for user, rows in out.items():
        assert [x["item_id"] for x in rows] == [x["item_id"] for x in plain[user]]
        reasons = [x["reasons"] for x in rows if x["reasons"]]
        assert reasons, rows
        for said in reasons:
            assert set(said) == {"zh", "en"}
            assert all(e["verified"] and e["model_id"] == "template" for e in said.values())
    shown = run("recommend", "--model", str(model), "-k", "3", "--reasons", "template").output
    assert "(template)" in shown and "推荐理由" in shown
    assert run("recommend", "--model", str(model), "--reasons", "sometimes").exit_code == 2


def test_missing_model_is_a_clear_error(tmp_path):
    r = run("recommend", "--model", str(tmp_path))
    assert r.exit_code == 2
    assert "no model.keras" in r.output


def test_import_reports_and_writes_canonical(tmp_path):
    from test_loaders import write_unisrec

    src = write_unisrec(tmp_path / "src", "0\t0 1 2\t3\n1\t2 0\t1\n")
    r = run("data", "import", str(src), "--format", "unisrec", "--out", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    assert "read 7 rows, kept 7" in r.output and (tmp_path / "out" / "events.parquet").exists()
    r = run("data", "import", str(src), "--format", "nope", "--out", str(tmp_path / "x"))
    assert r.exit_code == 2 and "--format must be one of" in r.output


def test_explain_json_groups_add_up_and_facts_are_backed(trained):
    from ranker import artifacts
    from ranker.ranking import Ranker

    data, model = trained
    ranker = Ranker.from_artifact(artifacts.load(model))
    user = str(ranker.stats.user_ids[1])
    r = run("explain", "--model", str(model), "--user", user, "-k", "3", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    assert len(out) == 3
    history = ranker.catalog.item_ids[ranker.stats.history_of(ranker.stats.rows_of([user])[0])]
    bought_brands = ranker.items.loc[list(history), "brand"].tolist()
    for entry in out:  # the default GELU ranker: Gauss-Legendre is exact long before the 1% tolerance
        assert entry["completeness_error"] <= 1e-3 and entry["steps"] == 32, entry
        facts = entry["facts"]
        assert all(f["attribution"] > 0 and f["share"] >= 0.05 for f in facts["facts"])
        assert all(f["attribution"] < 0 for f in facts["against"])
        assert [f["rank"] for f in facts["facts"]] == list(range(1, len(facts["facts"]) + 1))
        for f in facts["facts"]:
            if f["kind"] == "brand":
                assert f["evidence"]["bought"] == bought_brands.count(f["evidence"]["brand"])
            if f["kind"] == "bought_together":  # a purchase, or none named when no single one is a cause
                assert f["evidence"]["with_item_id"] in {*history, ""}
            if f["kind"] == "recent" and f["evidence"]["recent_item_id"]:
                row = ranker.stats.rows_of([user])[0]
                slot = ranker.stats.recent_items[row][f["evidence"]["purchases_ago"] - 1]
                assert f["evidence"]["recent_item_id"] == ranker.catalog.item_ids[slot]


def test_recent_evidence_names_the_most_credited_purchase(trained):
    from ranker import artifacts
    from ranker.evidence import EvidenceFinder
    from ranker.ranking import Ranker

    _, model = trained
    ranker = Ranker.from_artifact(artifacts.load(model))
    stats = ranker.stats
    row = next(r for r in range(stats.cold_row) if (stats.recent_items[r] >= 0).sum() >= 2)
    finder = EvidenceFinder(ranker)
    credit = np.zeros(stats.recent_items.shape[1])
    credit[1], credit[0] = 0.5, 0.2
    evidence = finder.recent(row, 0, credit)
    second = ranker.catalog.item_ids[stats.recent_items[row][1]]
    assert evidence["recent_item_id"] == second and evidence["purchases_ago"] == 2
    assert evidence["recent_title"] == ranker.title(second)
    credit[stats.recent_items[row] < 0] = 9.0  # an empty slot is never named
    assert finder.recent(row, 0, credit)["recent_item_id"] in set(ranker.catalog.item_ids[stats.history_of(row)])
    assert finder.recent(row, 0, -np.ones_like(credit)) == {}


def test_explain_unknown_ids_exit_2(trained):
    _, model = trained
    r = run("explain", "--model", str(model), "--user", "ghost")
    assert r.exit_code == 2 and "unknown shopper id 'ghost'" in r.output
    from ranker import artifacts
    from ranker.ranking import Ranker

    user = str(Ranker.from_artifact(artifacts.load(model)).stats.user_ids[0])
    r = run("explain", "--model", str(model), "--user", user, "--item", "NOPE")
    assert r.exit_code == 2 and "unknown item id 'NOPE'" in r.output


def test_sequence_group_trains_and_explains(tmp_path, trained):
    """`--set sequence_len=8`: the order-aware group is in the spec, IG adds up over it, and a `recent` reason
    names one of the shopper's latest purchases with its place."""
    from ranker import artifacts
    from ranker.explain import Explainer
    from ranker.features import SEQUENCE_GROUP
    from ranker.ranking import Ranker

    data, _ = trained
    r = run("train", "--data", str(data), "--out", str(tmp_path / "seq"), "--epochs", "1", "--set", "sequence_len=8",
            "--set", "ensemble=1")
    assert r.exit_code == 0, r.output
    ranker = Ranker.from_artifact(artifacts.load(tmp_path / "seq"))
    assert ranker.spec.sequence_len == 8 and SEQUENCE_GROUP in ranker.spec.groups
    explainer = Explainer(ranker, min_share=0.0)
    stats = ranker.stats
    users = [str(u) for u in stats.user_ids[:20]]
    recent_facts = 0
    for user in users:
        for e in explainer.explain(user, k=5):
            assert e.facts.completeness_error <= 0.01
            for f in (*e.facts.facts, *e.facts.against):
                if f.kind == "recent" and f.evidence:
                    recent_facts += 1
                    latest = stats.recent_items[stats.rows_of([user])[0]][f.evidence["purchases_ago"] - 1]
                    assert f.evidence["recent_item_id"] == ranker.catalog.item_ids[latest]
    assert recent_facts > 0
    bad = run("train", "--data", str(data), "--out", str(tmp_path / "bad"), "--set", "sequence_length=8")
    assert bad.exit_code != 0 and "sequence_len" in bad.output


def test_similar_item_evidence_says_whether_it_was_bought_or_viewed(trained):
    """The most similar engaged item is often a purchase; the evidence says so, and the phrase with it."""
    from ranker import artifacts
    from ranker.evidence import EvidenceFinder
    from ranker.ranking import Ranker

    ranker = Ranker.from_artifact(artifacts.load(trained[1]))
    finder, seen = EvidenceFinder(ranker), set()
    for row in ranker.stats.rows_of(ranker.most_active(5)):
        bought = set(ranker.catalog.item_ids[ranker.stats.history_of(row)])
        for i in range(0, ranker.catalog.n, 7):
            if (evidence := finder.for_kind("similar_text", row, i)):
                relation = "bought" if evidence["like_item_id"] in bought else "viewed"
                assert evidence["relation"] == relation
                seen.add(relation)
    assert seen == {"bought", "viewed"}


def test_a_price_reason_is_given_only_within_the_shoppers_usual_range(trained):
    """"its price of $81 is within your usual $42 to $42" was served: the phrase says within, so the evidence
    exists only when it is."""
    import numpy as np

    from ranker import artifacts
    from ranker.evidence import EvidenceFinder
    from ranker.ranking import Ranker

    ranker = Ranker.from_artifact(artifacts.load(trained[1]))
    finder, given, refused = EvidenceFinder(ranker), 0, 0
    for row in ranker.stats.rows_of(ranker.most_active(5)):
        for i in range(ranker.catalog.n):
            evidence = finder.for_kind("price", row, i)
            if evidence:
                assert evidence["usual_low"] <= evidence["price"] <= evidence["usual_high"], evidence
                assert evidence["currency"] == "$"  # the demo shop prices in USD
                given += 1
            elif np.isfinite(ranker.catalog.log_price[i]):
                refused += 1
    assert given and refused
