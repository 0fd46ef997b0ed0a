"""The HTTP service through the real app: every endpoint, the error paths, readiness, SSE, feedback
durability, the LLM deadline and queue bound."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from narrator.backends import Generation
from service.app import create_app
from service.settings import Settings

pytestmark = pytest.mark.slow
EVENTS_TOKEN = "ev-t0ken"
AUTH = {"authorization": f"Bearer {EVENTS_TOKEN}"}


def settings(model: Path, tmp: Path, **extra) -> Settings:
    return Settings(**{"artifacts": model, "backend": "none", "events": tmp / "events.db", "warm": False,
                       "events_token": EVENTS_TOKEN, **extra})


def wait_ready(client: TestClient, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError(client.get("/readyz").json())


@pytest.fixture(scope="module")
def client(trained, tmp_path_factory):
    _, model = trained
    app = create_app(settings(model, tmp_path_factory.mktemp("svc"), batch_max=3))
    with TestClient(app) as c:
        wait_ready(c)
        yield c


def known_user(client: TestClient) -> str:
    return str(client.app.state.engine.ranker.stats.user_ids[0])


def test_readiness_before_and_after_load(trained, tmp_path):
    _, model = trained
    with TestClient(create_app(settings(model, tmp_path))) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        first = c.get("/readyz")
        assert first.status_code == 503 and first.json()["ready"] is False
        assert c.post("/v1/recommendations", json={"user_id": "u"}).status_code == 503
        wait_ready(c)
        body = c.get("/readyz").json()
        assert body["ranker"] and body["attributions"] and body["narrator"] and body["narrator_model"] == "template"


def test_precomputed_shoppers_are_served_from_the_cache(trained, tmp_path):
    _, model = trained
    with TestClient(create_app(settings(model, tmp_path, precompute=3), load_in_background=False)) as c:
        deadline = time.time() + 120
        while c.get("/readyz").json()["precomputed"] < 3 and time.time() < deadline:
            time.sleep(0.1)
        assert c.get("/readyz").json()["precompute_total"] == 3
        user = c.app.state.engine.ranker.most_active(1)[0]
        r = c.post("/v1/recommendations", json={"user_id": user, "lang": "zh"})
        assert r.status_code == 200 and r.json()["items"][0]["explanation"]["lang"] == "zh"
        assert 'whyrec_cache_hits_total{cache="response"} 1.0' in c.get("/metrics").text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_recommendations_with_template_reasons(client, lang):
    user = known_user(client)
    r = client.post("/v1/recommendations", json={"user_id": user, "k": 5, "lang": lang, "explain": "template"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == user and not body["cold_start"] and len(body["items"]) == 5
    assert [i["rank"] for i in body["items"]] == [1, 2, 3, 4, 5]
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)
    explained = [i for i in body["items"] if i["explanation"]]
    assert explained, body
    for item in explained:
        e = item["explanation"]
        assert e["lang"] == lang and e["verified"] and not e["fallback_used"] and e["model_id"] == "template", e
        assert e["cited"][0] == item["facts"][0]["kind"]
        assert set(item["attribution"]) >= {"brand_affinity", "popularity"}
        has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in e["text"])
        assert has_cjk == (lang == "zh")


def test_unknown_shopper_gets_popular_items_with_an_honest_reason(client):
    r = client.post("/v1/recommendations", json={"user_id": "nobody-at-all", "k": 3, "lang": "en"})
    body = r.json()
    assert r.status_code == 200 and body["cold_start"]
    for item in body["items"]:
        assert [f["kind"] for f in item["facts"]] == ["popular"]
        assert "popular" in item["explanation"]["text"]


def test_no_explanations_and_rank(client):
    user = known_user(client)
    plain = client.post("/v1/recommendations", json={"user_id": user, "k": 4, "explain": "none"}).json()
    assert all(i["explanation"] is None and i["facts"] is None for i in plain["items"])
    ids = [i["item_id"] for i in plain["items"]][::-1]
    ranked = client.post("/v1/rank", json={"user_id": user, "item_ids": ids, "lang": "zh"}).json()
    assert sorted(i["item_id"] for i in ranked["items"]) == sorted(ids)
    assert [i["item_id"] for i in ranked["items"]] == [i["item_id"] for i in plain["items"]]


def test_unknown_item_is_a_404_naming_it(client):
    user = known_user(client)
    for path, body in (("/v1/rank", {"user_id": user, "item_ids": ["NOPE-1"]}),
                       ("/v1/explanations", {"user_id": user, "item_id": "NOPE-1"}),
                       ("/v1/feedback", {"user_id": user, "item_id": "NOPE-1", "event": "view"})):
        r = client.post(path, json=body, headers=AUTH)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"] == "unknown_item" and r.json()["id"] == "NOPE-1" and "NOPE-1" in r.json()["detail"]
        assert r.json()["request_id"] == r.headers["x-request-id"]


def test_invalid_bodies_are_422_with_field_errors(client):
    r = client.post("/v1/recommendations", json={"user_id": "u", "k": 0, "lang": "fr"})
    assert r.status_code == 422
    body = r.json()
    fields = {tuple(p["loc"]) for p in body["problems"]}
    assert ("body", "k") in fields and ("body", "lang") in fields
    assert body["error"] == "invalid_request" and "body.k" in body["detail"]
    assert body["request_id"] == r.headers["x-request-id"]
    assert client.post("/v1/feedback", json={"user_id": "u", "item_id": "x", "event": "rating"},
                       headers=AUTH).status_code == 422


def test_every_error_has_the_one_shape(client):
    """Starlette's 404/405 and a disabled admin route answer in the same body as the API's own errors."""
    cases = ((client.get("/nope"), 404, "not_found"), (client.get("/v1/recommendations"), 405, "method_not_allowed"),
             (client.post("/v1/admin/prompts/reload"), 403, "forbidden"))
    for r, status, error in cases:
        assert r.status_code == status, r.text
        body = r.json()
        assert body["error"] == error and body["detail"] and body["request_id"] == r.headers["x-request-id"]


def test_explanation_and_batch_limit(client):
    user = known_user(client)
    item = client.post("/v1/recommendations", json={"user_id": user, "k": 1}).json()["items"][0]["item_id"]
    r = client.post("/v1/explanations", json={"user_id": user, "item_id": item, "lang": "zh", "mode": "template"})
    body = r.json()
    assert r.status_code == 200 and body["completeness_error"] < 0.01 and body["steps"] >= 16
    assert body["explanation"]["text"].startswith("推荐理由")
    pair = {"user_id": user, "item_id": item}
    ok = client.post("/v1/explanations/batch", json={"pairs": [pair] * 3})
    assert ok.status_code == 200 and len(ok.json()["results"]) == 3
    big = client.post("/v1/explanations/batch", json={"pairs": [pair] * 4})
    assert big.status_code == 413 and big.json()["error"] == "batch_too_large"


def test_metrics_count_requests_and_reasons(client):
    client.post("/v1/recommendations", json={"user_id": known_user(client), "k": 2})
    text = client.get("/metrics").text
    assert 'whyrec_requests_total{route="/v1/recommendations",status="200"}' in text
    assert 'whyrec_explanations_total{outcome="template",prompt="reason-short@1"}' in text
    assert "whyrec_llm_queue_depth" in text and "whyrec_request_seconds_bucket" in text


class SlowBackend:
    """A model that needs `delay` seconds per sentence and always writes the template's true phrase."""

    model_id, name = "slow", "slow"

    def __init__(self, delay: float, text: str):
        self.delay, self.text = delay, text

    def generate(self, messages, max_tokens):
        time.sleep(self.delay)
        return Generation(self.text, 10, self.delay)

    def stream(self, messages, max_tokens):
        for word in self.text.split(" "):
            time.sleep(self.delay / 10)
            yield word + " "


