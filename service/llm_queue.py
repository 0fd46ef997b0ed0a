"""The only way model work for reasons is scheduled: bounded, one worker, one deadline per request.

One worker because the CPU has two cores and the model uses both; a bound because a queue that grows
without limit turns a burst into minutes of waiting. A reason not written by the request's deadline is
served as the template sentence, marked `fallback_used` with why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from narrator.facts import Facts
from narrator.narrate import Explanation, Mode, Narrator
from service.metrics import Metrics


class LlmQueue:
    """At most `size` reasons waiting for the model; each caller waits at most `deadline_s`."""

    def __init__(self, metrics: Metrics, size: int, deadline_s: float):
        self.metrics = metrics
        self.size, self.deadline_s = size, deadline_s
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm")
        self.pending = 0
        self._lock = threading.Lock()

    def _enter(self) -> bool:
        with self._lock:
            if self.pending >= self.size:
                return False
            self.pending += 1
            self.metrics.queue_depth.set(self.pending)
            return True

    def _leave(self) -> None:
        with self._lock:
            self.pending -= 1
            self.metrics.queue_depth.set(self.pending)

    def explain_many(self, narrator: Narrator, facts_list: list[Facts], lang: str, style: str,
                     mode: Mode) -> list[Explanation]:
        """Reasons for one request's items under one shared deadline: cached sentences at once, the rest
        queued while there is room; whatever is not written in time gets the template sentence."""
        start = time.perf_counter()
        results: list[Explanation | None] = [None] * len(facts_list)
        futures: dict[int, Future[Explanation]] = {}
        for n, facts in enumerate(facts_list):
            hit = narrator.cached(facts, lang, style)
            if hit is not None:
                self.metrics.cache_hits.labels("narrator").inc()
                results[n] = hit
            elif self._enter():
                futures[n] = self.pool.submit(self._run, narrator, facts, lang, style, mode)
            else:
                results[n] = narrator.fallback(facts, lang, style, "queue_full")
        for n, future in futures.items():
            try:
                results[n] = future.result(timeout=max(self.deadline_s - (time.perf_counter() - start), 0.0))
            except FutureTimeout:
                results[n] = narrator.fallback(facts_list[n], lang, style, "deadline")
        return [r for r in results if r is not None]

    def _run(self, narrator: Narrator, facts: Facts, lang: str, style: str, mode: Mode) -> Explanation:
        """In the worker; a reason finished after its deadline still fills the cache for next time."""
        try:
            return narrator.explain(facts, lang, style, mode)
        finally:
            self._leave()

    def stream(self, narrator: Narrator, facts: Facts, lang: str, style: str) -> Iterator[tuple[str, object]]:
        if not self._enter():
            yield "final", narrator.fallback(facts, lang, style, "queue_full")
            return
        try:
            yield from narrator.stream(facts, lang, style)
        finally:
            self._leave()
