"""Catalog index and behaviour statistics: the state that features are computed from.

`CatalogIndex` turns item ids, brands and category paths into integer codes once. `BehaviourStats`
summarises one window of events (everything before a cut-off) as sparse user×item, user×brand and
item×item matrices, so each feature is a lookup or a sparse product instead of a loop over events.
An extra empty user row at the end stands for shoppers the window has never seen (cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ranker.data import CATEGORY_SEP

RECENT_WEIGHTS = (0.7 ** np.arange(5)).astype(np.float32)
SEQUENCE_LEN = 8
"""How many of the latest purchases the order-aware sequence group reads (`ranker.sequence`)."""
COSINE_SHRINK = 20.0
PMI_SUPPORT = 5.0
EASE_LAMBDA = 50.0
EASE_MAX_ITEMS = 15_000
WINDOW = 3
ENGAGEMENT_KINDS = ("view", "cart")


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes with -1 for empty strings, plus the vocabulary."""
    codes, vocab = pd.factorize(values.where(values.astype(str).ne(""), None))
    return codes.astype(np.int64), np.asarray(vocab, dtype=object)


def _look_up(ids, index: pd.Index, table: dict, missing: int) -> np.ndarray:
    """Positions of `ids` in `index` (`missing` for unknown ones). Serving asks for a handful of ids at a
    time, where a dict beats building a pandas index per call; whole event logs go through pandas."""
    if len(ids) > 256:
        found = index.get_indexer(pd.Index(np.asarray(ids, dtype=object)))
        return np.where(found < 0, missing, found).astype(np.int64)
    get = table.get
    return np.fromiter((get(i, missing) for i in ids), np.int64, count=len(ids))


@dataclass
class CatalogIndex:
    item_ids: np.ndarray
    brand: np.ndarray
    brands: np.ndarray
    leaf: np.ndarray
    leaves: np.ndarray
    parent: np.ndarray
    parents: np.ndarray
    log_price: np.ndarray
    emb: np.ndarray
    words: sp.csr_matrix
    vectorizer: object | None = None
    """The fitted TF-IDF of `words`: items added while serving are read with the same vocabulary."""

    @classmethod
    def build(cls, items: pd.DataFrame, emb: np.ndarray) -> CatalogIndex:
        category = items["category"].astype(str)
        parent_path = category.map(lambda c: f" {CATEGORY_SEP} ".join(c.split(f" {CATEGORY_SEP} ")[:-1]) or c)
        brand, brands = _codes(items["brand"].astype(str))
        leaf, leaves = _codes(category)
        parent, parents = _codes(parent_path)
        words, vectorizer = title_tfidf(items["title"].astype(str))
        return cls(items["item_id"].astype(str).to_numpy(), brand, brands, leaf, leaves, parent, parents,
                   log_prices(items), emb.astype(np.float32), words, vectorizer)

    @property
    def n(self) -> int:
        return len(self.item_ids)

    @cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.item_ids)

    @cached_property
    def _positions(self) -> dict:
        return {item: i for i, item in enumerate(self.item_ids.tolist())}

    def index_of(self, item_ids) -> np.ndarray:
        """Catalog positions of item ids (-1 for unknown ones)."""
        return _look_up(item_ids, self._index, self._positions, -1)

    def onehot(self, codes: np.ndarray, size: int) -> sp.csr_matrix:
        """item × vocabulary indicator (items with code -1 get an empty row)."""
        rows = np.flatnonzero(codes >= 0)
        return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, codes[rows])), shape=(self.n, max(size, 1)))


def log_prices(items: pd.DataFrame) -> np.ndarray:
    """log(1 + price) per item, NaN where the catalog has no price."""
    price = pd.to_numeric(items.get("price", pd.Series(np.nan, index=items.index)), errors="coerce")
    return np.log1p(price.to_numpy(dtype=np.float64)).astype(np.float32)


