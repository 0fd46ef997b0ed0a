"""Serving-time ranking: a trained model plus the behaviour window it scores against."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ranker.candidates import CandidateConfig, candidates
from ranker.critiques import Critiques
from ranker.errors import UnavailableItemError, UnknownItemError
from ranker.features import FeatureSpec, QueryMatch
from ranker.lexical import WordIndex
from ranker.promotions import Promotion
from ranker.search import MIN_RELEVANCE, Query, Retrieved, SearchIndex, SearchUnavailableError
from ranker.split import target_kind
from ranker.stats.behaviour import BehaviourStats
from ranker.stats.catalog import CatalogIndex
from ranker.stats.live import LiveRows
from ranker.text import MultilingualEncoder, search_texts


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    rank: int


class Ranker:
    """Scores a shopper's candidates with the DNN; unknown shoppers get the cold-start row."""

    def __init__(self, model, spec: FeatureSpec, items: pd.DataFrame, emb: np.ndarray, events: pd.DataFrame,
                 cand_cfg: CandidateConfig = CandidateConfig(), search_emb: np.ndarray | None = None,
                 retrieve: int = 100):
        from ranker.model import CompiledScorer

        self.model, self.spec, self.cand_cfg = model, spec, cand_cfg
        self.items = items.set_index("item_id", drop=False)
        self.stats = BehaviourStats(events, CatalogIndex.build(items, emb), target_kind(events))
        self.scorer = CompiledScorer(model)
        self._titles: dict[str, dict[str, str]] = {}
        self.unavailable = np.zeros(self.catalog.n, bool)
        self.arrivals: dict[str, float] = {}
        """Items added while serving (or since training), with when they arrived: the "new arrival" fact."""
        self.promotions: Mapping[str, tuple[Promotion, ...]] = {}
        """The merchants' promotions by item (the service keeps them; the "promotion" fact when active)."""
        self.search_index = SearchIndex(search_emb) if search_emb is not None and spec.searchable else None
        self.retrieve = retrieve
        self.window_events = events
        """The events the statistics were computed from (the training window): each shopper's own history."""
        self.shopper_events: LiveRows | None = None
        """Each shopper's complete events while a live shop serves this ranker (the window's and those since)."""
        self.critiques: dict[str, Critiques] = {}
        """Shoppers' standing reactions to reasons (`ranker.critiques`), kept by the live shop from its store."""
        self._baseline: np.ndarray | None = None
        self.min_relevance = MIN_RELEVANCE
        self._encoder: MultilingualEncoder | None = None
        self._words, self._words_of, self._words_lock = WordIndex(), None, threading.Lock()

    @property
    def catalog(self) -> CatalogIndex:
        """The catalog of the current stats: one assignment of `stats` swaps both."""
        return self.stats.catalog

    def use_stats(self, stats: BehaviourStats) -> None:
        """Serve `stats` from now on (shoppers' rows refreshed by the live shop): one assignment swaps the catalog
        and every row, so a request reads the old statistics or the new, never a mix."""
        self.stats = stats

    def show_promotions(self, promotions: Mapping[str, tuple[Promotion, ...]]) -> None:
        """Read the merchants' promotions from `promotions` (the service's book, which follows its store)."""
        self.promotions = promotions

    def upsert(self, items: pd.DataFrame, emb: np.ndarray, arrived: Mapping[str, float] | None = None) -> list[str]:
        """Add new items and replace known ones (columns as in the catalog: item_id, title, brand, category,
        price, optional title_zh/title_en/category_zh; `emb` one text embedding per row). A known item's row
        is replaced whole (its enrichment too, until it is described again). New items can be recommended
        at once; `arrived` says when items arrived (the "new arrival" fact). Returns the ids that were new.
        Callers serialise upserts with stats refreshes."""
        from ranker.stats.growth import place, upserted_catalog, upserted_stats

        ids = items["item_id"].astype(str).tolist()
        at = place(self.catalog, ids)
        catalog = upserted_catalog(self.catalog, items, emb, at)
        rows = items.set_index(items["item_id"].astype(str), drop=False)
        kept = self.items.drop(index=[i for i in ids if i in self.items.index])
        self.items = pd.concat([kept, rows.reindex(columns=kept.columns.union(rows.columns, sort=False))]
                               ).loc[catalog.item_ids]
        self.unavailable = np.concatenate([self.unavailable, np.zeros(at.n_new, bool)])
        self.stats = upserted_stats(self.stats, catalog, at)
        if self.search_index is not None:
            self.search_index.upsert(at.rows, self.encoder.encode_fresh(search_texts(items)))
        self._titles.clear()
        self.arrivals.update(arrived or {})
        return [i for i, new in zip(ids, at.new, strict=True) if new]

    @classmethod
    def from_artifact(cls, artifact) -> Ranker:
        config = artifact.meta.get("train_config", {})
        cand = CandidateConfig(**config.get("candidates", {}))
        return cls(artifact.model, artifact.spec, artifact.shop.items, artifact.emb, artifact.shop.events, cand,
                   artifact.search_emb, config.get("search_candidates", 100))

    @property
    def encoder(self) -> MultilingualEncoder:
        if self._encoder is None:
            self._encoder = MultilingualEncoder()
        return self._encoder

    def describe(self, descriptions: pd.DataFrame) -> int:
        """Take item descriptions written outside the ranker (the catalog enrichment): columns `item_id`,
        and any of `kind_zh`, `kind_en`, `name_zh`, `name_en`, `category_zh`, `category_en`. A name becomes the
        item's title in its language, and a category path its category there, only where the catalog has none
        (a Chinese marketplace title gets its short zh and en names); kinds replace earlier ones. Scores do not
        change; only what facts show. Returns how many known items were described."""
        items = self.items.copy()
        rows = descriptions.set_index("item_id")
        rows = rows[rows.index.isin(items.index)]
        for column in ("kind_zh", "kind_en"):
            if column in rows:
                current = items[column] if column in items else pd.Series("", index=items.index)
                items[column] = rows[column].reindex(items.index).fillna(current).fillna("").astype(str)
        for given, column in (("name_zh", "title_zh"), ("name_en", "title_en"), ("category_zh", "category_zh"),
                              ("category_en", "category_en")):
            if given in rows:
                own = items[column] if column in items else pd.Series("", index=items.index)
                named = rows[given].reindex(items.index).fillna("")
                items[column] = own.where(own.map(lambda v: isinstance(v, str) and v != ""), named)
        self.items = items
        self._titles.clear()
        return len(rows)

    def most_active(self, n: int) -> list[str]:
        """The n shoppers with the most purchases (defaults for CLI output and the playground's picker)."""
        stats = self.stats
        counts, ids = stats.user_buys, stats.user_ids
        order = sorted((i for i in range(len(ids)) if i != stats.cold_row), key=lambda i: -counts[i])
        return [str(ids[i]) for i in order[:n]]

    def brands(self) -> set[str]:
        """Every brand in the catalog: the names a reason may mention (the verifier's brand list)."""
        return set(self.items["brand"].dropna().astype(str))

    def title(self, item_id: str, column: str = "title") -> str:
        """An item's title from `column` (e.g. `title_zh`), else its `title`; one dict per column, built on
        first use, because responses ask for many titles and a pandas row lookup costs more than the rest."""
        titles = self._titles.get(column)
        if titles is None:
            titles = self.items["title"].astype(str)
            if column in self.items.columns:
                own = self.items[column]
                titles = own.where(own.map(lambda v: isinstance(v, str) and v != ""), titles).astype(str)
            titles = self._titles[column] = titles.to_dict()
        return titles[item_id]

    def knows(self, user_id: str) -> bool:
        return user_id in self.stats.user_index

    def features(self, user_id: str, item_ids: list[str], query: Query | None = None) -> np.ndarray:
        items = self.item_indices(item_ids)
        x = self.spec.compute(self.stats, np.full(len(items), self.stats.rows_of([user_id])[0]), items,
                              self.query_match(query, items))
        return self.critiqued(user_id, items, x)[0]

    def critiqued(self, user_id: str, items: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The shopper's feature rows with their standing reactions applied, and which items may be listed."""
        critiques = self.critiques.get(user_id)
        if critiques is None or not critiques.told:
            return x, np.ones(len(items), bool)
        if self._baseline is None:
            from ranker.attribution import model_baseline

            self._baseline = model_baseline(self.model)
        return critiques.apply(x, items, self.catalog, self.spec, self._baseline, time.time())

    def query_match(self, query: Query | None, items: np.ndarray) -> QueryMatch | None:
        if query is None:
            return None
        if self.search_index is None:
            raise SearchUnavailableError()
        return query.match(self.search_index, items)

    def search(self, text: str, user_id: str | None = None, k: int = 10,
               min_relevance: float | None = None) -> tuple[list[Recommendation], Query]:
        """Items answering a query in any language: the `retrieve` nearest by multilingual text, then re-ranked
        for the shopper by the model (whose query features weigh the match against their history). Items whose
        match is below `min_relevance` × the best match rank after all the others, however personal: a search
        answers the query first. Without a shopper the order is the match alone, and so is the only honest
        reason. Withdrawn items never show."""
        if self.search_index is None:
            raise SearchUnavailableError()
        floor = self.min_relevance if min_relevance is None else min_relevance
        vector = self.encoder.query(text)
        found = self.search_index.search(vector, max(k, self.retrieve), allowed=~self.unavailable)
        matched = self.word_matches(text)
        extra = np.setdiff1d(matched, found.items)
        if len(extra):
            sims = self.search_index.similarity(vector, extra)
            best = np.argsort(-sims, kind="stable")[: max(k, self.retrieve)]
            found = Retrieved(np.r_[found.items, extra[best]], np.r_[found.similarity, sims[best]])
        query = Query(text, vector, float(found.similarity.max(initial=0.0)))
        return self._ranked_matches(found, query, user_id, k, floor, np.isin(found.items, matched)), query

    def word_matches(self, text: str) -> np.ndarray:
        """Available catalog positions whose words hold every word of `text` (`ranker.lexical`): the items of
        the query's product type, which a search shows first."""
        with self._words_lock:
            if self._words_of is not self.items:
                kinds = [self.items.get(c, pd.Series("", index=self.items.index)).fillna("").astype(str)
                         for c in ("kind_zh", "kind_en")]
                self._words.update([f"{t} {a} {b}" for t, a, b in zip(search_texts(self.items), *kinds, strict=True)])
                self._words_of = self.items
            matched = self._words.matching(text)
        return matched[~self.unavailable[matched]]

    def query_for(self, text: str) -> Query:
        """The `Query` a search for `text` would answer with (to explain a chosen item as a search result)."""
        if self.search_index is None:
            raise SearchUnavailableError()
        vector = self.encoder.query(text)
        best = self.search_index.search(vector, 1, allowed=~self.unavailable).similarity
        return Query(text, vector, float(best.max(initial=0.0)))

    def _ranked_matches(self, found, query: Query, user_id: str | None, k: int, floor: float,
                        first: np.ndarray) -> list[Recommendation]:
        """The query's product type (`first`) before the rest; then, for a shopper, relevant before the others."""
        assert self.search_index is not None
        if user_id is None or not len(found.items):
            order = np.lexsort((-found.similarity, ~first))[:k]
            items, scores = found.items[order], found.similarity[order]
        else:
            row = self.stats.rows_of([user_id])[0]
            x = self.spec.compute(self.stats, np.full(len(found.items), row), found.items,
                                  query.match(self.search_index, found.items))
            all_scores = self.scorer(self.critiqued(user_id, found.items, x)[0])
            relevant = found.similarity >= floor * query.best
            order = np.lexsort((-all_scores, ~relevant, ~first))[:k]
            items, scores = found.items[order], all_scores[order]
        return [Recommendation(str(self.catalog.item_ids[i]), float(s), r + 1)
                for r, (i, s) in enumerate(zip(items, scores, strict=True))]

    def known_indices(self, item_ids: list[str]) -> np.ndarray:
        """Catalog positions of the items, withdrawn ones included; an unknown id is an `UnknownItemError`."""
        idx = self.catalog.index_of(item_ids)
        if (idx < 0).any():
            raise UnknownItemError(str(np.asarray(item_ids, dtype=object)[idx < 0][0]))
        return idx

    def item_indices(self, item_ids: list[str]) -> np.ndarray:
        """Catalog positions of items that may be recommended or ranked."""
        idx = self.known_indices(item_ids)
        if self.unavailable[idx].any():
            raise UnavailableItemError(str(np.asarray(item_ids, dtype=object)[self.unavailable[idx]][0]))
        return idx

    def set_available(self, item_ids: list[str], available: bool) -> None:
        """Withdraw items from (or return them to) the catalog: a withdrawn item is never recommended or
        ranked. The mask is replaced, not changed in place, so a running request sees one or the other."""
        idx = self.known_indices(item_ids)
        mask = self.unavailable.copy()
        mask[idx] = not available
        self.unavailable = mask

    def score(self, user_id: str, item_ids: list[str]) -> np.ndarray:
        return self.scorer(self.features(user_id, item_ids))

    def recommend(self, user_id: str, k: int = 10, among: list[str] | None = None) -> list[Recommendation]:
        """Top k of the shopper's candidates (or of the items `among`, such as the new arrivals), items they
        already bought and withdrawn items excluded."""
        row = self.stats.rows_of([user_id])[0]
        items = candidates(self.stats, np.array([row]), self.cand_cfg)[0] if among is None \
            else np.unique(self.known_indices(among))
        items = np.setdiff1d(items, self.stats.history_of(row))
        items = items[~self.unavailable[items]]
        if not len(items):
            return []
        x, listed = self.critiqued(user_id, items, self.spec.compute(self.stats, np.full(len(items), row), items))
        items, x = items[listed], x[listed]
        if not len(items):
            return []
        scores = self.scorer(x)
        order = np.argsort(-scores, kind="stable")[:k]
        return [Recommendation(str(self.catalog.item_ids[items[j]]), float(scores[j]), r + 1)
                for r, j in enumerate(order)]
