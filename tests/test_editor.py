"""Editors' workflow: lint with file:line, versions and labels, eval of two versions with a report, and a
running service following label moves within 2 s without a failed request."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from narrator.prompts import DEFAULT_DIR
from narrator.prompts.store import PromptStore, StoreError
from service.app import create_app
from service.cli import app as cli
from service.settings import Settings
from tests.test_service import serving

runner = CliRunner()


@pytest.fixture()
def prompts(tmp_path: Path) -> Path:
    root = tmp_path / "prompts"
    shutil.copytree(DEFAULT_DIR, root, ignore=shutil.ignore_patterns("versions", "labels.json"))
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def lint_output(root: Path) -> tuple[int, str]:
    r = runner.invoke(cli, ["prompts", "lint", "--dir", str(root)])
    return r.exit_code, r.output


def test_lint_passes_on_the_shipped_prompts():
    code, out = lint_output(DEFAULT_DIR)
    assert code == 0, out


def test_lint_catches_undefined_variable_missing_limit_and_malformed_file(prompts):
    edit(prompts / "reason-short.en.toml", "Item: {{ item_name }}", "Item: {{ item_title }}")
    edit(prompts / "reason-short.zh.toml", "max_chars = 80\n", "")
    edit(prompts / "phrases.zh.toml", 'cues = ["受欢迎"', 'cues = ["受欢迎')
    code, out = lint_output(prompts)
    out = " ".join(out.split())
    assert code == 1
    assert "reason-short.en.toml:" in out and "item_title" in out
    assert "reason-short.zh.toml:1: missing 'max_chars'" in out
    assert "phrases.zh.toml:" in out and "not valid TOML" in out
    line = next(n for n, t in enumerate((prompts / "reason-short.en.toml").read_text().splitlines(), 1)
                if "item_title" in t)
    assert f"reason-short.en.toml:{line}:" in out


def test_save_promote_rollback_and_history(prompts):
    store = PromptStore(prompts)
    assert store.save("reason-short", note="first") == 1
    edit(prompts / "reason-short.en.toml", 'fallback = "Recommended because', 'fallback = "Picked for you because')
    assert store.save("reason-short", note="warmer") == 2
    assert "Recommended because" in (store.version_dir("reason-short", 1) / "reason-short.en.toml").read_text()
    r = runner.invoke(cli, ["prompts", "promote", "reason-short@1", "--label", "production", "--dir", str(prompts)])
    assert r.exit_code == 0, r.output
    runner.invoke(cli, ["prompts", "promote", "reason-short@2", "--label", "production", "--dir", str(prompts)])
    assert store.resolve("reason-short@production") == ("reason-short", 2)
    r = runner.invoke(cli, ["prompts", "rollback", "reason-short", "--label", "production", "--dir", str(prompts)])
    assert r.exit_code == 0, r.output
    assert store.resolve("reason-short@production") == ("reason-short", 1)
    history = store.labels()["history"]
    assert [(h["from"] and h["from"]["version"], h["to"]["version"]) for h in history] == [(None, 1), (1, 2), (2, 1)]
    assert all(h["when"].endswith("Z") for h in history)


def test_a_version_failing_lint_cannot_be_saved_or_promoted(prompts):
    store = PromptStore(prompts)
    store.save("reason-short")
    edit(prompts / "reason-short.en.toml", "{{ reasons[0] }}", "{{ reasons[0] }} {{ oops }}")
    with pytest.raises(StoreError, match="fails lint"):
        store.save("reason-short")
    broken = store.versions_dir / "reason-short@1" / "reason-short.zh.toml"
    edit(broken, "max_sentences = 1\n", "")
    r = runner.invoke(cli, ["prompts", "promote", "reason-short@1", "--dir", str(prompts)])
    assert r.exit_code == 2 and "fails lint" in r.output
    assert store.label("reason-short", "production") is None


def test_eval_prints_both_versions_and_writes_a_report(prompts, tmp_path, monkeypatch):
    import service.cli

    monkeypatch.setattr(service.cli.console, "width", 240)
    store = PromptStore(prompts)
    store.save("reason-short")
    edit(prompts / "reason-short.en.toml", 'fallback = "Recommended because', 'fallback = "Picked for you because')
    edit(prompts / "reason-short.zh.toml", 'fallback = "推荐理由：', 'fallback = "为您推荐：')
    store.save("reason-short")
    for suffix in (".md", ".html"):
        report = tmp_path / f"report{suffix}"
        r = runner.invoke(cli, ["prompts", "eval", "reason-short@1", "--vs", "reason-short@2", "--sample", "6",
                                "--backend", "none", "--report", str(report), "--dir", str(prompts)])
        assert r.exit_code == 0, r.output
        assert "reason-short@1 zh" in r.output and "reason-short@2 en" in r.output and "diff en" in r.output
        text = report.read_text(encoding="utf-8")
        assert "Picked for you because" in text and "Recommended because" in text and "为您推荐" in text
    assert text.startswith("<!doctype html>")


def test_service_follows_label_moves_within_two_seconds(trained, prompts, tmp_path):
    """Light load while promoting and rolling back: every request succeeds and the switch shows up fast."""
    _, model = trained
    store = PromptStore(prompts)
    store.save("reason-short")
    edit(prompts / "reason-short.en.toml", 'fallback = "Recommended because', 'fallback = "Picked for you because')
    store.save("reason-short")
    store.promote("reason-short@1", "production")
    settings = Settings(artifacts=model, backend="none", prompts=prompts, events=tmp_path / "events.db", warm=False,
                        response_cache=0)
    app = create_app(settings, load_in_background=False)
    with serving(app) as url:
        engine = app.state.engine
        user = str(engine.ranker.stats.user_ids[0])
        item = next(e.item_id for e in engine.explainer.explain(user, k=10) if e.facts.facts)
        body = {"user_id": user, "item_id": item, "lang": "en", "mode": "template"}
        seen: list[tuple[float, int, int]] = []
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=url, timeout=10) as client:
                while not stop.is_set():
                    r = client.post("/v1/explanations", json=body)
                    version = r.json()["explanation"]["prompt_version"] if r.status_code == 200 else -1
                    seen.append((time.perf_counter(), r.status_code, version))

        workers = [threading.Thread(target=load) for _ in range(2)]
        for w in workers:
            w.start()
        warm = time.perf_counter()  # the switch is timed on a warm service, not its first (cold) answers
        while len(seen) < 4 and time.perf_counter() - warm < 60:
            time.sleep(0.05)
        switches = []
        for action, expected in ((lambda: store.promote("reason-short@2", "production"), 2),
                                 (lambda: store.rollback("reason-short", "production"), 1)):
            start = time.perf_counter()
            action()
            while time.perf_counter() - start < 5:
                if any(t > start and v == expected for t, _, v in seen[-4:]):
                    break
                time.sleep(0.05)
            switches.append(time.perf_counter() - start)
            time.sleep(0.5)
        deadline = time.perf_counter() + 10  # enough requests to call it load, however busy the machine
        while len(seen) <= 20 and time.perf_counter() < deadline:
            time.sleep(0.05)
        stop.set()
        for w in workers:
            w.join()
    assert all(code == 200 for _, code, _ in seen), {code for _, code, _ in seen}
    assert len(seen) > 20
    assert max(switches) <= 2.0, switches


def test_reload_refuses_a_broken_version_and_keeps_serving(trained, prompts, tmp_path):
    _, model = trained
    store = PromptStore(prompts)
    store.save("reason-short")
    store.promote("reason-short@1", "production")
    settings = Settings(artifacts=model, backend="none", prompts=prompts, events=tmp_path / "events.db", warm=False,
                        admin_token="s3cret", watch_prompts=False)
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings, load_in_background=False)) as c:
        assert c.post("/v1/admin/prompts/reload").status_code == 401
        assert c.post("/v1/admin/prompts/reload", headers={"x-admin-token": "wrong"}).status_code == 401
        store.save("reason-short")
        edit(store.versions_dir / "reason-short@2" / "reason-short.en.toml", "{{ reasons[0] }}", "{{ nope }}")
        data = store.labels()
        data["labels"]["reason-short"]["production"] = {"version": 2}
        store.labels_path.write_text(json.dumps(data))
        r = c.post("/v1/admin/prompts/reload", headers={"x-admin-token": "s3cret"})
        assert r.status_code == 422
        assert r.json()["error"] == "prompt_refused"
        refused = " ".join(p["message"] for p in r.json()["problems"])
        assert "reason-short.en.toml:" in refused and "nope" in refused
        user = str(c.app.state.engine.ranker.stats.user_ids[0])
        ok = c.post("/v1/recommendations", json={"user_id": user, "k": 2})
        assert ok.status_code == 200
        assert {i["explanation"]["prompt_version"] for i in ok.json()["items"] if i["explanation"]} == {1}


def test_ab_split_is_stable_per_shopper_and_near_its_share(prompts):
    from service.prompt_router import PromptRouter

    store = PromptStore(prompts)
    store.save("reason-short")
    store.save("reason-short")
    r = runner.invoke(cli, ["prompts", "promote", "reason-short@1", "--split", "2:0.25", "--dir", str(prompts)])
    assert r.exit_code == 0, r.output
    router = PromptRouter(prompts, "production", None, set())
    served = {f"U{n:05d}": router.narrator(f"U{n:05d}", "short").prompts.template("en").version for n in range(2000)}
    share = sum(v == 2 for v in served.values()) / len(served)
    assert 0.21 < share < 0.29, share
    assert all(router.narrator(u, "short").prompts.template("en").version == v for u, v in list(served.items())[:50])
    assert router.narrator("U00001", "detailed") is router.base


def test_lint_catches_a_relation_phrase_that_breaks_older_facts_and_an_empty_owner_list(prompts):
    """`relation` is absent from facts written before it existed: a phrase that reads it unguarded fails on
    the sample without it, and an owner table with an empty list names its entry."""
    edit(prompts / "phrases.en.toml", "relation is defined and relation == 'bought'", "relation == 'bought'")
    edit(prompts / "phrases.zh.toml", 'owner.bought = ["买过", "购买过", "已购", "入手过"]', "owner.bought = []")
    code, out = lint_output(prompts)
    out = " ".join(out.split())
    assert code == 1
    assert "phrases.en.toml:" in out and "similar_text" in out and "relation" in out
    assert "[similar_text] owner.bought must be a list of non-empty words" in out
