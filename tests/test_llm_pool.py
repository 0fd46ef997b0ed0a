"""The LLM as a pool: several OpenAI-compatible servers, least-loaded dispatch, failover and health checks,
against small fake servers."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from narrator.backends import LlmOptions, load_backend
from narrator.backends.llm_pool import EndpointPool
from narrator.backends.models import ModelError


class Fake:
    """A chat server that answers after `delay` seconds, or with a 500 while `broken`."""

    def __init__(self, name: str, delay: float = 0.0):
        self.name, self.delay, self.broken, self.calls = name, delay, False, 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(500 if fake.broken else 200, {"data": [{"id": "m"}]})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                if fake.broken:
                    self._send(500, {"error": "down"})
                    return
                fake.calls += 1
                time.sleep(fake.delay)
                self._send(200, {"choices": [{"message": {"content": f"from {fake.name}"}}],
                                 "usage": {"completion_tokens": 3}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def fakes():
    servers = [Fake("a", 0.05), Fake("b", 0.05), Fake("c", 0.3)]
    yield servers
    for s in servers:
        s.server.shutdown()


MESSAGES = [{"role": "user", "content": "hi"}]


def test_comma_separated_urls_make_a_pool(fakes):
    backend = load_backend(LlmOptions(backend="openai", model="m", openai_url=",".join(f.url for f in fakes)))
    assert isinstance(backend, EndpointPool) and backend.generate(MESSAGES, 8).text.startswith("from ")


def test_least_loaded_dispatch_sends_fewer_requests_to_the_slow_server(fakes):
    pool = EndpointPool([f.url for f in fakes], "m", check_every_s=60)
    with ThreadPoolExecutor(6) as ex:
        list(ex.map(lambda _: pool.generate(MESSAGES, 8), range(60)))
    a, b, c = (f.calls for f in fakes)
    assert a + b + c == 60 and c < a and c < b, (a, b, c)


def test_a_failed_server_leaves_the_pool_and_comes_back(fakes):
    pool = EndpointPool([f.url for f in fakes], "m", check_every_s=60)
    fakes[0].broken = True
    texts = {pool.generate(MESSAGES, 8).text for _ in range(10)}
    assert "from a" not in texts and texts <= {"from b", "from c"}
    assert not pool.endpoints[0].healthy and pool.stats()[0]["failed"] == 1
    fakes[0].broken = False
    pool.check()
    assert pool.endpoints[0].healthy
    for f in fakes:
        f.broken = True
    with pytest.raises(ModelError, match="no LLM server"):
        pool.generate(MESSAGES, 8)
