"""The only way model work for reasons is scheduled: one worker, two priorities, bounded.

One worker because the CPU has two cores and the model uses both; bounds because a queue that grows
without limit turns a burst into minutes of waiting. A shopper's request (`llm` mode) goes first and
waits at most the request's deadline, then gets the template sentence, marked `fallback_used` with
why. Background work (`auto` mode's misses, the most active shoppers after start) runs only when no
shopper waits: its sentence fills the narrator's cache, so the next request for those facts is served
the model's text at once.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from narrator.backends.generation import Backend, Generation, ModelUnavailable
from narrator.facts import Facts
from narrator.narrate import Explanation, Mode, Narrator
from narrator.prompts.templates import Messages
from service.metrics import Metrics

INTERACTIVE, BACKGROUND = 0, 1
log = logging.getLogger("whyrec.llm")


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    run: Callable[[], Any] = field(compare=False)
    future: Future = field(compare=False, default_factory=Future)


class LlmQueue:
    """At most `size` reasons waiting for a shopper (each waits at most `deadline_s`) and at most
    `background_size` written ahead."""

    def __init__(self, metrics: Metrics, size: int, deadline_s: float, background_size: int = 1000):
        self.metrics = metrics
        self.size, self.deadline_s, self.background_size = size, deadline_s, background_size
        self.pending = 0
        self._background: dict[tuple, Future[Explanation]] = {}
        self._jobs: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        threading.Thread(target=self._work, daemon=True, name="llm").start()

    @property
    def background(self) -> int:
        return len(self._background)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job.future.set_running_or_notify_cancel():
                try:
                    job.future.set_result(job.run())
                except BaseException as e:  # the caller (or the log, for background work) sees it
                    job.future.set_exception(e)

    def _submit(self, priority: int, run: Callable[[], Any]) -> Future:
        job = _Job(priority, next(self._seq), run)
        self._jobs.put(job)
        return job.future

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
        """Reasons for one request's items. Sentences the model wrote before are served at once. In `llm`
        mode the rest are queued for this request while there is room, under one shared deadline; in
        `auto` mode they are served as the template now and written in the background for next time."""
        start = time.perf_counter()
        results: list[Explanation | None] = [None] * len(facts_list)
        futures: dict[int, Future[Explanation]] = {}
        for n, facts in enumerate(facts_list):
            hit = narrator.cached(facts, lang, style)
            if hit is not None:
                self.metrics.cache_hits.labels("narrator").inc()
                results[n] = hit
            elif mode == "auto":
                self.write_ahead(narrator, facts, lang, style)
                results[n] = narrator.fallback(facts, lang, style, "pending")
            elif self._enter():
                futures[n] = self._submit(INTERACTIVE, partial(self._run, narrator, facts, lang, style, mode))
            else:
                results[n] = narrator.fallback(facts, lang, style, "queue_full")
        for n, future in futures.items():
            try:
                results[n] = future.result(timeout=max(self.deadline_s - (time.perf_counter() - start), 0.0))
            except FutureTimeout:
                results[n] = narrator.fallback(facts_list[n], lang, style, "deadline")
        return [r for r in results if r is not None]

    def generate(self, backend: Backend, messages: Messages, max_tokens: int) -> Generation:
        """One model call for an editor (the playground): a shopper's priority, bound and deadline, so an editor
        never makes a shopper wait longer than a shopper would. Raises `ModelUnavailable` naming why not."""
        if not self._enter():
            raise ModelUnavailable("queue_full")

        def run() -> Generation:
            try:
                return backend.generate(messages, max_tokens)
            finally:
                self._leave()

        try:
            return self._submit(INTERACTIVE, run).result(timeout=self.deadline_s)
        except FutureTimeout:
            raise ModelUnavailable("deadline") from None

    def _run(self, narrator: Narrator, facts: Facts, lang: str, style: str, mode: Mode) -> Explanation:
        """In the worker; a reason finished after its deadline still fills the cache for next time."""
        try:
            return narrator.explain(facts, lang, style, mode)
        finally:
            self._leave()

    def write_ahead(self, narrator: Narrator, facts: Facts, lang: str, style: str) -> Future[Explanation] | None:
        """Have the model write this reason when no shopper waits, once per facts, prompt and model (the
        future of the same work when it is already queued); None when the background bound is reached."""
        key = (id(narrator), *narrator.cache_key(facts, lang, style))

        def run() -> Explanation:
            try:
                return narrator.explain(facts, lang, style, "auto")
            finally:
                with self._lock:
                    self._background.pop(key, None)

        with self._lock:
            if key in self._background:
                return self._background[key]
            if len(self._background) >= self.background_size:
                return None
            future = self._background[key] = self._submit(BACKGROUND, run)
        future.add_done_callback(_log_failure)
        return future

    def run_in_background(self, run: Callable[[], object]) -> Future:
        """Other model work (enriching new items) at the background priority: never ahead of a shopper."""
        future = self._submit(BACKGROUND, run)
        future.add_done_callback(_log_failure)
        return future

    def stream(self, narrator: Narrator, facts: Facts, lang: str, style: str) -> Iterator[tuple[str, object]]:
        """Tokens as the model writes them, written by the one worker like every other model call (at a
        shopper's priority and bound) and handed over one by one; the template sentence, marked, when the model
        has not started within the deadline."""
        if not self._enter():
            yield "final", narrator.fallback(facts, lang, style, "queue_full")
            return
        events: queue.Queue[tuple[str, object] | None] = queue.Queue()

        def run() -> None:
            try:
                for event in narrator.stream(facts, lang, style):
                    events.put(event)
            except Exception as e:  # raised again in the caller's thread
                events.put(("error", e))
            finally:
                events.put(None)
                self._leave()

        self._submit(INTERACTIVE, run)
        try:
            event = events.get(timeout=self.deadline_s)
        except queue.Empty:
            yield "final", narrator.fallback(facts, lang, style, "deadline")
            return
        while event is not None:
            if event[0] == "error":
                raise cast(Exception, event[1])
            yield event
            event = events.get()


def _log_failure(future: Future[Explanation]) -> None:
    """Nobody waits for background work: its failures go to the log."""
    if not future.cancelled() and (error := future.exception()) is not None:
        log.error("background model work failed: %s: %s", type(error).__name__, error)
