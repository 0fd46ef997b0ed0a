"""The numpy shortcuts that build and read a few shoppers' rows fast ("what if" shoppers, live refreshes) agree with the
pandas and scipy operations they replace, on random data with empty rows, ties and negative values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from ranker.stats.cooccurrence import coded_sums, row_max
from ranker.stats.per_shopper import last_first, price_range


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_price_range_is_the_groupby_median_min_and_max(rng):
    users = rng.integers(0, 40, 500)
    prices = rng.choice(np.round(rng.normal(3, 1, 30), 2), 500)  # ties within a shopper
    median, low, high = price_range(users, prices, 45)
    grouped = pd.Series(prices, index=users).groupby(level=0)
    for name, got in (("median", median), ("min", low), ("max", high)):
        want = np.full(45, np.nan, np.float32)
        agg = getattr(grouped, name)()
        want[agg.index.to_numpy()] = agg.to_numpy()
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert np.isnan(median[44]) and all(len(a) == 45 for a in price_range(users[:0], prices[:0], 45))


def test_last_first_counts_later_purchases_per_shopper(rng):
    users, items = rng.integers(0, 10, 80), rng.integers(0, 50, 80)
    after, history = last_first(users, items)
    frame = pd.DataFrame({"u": users, "i": items})
    np.testing.assert_array_equal(after, frame.groupby("u").cumcount(ascending=False).to_numpy())
    for u, group in frame.groupby("u"):
        np.testing.assert_array_equal(history[int(u)], group["i"].to_numpy())


def test_row_max_counts_implicit_zeros_like_scipy(rng):
    dense = rng.normal(size=(30, 12)).astype(np.float32) * (rng.random((30, 12)) < 0.3)
    dense[0] = 0
    dense[1] = -rng.random(12) - 0.1  # a full row of negatives has no implicit zero
    dense[2, :3] = -1.0
    m = sp.csr_matrix(dense)
    np.testing.assert_array_equal(row_max(m), m.max(axis=1).toarray().ravel())


def test_coded_shares_equal_the_indicator_product(rng):
    m = sp.random(20, 50, density=0.2, format="csr", random_state=3, dtype=np.float32)
    codes = rng.integers(-1, 6, 50)  # -1: an item with no brand
    rows = np.flatnonzero(codes >= 0)
    indicator = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, codes[rows])), shape=(50, 6))
    np.testing.assert_allclose(coded_sums(m, codes, 6).toarray(), (m @ indicator).toarray(), rtol=1e-6)
    shares = coded_sums(m, codes, 6, shares=True).toarray()
    totals = (m @ indicator).toarray().sum(axis=1, keepdims=True)
    want = np.divide((m @ indicator).toarray(), totals, out=np.zeros_like(shares), where=totals > 0)
    np.testing.assert_allclose(shares, want, rtol=1e-6)
    assert np.allclose(shares.sum(axis=1)[totals.ravel() > 0], 1.0)


@pytest.mark.parametrize("shape,density", [((24, 589), 0.5), ((300, 900), 0.1), ((5, 40), 0.0)])
def test_lookup_reads_what_scipy_indexing_reads(rng, shape, density):
    """Small matrices take the whole-matrix key search, the 27k-value one scipy's indexing, a single row the
    line search; hits and misses alike."""
    from ranker.stats.sparse_lines import lookup

    m = sp.random(*shape, density=density, format="csr", random_state=5, dtype=np.float32)
    m.sum_duplicates()
    rows, cols = rng.integers(0, shape[0], 700), rng.integers(0, shape[1], 700)
    stored = m.tocoo()
    hits = min(50, m.nnz)
    rows[:hits], cols[:hits] = stored.row[:hits], stored.col[:hits]
    np.testing.assert_array_equal(lookup(m, rows, cols), np.asarray(m[rows, cols]).ravel())
    np.testing.assert_array_equal(lookup(m, np.full(9, 3), cols[:9]), np.asarray(m[np.full(9, 3), cols[:9]]).ravel())
