"""The evidence behind each kind of reason: what a shopper could check for one (shopper, item) pair.

The explainer decides *which* groups are reasons (`ranker.explain`); this finds the history that backs each
one — the brand items bought, the category's purchases, the price band, the item bought together with, the
similar item bought or viewed — read from `BehaviourStats`, and the item as the narrator names it (`item_ref`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from narrator.facts import ItemRef
from ranker.ranking import Ranker
from ranker.stats.sparse_lines import canonical, line, values_at


def _named_categories(items: pd.DataFrame, column: str) -> dict[str, str]:
    """Each category path (and each of its prefixes) → the name of its last level in `column` (`category_zh`,
    or `category_en` for a catalog that names its categories in Chinese)."""
    if column not in items.columns:
        return {}
    names: dict[str, str] = {}
    for own, other in items[["category", column]].dropna().drop_duplicates().itertuples(index=False):
        own_parts, other_parts = str(own).split(" > "), str(other).split(" > ")
        if len(own_parts) == len(other_parts):
            for depth in range(1, len(own_parts) + 1):
                names[" > ".join(own_parts[:depth])] = other_parts[depth - 1]
    return names


SYMBOLS = {"CNY": "¥", "RMB": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£"}


def currency_symbols(items: pd.DataFrame) -> dict[str, str]:
    """item id → how its price is written ("¥", "$", or the code, "CHF "); none for a catalog that does not
    say its currency, whose prices are shown as bare numbers rather than in an assumed currency."""
    if "currency" not in items.columns:
        return {}
    codes = items["currency"].dropna().astype(str)
    return {i: SYMBOLS.get(c, f"{c} ") for i, c in codes[codes.ne("")].items()}


def item_ref(items: pd.DataFrame, item_id: str) -> ItemRef:
    row = items.loc[item_id]
    price = row.get("price")
    return ItemRef(item_id=item_id, title=str(row["title"]), brand=str(row.get("brand", "")),
                   category=str(row.get("category", "")),
                   price=None if price is None or pd.isna(price) else float(price),
                   title_zh=_text(row.get("title_zh")), title_en=_text(row.get("title_en")),
                   category_zh=_text(row.get("category_zh")), category_en=_text(row.get("category_en")),
                   kind_zh=_text(row.get("kind_zh")),
                   kind_en=_text(row.get("kind_en")))


def _at(items: np.ndarray, strength: np.ndarray, named: int | None) -> int:
    """Where the strongest of `items` is, or the item `named` (-1 when there is none)."""
    if named is None:
        return int(np.argmax(strength)) if len(items) else -1
    hits = np.flatnonzero(items == named)
    return int(hits[0]) if len(hits) else -1


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
        self.zh_categories = _named_categories(self.r.items, "category_zh")
        self.en_categories = _named_categories(self.r.items, "category_en")
        self.currency = currency_symbols(self.r.items)
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

    def _category_in(self, path: str, names: dict[str, str]) -> str:
        """A category path's last level in another language, when the catalog (or its enrichment) names it."""
        return names.get(path, path.split(" > ")[-1])

    def category_names(self, path: str) -> dict:
        """A category path's last level as a phrase shows it, in the catalog's words and in zh and en."""
        self._fresh()
        return {"category": path.split(" > ")[-1], "category_zh": self._category_in(path, self.zh_categories),
                "category_en": self._category_in(path, self.en_categories), "category_path": path}

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
                return {**self.category_names(str(vocab[code])), "level": level,
                        "bought": bought_n, "viewed": viewed_n, "share": round((bought_n + viewed_n) / total, 2)}
        return {}

    def price(self, row: int, i: int) -> dict:
        c, s = self.r.catalog, self.r.stats
        lp = c.log_price[i]
        if not np.isfinite(lp) or not np.isfinite(s.price_low[row]):
            return {}
        price, low, high = (round(float(np.expm1(v)), 2) for v in (lp, s.price_low[row], s.price_high[row]))
        if not low <= price <= high:  # the phrase says "within your usual range": only when it is
            return {}
        return {"price": price, "usual_low": low, "usual_high": high,
                "currency": self.currency.get(str(c.item_ids[i]), "")}

    def _together(self, row: int, i: int) -> tuple[np.ndarray, np.ndarray, str]:
        """The shopper's purchases and how strongly each goes with item i: co-purchase (basis `item`), else the
        categories' "bought within 3 purchases" lift (basis `category`)."""
        history = self.r.stats.history_of(row)
        strength = np.asarray(sum(values_at(line(m, i), history) for m in self.together_csc)) if len(history) \
            else np.zeros(0, np.float32)
        if not len(history) or strength.max() > 0:
            return history, strength, "item"
        leaves, leaf = self.r.catalog.leaf[history], self.r.catalog.leaf[i]
        lift = values_at(line(self.leaf_lift_csc, max(leaf, 0)), np.maximum(leaves, 0))
        return history, np.where((leaves >= 0) & (leaf >= 0), lift, 0.0), "category"

    def bought_together(self, row: int, i: int, named: int | None = None) -> dict:
        """The purchase that goes best with item i (or the purchase `named`, when it goes with it at all)."""
        history, strength, basis = self._together(row, i)
        at = _at(history, strength, named)
        if at < 0 or strength[at] <= 0:
            return {}
        h = int(history[at])
        h_id = str(self.r.catalog.item_ids[h])
        evidence: dict = {"with_item_id": h_id, "with_title": self.r.title(h_id),
                          "with_title_zh": self.r.title(h_id, "title_zh"), "basis": basis}
        if basis == "item":
            evidence["shoppers_bought_both"] = len(np.intersect1d(line(self.buy_csc, h)[0], line(self.buy_csc, i)[0],
                                                                  assume_unique=True))
        return evidence

    def _engaged(self, row: int, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every other item the shopper bought or viewed, its text similarity to item i, and the purchases."""
        c, s = self.r.catalog, self.r.stats
        bought = s.history_of(row)
        engaged = np.union1d(bought, self._items_of(row, s.view))
        engaged = engaged[engaged != i]
        return engaged, c.emb[engaged] @ c.emb[i], bought

    def similar_text(self, row: int, i: int, named: int | None = None) -> dict:
        """The bought or viewed item most like this one (or the one `named`), and which of the two (`relation`: a
        phrase that says "you looked at" of a purchase misstates what the shopper did)."""
        engaged, sims, bought = self._engaged(row, i)
        at = _at(engaged, sims, named)
        if at < 0:
            return {}
        h = int(engaged[at])
        h_id = str(self.r.catalog.item_ids[h])
        return {"like_item_id": h_id, "like_title": self.r.title(h_id),
                "like_title_zh": self.r.title(h_id, "title_zh"), "similarity": round(float(sims[at]), 2),
                "relation": "bought" if h in bought else "viewed"}

    def options(self, kind: str, row: int, i: int, slot_credit: np.ndarray | None = None) -> list[tuple[int, str]]:
        """The shopper's actions a reason of `kind` could name for item i, best first, as (item, "bought"/"viewed"):
        what the counterfactual check tries when the action named first is not a cause."""
        self._fresh()
        if kind == "bought_together":
            history, strength, _ = self._together(row, i)
            return [(int(history[k]), "bought") for k in np.argsort(-strength, kind="stable") if strength[k] > 0]
        if kind == "similar_text":
            engaged, sims, bought = self._engaged(row, i)
            return [(int(engaged[k]), "bought" if engaged[k] in bought else "viewed")
                    for k in np.argsort(-sims, kind="stable")]
        if kind == "recent" and slot_credit is not None:
            items = self.r.stats.recent_items[row][: len(slot_credit)]
            order = np.argsort(-np.where(items >= 0, slot_credit, -np.inf), kind="stable")
            return [(int(items[k]), "bought") for k in order if items[k] >= 0 and slot_credit[k] > 0]
        return []

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

    def recent(self, row: int, i: int, slot_credit: np.ndarray, named: int | None = None) -> dict:
        """The latest purchase the order-aware group credits most for this item (`slot_credit`: the attribution
        of each slot, 0 = the latest purchase), or the purchase `named` when the group credits it."""
        items = self.r.stats.recent_items[row][: len(slot_credit)]
        credit = np.where(items >= 0, slot_credit, -np.inf)
        slot = _at(items, credit, named)
        if slot < 0 or not np.isfinite(credit[slot]) or credit[slot] <= 0:
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
