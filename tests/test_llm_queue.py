"""The LLM queue's two priorities with a scripted model: a shopper's request overtakes work written
ahead, `auto` never waits, background work is queued once and bounded."""

from __future__ import annotations

import threading
import time

from narrator.backends import Generation
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from service.llm_queue import LlmQueue
from service.metrics import Metrics
from tests.narrator_cases import BRANDS, facts_of


class Scripted:
    """Writes `text` after `delay` seconds and records each prompt's last message."""

    model_id, name = "scripted", "scripted"

    def __init__(self, delay: float, text: str = "x"):
        self.delay, self.text, self.calls = delay, text, []
        self.lock = threading.Lock()

    def generate(self, messages, max_tokens):
        with self.lock:
            self.calls.append(messages[-1]["content"])
        time.sleep(self.delay)
        return Generation(self.text, 3, self.delay)

    def stream(self, messages, max_tokens):
        yield self.generate(messages, max_tokens).text


def narrator(backend) -> Narrator:
    return Narrator(PromptLibrary.load(), backend, brands=BRANDS)


def first_prompt(n: Narrator, facts) -> str:
    return n.messages(facts, n.prompts.template("en"))[-1]["content"]


def test_a_waiting_shopper_goes_before_work_written_ahead():
    backend = Scripted(0.15)
    n = narrator(backend)
    q = LlmQueue(Metrics(), size=4, deadline_s=30)
    ahead = [facts_of("brand"), facts_of("price"), facts_of("rating")]
    futures = [q.write_ahead(n, f, "en", "short") for f in ahead]
    assert all(futures)
    wanted = facts_of("popular")
    (served,) = q.explain_many(n, [wanted], "en", "short", "llm")
    assert served.attempts >= 1 and served.fallback_used  # "x" fails the verifier; the template is served
    for f in futures:
        f.result(timeout=30)
    order = [backend.calls.index(first_prompt(n, f)) for f in (*ahead, wanted)]
    assert order[3] < order[1] < order[2], order  # queued ahead work waits; the one already running finishes


def test_auto_never_waits_and_writes_the_reason_for_next_time():
    true_text = narrator(None).explain(facts_of("brand", "popular"), "en", mode="template").text
    n = narrator(Scripted(0.3, true_text))
    q = LlmQueue(Metrics(), size=4, deadline_s=30)
    facts = facts_of("brand", "popular")
    start = time.perf_counter()
    (first,) = q.explain_many(n, [facts], "en", "short", "auto")
    assert time.perf_counter() - start < 0.25
    assert first.fallback_used and "fallback_pending" in first.timings and first.model_id == "template"
    deadline = time.time() + 10
    while q.background and time.time() < deadline:
        time.sleep(0.05)
    (second,) = q.explain_many(n, [facts], "en", "short", "auto")
    assert second.cache_hit and second.verified and second.model_id == "scripted" and second.text == true_text


def test_work_ahead_is_queued_once_and_bounded():
    n = narrator(Scripted(0.2))
    q = LlmQueue(Metrics(), size=4, deadline_s=30, background_size=2)
    first = q.write_ahead(n, facts_of("brand"), "en", "short")
    assert first is not None
    assert q.write_ahead(n, facts_of("brand"), "en", "short") is first  # already queued: the same work
    assert q.write_ahead(n, facts_of("price"), "en", "short") is not None
    assert q.write_ahead(n, facts_of("rating"), "en", "short") is None  # bound reached
