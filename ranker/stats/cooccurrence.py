"""Item-to-item matrices from counts of what shoppers bought together: shrunk cosine, positive PMI and lift,
EASE weights, shopper-neighbour scores, and the windowed sequence pairs they are counted from. Pure functions
of sparse count matrices; `ranker.stats.behaviour` decides which ones a window of events keeps.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

COSINE_SHRINK = 20.0
PMI_SUPPORT = 5.0
EASE_LAMBDA = 50.0
WINDOW = 3


def user_item(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int,
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


def log_damped(counts: sp.csr_matrix) -> sp.csr_matrix:
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


def normed_rows(buy: sp.csr_matrix) -> sp.csr_matrix:
    """Binary purchase rows scaled to unit length (the user-kNN basis)."""
    binary = (buy > 0).astype(np.float32)
    sizes = np.asarray(binary.sum(axis=1)).ravel()
    return scaled_rows(binary, np.divide(1.0, np.sqrt(sizes), out=np.zeros_like(sizes), where=sizes > 0))


def neighbour_scores(normed: sp.csr_matrix, basis: sp.csr_matrix, same: bool, exclude: np.ndarray | None = None,
                     basis_t: sp.csr_matrix | None = None) -> sp.csr_matrix:
    """Shoppers with overlapping purchases (cosine on binary histories) vote for their items. `same`: the
    rows are the basis's own shoppers (drop the diagonal); `exclude[u]`: a basis row that is shopper u;
    `basis_t`: the basis transposed, when the caller keeps it (transposing costs a few rows more than the product)."""
    sim = sp.csr_matrix(normed @ (basis.T if basis_t is None else basis_t))
    if same:
        sim.setdiag(0)
    elif exclude is not None:
        for u, row in enumerate(exclude):
            start, end = sim.indptr[u], sim.indptr[u + 1]
            sim.data[start:end][sim.indices[start:end] == row] = 0
    sim.eliminate_zeros()
    return sp.csr_matrix(sim @ basis)


def window_pairs(users: np.ndarray, codes: np.ndarray, valid: np.ndarray, distinct: bool = False
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


def scaled_rows(m: sp.csr_matrix, factors: np.ndarray) -> sp.csr_matrix:
    """Row r of `m` times `factors[r]` (float32): a diagonal product done on the stored values, which costs a
    "what if" batch of a few rows far less than a sparse matrix product."""
    out = sp.csr_matrix(m, dtype=np.float32, copy=True)
    out.data *= np.repeat(factors.astype(np.float32), np.diff(out.indptr))
    return out


def row_max(m: sp.csr_matrix) -> np.ndarray:
    """Each row's largest value, 0 for an empty row (implicit zeros count, as in scipy's `max(axis=1)`), from the
    stored values directly: scipy's version costs a "what if" batch more than the products it summarises."""
    out = np.zeros(m.shape[0], np.float32)
    filled = np.diff(m.indptr) > 0
    if filled.any():
        out[filled] = np.maximum.reduceat(m.data, m.indptr[:-1][filled])
    return np.maximum(out, 0.0, where=np.diff(m.indptr) < m.shape[1], out=out)


def coded_sums(m: sp.csr_matrix, codes: np.ndarray, size: int, shares: bool = False) -> sp.csr_matrix:
    """`m` times the item × code indicator of `codes` (items coded -1 left out): each row's weights summed per
    brand or category — as shares of the row's coded total with `shares` — by one sort of (row, code) keys,
    without building the indicator or a sparse product (a "what if" batch is a few rows)."""
    size = max(size, 1)
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    c = codes[m.indices]
    ok = c >= 0
    keys, at = np.unique(rows[ok] * size + c[ok], return_inverse=True)
    sums = np.bincount(at.ravel(), weights=m.data[ok], minlength=len(keys))
    owner = keys // size
    if shares:
        totals = np.bincount(owner, weights=sums, minlength=m.shape[0])
        sums = sums / totals[owner]
    indptr = np.r_[0, np.cumsum(np.bincount(owner, minlength=m.shape[0]))]
    return sp.csr_matrix((sums.astype(np.float32), keys % size, indptr), shape=(m.shape[0], size))
