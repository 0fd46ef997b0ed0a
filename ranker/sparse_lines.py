"""Reading single rows (CSR) or columns (CSC) of scipy matrices straight from their arrays.

Serving looks up one shopper's row or one item's column at a time; scipy's own indexing builds a new
matrix per lookup, which cost more than all the model work of a request.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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


def canonical(m: sp.spmatrix, fmt: str = "csr") -> sp.csr_matrix | sp.csc_matrix:
    """A copy in `fmt` with sorted indices and no duplicates, as `values_at` needs."""
    out = m.asformat(fmt, copy=True)
    out.sum_duplicates()
    out.sort_indices()
    return out
