"""Leave-last-out splitting by time.

Each shopper's last target event (a purchase; ratings when a source has no purchases) is the test
target and the one before it the validation target. `truncate(events, n)` removes each shopper's
last n targets and everything at or after them, which is exactly how the UniSRec/RecBole files
build their train/valid/test lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def target_kind(events: pd.DataFrame) -> str:
    """Purchases are what a shop optimises for; sources without them (MovieLens) use ratings."""
    kinds = set(events["event"].unique())
    for kind in ("purchase", "rating"):
        if kind in kinds:
            return kind
    raise ValueError("events hold neither purchases nor ratings: nothing to learn or evaluate on")


def _targets_ranked(events: pd.DataFrame, kind: str) -> pd.DataFrame:
    targets = events[events["event"] == kind][["user_id", "item_id", "timestamp"]]
    targets = targets.assign(from_last=targets.groupby("user_id").cumcount(ascending=False) + 1)
    return targets


def nth_last_targets(events: pd.DataFrame, n: int, kind: str | None = None) -> pd.DataFrame:
    """The n-th last target of each shopper who has at least n of them (n=1: the last)."""
    kind = kind or target_kind(events)
    ranked = _targets_ranked(events, kind)
    return ranked[ranked["from_last"] == n].drop(columns="from_last").reset_index(drop=True)


def truncate(events: pd.DataFrame, n: int, kind: str | None = None) -> pd.DataFrame:
    """Events before each shopper's n-th last target (n=0: all events)."""
    if n <= 0:
        return events
    kind = kind or target_kind(events)
    ranked = _targets_ranked(events, kind)
    eligible = ranked[ranked["from_last"] <= n]
    cutoff = eligible.groupby("user_id")["timestamp"].min()
    limit = events["user_id"].map(cutoff).fillna(np.inf).to_numpy()
    return events[events["timestamp"].to_numpy() < limit].reset_index(drop=True)