def title_tfidf(titles: pd.Series) -> tuple[sp.csr_matrix, object | None]:
    """L2-normalised TF-IDF of title words: catches product lines and model numbers ("740000801",
    "80 Grit") that a sentence embedding smooths over. Returns the fitted vectorizer too (None when every
    title is empty)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(token_pattern=r"(?u)\b\w[\w.-]*\b", min_df=1, sublinear_tf=True, dtype=np.float32)
    try:
        return sp.csr_matrix(vectorizer.fit_transform(titles.str.lower())), vectorizer
    except ValueError:  # every title empty
        return sp.csr_matrix((len(titles), 1), dtype=np.float32), None


def _user_item(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int,
               weights: np.ndarray | None = None) -> sp.csr_matrix:
    w = np.ones(len(users), np.float32) if weights is None else weights.astype(np.float32)
    m = sp.csr_matrix((w, (users, items)), shape=(n_users, n_items))
    m.sum_duplicates()
    return m


def _co_purchases(buy: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """(rows, cols, |i∩j|, |i| per item, shape) of the item pairs bought by the same shopper, diagonal removed."""
    binary = (buy > 0).astype(np.float32)
    co = sp.coo_matrix(binary.T @ binary)
    counts = np.asarray(binary.sum(axis=0)).ravel().astype(np.float64)
    keep = co.row != co.col
    return co.row[keep], co.col[keep], co.data[keep].astype(np.float64), counts, co.shape


def cosine_similarity(buy: sp.csr_matrix, shrink: float = COSINE_SHRINK) -> sp.csr_matrix:
    """Item-item cosine on binary purchase histories, shrunk toward 0 for pairs with little support:
    |i∩j| / (sqrt(|i||j|) + shrink). Diagonal removed."""
    rows, cols, both, counts, shape = _co_purchases(buy)
    values = both / (np.sqrt(counts[rows] * counts[cols]) + shrink)
    return sp.csr_matrix((values.astype(np.float32), (rows, cols)), shape=shape)


def positive_pmi(buy: sp.csr_matrix, support: float = PMI_SUPPORT) -> sp.csr_matrix:
    """Co-purchase beyond what popularity explains: max(0, log(|i∩j|·N / (|i|·|j|))) · |i∩j| / (|i∩j| + support),
    N the shoppers with a purchase. Diagonal removed. Summed over a whole history, the cosine of a popular item
    with each past purchase is popularity again; positive PMI counts only pairs bought together more often than
    their popularity predicts."""
    rows, cols, both, counts, shape = _co_purchases(buy)
    shoppers = max(float(buy.getnnz(axis=1).astype(bool).sum()), 1.0)
    return _positive_log_ratio(rows, cols, both, counts[rows] * counts[cols] / shoppers, support, shape)


def positive_lift(counts: sp.csr_matrix, support: float = PMI_SUPPORT) -> sp.csr_matrix:
    """max(0, log(c_ij·T / (c_i·c_j))) · c_ij / (c_ij + support) for a matrix of (weighted) pair counts, T the total
    and c_i, c_j its row and column sums: how much more often j follows (or accompanies) i than their popularity
    predicts."""
    coo = counts.tocoo()
    rows_sum = np.asarray(counts.sum(axis=1)).ravel().astype(np.float64)
    cols_sum = np.asarray(counts.sum(axis=0)).ravel().astype(np.float64)
    total = max(float(coo.data.sum()), 1.0)
    expected = rows_sum[coo.row] * cols_sum[coo.col] / total
    return _positive_log_ratio(coo.row, coo.col, coo.data.astype(np.float64), expected, support, counts.shape)


def _positive_log_ratio(rows: np.ndarray, cols: np.ndarray, seen: np.ndarray, expected: np.ndarray, support: float,
                        shape: tuple[int, int]) -> sp.csr_matrix:
    """max(0, log(seen / expected)) shrunk by seen / (seen + support), as a sparse matrix without the zeros."""
    values = np.maximum(np.log(seen / expected), 0.0) * seen / (seen + support)
    ok = values > 0
    return sp.csr_matrix((values[ok].astype(np.float32), (rows[ok], cols[ok])), shape=shape)


def _log_damped(counts: sp.csr_matrix) -> sp.csr_matrix:
    out = counts.copy()
    out.data = np.log1p(out.data)
    return out


def ease_weights(buy: sp.csr_matrix, lam: float = EASE_LAMBDA) -> np.ndarray:
    """EASE (Steck 2019): the closed-form linear item-item model B = I − P/diag(P), P = (XᵀX + λI)⁻¹.
    Dense items × items, so only for catalogs up to EASE_MAX_ITEMS (the feature is 0 beyond)."""
    binary = (buy > 0).astype(np.float64)
    gram = (binary.T @ binary).toarray()
    gram[np.diag_indices_from(gram)] += lam
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return b.astype(np.float32)


def _normed_rows(buy: sp.csr_matrix) -> sp.csr_matrix:
    """Binary purchase rows scaled to unit length (the user-kNN basis)."""
    binary = (buy > 0).astype(np.float32)
    sizes = np.asarray(binary.sum(axis=1)).ravel()
    inv = np.divide(1.0, np.sqrt(sizes), out=np.zeros_like(sizes), where=sizes > 0).astype(np.float32)
    return sp.csr_matrix(sp.diags(inv) @ binary)


def _neighbour_scores(normed: sp.csr_matrix, basis: sp.csr_matrix, same: bool,
                      exclude: np.ndarray | None = None) -> sp.csr_matrix:
    """Shoppers with overlapping purchases (cosine on binary histories) vote for their items. `same`: the
    rows are the basis's own shoppers (drop the diagonal); `exclude[u]`: a basis row that is shopper u."""
    sim = sp.csr_matrix(normed @ basis.T)
    if same:
        sim.setdiag(0)
    elif exclude is not None:
        for u, row in enumerate(exclude):
            start, end = sim.indptr[u], sim.indptr[u + 1]
            sim.data[start:end][sim.indices[start:end] == row] = 0
    sim.eliminate_zeros()
    return sp.csr_matrix(sim @ basis)


