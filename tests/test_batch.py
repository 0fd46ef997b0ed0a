"""Reasons written ahead: the reason store's keys and filters, the Ray pipeline on a tiny shop with the small
model (local Ray), a rerun that skips what is stored, and the service serving stored sentences only when
model, prompt version and facts match."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from narrator.reason_store import ReasonStore, write_run
from ranker.data import load_shop
from ranker.promotions import Promotion
from service.app import create_app
from service.cli import app as cli
from service.shop.promotions import PromotionBook
from tests.test_events import make
from tests.test_stack import promoted_prompts

ROW = {"user_id": "U1", "item_id": "I1", "lang": "en", "style": "short", "prompt_id": "reason-short",
       "prompt_version": 1, "model_id": "m", "facts_hash": "abc", "text": "You have bought 3 X items.",
       "verified": True, "fallback_used": False, "cited": json.dumps(["brand"]), "attempts": 1, "seconds": 1.0,
       "ranker_version": "v1"}


def last_json(output: str) -> dict:
    """The summary line (Ray's own log lines may come before it)."""
    return json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("{")))


def test_the_store_serves_verified_sentences_for_the_exact_key_only(tmp_path):
    write_run(tmp_path, [ROW, {**ROW, "facts_hash": "def", "fallback_used": True, "attempts": 3},
                         {**ROW, "facts_hash": "ghi", "text": "Second run."},
                         {**ROW, "facts_hash": "xyz", "verified": False}])
    store = ReasonStore(tmp_path)
    assert len(store) == 4 and store.servable == 2 and len(store.keys) == 4
    assert store.get("m", "reason-short", 1, "en", "short", "xyz") is None  # never serve an unverified text
    hit = store.get("m", "reason-short", 1, "en", "short", "abc")
    assert hit is not None and hit.text == ROW["text"] and hit.cited == ["brand"] and not hit.fallback_used
    refused = store.get("m", "reason-short", 1, "en", "short", "def")  # the template the batch fell back to
    assert refused is not None and refused.fallback_used
    write_run(tmp_path, [{**ROW, "facts_hash": "def", "text": "Written on a retry."}])
    again = ReasonStore(tmp_path).get("m", "reason-short", 1, "en", "short", "def")
    assert again is not None and again.text == "Written on a retry." and not again.fallback_used
    assert store.get("m", "reason-short", 2, "en", "short", "abc") is None  # another prompt version
    assert store.get("other", "reason-short", 1, "en", "short", "abc") is None  # another model
    assert store.get("m", "reason-short", 1, "zh", "short", "abc") is None
    assert ReasonStore(tmp_path / "missing").get("m", "reason-short", 1, "en", "short", "abc") is None


@pytest.mark.slow
@pytest.mark.model
def test_batch_on_ray_then_served_from_the_store(trained, tmp_path):
    """Written after a prompt promotion and with an active promotion: every stored key is served."""
    root = tmp_path / "artifacts"
    shutil.copytree(trained[1], root)
    prompts = promoted_prompts(tmp_path / "prompts")
    book = PromotionBook(root / "events.db")
    items = load_shop(trained[0]).items["item_id"].astype(str)
    book.put([Promotion(i, "20% off", time.time() - 60, time.time() + 86_400, "all") for i in items])
    book.close()
    store = root / "reasons"
    args = ["batch", "--model", str(root), "--shoppers", "2", "-k", "2", "--langs", "en", "--llm", "small",
            "--cpus", "2", "--attempts", "1", "--json"]  # one try: the retries are the narrator's tests
    env = {"WHYREC_PROMPTS": str(prompts)}
    r = CliRunner().invoke(cli, args, env=env)
    assert r.exit_code == 0, r.output
    report = last_json(r.output)
    assert report["stored"] == 4 and report["failures"] == 0 and report["skipped"] == 0
    assert [s["name"] for s in report["stages"]] == ["facts", "reasons"]
    again = last_json(CliRunner().invoke(cli, args, env=env).output)
    assert again["stored"] == 0 and again["skipped"] == 4
    written = ReasonStore(store)
    table = written.table.to_pandas()
    assert len(table) == 4 and set(table["lang"]) == {"en"} and set(table["prompt_version"]) == {2}

    with TestClient(create_app(make(root, tmp_path, backend="llama.cpp", llm="small", llm_precompute=0,
                                    prompts=prompts, events=root / "events.db"), load_in_background=False)) as c:
        hits = 0
        for user, stored in table.groupby("user_id"):
            body = c.post("/v1/recommendations", json={"user_id": user, "k": 2, "explain": "auto",
                                                       "lang": "en"}).json()
            stored = stored.set_index("item_id")
            for item in body["items"]:
                e, row = item["explanation"], stored.loc[item["item_id"]]
                assert "promotion" in [f["kind"] for f in item["facts"]] and e["prompt_version"] == 2
                if row["verified"]:  # the model's sentence, or the template it fell back to that passed
                    assert e["text"] == row["text"] and "written_ahead" in e["timings"], (e, row)
                    assert e["fallback_used"] == bool(row["fallback_used"])
                    hits += 1
                else:  # a stored sentence the verifier refused is never served
                    assert "written_ahead" not in e["timings"]
        assert hits == int(table["verified"].sum()) >= 1
