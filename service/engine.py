"""Everything a request needs, loaded once: ranker, attributions, narrator, LLM queue, feedback store.

The HTTP layer only translates; this is where recommendations become explained items. Model work for
reasons goes through `LlmQueue`: bounded, one worker (the CPU has two cores and the model uses both),
and a per-request deadline after which the template sentence is served, marked `fallback_used`.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from narrator.facts import Fact, Facts
from narrator.narrate import Explanation, Narrator
from narrator.prompts import DEFAULT_DIR
from service.metrics import Metrics
from service.prompt_router import PromptRouter
from service.schemas import ExplanationOut, ExplanationResponse, FactOut, ItemOut, RecommendationsResponse
from service.settings import Settings


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
                     mode: str) -> list[Explanation]:
        """Reasons for one request's items under one shared deadline: cached sentences at once, the rest
        queued while there is room; whatever is not written in time gets the template sentence."""
        start = time.perf_counter()
        results: list[Explanation | None] = [None] * len(facts_list)
        futures = {}
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
        return results

    def _run(self, narrator: Narrator, facts: Facts, lang: str, style: str, mode: str) -> Explanation:
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


class FeedbackStore:
    """Append-only CSV in the canonical events schema (plus explanation id and helpfulness), so the
    next training run can import it. Each event is flushed and fsynced before the request returns;
    an exclusive file lock keeps rows whole and the count right when several processes share the file."""

    COLUMNS = ("user_id", "item_id", "event", "value", "timestamp", "explanation_id", "helpful")

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._rows, self._size = 0, 0

    def _catch_up(self, f) -> None:
        """Count the rows written since we last looked (by this process or another); a quoted field
        may hold a newline, so rows are parsed, not lines counted."""
        f.seek(self._size)
        chunk = f.read()
        self._rows += sum(1 for _ in csv.reader(io.StringIO(chunk.decode("utf-8"), newline="")))
        self._size += len(chunk)

    def append(self, user_id: str, item_id: str, event: str, value: float | None, explanation_id: str | None,
               helpful: bool | None) -> int:
        """Stores one event; returns how many events the store holds."""
        row = [user_id, item_id, event, "" if value is None else f"{value:g}", f"{time.time():.3f}",
               explanation_id or "", "" if helpful is None else str(helpful).lower()]
        text = io.StringIO()
        writer = csv.writer(text)
        with self._lock, self.path.open("a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            self._catch_up(f)
            if self._size == 0:
                writer.writerow(self.COLUMNS)
            writer.writerow(row)
            data = text.getvalue().encode("utf-8")
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            self._rows += 2 if self._size == 0 else 1
            self._size += len(data)
            return self._rows - 1


def fact_out(fact: Fact) -> FactOut:
    return FactOut(kind=fact.kind, share=fact.share, rank=fact.rank, evidence=fact.evidence)


def explanation_out(e: Explanation, user_id: str, item_id: str) -> ExplanationOut:
    digest = hashlib.sha256(f"{user_id}\x1f{item_id}\x1f{e.lang}\x1f{e.text}".encode()).hexdigest()[:20]
    return ExplanationOut(id=digest, text=e.text, lang=e.lang, style=e.style, cited=e.cited, verified=e.verified,
                          fallback_used=e.fallback_used, attempts=e.attempts, prompt_id=e.prompt_id,
                          prompt_version=e.prompt_version, model_id=e.model_id, timings=e.timings)


@dataclass
class Status:
    ranker: bool = False
    attributions: bool = False
    narrator: bool = False
    error: str | None = None
    precomputed: int = 0
    precompute_total: int = 0

    @property
    def ready(self) -> bool:
        return self.ranker and self.attributions and self.narrator


class Engine:
    """Loaded once at start (in the background, so /healthz answers while it loads)."""

    def __init__(self, settings: Settings, metrics: Metrics):
        self.settings, self.metrics = settings, metrics
        self.status = Status()
        self.feedback = FeedbackStore(settings.feedback)
        self._responses: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def load(self) -> None:
        try:
            self._load()
        except Exception as e:  # reported by /readyz rather than killing the process
            self.status.error = f"{type(e).__name__}: {e}"
            raise

    def _load(self) -> None:
        from ranker.runtime import configure

        configure()
        from ranker import artifacts
        from ranker.explain import Explainer
        from ranker.ranking import Ranker

        artifact = artifacts.load(self.settings.model)
        self.version = artifact.path.name
        self.ranker = Ranker.from_artifact(artifact)
        self.ranker.recommend(str(self.ranker.stats.user_ids[0]), 1)
        self.status.ranker = True
        self.explainer = Explainer(self.ranker)
        self.explainer.explain(str(self.ranker.stats.user_ids[0]), k=2)
        self.status.attributions = True
        backend = None
        if (self.settings.backend or "").lower() not in ("none", "template"):
            from narrator.backends import load_backend

            backend = load_backend(self.settings.backend, self.settings.llm)
        self.backend = backend
        self.prompts = PromptRouter(self.settings.prompts or DEFAULT_DIR, self.settings.prompt_label, backend,
                                    set(self.ranker.items["brand"].dropna().astype(str)))
        if self.settings.watch_prompts:
            self.prompts.watch()
        self.llm = LlmQueue(self.metrics, self.settings.llm_queue, self.settings.llm_deadline_s)
        if backend is not None and self.settings.warm:
            self._warm()
        self.status.narrator = True
        if self.settings.precompute and self.settings.response_cache:
            shoppers = self.ranker.most_active(min(self.settings.precompute, self.settings.response_cache // 2))
            self.status.precompute_total = len(shoppers)
            threading.Thread(target=self._precompute, args=(shoppers,), daemon=True, name="precompute").start()

    def _precompute(self, shoppers: list[str]) -> None:
        """Template recommendations for the most active shoppers, into the response cache. The total is
        set before the first poll can see the server ready, so "precomputed >= total" means done."""
        for user in shoppers:
            for lang in ("zh", "en"):
                self.recommend(user, 10, lang, "template", "short")
            self.status.precomputed += 1

    @property
    def model_id(self) -> str:
        return self.backend.model_id if self.backend else "template"

    def use_backend(self, backend) -> None:
        """Swap the text model every prompt version uses (tests inject slow or scripted models)."""
        self.backend = self.prompts.backend = backend
        for narrator in self.prompts.all():
            narrator.backend = backend

    def _warm(self) -> None:
        """One reason per language, so each prompt prefix is evaluated before the first shopper waits."""
        user = str(self.ranker.stats.user_ids[0])
        facts = next((e.facts for e in self.explainer.explain(user, k=5) if e.facts.facts), None)
        if facts is not None:
            for narrator in self.prompts.all():
                for lang in ("zh", "en"):
                    narrator.explain(facts, lang)

    def title(self, item_id: str, lang: str) -> str:
        return self.ranker.title(item_id, f"title_{lang}")

    def reasons(self, facts_list: list[Facts], lang: str, style: str, mode: str) -> list[Explanation | None]:
        """One sentence per item (None when no reason is strong enough to state honestly)."""
        out: list[Explanation | None] = [None] * len(facts_list)
        todo = [n for n, f in enumerate(facts_list) if mode != "none" and f.facts]
        narrator = self.prompts.narrator(facts_list[0].user_id, style) if facts_list else None
        if mode == "template" or self.backend is None:
            made = [narrator.explain(facts_list[n], lang, style, "template") for n in todo]
        else:
            made = self.llm.explain_many(narrator, [facts_list[n] for n in todo], lang, style, mode)
        for n, e in zip(todo, made, strict=True):
            self.metrics.count_explanation(e)
            out[n] = e
        return out

    def cached_response(self, key: tuple) -> bytes | None:
        """A finished recommendations body, cheap enough to look up on the event loop."""
        with self._lock:
            body = self._responses.get(key)
            if body is not None:
                self._responses.move_to_end(key)
                self.metrics.cache_hits.labels("response").inc()
            return body

    def recommend(self, user_id: str, k: int, lang: str, explain: str, style: str) -> bytes:
        """The recommendations body as JSON. Responses without model reasons are kept (by shopper, k,
        language, mode and style, for this model version) as bytes, so a repeat costs neither work nor
        serialization."""
        key = (user_id, k, lang, explain, style)
        cacheable = explain in ("none", "template") and self.settings.response_cache > 0
        if cacheable and (hit := self.cached_response(key)) is not None:
            return hit
        if explain == "none":
            items = [ItemOut(item_id=r.item_id, rank=r.rank, score=r.score, title=self.title(r.item_id, lang),
                             brand=str(self.ranker.items.at[r.item_id, "brand"]))
                     for r in self.ranker.recommend(user_id, k)]
        else:
            items = self._explained_items(user_id, None, k, lang, explain, style)
        body = RecommendationsResponse(user_id=user_id, cold_start=not self.ranker.knows(user_id),
                                       model_version=self.version, items=items).model_dump_json().encode()
        if cacheable:
            with self._lock:
                self._responses[key] = body
                while len(self._responses) > self.settings.response_cache:
                    self._responses.popitem(last=False)
        return body

    def rank(self, user_id: str, item_ids: list[str], lang: str, explain: str, style: str) -> RecommendationsResponse:
        self.ranker.item_indices(item_ids)
        unique = list(dict.fromkeys(item_ids))
        if explain == "none":
            scores = self.ranker.score(user_id, unique)
            order = sorted(range(len(unique)), key=lambda j: -scores[j])
            items = [ItemOut(item_id=unique[j], rank=r + 1, score=float(scores[j]), title=self.title(unique[j], lang),
                             brand=str(self.ranker.items.at[unique[j], "brand"])) for r, j in enumerate(order)]
        else:
            items = self._explained_items(user_id, unique, len(unique), lang, explain, style)
        return RecommendationsResponse(user_id=user_id, cold_start=not self.ranker.knows(user_id),
                                       model_version=self.version, items=items)

    def _explained_items(self, user_id: str, item_ids: list[str] | None, k: int, lang: str, explain: str,
                         style: str) -> list[ItemOut]:
        explained = self.explainer.explain(user_id, item_ids, k, allow_unknown_user=True)
        explained.sort(key=lambda e: -e.facts.score)
        out = []
        reasons = self.reasons([e.facts for e in explained], lang, style, explain)
        for rank, (e, reason) in enumerate(zip(explained, reasons, strict=True), 1):
            out.append(ItemOut(item_id=e.item_id, rank=rank, score=e.facts.score, title=self.title(e.item_id, lang),
                               brand=e.facts.item.brand, attribution=e.attribution.group_table(e.pair),
                               facts=[fact_out(f) for f in e.facts.facts],
                               explanation=explanation_out(reason, user_id, e.item_id) if reason else None))
        return out

    def explain_one(self, user_id: str, item_id: str, lang: str, style: str, mode: str) -> ExplanationResponse:
        e = self.explainer.explain(user_id, [item_id], allow_unknown_user=True)[0]
        return self._explanation_response(e, self.reasons([e.facts], lang, style, mode)[0])

    def _explanation_response(self, e, reason: Explanation | None) -> ExplanationResponse:
        f = e.facts
        return ExplanationResponse(user_id=f.user_id, item_id=e.item_id, cold_start=f.cold_start, score=f.score,
                                   completeness_error=f.completeness_error, steps=f.steps,
                                   attribution=e.attribution.group_table(e.pair),
                                   facts=[fact_out(x) for x in f.facts], against=[fact_out(x) for x in f.against],
                                   explanation=explanation_out(reason, f.user_id, e.item_id) if reason else None)

    def stream(self, user_id: str, item_id: str, lang: str, style: str) -> Iterator[tuple[str, dict]]:
        """("facts", …) first, then ("token", …) while the model writes, then ("final", …)."""
        e = self.explainer.explain(user_id, [item_id], allow_unknown_user=True)[0]
        yield "facts", self._explanation_response(e, None).model_dump(exclude={"explanation"})
        if not e.facts.facts:
            yield "final", {"explanation": None}
            return
        narrator = self.prompts.narrator(user_id, style)
        if self.backend is None:
            events = iter([("final", narrator.explain(e.facts, lang, style, "template"))])
        else:
            events = self.llm.stream(narrator, e.facts, lang, style)
        for kind, value in events:
            if kind == "token":
                yield "token", {"text": value}
            else:
                self.metrics.count_explanation(value)
                yield "final", explanation_out(value, user_id, item_id).model_dump()
