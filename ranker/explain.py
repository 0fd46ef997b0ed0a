"""From attributions to the narrator's facts: which groups are reasons, and the evidence behind them.

The dependency points one way: this module imports the narrator's fact *types* (no TensorFlow on
that side) and fills them from an `Attribution` plus the shopper's real history in `BehaviourStats`.
A group becomes a reason only if its attribution is positive, its share of the positive attribution
reaches `min_share`, and there is evidence a shopper could check; otherwise it is not said. Negative
groups are kept as `against` for analysts. Shoppers with no history get popularity facts only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from narrator.facts import Fact, Facts, ItemRef
from ranker.attribution import DEFAULT_METHOD, Attribution, IntegratedGradients
from ranker.features import GROUP_KIND
from ranker.promotions import active_promotion
from ranker.ranking import Ranker, UnknownUserError
from ranker.search import Query
from ranker.sparse_lines import canonical, line, values_at

MIN_SHARE = 0.05
NEW_ARRIVAL_DAYS = 30.0


def _zh_categories(items: pd.DataFrame) -> dict[str, str]:
    """Each category path (and each of its prefixes) → the Chinese name of its last level."""
    if "category_zh" not in items.columns:
        return {}
    names: dict[str, str] = {}
    for en, zh in items[["category", "category_zh"]].dropna().drop_duplicates().itertuples(index=False):
        en_parts, zh_parts = str(en).split(" > "), str(zh).split(" > ")
        if len(en_parts) == len(zh_parts):
            for depth in range(1, len(en_parts) + 1):
                names[" > ".join(en_parts[:depth])] = zh_parts[depth - 1]
    return names


def item_ref(items: pd.DataFrame, item_id: str) -> ItemRef:
    row = items.loc[item_id]
    price = row.get("price")
    return ItemRef(item_id=item_id, title=str(row["title"]), brand=str(row.get("brand", "")),
                   category=str(row.get("category", "")),
                   price=None if price is None or pd.isna(price) else float(price),
                   title_zh=_text(row.get("title_zh")), title_en=_text(row.get("title_en")),
                   category_zh=_text(row.get("category_zh")), kind_zh=_text(row.get("kind_zh")),
                   kind_en=_text(row.get("kind_en")))


def _text(value) -> str:
    return value if isinstance(value, str) else ""


class EvidenceFinder:
    """Looks up, for one (shopper row, item), the checkable facts behind each kind of reason."""

    def __init__(self, ranker: Ranker):
        self.r = ranker
        self._basis: tuple = ()
        self._fresh()

    def _fresh(self) -> None:
        """Column views of the item-level statistics, rebuilt when they change (the catalog grew)."""
        s = self.r.stats
        if len(self._basis) and self._basis[0] is s.cosine and self._basis[1] is self.r.items:
            return
        self.buy_csc = canonical(s.buy > 0, "csc")
        self.together_csc = [canonical(m, "csc") for m in (s.cosine, s.window, s.transitions)]
        self.leaf_lift_csc = canonical(s.leaf_lift, "csc")
        self.pop_rank = pd.Series(-s.item_buys).rank(method="min").to_numpy().astype(int)
        self.zh_categories = _zh_categories(self.r.items)
        self._basis = (s.cosine, self.r.items)

    def _items_of(self, row: int, matrix) -> np.ndarray:
        idx, data = line(matrix, row)
        return idx[data > 0]

    def brand(self, row: int, i: int) -> dict:
        c, s = self.r.catalog, self.r.stats
        b = c.brand[i]
        if b < 0:
            return {}
        bought = int(np.sum(c.brand[s.history_of(row)] == b))
        viewed_items = self._items_of(row, s.view)
        viewed = int(np.sum(c.brand[viewed_items] == b))
        return {"brand": str(c.brands[b]), "bought": bought, "viewed": viewed} if bought or viewed else {}

    def _category_zh(self, path: str) -> str:
        """The Chinese name of a category path's last level, when the catalog has `category_zh`."""
        return self.zh_categories.get(path, path.split(" > ")[-1])

    def category(self, row: int, i: int) -> dict:
        c, s = self.r.catalog, self.r.stats
        history, viewed = s.history_of(row), self._items_of(row, s.view)
        for codes, vocab, level in ((c.leaf, c.leaves, "leaf"), (c.parent, c.parents, "parent")):
            code = codes[i]
            if code < 0:
                continue
            bought_n, viewed_n = int(np.sum(codes[history] == code)), int(np.sum(codes[viewed] == code))
            if bought_n or viewed_n:
                total = len(history) + len(viewed)
                path = str(vocab[code])
                return {"category": path.split(" > ")[-1], "category_zh": self._category_zh(path),
                        "category_path": path, "level": level,
                        "bought": bought_n, "viewed": viewed_n, "share": round((bought_n + viewed_n) / total, 2)}
        return {}

    def price(self, row: int, i: int) -> dict:
        c, s = self.r.catalog, self.r.stats
        lp = c.log_price[i]
        if not np.isfinite(lp) or not np.isfinite(s.price_low[row]):
            return {}
        return {"price": round(float(np.expm1(lp)), 2), "usual_low": round(float(np.expm1(s.price_low[row])), 2),
                "usual_high": round(float(np.expm1(s.price_high[row])), 2)}

    def bought_together(self, row: int, i: int) -> dict:
        s = self.r.stats
        history = s.history_of(row)
        if not len(history):
            return {}
        strength = np.asarray(sum(values_at(line(m, i), history) for m in self.together_csc))
        basis = "item"
        if strength.max() <= 0:
            leaves, leaf = self.r.catalog.leaf[history], self.r.catalog.leaf[i]
            lift = values_at(line(self.leaf_lift_csc, max(leaf, 0)), np.maximum(leaves, 0))
            strength = np.where((leaves >= 0) & (leaf >= 0), lift, 0.0)
            basis = "category"
        best = int(np.argmax(strength))
        if strength[best] <= 0:
            return {}
        h = int(history[best])
        h_id = str(self.r.catalog.item_ids[h])
        evidence: dict = {"with_item_id": h_id, "with_title": self.r.title(h_id),
                          "with_title_zh": self.r.title(h_id, "title_zh"), "basis": basis}
        if basis == "item":
            evidence["shoppers_bought_both"] = len(np.intersect1d(line(self.buy_csc, h)[0], line(self.buy_csc, i)[0],
                                                                  assume_unique=True))
        return evidence

    def similar_text(self, row: int, i: int) -> dict:
        """The bought or viewed item most like this one, and which of the two (`relation`: a phrase that says
        "you looked at" of a purchase misstates what the shopper did)."""
        c, s = self.r.catalog, self.r.stats
        bought = s.history_of(row)
        engaged = np.union1d(bought, self._items_of(row, s.view))
        engaged = engaged[engaged != i]
        if not len(engaged):
            return {}
        sims = c.emb[engaged] @ c.emb[i]
        best = int(np.argmax(sims))
        h = int(engaged[best])
        h_id = str(c.item_ids[h])
        return {"like_item_id": h_id, "like_title": self.r.title(h_id),
                "like_title_zh": self.r.title(h_id, "title_zh"), "similarity": round(float(sims[best]), 2),
                "relation": "bought" if h in bought else "viewed"}

    def popular(self, row: int, i: int) -> dict:
        s = self.r.stats
        if s.item_buys[i] <= 0:
            return {}
        return {"purchases": int(s.item_buys[i]), "popularity_rank": int(self.pop_rank[i]),
                "catalog_size": int(self.r.catalog.n)}

    def rating(self, row: int, i: int) -> dict:
        s = self.r.stats
        if s.rating_count[i] <= 0:
            return {}
        return {"rating": round(float(s.rating_mean[i]), 1), "ratings": int(s.rating_count[i])}

    def recent(self, row: int, i: int, slot_credit: np.ndarray) -> dict:
        """The latest purchase the order-aware group credits most for this item (`slot_credit`: the attribution
        of each slot, 0 = the latest purchase)."""
        items = self.r.stats.recent_items[row][: len(slot_credit)]
        credit = np.where(items >= 0, slot_credit, -np.inf)
        slot = int(np.argmax(credit))
        if not np.isfinite(credit[slot]) or credit[slot] <= 0:
            return {}
        h_id = str(self.r.catalog.item_ids[int(items[slot])])
        return {"recent_item_id": h_id, "recent_title": self.r.title(h_id),
                "recent_title_zh": self.r.title(h_id, "title_zh"), "purchases_ago": slot + 1}

    def activity(self, row: int, i: int) -> dict:
        s = self.r.stats
        at = np.array([i])
        viewed, carted = int(values_at(line(s.view, row), at)[0]), int(values_at(line(s.cart, row), at)[0])
        return {"viewed": viewed, "carted": carted} if viewed or carted else {}

    def for_kind(self, kind: str, row: int, i: int) -> dict:
        self._fresh()
        return getattr(self, kind)(row, i)


