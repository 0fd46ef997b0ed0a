"""The API's bodies built from the engine's results, and the cache of finished recommendation lists.

Recommendation lists whose reasons are final (template reasons, or in `auto` mode sentences the model already
wrote, e.g. from the reason store) are kept (by shopper, k, language, mode and style, for this model
version) as JSON bytes, so a repeat costs neither ranking nor serialization; the most active shoppers can
be computed into the cache in the background after start. The cache is bounded in entries and in bytes, and a
shopper the ranker does not know shares one entry per list shape and prompt version with every other such
shopper (their lists are the same popular items), so random ids cannot fill it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from cachetools import LRUCache

from narrator.facts import Fact
from narrator.narrate import Explanation
from service.counterfactual_schemas import ActionOut, CheckOut, CounterfactualOut
from service.engine import Engine
from service.schemas import (
    ExplanationOut,
    ExplanationResponse,
    FactOut,
    ItemOut,
    RecommendationsResponse,
)

if TYPE_CHECKING:
    from ranker.counterfactual import Action
    from ranker.explain import Explained, Explainer

ListKey = tuple[str, int, str, str, str, str]
CHANGE_BUCKETS = 4096


def fact_out(fact: Fact) -> FactOut:
    return FactOut(kind=fact.kind, share=fact.share, rank=fact.rank, evidence=fact.evidence)


def explanation_id(user_id: str, item_id: str, lang: str, text: str, prompt_id: str, prompt_version: int) -> str:
    """The id feedback names a shown reason by: the same shopper, item and sentence give the same id, and it starts
    with the prompt version that wrote it (`reason-short@3.…`), so feedback counts per version and A/B arm."""
    digest = hashlib.sha256(f"{user_id}\x1f{item_id}\x1f{lang}\x1f{text}".encode()).hexdigest()[:20]
    return f"{prompt_id}@{prompt_version}.{digest}"


def explanation_out(e: Explanation, user_id: str, item_id: str) -> ExplanationOut:
    return ExplanationOut(id=explanation_id(user_id, item_id, e.lang, e.text, e.prompt_id, e.prompt_version),
                          text=e.text, lang=e.lang,
                          style=e.style, cited=e.cited, verified=e.verified, fallback_used=e.fallback_used,
                          attempts=e.attempts, prompt_id=e.prompt_id, prompt_version=e.prompt_version,
                          model_id=e.model_id, timings=e.timings)


def explanation_response(e: Explained, reason: Explanation | None) -> ExplanationResponse:
    f = e.facts
    return ExplanationResponse(user_id=f.user_id, item_id=e.item_id, cold_start=f.cold_start, score=f.score,
                               completeness_error=f.completeness_error, steps=f.steps,
                               attribution=e.attribution.group_table(e.pair),
                               facts=[fact_out(x) for x in f.facts], against=[fact_out(x) for x in f.against],
                               explanation=explanation_out(reason, f.user_id, e.item_id) if reason else None)


def explained_items(engine: Engine, user_id: str, item_ids: list[str] | None, k: int, lang: str, explain: str,
                    style: str) -> list[ItemOut]:
    out = []
    for rank, (e, reason) in enumerate(engine.explained(user_id, item_ids, k, lang, style, explain), 1):
        out.append(ItemOut(item_id=e.item_id, rank=rank, score=e.facts.score, title=engine.title(e.item_id, lang),
                           brand=e.facts.item.brand, attribution=e.attribution.group_table(e.pair),
                           facts=[fact_out(f) for f in e.facts.facts],
                           explanation=explanation_out(reason, user_id, e.item_id) if reason else None))
    return out


def plain_item(engine: Engine, item_id: str, rank: int, score: float, lang: str) -> ItemOut:
    return ItemOut(item_id=item_id, rank=rank, score=score, title=engine.title(item_id, lang),
                   brand=str(engine.ranker.items.at[item_id, "brand"]))


def ranked(engine: Engine, user_id: str, item_ids: list[str], lang: str, explain: str,
           style: str) -> RecommendationsResponse:
    """The given items reranked for the shopper."""
    engine.ranker.item_indices(item_ids)
    unique = list(dict.fromkeys(item_ids))
    if explain == "none":
        scores = engine.ranker.score(user_id, unique)
        order = sorted(range(len(unique)), key=lambda j: -scores[j])
        items = [plain_item(engine, unique[j], r + 1, float(scores[j]), lang) for r, j in enumerate(order)]
    else:
        items = explained_items(engine, user_id, unique, len(unique), lang, explain, style)
    return RecommendationsResponse(user_id=user_id, cold_start=not engine.ranker.knows(user_id),
                                   model_version=engine.version, items=items)


def explanation(engine: Engine, user_id: str, item_id: str, lang: str, style: str, mode: str,
                counterfactual: bool = False) -> ExplanationResponse:
    e, reason = engine.explained(user_id, [item_id], 1, lang, style, mode)[0]
    out = explanation_response(e, reason)
    if counterfactual and engine.ranker.knows(user_id):
        out.counterfactual = counterfactual_out(engine.explainer, e, lambda item: engine.title(item, lang))
    return out


def counterfactual_out(explainer: Explainer, e: Explained, title: Callable[[str], str]) -> CounterfactualOut:
    """PRINCE's "because of what?" for one explained item, and its reasons' counterfactual checks (`title`: how an
    item is named to the reader)."""
    cf = explainer.counterfactuals
    found = cf.minimal_set(e.facts.user_id, e.item_id)

    def action(a: Action) -> ActionOut:
        return ActionOut(item_id=a.item_id, did=a.did, title=title(a.item_id))

    checks = [CheckOut(kind=c.kind, named=action(c.first.removed[0]), necessary=c.necessary,
                       drop=round(c.first.drop, 4), served=action(c.served.removed[0]) if c.served else None)
              for c in e.checks]
    o = found.outcome
    return CounterfactualOut(k=cf.k, found=found.found, actions=[action(a) for a in o.removed],
                             rank_without=o.rank, score_without=o.score, replaced_by=o.replaced_by,
                             actions_considered=found.tried, seconds=round(found.seconds, 4), checks=checks)


def stream_events(engine: Engine, user_id: str, item_id: str, lang: str, style: str,
                  raw: bool = False) -> Iterator[tuple[str, Any]]:
    """`facts` (the explanation without its sentence) first, then `progress` (how many pieces the model has
    written) while it writes, then `final` (the verified sentence, the marked fallback, or null when no reason is
    strong enough). Unverified model text never reaches a shopper: only with `raw` (editors, admin scope) do the
    pieces themselves come as `token` events."""
    e = engine.explainer.explain(user_id, [item_id], allow_unknown_user=True)[0]
    yield "facts", explanation_response(e, None).model_dump(exclude={"explanation"})
    if not e.facts.facts:
        yield "final", {"explanation": None}
        return
    narrator = engine.prompts.narrator(user_id, style)
    events: Iterator[tuple[str, object]] = iter([("final", narrator.explain(e.facts, lang, style, "template"))]) \
        if engine.backend is None else engine.llm.stream(narrator, e.facts, lang, style)
    written = 0
    for kind, value in events:
        if kind == "token":
            written += 1
            yield ("token", {"text": value}) if raw else ("progress", {"pieces": written})
        elif value is None:
            yield "final", {"explanation": None}
        else:
            engine.metrics.count_explanation(cast(Explanation, value))
            yield "final", explanation_out(cast(Explanation, value), user_id, item_id).model_dump()


def final(e: ExplanationOut | None) -> bool:
    """A reason that will not change on the next request: not a template served while the model writes
    (`explain: auto`), waits in a full queue or missed its deadline."""
    return e is None or not any(k.startswith("fallback_") for k in e.timings)


class Lists:
    """Recommendation lists as response bodies, with the byte cache and the background precompute."""

    def __init__(self, engine: Engine):
        self.engine = engine
        size, budget = engine.settings.response_cache, int(engine.settings.response_cache_mb * 2**20)
        floor = budget // max(size, 1)
        self._cache: LRUCache[tuple, bytes] | None = \
            LRUCache(budget, getsizeof=lambda body: max(len(body), floor)) if size > 0 and budget > 0 else None
        self._cold: LRUCache[tuple, list[ItemOut]] = LRUCache(256)
        self._lock = threading.Lock()
        self._changes = [0] * CHANGE_BUCKETS
        self._all_changes = 0

    def _state(self, user_id: str) -> tuple[int, int]:
        """Changes seen so far for this shopper (and for everyone): a list computed while its shopper changed
        is served but not cached, so a late finisher never caches what an event already made stale. Counted
        per bucket of shoppers, so the counts stay a fixed size; a shared bucket only caches less."""
        return self._all_changes, self._changes[hash(user_id) % CHANGE_BUCKETS]

    def _serving(self) -> tuple[str, tuple[int, int]]:
        """What every cached list depends on beyond its shopper: the model version and the promotions."""
        promotions = self.engine.promotions
        return self.engine.version, promotions.state() if promotions is not None else (0, 0)

    def _among(self, among: str) -> list[str] | None:
        """The items a list is drawn from: all (None), the new arrivals, or a campaign's active items."""
        if among == "new":
            ranker, since = self.engine.ranker, time.time() - self.engine.settings.new_arrival_days * 86_400
            ids = [i for i, at in ranker.arrivals.items() if at >= since]
            return [i for i, idx in zip(ids, ranker.known_indices(ids), strict=True) if not ranker.unavailable[idx]]
        if among.startswith("campaign:") and self.engine.promotions is not None:
            return self.engine.promotions.campaign_items(among.removeprefix("campaign:"))
        return None

    def cached(self, key: ListKey) -> bytes | None:
        """A finished body of the version serving now, cheap enough to look up on the event loop."""
        if self._cache is None:
            return None
        with self._lock:
            body = self._cache.get((*self._serving(), *key))
        if body is not None:
            self.engine.metrics.cache_hits.labels("response").inc()
        return body

    def forget(self, users: set[str] | None) -> None:
        """Drop the cached lists of shoppers whose state changed (all of them for None): their next list is
        computed afresh."""
        with self._lock:
            if users is None:
                self._all_changes += 1
                self._cold.clear()
            else:
                for user in users:
                    self._changes[hash(user) % CHANGE_BUCKETS] += 1
            if self._cache is not None:
                for key in [key for key in self._cache if users is None or key[2] in users]:
                    del self._cache[key]

    def body(self, user_id: str, k: int, lang: str, explain: str, style: str, among: str = "all") -> bytes:
        key = (user_id, k, lang, explain, style, among)
        cacheable = explain in ("none", "template", "auto") and self._cache is not None
        if cacheable and (hit := self.cached(key)) is not None:
            return hit
        engine = self.engine
        serving, state = self._serving(), self._state(user_id)
        cold = not engine.ranker.knows(user_id)
        if cold and cacheable:  # what the ranker serves them does not depend on who they are
            return self._cold_body(user_id, key, serving)
        items = self._items(user_id, k, lang, explain, style, among)
        body = RecommendationsResponse(user_id=user_id, cold_start=cold, model_version=serving[0],
                                       items=items).model_dump_json().encode()
        if cacheable and not cold and self._cache is not None and all(final(i.explanation) for i in items):
            with self._lock:
                if self._state(user_id) == state and self._serving() == serving:
                    self._cache[(*serving, *key)] = body
        return body

    def _items(self, user_id: str, k: int, lang: str, explain: str, style: str, among: str) -> list[ItemOut]:
        ranked = self.engine.ranker.recommend(user_id, k, self._among(among))
        if explain == "none" or not ranked:
            return [plain_item(self.engine, r.item_id, r.rank, r.score, lang) for r in ranked]
        return explained_items(self.engine, user_id, [r.item_id for r in ranked], k, lang, explain, style)

    def _cold_body(self, user_id: str, key: ListKey, serving: tuple) -> bytes:
        """A shopper the ranker does not know: the list every such shopper of this prompt version gets (one
        entry, however many ids), with the reason ids made theirs."""
        _, k, lang, explain, style, among = key
        shared = (*serving, k, lang, explain, style, among, self.engine.prompts.narrator(user_id, style).prompts
                  .template(lang, style).ref)
        with self._lock:
            items = self._cold.get(shared)
        if items is None:
            items = self._items(user_id, k, lang, explain, style, among)
            if all(final(i.explanation) for i in items):
                with self._lock:
                    if self._serving() == serving:
                        self._cold[shared] = items
        own = [i if i.explanation is None else i.model_copy(update={"explanation": i.explanation.model_copy(
            update={"id": explanation_id(user_id, i.item_id, lang, i.explanation.text, i.explanation.prompt_id,
                                         i.explanation.prompt_version)})}) for i in items]
        return RecommendationsResponse(user_id=user_id, cold_start=True, model_version=serving[0],
                                       items=own).model_dump_json().encode()

    def start_precompute(self) -> None:
        """Template lists (k=10, zh and en) of the most active shoppers, into the cache. Called before the
        engine reports ready, so the total is known before anyone can see the server ready."""
        size, wanted = self.engine.settings.response_cache, self.engine.settings.precompute
        if not (wanted and size):
            return
        shoppers = self.engine.ranker.most_active(min(wanted, size // 2))
        self.engine.status.precompute_total = len(shoppers)
        threading.Thread(target=self._precompute, args=(shoppers,), daemon=True, name="precompute").start()

    def _precompute(self, shoppers: list[str]) -> None:
        for user in shoppers:
            for lang in ("zh", "en"):
                self.body(user, 10, lang, "template", "short")
            self.engine.status.precomputed += 1
