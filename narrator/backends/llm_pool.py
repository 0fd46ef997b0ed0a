"""Several OpenAI-compatible servers (vLLM, llama.cpp's server, …) as one text model: narrator capacity grows
by adding servers.

Each request goes to the healthy server with the fewest requests in flight (ties: the one used least
recently), so a slow server takes fewer. A server that fails a request (connection error, 5xx, timeout) is
taken out at once and the request is retried on the next one; a background check (`GET /v1/models`) every
`check_every_s` puts it back when it answers again. Only when every server has failed is the request an
error, which the narrator turns into the template sentence like any model failure.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from narrator.backends.generation import Generation
from narrator.backends.models import ModelError
from narrator.backends.openai_backend import OpenAIBackend
from narrator.prompts.templates import Messages

log = logging.getLogger("whyrec.llm_pool")


@dataclass
class Endpoint:
    backend: OpenAIBackend
    url: str
    in_flight: int = 0
    healthy: bool = True
    served: int = 0
    failed: int = 0
    last_used: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class EndpointPool:
    """A `Backend` over several servers of the same model, least-loaded first, with health checks."""

    name = "openai-pool"

    def __init__(self, urls: list[str], model_id: str, api_key: str | None = None, timeout: float = 30.0,
                 check_every_s: float = 5.0):
        if not urls:
            raise ModelError("an endpoint pool needs at least one server URL")
        self.model_id = model_id
        self.endpoints = [Endpoint(OpenAIBackend(u, model_id, timeout=timeout, retries=0, api_key=api_key), u)
                          for u in urls]
        self._lock = threading.Lock()
        self._ticks = itertools.count(1)
        self._stop = threading.Event()
        self._checker = threading.Thread(target=self._check_loop, args=(check_every_s,), daemon=True,
                                         name="llm-pool-health")
        self._checker.start()

    def _take(self, tried: set[str]) -> Endpoint | None:
        with self._lock:
            ready = [e for e in self.endpoints if e.healthy and e.url not in tried]
            if not ready:
                return None
            best = min(ready, key=lambda e: (e.in_flight, e.last_used))
            best.in_flight += 1
            best.last_used = next(self._ticks)
            return best

    def _release(self, endpoint: Endpoint, ok: bool) -> None:
        with self._lock:
            endpoint.in_flight -= 1
            if ok:
                endpoint.served += 1
            else:
                endpoint.failed += 1
                if endpoint.healthy:
                    log.warning("LLM server %s failed; out of the pool until it answers again", endpoint.url)
                endpoint.healthy = False

    def generate(self, messages: Messages, max_tokens: int) -> Generation:
        tried: set[str] = set()
        errors = []
        while (endpoint := self._take(tried)) is not None:
            tried.add(endpoint.url)
            try:
                result = endpoint.backend.generate(messages, max_tokens)
            except Exception as e:  # this server failed; the next one gets the request
                self._release(endpoint, False)
                errors.append(f"{endpoint.url}: {e}")
                continue
            self._release(endpoint, True)
            return result
        raise ModelError("no LLM server in the pool answered" + (": " + "; ".join(errors) if errors else
                                                                   " (all are marked unhealthy)"))

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        """Streamed from one server (a stream cannot move mid-way): the least loaded healthy one."""
        endpoint = self._take(set())
        if endpoint is None:
            raise ModelError("no LLM server in the pool is healthy")
        ok = False
        try:
            yield from endpoint.backend.stream(messages, max_tokens)
            ok = True
        finally:
            self._release(endpoint, ok)

    def check(self) -> None:
        """Ask every server for its models; those that answer are (back) in the pool."""
        for endpoint in self.endpoints:
            try:
                alive = endpoint.backend.client.get("/v1/models").status_code < 500
            except Exception:
                alive = False
            with self._lock:
                if alive and not endpoint.healthy:
                    log.info("LLM server %s answers again; back in the pool", endpoint.url)
                endpoint.healthy = alive

    def _check_loop(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.check()

    def close(self) -> None:
        self._stop.set()

    def stats(self) -> list[dict]:
        with self._lock:
            return [{"url": e.url, "healthy": e.healthy, "in_flight": e.in_flight, "served": e.served,
                     "failed": e.failed} for e in self.endpoints]

