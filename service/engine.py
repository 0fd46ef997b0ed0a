"""Everything a request needs, loaded once: ranker, attributions, prompt versions, the text model and
the queue in front of it.

The routes only translate; this is where a shopper's items become explained items. It speaks the
ranker's and the narrator's types: the API bodies are built in `service.responses`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from narrator.backends import Backend, load_backend
from narrator.facts import Facts
from narrator.narrate import TEMPLATE_MODEL, Explanation, Mode
from narrator.verification.dictionary import cedict
from service.llm_queue import LlmQueue
from service.metrics import Metrics
from service.model_label import LabelWatch
from service.prompt_router import PromptRouter
from service.settings import Settings
from service.shop.arrivals import enrich_arrivals
from service.shop.live import LiveShop
from service.shop.promotions import PromotionBook
from service.stack import Stack, describe

if TYPE_CHECKING:
    from ranker.explain import Explained, Explainer
    from ranker.ranking import Ranker

log = logging.getLogger("whyrec.service")


class NotReady(Exception):
    """The models are still loading (or failed to load: `Status.error` says why)."""


@dataclass
class Status:
    ranker: bool = False
    attributions: bool = False
    narrator: bool = False
    error: str | None = None
    precomputed: int = 0
    precompute_total: int = 0
    written_ahead: int = 0
    write_ahead_total: int = 0

    @property
    def ready(self) -> bool:
        return self.ranker and self.attributions and self.narrator


class Engine:
    """Loaded once at start (in the background, so /healthz answers while it loads)."""

    def __init__(self, settings: Settings, metrics: Metrics):
        self.settings, self.metrics = settings, metrics
        self.status = Status()
        self.live = LiveShop()
        self.llm = LlmQueue(metrics, settings.llm_queue, settings.llm_deadline_s, settings.llm_background)
        self.backend: Backend | None = None
        self._loaded: Stack | None = None
        self.switching = threading.Lock()
        """Held while one version replaces another (`service.model_label`)."""
        self.label_watch: LabelWatch | None = None

    @property
    def loaded(self) -> Stack:
        if self._loaded is None:
            raise NotReady(self.status.error or "models are still loading; retry shortly")
        return self._loaded

    @property
    def promotions(self) -> PromotionBook | None:
        return self._loaded.promotions if self._loaded is not None else None

    @property
    def ranker(self) -> Ranker:
        return self.loaded.ranker

    @property
    def explainer(self) -> Explainer:
        return self.loaded.explainer

    @property
    def prompts(self) -> PromptRouter:
        return self.loaded.prompts

    @property
    def version(self) -> str:
        return self.loaded.version

    @property
    def model_id(self) -> str:
        return self.backend.model_id if self.backend else TEMPLATE_MODEL

    def load(self, before_ready: Callable[[], None] | None = None) -> None:
        """Load everything; `before_ready` runs last, before the engine reports ready (the precompute
        sets its total there, so "precomputed >= total" can never be seen early)."""
        try:
            self._load(before_ready)
        except Exception as e:  # reported by /readyz rather than killing the process
            self.status.error = f"{type(e).__name__}: {e}"
            raise

    def _load(self, before_ready: Callable[[], None] | None) -> None:
        from ranker.runtime import configure

        start = time.perf_counter()
        configure(self.settings.threads)
        stack = Stack.load(self.settings, self._text_model, self.live, written_ahead=True)
        self._warm_ranker(stack)
        if self.settings.warm:  # the verifier's dictionary (~2 s), read once per process, not at a shopper's request
            threading.Thread(target=cedict, daemon=True, name="dictionary").start()
        self.status.ranker = self.status.attributions = True
        first_user = str(stack.ranker.stats.user_ids[0])
        if self.settings.watch_prompts:
            stack.prompts.watch()
        self._loaded = stack
        if self.settings.watch_model and stack.artifact.path != Path(self.settings.artifacts):
            self.label_watch = LabelWatch(self)
            self.label_watch.start()
        if self.backend is not None and self.settings.warm:
            self._warm(first_user)
        if before_ready is not None:
            before_ready()
        if self.backend is not None and self.settings.llm_precompute:
            shoppers = stack.ranker.most_active(self.settings.llm_precompute)
            self.status.write_ahead_total = len(shoppers)
            threading.Thread(target=self.write_ahead, args=(shoppers,), daemon=True, name="write-ahead").start()
        self.status.narrator = True
        log.info("ready in %.1f s: model version %s, narrator %s", time.perf_counter() - start, stack.version,
                 self.model_id)

    def _text_model(self) -> Backend | None:
        if self.settings.narrates_with_model:
            self.backend = load_backend(self.settings.llm_options())
        return self.backend

    def _warm_ranker(self, stack: Stack) -> None:
        """Score and explain once, so the first request finds the ranker traced; every IG shape is compiled,
        and the catalog's words for search segmented, in the background (~20 s), not while a shopper waits."""
        first_user = str(stack.ranker.stats.user_ids[0])
        stack.ranker.recommend(first_user, 1)
        stack.explainer.explain(first_user, k=2)
        if self.settings.warm:
            threading.Thread(target=stack.explainer.ig.warm_up, daemon=True, name="ig-warm-up").start()
            if stack.ranker.search_index is not None:
                threading.Thread(target=stack.ranker.word_matches, args=("",), daemon=True,
                                 name="search-words").start()

    def switch_to(self, version: str) -> None:
        """Serve another model version: loaded and replayed from the event store while the current one keeps
        serving, then swapped in with one assignment (a request uses one version or the other)."""
        loaded = self.loaded
        stack = loaded.with_version(version)
        self._warm_ranker(stack)
        self._loaded = stack
        for listener in self.live.listeners:
            listener(None)
        self.metrics.model_switches.inc()
        log.info("now serving model version %s (was %s)", version, loaded.version)

    def close(self) -> None:
        """Stop the background threads and close the event store (the app's shutdown)."""
        if self.label_watch is not None:
            self.label_watch.stop()
        if self._loaded is not None:
            self._loaded.close()
        self.live.close()

    def _warm(self, user: str) -> None:
        """One reason per language, so each prompt prefix is evaluated before the first shopper waits."""
        assert self._loaded is not None
        facts = next((e.facts for e in self._loaded.explainer.explain(user, k=5) if e.facts.facts), None)
        if facts is not None:
            for narrator in self._loaded.prompts.all():
                for lang in ("zh", "en"):
                    narrator.explain(facts, lang)

    def write_ahead(self, shoppers: list[str]) -> None:
        """Model reasons for the most active shoppers' top 10 (zh and en), one at a time at the queue's
        lowest priority, so their first request reads sentences the model already wrote."""
        for user in shoppers:
            narrator = self.prompts.narrator(user, "short")
            for e in self.explainer.explain(user, k=10):
                for lang in ("zh", "en"):
                    if e.facts.facts and (future := self.llm.write_ahead(narrator, e.facts, lang, "short")):
                        future.exception()
            self.status.written_ahead += 1

    def use_backend(self, backend: Backend | None) -> None:
        """Swap the text model every prompt version uses (tests inject slow or scripted models)."""
        self.backend = backend
        self.prompts.use_backend(backend)

    def upsert_items(self, records: list[dict]) -> list[str]:
        """Add or change catalog items while serving (`LiveShop.upsert`); returns the ids that were new. With a
        text model, their enrichment is written as background model work and shown once it is stored."""
        loaded = self.loaded
        added = self.live.upsert(records)
        loaded.prompts.add_brands({str(r.get("brand") or "") for r in records})
        if self.backend is not None:
            import pandas as pd

            backend, items = self.backend, pd.DataFrame(records)

            def enrich() -> None:
                enrich_arrivals(backend, loaded.root, items, self.settings.threads or 1, self.ranker.items)
                with self.live.changing:
                    describe(self.ranker, loaded.root)  # the version serving now

            self.llm.run_in_background(enrich)
        return added

    def title(self, item_id: str, lang: str) -> str:
        return self.ranker.title(item_id, f"title_{lang}")

    def reasons(self, facts_list: list[Facts], lang: str, style: str, mode: str) -> list[Explanation | None]:
        """One sentence per item (None when no reason is strong enough to state honestly, or for mode
        `none`)."""
        out: list[Explanation | None] = [None] * len(facts_list)
        todo = [n for n, f in enumerate(facts_list) if mode != "none" and f.facts]
        if not todo:
            return out
        narrator = self.prompts.narrator(facts_list[0].user_id, style)
        if mode == "template" or self.backend is None:
            made = [narrator.explain(facts_list[n], lang, style, "template") for n in todo]
        else:
            made = self.llm.explain_many(narrator, [facts_list[n] for n in todo], lang, style, cast(Mode, mode))
        for n, e in zip(todo, made, strict=True):
            self.metrics.count_explanation(e)
            out[n] = e
        return out

    def explained(self, user_id: str, item_ids: list[str] | None, k: int, lang: str, style: str,
                  mode: str) -> list[tuple[Explained, Explanation | None]]:
        """The shopper's top k (or `item_ids` reranked), best first, each with its reason."""
        explained = self.explainer.explain(user_id, item_ids, k, allow_unknown_user=True)
        explained.sort(key=lambda e: -e.facts.score)
        reasons = self.reasons([e.facts for e in explained], lang, style, mode)
        return list(zip(explained, reasons, strict=True))


def load_quietly(engine: Engine, before_ready: Callable[[], None] | None = None) -> None:
    """For the background loading thread: a failure is logged and reported by /readyz."""
    try:
        engine.load(before_ready)
    except Exception:
        log.exception("loading failed; /readyz reports it")


def start_loading(engine: Engine, before_ready: Callable[[], None] | None = None) -> threading.Thread:
    thread = threading.Thread(target=load_quietly, args=(engine, before_ready), daemon=True, name="load")
    thread.start()
    return thread
