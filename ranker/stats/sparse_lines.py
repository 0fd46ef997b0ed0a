"""Reading single rows (CSR) or columns (CSC) of scipy matrices straight from their arrays.

Serving looks up one shopper's row or one item's column at a time; scipy's own indexing builds a new
matrix per lookup, which cost more than all the model work of a request.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

SMALL = 16_384
"""Stored values up to which a multi-row lookup searches the whole matrix's keys (measured: 3.4× faster than scipy
at 7k values and 500 pairs, even at 21k, 4× slower at 350k)."""


def line(m: sp.csr_matrix | sp.csc_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Stored (indices, values) of row k of a CSR matrix, or column k of a CSC one."""
    start, end = m.indptr[k], m.indptr[k + 1]
    return m.indices[start:end], m.data[start:end]


def values_at(entries: tuple[np.ndarray, np.ndarray], positions: np.ndarray) -> np.ndarray:
    """A line's values at `positions` (0 where nothing is stored); its indices must be sorted."""
    idx, data = entries
    if not len(idx):
        return np.zeros(len(positions), np.float32)
    at = np.minimum(np.searchsorted(idx, positions), len(idx) - 1)
    return np.where(idx[at] == positions, data[at], 0).astype(np.float32)


def lookup(m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """m[rows[k], cols[k]] for every k; one dense row when all pairs share a row (one shopper, serving), one
    search over the whole matrix's sorted (row, column) keys when it is small (a few "what if" shoppers' rows,
    where scipy's per-call argument checks cost more than the lookup)."""
    if len(rows) == 0:
        return np.zeros(0, np.float32)
    if m.format == "csr" and m.has_sorted_indices:
        if rows[0] == rows[-1] and np.all(rows == rows[0]):
            return values_at(line(m, int(rows[0])), cols)
        if m.nnz <= SMALL:
            keys = np.repeat(np.arange(m.shape[0], dtype=np.int64) * m.shape[1], np.diff(m.indptr)) + m.indices
            return values_at((keys, m.data), np.asarray(rows, np.int64) * m.shape[1] + cols)
    return np.asarray(m[rows, cols]).ravel().astype(np.float32)


def canonical(m: sp.spmatrix, fmt: str = "csr") -> sp.csr_matrix | sp.csc_matrix:
    """A copy in `fmt` with sorted indices and no duplicates, as `values_at` needs."""
    out = m.asformat(fmt, copy=True)
    out.sum_duplicates()
    out.sort_indices()
    return out


def splice_rows(old: sp.csr_matrix, block: sp.csr_matrix, target: np.ndarray) -> sp.csr_matrix:
    """`old` with row `target[k]` replaced by `block`'s row k (a target ≥ old's row count appends it, in
    order). One pass of slice copies: a live shop replaces a few shoppers' rows of large matrices, where
    stacking and fancy-indexing the whole matrix cost more than everything else in the refresh."""
    n_old, n_rows = old.shape[0], max(old.shape[0], int(target.max(initial=-1)) + 1)
    lengths = np.zeros(n_rows, np.int64)
    lengths[:n_old] = np.diff(old.indptr)
    lengths[target] = np.diff(block.indptr)
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    data, indices = [], []
    previous = 0
    for b, t in sorted(enumerate(target.tolist()), key=lambda bt: bt[1]):
        start, end = old.indptr[previous], old.indptr[min(t, n_old)]
        previous = min(t + 1, n_old)
        data += [old.data[start:end], block.data[block.indptr[b]:block.indptr[b + 1]]]
        indices += [old.indices[start:end], block.indices[block.indptr[b]:block.indptr[b + 1]]]
    if previous < n_old:
        data.append(old.data[old.indptr[previous]:])
        indices.append(old.indices[old.indptr[previous]:])
    out = sp.csr_matrix((np.concatenate(data) if data else old.data[:0],
                         np.concatenate(indices) if indices else old.indices[:0], indptr),
                        shape=(n_rows, old.shape[1]))
    out.has_sorted_indices = old.has_sorted_indices and block.has_sorted_indices
    return out