def _window_pairs(users: np.ndarray, codes: np.ndarray, valid: np.ndarray, distinct: bool = False
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both orders of every pair of codes at most WINDOW purchases apart in one shopper's sequence,
    weighted 1/distance; `valid` masks codes to leave out, `distinct` drops pairs of equal codes."""
    rows, cols, weights = [], [], []
    for d in range(1, WINDOW + 1):
        ok = (users[d:] == users[:-d]) & valid[d:] & valid[:-d]
        if distinct:
            ok &= codes[d:] != codes[:-d]
        rows += [codes[:-d][ok], codes[d:][ok]]
        cols += [codes[d:][ok], codes[:-d][ok]]
        weights += [np.full(ok.sum(), 1.0 / d, np.float32)] * 2
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)


def _share(counts: sp.csr_matrix) -> sp.csr_matrix:
    totals = np.asarray(counts.sum(axis=1)).ravel()
    inv = np.divide(1.0, totals, out=np.zeros_like(totals, dtype=np.float64), where=totals > 0)
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ counts)


USER_SPARSE = ("buy", "view", "cart", "recent", "brand_buy", "brand_view", "leaf_buy", "leaf_view", "parent_buy",
               "user_neighbours", "leaf_window_recent", "cooc_all", "cooc_recent", "trans_recent", "window_recent",
               "words_recent", "cooc_recent_lift", "trans_recent_lift", "window_recent_lift")
USER_DENSE = ("last_item", "recent_items", "price_median", "price_low", "price_high", "text_mean", "text_recent",
              "cooc_recent_lift_max", "trans_recent_lift_max", "window_recent_lift_max", "text_recent_max",
              "user_buys", "user_views")


class BehaviourStats:
    """Everything the features need from a window of events, as sparse matrices.

    Item-level statistics (co-purchase, transitions, popularity, ratings) describe the whole window; user-level
    rows (`USER_SPARSE`, `USER_DENSE`, `history`) are one shopper each, computed by `_user_level` from that
    shopper's events and the item-level statistics, so a live shop can recompute a few shoppers' rows
    (`ranker.live`) without rebuilding the rest."""

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
        buy = _user_item(buys["user"].to_numpy(), buys["item"].to_numpy(), n_users, n)
        view = _user_item(engaged["user"].to_numpy(), engaged["item"].to_numpy(), n_users, n)
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
        self.transitions, self.window = _log_damped(transitions), _log_damped(window)
        self.ease = ease_weights(buy) if n <= EASE_MAX_ITEMS else None
        self.knn_basis = _normed_rows(buy)
        self.leaf_lift = self._leaf_lift(buys, catalog)
        for name, value in self._user_level(ev, n_users, knn_same=True).items():
            setattr(self, name, value)

    def _user_level(self, ev: pd.DataFrame, n_users: int, knn_same: bool = False,
                   knn_exclude: np.ndarray | None = None) -> dict:
        """The user-level rows for events coded `user` in 0..n_users-1 (item-level statistics from self).
        `knn_same`: the shoppers are those of `knn_basis` (a shopper is not their own neighbour); otherwise
        `knn_exclude[u]` is the basis row to leave out for shopper u (their earlier self), or -1."""
        catalog, n = self.catalog, self.catalog.n
        buys = ev[ev["event"] == self.target_kind]
        engaged = ev[ev["event"].isin(ENGAGEMENT_KINDS)]
        carts = ev[ev["event"] == "cart"]
        out: dict = {"buy": _user_item(buys["user"].to_numpy(), buys["item"].to_numpy(), n_users, n),
                     "view": _user_item(engaged["user"].to_numpy(), engaged["item"].to_numpy(), n_users, n),
                     "cart": _user_item(carts["user"].to_numpy(), carts["item"].to_numpy(), n_users, n)}
        buy, view = out["buy"], out["view"]
        order = buys.groupby("user").cumcount(ascending=False).to_numpy()
        recent_mask = order < len(RECENT_WEIGHTS)
        recent = out["recent"] = _user_item(buys["user"].to_numpy()[recent_mask], buys["item"].to_numpy()[recent_mask],
                                            n_users, n, RECENT_WEIGHTS[order[recent_mask]])
        last_item = out["last_item"] = np.full(n_users, -1, np.int64)
        last = buys[order == 0]
        last_item[last["user"].to_numpy()] = last["item"].to_numpy()
        recent_items = out["recent_items"] = np.full((n_users, SEQUENCE_LEN), -1, np.int64)
        in_sequence = order < SEQUENCE_LEN
        recent_items[buys["user"].to_numpy()[in_sequence], order[in_sequence]] = buys["item"].to_numpy()[in_sequence]
        out["history"] = buys.groupby("user")["item"].apply(np.asarray).to_dict()

        brands = catalog.onehot(catalog.brand, len(catalog.brands))
        leaves = catalog.onehot(catalog.leaf, len(catalog.leaves))
        out["brand_buy"], out["brand_view"] = _share(buy @ brands), _share(view @ brands)
        out["leaf_buy"], out["leaf_view"] = _share(buy @ leaves), _share(view @ leaves)
        out["parent_buy"] = _share(buy @ catalog.onehot(catalog.parent, len(catalog.parents)))
        out["user_neighbours"] = _neighbour_scores(_normed_rows(buy), self.knn_basis, knn_same, knn_exclude)
        recent_leaves = sp.csr_matrix(recent @ catalog.onehot(catalog.leaf, max(len(catalog.leaves), 1)))
        out["leaf_window_recent"] = sp.csr_matrix(recent_leaves @ self.leaf_lift)
        out["cooc_all"] = sp.csr_matrix((buy > 0).astype(np.float32) @ self.pmi)
        out["cooc_recent"] = sp.csr_matrix(recent @ self.cosine)
        out["trans_recent"] = sp.csr_matrix(recent @ self.transitions)
        out["window_recent"] = sp.csr_matrix(recent @ self.window)
        out["cooc_recent_lift"] = sp.csr_matrix(recent @ self.pmi)
        out["trans_recent_lift"] = sp.csr_matrix(recent @ self.trans_lift)
        out["window_recent_lift"] = sp.csr_matrix(recent @ self.window_lift)

        lp = catalog.log_price
        priced = buys[np.isfinite(lp[buys["item"].to_numpy()])]
        grouped = pd.Series(lp[priced["item"].to_numpy()], index=priced["user"].to_numpy()).groupby(level=0)
        for name in ("price_median", "price_low", "price_high"):
            out[name] = np.full(n_users, np.nan, np.float32)
        if len(priced):
            for name, agg in (("price_median", grouped.median()), ("price_low", grouped.min()),
                              ("price_high", grouped.max())):
                out[name][agg.index.to_numpy()] = agg.to_numpy()

        out["words_recent"] = sp.csr_matrix(recent @ catalog.words)
        out["text_mean"] = self._mean_embedding(sp.csr_matrix(buy + view), catalog.emb)
        text_recent = out["text_recent"] = self._mean_embedding(recent, catalog.emb)
        for name in ("cooc_recent_lift", "trans_recent_lift", "window_recent_lift"):
            out[f"{name}_max"] = out[name].max(axis=1).toarray().ravel().astype(np.float32)
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
        return _user_item(items[:-1][same], items[1:][same], n, n)

    @staticmethod
    def _window(buys: pd.DataFrame, n: int) -> sp.csr_matrix:
        """Symmetric "bought within 3 purchases of each other" counts, weighted 1/distance: sequence locality that
        whole-history co-occurrence blurs."""
        users, items = buys["user"].to_numpy(), buys["item"].to_numpy()
        rows, cols, weights = _window_pairs(users, items, np.ones(len(items), bool))
        w = _user_item(rows, cols, n, n, weights)
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
        rows, cols, weights = _window_pairs(users, leaves, leaves >= 0, distinct=True)
        pairs = _user_item(rows, cols, n_leaves, n_leaves, weights)
        counts = np.bincount(leaves[leaves >= 0], minlength=n_leaves).astype(np.float32)
        coo = pairs.tocoo()
        lift = coo.data / (np.sqrt(counts[coo.row] * counts[coo.col]) + 10.0)
        return sp.csr_matrix((lift.astype(np.float32), (coo.row, coo.col)), shape=(n_leaves, n_leaves))

    @staticmethod
    def _mean_embedding(weights: sp.csr_matrix, emb: np.ndarray) -> np.ndarray:
        mean = np.asarray(weights @ emb, dtype=np.float32)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        return np.divide(mean, norms, out=np.zeros_like(mean), where=norms > 0)

    def rows_of(self, user_ids) -> np.ndarray:
        """Stats rows for shopper ids; unknown shoppers map to the empty cold-start row."""
        return _look_up(user_ids, self.user_index, self._user_rows, self.cold_row)

    @cached_property
    def _user_rows(self) -> dict:
        return {u: i for i, u in enumerate(self.user_ids.tolist())}

    def history_of(self, row: int) -> np.ndarray:
        return self.history.get(int(row), np.empty(0, np.int64))
