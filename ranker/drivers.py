"""Driver recovery on the demo shop: is the top attributed group of a held-out purchase its true driver?

The demo generator records why each simulated purchase happened (`drivers.csv`: brand loyalty, category
interest, price, bought together…, named by feature group). Each shopper's last purchase is explained from the
window before it; the share of purchases whose largest attribution group is the recorded driver is the check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ranker.attribution import IntegratedGradients
from ranker.ranking import Ranker
from ranker.split import nth_last_targets, truncate
from ranker.stats.behaviour import BehaviourStats


@dataclass(frozen=True)
class DriverCheck:
    true: np.ndarray
    """The recorded driver of each held-out purchase (a feature group name)."""
    top: np.ndarray
    """The group with the largest attribution for it."""

    @property
    def recovery(self) -> float:
        return float((self.true == self.top).mean()) if len(self.true) else 0.0

    def by_driver(self) -> dict[str, float]:
        return {d: float((self.top[self.true == d] == d).mean()) for d in sorted(set(self.true))}

    def confusion(self) -> pd.DataFrame:
        return pd.crosstab(pd.Series(self.true, name="driver"), pd.Series(self.top, name="top group"))


def check_drivers(ranker: Ranker, events: pd.DataFrame, drivers: pd.DataFrame, kind: str,
                  ig: IntegratedGradients, fold: int = 1, users: set[str] | None = None) -> DriverCheck:
    """`events`: the shop's full event log (the window is cut here); `drivers`: user_id, item_id, driver.
    `fold` 2 with `users` the validation shoppers (`ranker.training.train_config.validation_targets`) checks their
    validation purchase instead of the test purchase: what choices between models are made on, so the test figure stays
    unseen."""
    window = BehaviourStats(truncate(events, fold, kind), ranker.catalog, kind)
    targets = nth_last_targets(events, fold, kind)
    if users is not None:
        targets = targets[targets["user_id"].isin(users)]
    last = targets.merge(
        drivers[["user_id", "item_id", "driver"]].drop_duplicates(["user_id", "item_id"]), on=["user_id", "item_id"],
        how="inner")
    x = ranker.spec.compute(window, window.rows_of(last["user_id"]), ranker.catalog.index_of(last["item_id"]))
    res = ig.explain(x)
    names = list(res.groups)
    top = np.array(names)[np.argmax(np.stack([res.groups[g] for g in names], axis=1), axis=1)]
    return DriverCheck(last["driver"].to_numpy(dtype=str), top)