def test_deadline_and_full_queue_serve_marked_template_reasons(trained, tmp_path):
    _, model = trained
    app = create_app(settings(model, tmp_path, llm_deadline_s=0.3, llm_queue=1), load_in_background=False)
    with TestClient(app) as c:
        engine = c.app.state.engine
        engine.use_backend(SlowBackend(1.0, "x"))
        user = known_user(c)
        item = c.post("/v1/recommendations", json={"user_id": user, "k": 1}).json()["items"][0]["item_id"]
        results = []

        def ask():
            results.append(c.post("/v1/explanations", json={"user_id": user, "item_id": item, "mode": "llm"}))

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.status_code == 200 for r in results)
        explanations = [r.json()["explanation"] for r in results]
        assert all(e["fallback_used"] and e["model_id"] == "template" for e in explanations)
        outcomes = {k for e in explanations for k in e["timings"]}
        assert {"fallback_deadline", "fallback_queue_full"} <= outcomes
        assert engine.llm.pending <= 1


def test_auto_reads_reasons_written_ahead_and_never_waits(trained, tmp_path):
    """The most active shoppers' reasons are written in the background; `auto` serves them, and for
    anything not written yet serves the template at once (marked pending) and writes it for next time."""
    _, model = trained
    app = create_app(settings(model, tmp_path, llm_deadline_s=30.0), load_in_background=False)
    with TestClient(app) as c:
        engine = c.app.state.engine
        user = engine.ranker.most_active(1)[0]
        explained = next(e for e in engine.explainer.explain(user, k=10) if e.facts.facts)
        true_text = engine.prompts.base.explain(explained.facts, "en", mode="template").text
        engine.use_backend(SlowBackend(0.05, true_text))
        body = {"user_id": user, "k": 10, "lang": "en", "explain": "auto"}
        before = {i["item_id"]: i["explanation"] for i in c.post("/v1/recommendations", json=body).json()["items"]}
        assert before[explained.item_id]["fallback_used"] and "fallback_pending" in before[explained.item_id]["timings"]
        engine.write_ahead([user])
        assert engine.status.written_ahead == 1
        after = {i["item_id"]: i["explanation"] for i in c.post("/v1/recommendations", json=body).json()["items"]}
        e = after[explained.item_id]
        assert e["model_id"] == "slow" and e["verified"] and not e["fallback_used"] and e["text"] == true_text


