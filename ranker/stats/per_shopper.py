"""Per-shopper aggregates of event arrays (purchase order, price range) in plain numpy, one sort each: rebuilding a
few "what if" shoppers (`ranker.counterfactual`) or a live refresh's shoppers, a pandas groupby cost more than the
rest of their rows.
"""

from __future__ import annotations

import numpy as np


def last_first(users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """For purchases in time order: how many of the same shopper's purchases come after each one (0 = their
    latest), and each shopper's purchased items in order."""
    if not len(users):
        return np.zeros(0, np.int64), {}
    at = np.argsort(users, kind="stable")
    grouped = users[at]
    starts, ends = _runs(grouped)
    after = np.empty(len(users), np.int64)
    after[at] = np.repeat(ends, ends - starts) - 1 - np.arange(len(grouped))
    history = {int(grouped[s]): items[at[s:e]] for s, e in zip(starts, ends, strict=True)}
    return after, history


def price_range(users: np.ndarray, prices: np.ndarray, n_users: int) -> tuple[np.ndarray, ...]:
    """Each shopper's median, lowest and highest purchase price (NaN for shoppers without one), by one sort."""
    out = tuple(np.full(n_users, np.nan, np.float32) for _ in range(3))
    if not len(users):
        return out
    at = np.lexsort((prices, users))
    grouped, sorted_prices = users[at], prices[at]
    starts, ends = _runs(grouped)
    ends = ends - 1
    who = grouped[starts]
    out[0][who] = (sorted_prices[(starts + ends) // 2] + sorted_prices[(starts + ends + 1) // 2]) / 2
    out[1][who], out[2][who] = sorted_prices[starts], sorted_prices[ends]
    return out


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each run of equal values in sorted `keys`."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return starts, np.r_[starts[1:], len(keys)]