@dataclass
class Explained:
    item_id: str
    attribution: Attribution
    pair: int
    facts: Facts


class Explainer:
    """Attributions and facts for a shopper's items, from one trained `Ranker`."""

    def __init__(self, ranker: Ranker, tolerance: float = 0.01, method: str = DEFAULT_METHOD,
                 min_share: float = MIN_SHARE, new_arrival_days: float = NEW_ARRIVAL_DAYS):
        self.ranker, self.tolerance, self.min_share = ranker, tolerance, min_share
        self.ig = IntegratedGradients(ranker.model, ranker.spec, method=method)
        self.evidence = EvidenceFinder(ranker)
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
        if item_ids is None:
            item_ids = [r.item_id for r in self.ranker.recommend(user_id, k)]
        self.ranker.item_indices(item_ids)
        attribution = self.attribute(user_id, item_ids, query)
        return [Explained(item, attribution, p, self.facts(user_id, item, attribution, p, query))
                for p, item in enumerate(item_ids)]

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
            spec = self.ranker.spec
            credit = attribution.features[pair, spec.sequence_start:spec.n_scalar]
            return self.evidence.recent(row, i, credit.reshape(spec.sequence_len, -1).sum(axis=1))
        return self.evidence.for_kind(kind, row, i)

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
        reasons = self._with_offers(item_id, reasons)
        return Facts(user_id, self.item_ref(item_id), tuple(reasons), tuple(against), cold,
                     float(attribution.scores[pair]), float(attribution.completeness_error[pair]),
                     int(attribution.pair_steps[pair]))

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
        if not offers:
            return reasons
        placed = [*reasons[:1], *offers, *reasons[1:]]
        return [replace(f, rank=n + 1) for n, f in enumerate(placed)]