@contextmanager
def serving(app):
    """The app on a real uvicorn server on a free port of 127.0.0.1; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_sse_stream_read_by_a_real_client(trained, tmp_path):
    """A real server, read with httpx until the final event."""
    _, model = trained
    app = create_app(settings(model, tmp_path), load_in_background=False)
    with serving(app) as url:
        engine = app.state.engine
        user = str(engine.ranker.stats.user_ids[0])
        explained = next(e for e in engine.explainer.explain(user, k=10) if e.facts.facts)
        true_text = engine.prompts.base.explain(explained.facts, "en", mode="template").text
        engine.use_backend(SlowBackend(0.2, true_text))
        events = []
        with httpx.stream("POST", f"{url}/v1/explanations/stream", timeout=30,
                          json={"user_id": user, "item_id": explained.item_id, "lang": "en"}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            kind = None
            for line in r.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line[6:])))
    kinds = [k for k, _ in events]
    assert kinds[0] == "facts" and kinds[-1] == "final" and kinds.count("progress") >= 5
    assert "token" not in kinds  # a shopper never receives the model's unverified text
    assert events[0][1]["item_id"] == explained.item_id and events[0][1]["facts"]
    final = events[-1][1]
    assert final["text"] == true_text and final["verified"] and not final["fallback_used"]
    assert final["model_id"] == "slow"
    with TestClient(create_app(settings(model, tmp_path, admin_token="adm"), load_in_background=False)) as c:
        body = {"user_id": user, "item_id": explained.item_id, "lang": "en"}
        assert c.post("/v1/explanations/stream?raw=true", json=body).status_code == 401
        assert c.post("/v1/explanations/stream?raw=true", json=body,
                      headers={"authorization": f"Bearer {EVENTS_TOKEN}"}).status_code == 403
        c.app.state.engine.use_backend(SlowBackend(0.01, true_text))
        with c.stream("POST", "/v1/explanations/stream?raw=true", json=body,
                      headers={"authorization": "Bearer adm"}) as r:
            assert r.status_code == 200 and "event: token" in r.read().decode()


def test_a_client_hanging_up_mid_request_is_not_a_server_error(trained, tmp_path):
    """wrk and impatient phones close connections while a reason is still being written, or before
    the body arrived (a 400: the body is incomplete), never a server error."""
    _, model = trained
    app = create_app(settings(model, tmp_path, llm_deadline_s=2.0), load_in_background=False)
    with serving(app) as url:
        engine = app.state.engine
        engine.use_backend(SlowBackend(0.5, "x"))
        user = str(engine.ranker.stats.user_ids[0])
        body = json.dumps({"user_id": user, "k": 3, "lang": "en", "explain": "llm"}).encode()
        port = int(url.rsplit(":", 1)[1])
        head = (b"POST /v1/recommendations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\n\r\n" % len(body))
        for sent in (head + body, head + body, head + body[:10]):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(sent)
                time.sleep(0.2)
        deadline, answered = time.time() + 20, 'route="/v1/recommendations",status="200"} 2.0'
        metrics = ""
        while answered not in metrics and time.time() < deadline:  # the first requests compile IG shapes
            time.sleep(0.2)
            metrics = httpx.get(f"{url}/metrics").text
        assert server_errors(metrics) == 0
        assert answered in metrics
        assert 'route="/v1/recommendations",status="400"} 1.0' in metrics


def test_schemathesis_finds_no_server_error(trained, tmp_path):
    """A CI-sized fuzz run over the live OpenAPI (bench/service.py runs >= 1,000 cases)."""
    _, model = trained
    app = create_app(settings(model, tmp_path), load_in_background=False)
    exe = Path(sys.executable).parent / "schemathesis"
    with serving(app) as url:
        run = subprocess.run([str(exe), "--no-color", "run", f"{url}/openapi.json", "--checks", "not_a_server_error",
                              "--max-examples", "15", "--phases", "examples,coverage,fuzzing", "--seed", "1",
                              "--suppress-health-check", "all", "--workers", "1"],
                             capture_output=True, text=True, timeout=600)
        errors = server_errors(httpx.get(f"{url}/metrics").text)
    assert run.returncode == 0, run.stdout[-4000:]
    generated = re.search(r"(\d+) generated", run.stdout)
    assert generated and int(generated.group(1)) >= 100, run.stdout[-2000:]
    assert errors == 0


def server_errors(metrics_text: str) -> int:
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in metrics_text.splitlines()
               if line.startswith("whyrec_requests_total{") and 'status="5' in line)


def test_a_body_over_the_limit_is_refused_before_parsing_and_auth(trained, tmp_path):
    limited = Settings(artifacts=trained[1], backend="none", events=tmp_path / "events.db", warm=False,
                        max_body_bytes=4096, admin_token="s3cret")
    with TestClient(create_app(limited, load_in_background=False)) as c:
        big = b'{"promotions": [' + b'{"item_id": "x"},' * 2000 + b'{}]}'
        for path in ("/v1/promotions", "/v1/recommendations"):  # an admin route without a token, and an open one
            r = c.request("PUT" if "promotions" in path else "POST", path, content=big,
                          headers={"content-type": "application/json"})
            assert r.status_code == 413 and r.json()["error"] == "body_too_large", (path, r.text)
        chunked = c.post("/v1/recommendations", content=iter([b'{"user_id": "' + b"x" * 3000, b"x" * 3000 + b'"}']),
                         headers={"content-type": "application/json"})  # no Content-Length: cut while read
        assert chunked.status_code == 413 and chunked.json()["error"] == "body_too_large", chunked.text
        ok = c.post("/v1/recommendations", json={"user_id": "U00001", "k": 2, "explain": "none"})
        assert ok.status_code == 200
