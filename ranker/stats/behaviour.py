"""Behaviour statistics: the state that features are computed from.

`BehaviourStats` summarises one window of events (everything before a cut-off) as sparse user×item, user×brand and
item×item matrices, so each feature is a lookup or a sparse product instead of a loop over events.
An extra empty user row at the end stands for shoppers the window has never seen (cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ranker.stats.catalog import CatalogIndex, look_up
from ranker.stats.cooccurrence import (
    COSINE_SHRINK,
    coded_sums,
    cosine_similarity,
    ease_weights,
    log_damped,
    neighbour_scores,
    normed_rows,
    positive_lift,
    positive_pmi,
    row_max,
    user_item,
    window_pairs,
)
from ranker.stats.per_shopper import last_first, price_range

RECENT_WEIGHTS = (0.7 ** np.arange(5)).astype(np.float32)
SEQUENCE_LEN = 8
"""How many of the latest purchases the order-aware sequence group reads (`ranker.sequence`)."""
EASE_MAX_ITEMS = 15_000
ENGAGEMENT_KINDS = ("view", "cart")


@dataclass(frozen=True)
class StatField:
    """One array of `BehaviourStats`, and what the live shop must do with it: recompute it per shopper
    (`user_row`, `ranker.stats.live`) and widen it when the catalog grows (`grows`, `ranker.stats.growth`). Every
    array the statistics hold is listed in `STAT_FIELDS` (a test checks), so a new matrix cannot be forgotten."""

    name: str
    grows: str
    """`item_columns`: an empty column per new item; `item_square`: an empty row and column; `brands`, `leaves`,
    `parents`: an empty column per new value; `leaf_square`: both for new categories; `item_zeros`: a 0 per new
    item; `rating_prior`: the prior rating per new item; `best_text`: the shoppers' best text match counts the
    new items' text; `kept`: does not depend on the catalog's items."""
    user_row: bool = False
    sparse: bool = True


def _fields(grows: str, names: str, user_row: bool = False, sparse: bool = True) -> tuple[StatField, ...]:
    return tuple(StatField(n, grows, user_row, sparse) for n in names.split())


STAT_FIELDS: tuple[StatField, ...] = (
    *_fields("item_zeros", "item_buys item_views rating_count", sparse=False),
    *_fields("rating_prior", "rating_mean", sparse=False),
    *_fields("item_square", "cosine pmi transitions window trans_lift window_lift"),
    *_fields("kept", "ease", sparse=False),
    *_fields("item_columns", "knn_basis"),
    *_fields("leaf_square", "leaf_lift"),
    *_fields("item_columns", "buy view cart recent user_neighbours cooc_all cooc_recent trans_recent window_recent "
                             "cooc_recent_lift trans_recent_lift window_recent_lift", user_row=True),
    *_fields("brands", "brand_buy brand_view", user_row=True),
    *_fields("leaves", "leaf_buy leaf_view leaf_window_recent", user_row=True),
    *_fields("parents", "parent_buy", user_row=True),
    *_fields("kept", "words_recent", user_row=True),
    *_fields("kept", "last_item recent_items price_median price_low price_high text_mean text_recent "
                     "cooc_recent_lift_max trans_recent_lift_max window_recent_lift_max user_buys user_views",
             user_row=True, sparse=False),
    *_fields("best_text", "text_recent_max", user_row=True, sparse=False),
)
USER_SPARSE = tuple(f.name for f in STAT_FIELDS if f.user_row and f.sparse)
USER_DENSE = tuple(f.name for f in STAT_FIELDS if f.user_row and not f.sparse)


class BehaviourStats:
    """Everything the features need from a window of events, as sparse matrices.

    Item-level statistics (co-purchase, transitions, popularity, ratings) describe the whole window; user-level
    rows (`USER_SPARSE`, `USER_DENSE`, `history`) are one shopper each, computed by `user_rows` from that
    shopper's events and the item-level statistics, so a live shop can recompute a few shoppers' rows
    (`ranker.stats.live`) without rebuilding the rest."""

    buy: sp.csr_matrix
    view: sp.csr_matrix
    cart: sp.csr_matrix
    recent: sp.csr_matrix
    brand_buy: sp.csr_matrix
    brand_view: sp.csr_matrix
    leaf_buy: sp.csr_matrix
    leaf_view: sp.csr_matrix
    parent_buy: sp.csr_matrix
    user_neighbours: sp.csr_matrix
    leaf_window_recent: sp.csr_matrix
    cooc_all: sp.csr_matrix
    cooc_recent: sp.csr_matrix
    trans_recent: sp.csr_matrix
    window_recent: sp.csr_matrix
    words_recent: sp.csr_matrix
    cooc_recent_lift: sp.csr_matrix
    trans_recent_lift: sp.csr_matrix
    window_recent_lift: sp.csr_matrix
    last_item: np.ndarray
    recent_items: np.ndarray
    """shoppers × SEQUENCE_LEN item indices of the latest purchases, most recent first, -1 where there are fewer"""
    price_median: np.ndarray
    price_low: np.ndarray
    price_high: np.ndarray
    text_mean: np.ndarray
    text_recent: np.ndarray
    cooc_recent_lift_max: np.ndarray
    trans_recent_lift_max: np.ndarray
    window_recent_lift_max: np.ndarray
    text_recent_max: np.ndarray
    user_buys: np.ndarray
    user_views: np.ndarray
    history: dict[int, np.ndarray]

    def __init__(self, events: pd.DataFrame, catalog: CatalogIndex, target_kind: str):
        self.catalog, self.target_kind = catalog, target_kind
        n = catalog.n
        ev = events.assign(item=catalog.index_of(events["item_id"]))
        ev = ev[ev["item"] >= 0]
        self.user_ids = np.asarray(pd.unique(ev["user_id"]), dtype=object)
        self.user_index = pd.Index(self.user_ids)
        self.cold_row = len(self.user_ids)
        n_users = self.cold_row + 1
        ev = ev.assign(user=self.user_index.get_indexer(ev["user_id"]))

        buys = ev[ev["event"] == target_kind]
        engaged = ev[ev["event"].isin(ENGAGEMENT_KINDS)]
        buy = user_item(buys["user"].to_numpy(), buys["item"].to_numpy(), n_users, n)
        view = user_item(engaged["user"].to_numpy(), engaged["item"].to_numpy(), n_users, n)
        self.item_buys = np.asarray(buy.sum(axis=0)).ravel().astype(np.float32)
        self.item_views = np.asarray(view.sum(axis=0)).ravel().astype(np.float32)
        ratings = ev[ev["event"] == "rating"].dropna(subset=["value"])
        r_sum = np.bincount(ratings["item"], weights=ratings["value"], minlength=n)
        r_cnt = np.bincount(ratings["item"], minlength=n).astype(np.float64)
        prior = float(ratings["value"].mean()) if len(ratings) else 0.0
        self.rating_prior = prior
        self.rating_mean = ((r_sum + 5 * prior) / (r_cnt + 5)).astype(np.float32)
        self.rating_count = r_cnt.astype(np.float32)

        self.cosine = cosine_similarity(buy, COSINE_SHRINK)
        self.pmi = positive_pmi(buy)
        transitions, window = self._transitions(buys, n), self._window(buys, n)
        self.trans_lift, self.window_lift = positive_lift(transitions), positive_lift(window)
        self.transitions, self.window = log_damped(transitions), log_damped(window)
        self.ease = ease_weights(buy) if n <= EASE_MAX_ITEMS else None
        self.knn_basis = normed_rows(buy)
        self.leaf_lift = self._leaf_lift(buys, catalog)
        coded = self.coded_rows(ev["user"].to_numpy(), ev["item"].to_numpy(), ev["event"].to_numpy(), n_users,
                                knn_same=True)
        for name, value in coded.items():
            setattr(self, name, value)

    def user_rows(self, events: pd.DataFrame, users: list[str], knn_exclude: np.ndarray | None = None) -> dict:
        """The user-level rows (`STAT_FIELDS` with `user_row`, and `history`) of `users`, in that order, from
        their complete events, read against this window's item-level statistics: what the live shop swaps in
        when a shopper's events arrive (`ranker.stats.live`). `knn_exclude[u]`: shopper u's own row in the neighbour
        basis (their earlier self), or -1."""
        return self.coded_rows(pd.Index(users).get_indexer(events["user_id"].astype(str)),
                               self.catalog.index_of(events["item_id"].astype(str)), events["event"].to_numpy(),
                               len(users), knn_exclude=knn_exclude)

    def coded_rows(self, user: np.ndarray, item: np.ndarray, event: np.ndarray, n_users: int, knn_same: bool = False,
                   knn_exclude: np.ndarray | None = None) -> dict:
        """The user-level rows for events already coded — `user` in 0..n_users-1, `item` a catalog position (-1:
        not in the catalog, ignored), in time order — read against this window's item-level statistics. Arrays,
        not a frame: a "what if" batch (`ranker.counterfactual`) is a few rows, where pandas costs more than the
        arithmetic. `knn_same`: the shoppers are those of `knn_basis` (a shopper is not their own neighbour);
        otherwise `knn_exclude[u]` is the basis row to leave out for shopper u (their earlier self), or -1."""
        catalog, n = self.catalog, self.catalog.n
        known = item >= 0
        user, item, event = user[known], item[known], event[known]
        is_buy = event == self.target_kind
        engaged, carted = np.isin(event, ENGAGEMENT_KINDS), event == "cart"
        bu, bi = user[is_buy], item[is_buy]
        out: dict = {"buy": user_item(bu, bi, n_users, n),
                     "view": user_item(user[engaged], item[engaged], n_users, n),
                     "cart": user_item(user[carted], item[carted], n_users, n)}
        buy, view = out["buy"], out["view"]
        order, out["history"] = last_first(bu, bi)
        recent_mask = order < len(RECENT_WEIGHTS)
        recent = out["recent"] = user_item(bu[recent_mask], bi[recent_mask], n_users, n,
                                            RECENT_WEIGHTS[order[recent_mask]])
        last_item = out["last_item"] = np.full(n_users, -1, np.int64)
        last_item[bu[order == 0]] = bi[order == 0]
        recent_items = out["recent_items"] = np.full((n_users, SEQUENCE_LEN), -1, np.int64)
        in_sequence = order < SEQUENCE_LEN
        recent_items[bu[in_sequence], order[in_sequence]] = bi[in_sequence]

        for name, m, codes, size in (("brand_buy", buy, catalog.brand, len(catalog.brands)),
                                     ("brand_view", view, catalog.brand, len(catalog.brands)),
                                     ("leaf_buy", buy, catalog.leaf, len(catalog.leaves)),
                                     ("leaf_view", view, catalog.leaf, len(catalog.leaves)),
                                     ("parent_buy", buy, catalog.parent, len(catalog.parents))):
            out[name] = coded_sums(m, codes, size, shares=True)
        out["user_neighbours"] = neighbour_scores(normed_rows(buy), self.knn_basis, knn_same, knn_exclude,
                                                  self._knn_basis_t())
        recent_leaves = coded_sums(recent, catalog.leaf, len(catalog.leaves))
        out["leaf_window_recent"] = sp.csr_matrix(recent_leaves @ self.leaf_lift)
        out["cooc_all"] = sp.csr_matrix((buy > 0).astype(np.float32) @ self.pmi)
        out["cooc_recent"] = sp.csr_matrix(recent @ self.cosine)
        out["trans_recent"] = sp.csr_matrix(recent @ self.transitions)
        out["window_recent"] = sp.csr_matrix(recent @ self.window)
        out["cooc_recent_lift"] = sp.csr_matrix(recent @ self.pmi)
        out["trans_recent_lift"] = sp.csr_matrix(recent @ self.trans_lift)
        out["window_recent_lift"] = sp.csr_matrix(recent @ self.window_lift)

        priced = np.isfinite(catalog.log_price[bi])
        out["price_median"], out["price_low"], out["price_high"] = price_range(
            bu[priced], catalog.log_price[bi[priced]], n_users)

        out["words_recent"] = sp.csr_matrix(recent @ catalog.words)
        out["text_mean"] = self._mean_embedding(sp.csr_matrix(buy + view), catalog.emb)
        text_recent = out["text_recent"] = self._mean_embedding(recent, catalog.emb)
        for name in ("cooc_recent_lift", "trans_recent_lift", "window_recent_lift"):
            out[f"{name}_max"] = row_max(out[name])
        out["text_recent_max"] = np.concatenate([
            (text_recent[k:k + 2048] @ catalog.emb.T).max(axis=1) for k in range(0, n_users, 2048)
        ]).astype(np.float32)
        out["user_buys"] = np.asarray(buy.sum(axis=1)).ravel().astype(np.float32)
        out["user_views"] = np.asarray(view.sum(axis=1)).ravel().astype(np.float32)
        for m in out.values():
            if sp.issparse(m):
                m.sum_duplicates()  # sorted, once: serving reads single rows by binary search (sparse_lines)
        return out

    @staticmethod
    def _transitions(buys: pd.DataFrame, n: int) -> sp.csr_matrix:
        """Directed counts of "bought j right after i" within one shopper's sequence."""
        users, items = buys["user"].to_numpy(), buys["item"].to_numpy()
        same = users[1:] == users[:-1]
        return user_item(items[:-1][same], items[1:][same], n, n)

    @staticmethod
    def _window(buys: pd.DataFrame, n: int) -> sp.csr_matrix:
        """Symmetric "bought within 3 purchases of each other" counts, weighted 1/distance: sequence locality that
        whole-history co-occurrence blurs."""
        users, items = buys["user"].to_numpy(), buys["item"].to_numpy()
        rows, cols, weights = window_pairs(users, items, np.ones(len(items), bool))
        w = user_item(rows, cols, n, n, weights)
        w.setdiag(0)
        w.eliminate_zeros()
        return w

    @staticmethod
    def _leaf_lift(buys: pd.DataFrame, catalog: CatalogIndex) -> sp.csr_matrix:
        """Category-level "bought together": how strongly each category follows (within 3 purchases) another,
        other categories only. Complements such as drill → drill bits live between categories, where
        item-level co-occurrence is too sparse; a shopper's row is their recent categories times this."""
        users, leaves = buys["user"].to_numpy(), catalog.leaf[buys["item"].to_numpy()]
        n_leaves = max(len(catalog.leaves), 1)
        rows, cols, weights = window_pairs(users, leaves, leaves >= 0, distinct=True)
        pairs = user_item(rows, cols, n_leaves, n_leaves, weights)
        counts = np.bincount(leaves[leaves >= 0], minlength=n_leaves).astype(np.float32)
        coo = pairs.tocoo()
        lift = coo.data / (np.sqrt(counts[coo.row] * counts[coo.col]) + 10.0)
        return sp.csr_matrix((lift.astype(np.float32), (coo.row, coo.col)), shape=(n_leaves, n_leaves))

    @staticmethod
    def _mean_embedding(weights: sp.csr_matrix, emb: np.ndarray) -> np.ndarray:
        mean = np.asarray(weights @ emb, dtype=np.float32)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        return np.divide(mean, norms, out=np.zeros_like(mean), where=norms > 0)

    def _knn_basis_t(self) -> sp.csr_matrix:
        """The neighbour basis transposed, kept beside the basis it was made from (growth widens the basis)."""
        kept = self.__dict__.get("_knn_t")
        if kept is None or kept[0] is not self.knn_basis:
            kept = self.__dict__["_knn_t"] = (self.knn_basis, sp.csr_matrix(self.knn_basis.T))
        return kept[1]

    def rows_of(self, user_ids) -> np.ndarray:
        """Stats rows for shopper ids; unknown shoppers map to the empty cold-start row."""
        return look_up(user_ids, self.user_index, self._user_rows, self.cold_row)

    @cached_property
    def _user_rows(self) -> dict:
        return {u: i for i, u in enumerate(self.user_ids.tolist())}

    def history_of(self, row: int) -> np.ndarray:
        return self.history.get(int(row), np.empty(0, np.int64))
