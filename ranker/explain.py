"""From attributions to the narrator's facts: which groups are reasons, and the evidence behind them.

The dependency points one way: this module imports the narrator's fact *types* (no TensorFlow on
that side) and fills them from an `Attribution` plus the shopper's real history in `BehaviourStats`.
A group becomes a reason only if its attribution is positive, its share of the positive attribution
reaches `min_share`, and there is evidence a shopper could check; otherwise it is not said. Negative
groups are kept as `against` for analysts. Shoppers with no history get popularity facts only. A reason that
names one of the shopper's actions ("the epoxy you bought") names one whose removal matters (`ranker.causes`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from narrator.facts import Fact, Facts, ItemRef
from ranker.attribution import DEFAULT_METHOD, Attribution, IntegratedGradients
from ranker.causes import NAMED, CauseCheck, Check, history_credit
from ranker.counterfactual import Counterfactuals
from ranker.critiques import said_wrong, told_about
from ranker.errors import UnknownUserError
from ranker.evidence import EvidenceFinder, item_ref
from ranker.features import GROUP_KIND
from ranker.promotions import active_promotion
from ranker.ranking import Ranker
from ranker.search import Query

MIN_SHARE = 0.05
NEW_ARRIVAL_DAYS = 30.0


@dataclass
class Explained:
    item_id: str
    attribution: Attribution
    pair: int
    facts: Facts
    checks: tuple[Check, ...] = ()
    """The counterfactual checks of the reasons that name the shopper's actions (`ranker.causes`)."""


class Explainer:
    """Attributions and facts for a shopper's items, from one trained `Ranker`."""

    def __init__(self, ranker: Ranker, tolerance: float = 0.01, method: str = DEFAULT_METHOD,
                 min_share: float = MIN_SHARE, new_arrival_days: float = NEW_ARRIVAL_DAYS, check_causes: bool = True):
        self.ranker, self.tolerance, self.min_share = ranker, tolerance, min_share
        self.ig = IntegratedGradients(ranker.model, ranker.spec, method=method)
        self.evidence = EvidenceFinder(ranker)
        self.counterfactuals = Counterfactuals(ranker)
        self.causes = CauseCheck(self.counterfactuals, self.evidence) if check_causes else None
        self._item_refs: dict[str, ItemRef] = {}
        self._items_seen = ranker.items
        self.new_arrival_s = new_arrival_days * 86_400.0

    def item_ref(self, item_id: str) -> ItemRef:
        """Each item is read from the catalog once, until the catalog changes (a new items frame)."""
        if self._items_seen is not self.ranker.items:
            self._item_refs, self._items_seen = {}, self.ranker.items
        ref = self._item_refs.get(item_id)
        if ref is None:
            ref = self._item_refs[item_id] = item_ref(self.ranker.items, item_id)
        return ref

    def attribute(self, user_id: str, item_ids: list[str], query: Query | None = None) -> Attribution:
        return self.ig.explain(self.ranker.features(user_id, item_ids, query), self.tolerance)

    def explain(self, user_id: str, item_ids: list[str] | None = None, k: int = 10,
                allow_unknown_user: bool = False, query: Query | None = None) -> list[Explained]:
        """Attributions and facts for the shopper's top k (or for `item_ids`); with a `query`, the items are
        search results and the query relevance group may become a "matches your search" reason."""
        if not allow_unknown_user and not self.ranker.knows(user_id):
            raise UnknownUserError(user_id)
        leading = None
        if item_ids is None:
            leading = [r.item_id for r in self.ranker.recommend(user_id, self.counterfactuals.pool * k)]
            item_ids = leading[:k]
        self.ranker.item_indices(item_ids)
        attribution = self.attribute(user_id, item_ids, query)
        facts = [self.facts(user_id, item, attribution, p, query) for p, item in enumerate(item_ids)]
        checks: list[Check] = []
        if self.causes is not None and any(f.kind in NAMED for fs in facts for f in fs.facts):
            facts, checks = self._checked(user_id, item_ids, facts, attribution, leading, query)
        return [Explained(item, attribution, p, facts[p], tuple(c for c in checks if c.item_id == item))
                for p, item in enumerate(item_ids)]

    def _checked(self, user_id: str, item_ids: list[str], facts: list[Facts], attribution: Attribution,
                 leading: list[str] | None, query: Query | None) -> tuple[list[Facts], list[Check]]:
        """The facts with every named action checked (`ranker.causes`): the items compete with the shopper's
        leading items for the top k, or, for search results, with each other."""
        assert self.causes is not None
        if leading is None:
            leading = item_ids if query is not None else self.counterfactuals.leading(user_id, item_ids)
        row = int(self.ranker.stats.rows_of([user_id])[0])
        mended, checks = self.causes.mend(
            user_id, row, item_ids, [f.facts for f in facts],
            lambda p, fact: history_credit(attribution.groups, p, fact),
            lambda p: self._slot_credit(attribution, p), leading, query)
        return [replace(f, facts=m) for f, m in zip(facts, mended, strict=True)], checks

    def relevance_only(self, item_ids: list[str], query: Query, user_id: str = "") -> list[Facts]:
        """Facts for search results ordered by the query alone (no shopper): the match is the whole reason."""
        out = []
        for item_id in item_ids:
            i = int(self.ranker.catalog.index_of([item_id])[0])
            evidence = self._query_evidence(query, i)
            fact = Fact("query_match", ("query_relevance",), 0.0, 1.0, 1, evidence)
            reasons = self._with_offers(item_id, [fact])
            out.append(Facts(user_id, self.item_ref(item_id), tuple(reasons), (), True, evidence["similarity"]))
        return out

    def _query_evidence(self, query: Query, i: int) -> dict:
        match = self.ranker.query_match(query, np.array([i]))
        assert match is not None
        similarity = float(match.similarity[0])
        return {"query": query.text.strip()[:80], "similarity": round(similarity, 2)}

    def _evidence(self, kind: str, row: int, i: int, query: Query | None, attribution: Attribution,
                  pair: int) -> dict:
        if kind == "query_match":
            return self._query_evidence(query, i) if query is not None else {}
        if kind == "recent":
            return self.evidence.recent(row, i, self._slot_credit(attribution, pair))
        return self.evidence.for_kind(kind, row, i)

    def _slot_credit(self, attribution: Attribution, pair: int) -> np.ndarray:
        """The order-aware group's attribution per slot of the shopper's latest purchases (0 = the latest)."""
        spec = self.ranker.spec
        credit = attribution.features[pair, spec.sequence_start:spec.n_scalar]
        return credit.reshape(spec.sequence_len, -1).sum(axis=1)

    def facts(self, user_id: str, item_id: str, attribution: Attribution, pair: int,
              query: Query | None = None) -> Facts:
        row = int(self.ranker.stats.rows_of([user_id])[0])
        i = int(self.ranker.catalog.index_of([item_id])[0])
        by_kind: dict[str, tuple[float, list[str]]] = {}
        for group, values in attribution.groups.items():
            kind = GROUP_KIND[group]
            total, groups = by_kind.get(kind, (0.0, []))
            by_kind[kind] = (total + float(values[pair]), groups + [group])
        cold = bool(len(self.ranker.stats.history_of(row)) == 0 and self.ranker.stats.user_views[row] == 0)
        positive_total = sum(v for v, _ in by_kind.values() if v > 0)
        reasons: list[Fact] = []
        against: list[Fact] = []
        for kind, (value, groups) in sorted(by_kind.items(), key=lambda kv: -kv[1][0]):
            share = value / positive_total if positive_total > 0 and value > 0 else 0.0
            if value < 0:
                evidence = self._evidence(kind, row, i, query, attribution, pair)
                against.append(Fact(kind, tuple(groups), value, 0.0, len(against) + 1, evidence))
                continue
            if (cold and kind != "popular") or share < self.min_share:
                continue
            evidence = self._evidence(kind, row, i, query, attribution, pair)
            if evidence:
                reasons.append(Fact(kind, tuple(groups), value, round(share, 4), len(reasons) + 1, evidence))
        if cold and not reasons and (evidence := self.evidence.for_kind("popular", row, i)):
            value, groups = by_kind.get("popular", (0.0, ["popularity"]))
            reasons.append(Fact("popular", tuple(groups), value, 1.0, 1, evidence))
        if query is not None:
            reasons = self._search_first(reasons, by_kind.get("query_match", (0.0, ["query_relevance"])),
                                         self._query_evidence(query, i))
        reasons = self._with_offers(item_id, reasons)
        if wrong := said_wrong(self.ranker.critiques.get(user_id), item_id):
            reasons = [replace(f, rank=n + 1) for n, f in enumerate(f for f in reasons if f.kind not in wrong)]
        reasons = self._with_feedback(user_id, i, reasons)
        return Facts(user_id, self.item_ref(item_id), tuple(reasons), tuple(against), cold,
                     float(attribution.scores[pair]), float(attribution.completeness_error[pair]),
                     int(attribution.pair_steps[pair]))

    @staticmethod
    def _search_first(reasons: list[Fact], attributed: tuple[float, list[str]], evidence: dict) -> list[Fact]:
        """A search result says first that it matches the search: the retrieval put it in the list whatever
        the re-ranker's attribution to the query group (its share, 0 when that was not a positive reason)."""
        value, groups = attributed
        own = next((f for f in reasons if f.kind == "query_match"), None)
        fact = own or Fact("query_match", tuple(groups), value, 0.0, 0, evidence)
        rest = [f for f in reasons if f is not own]
        return [replace(f, rank=n + 1) for n, f in enumerate([fact, *rest])]

    def _with_feedback(self, user_id: str, i: int, reasons: list[Fact]) -> list[Fact]:
        """What the shopper told us that changed this item's place ("you told us you are less interested in X")
        comes second, after the strongest reason, so the sentence says it."""
        told = told_about(self.ranker.critiques.get(user_id), self.ranker.catalog, i)
        facts = [Fact("feedback", (), 0.0, 0.0, 0, {**t, **self.evidence.category_names(t["category_path"])}
                      if "category_path" in t else t) for t in told]
        return _second(reasons, facts)

    def _with_offers(self, item_id: str, reasons: list[Fact]) -> list[Fact]:
        """An active promotion and a recent arrival say so, second and third after the strongest reason: true
        of the item whatever the attributions say, and what such items are shown for. No attribution stands
        behind them (share 0); the promotion's fact is the only one that backs a discount."""
        offers = []
        if (promotion := active_promotion(self.ranker.promotions.get(item_id, ()))) is not None:
            offers.append(Fact("promotion", (), 0.0, 0.0, 0, promotion.evidence()))
        arrived = self.ranker.arrivals.get(item_id)
        if arrived is not None and time.time() - arrived <= self.new_arrival_s:
            offers.append(Fact("new_arrival", (), 0.0, 0.0, 0,
                               {"added": time.strftime("%Y-%m-%d", time.gmtime(arrived))}))
        return _second(reasons, offers)


def _second(reasons: list[Fact], extra: list[Fact]) -> list[Fact]:
    """`extra` placed right after the strongest reason (the sentence says the first two), ranks renumbered."""
    if not extra:
        return reasons
    return [replace(f, rank=n + 1) for n, f in enumerate([*reasons[:1], *extra, *reasons[1:]])]
