"""What if the shopper had not done it? Counterfactual checks of the actions a reason names.

A reason such as "often bought together with the epoxy you bought" claims that this purchase is *why* the item is
here. Attributions do not say so: they credit feature groups, and a group sums over the whole history. Following
CountER (probability of necessity) and PRINCE (minimal sets of the user's own actions), this module takes actions
away and re-scores: the shopper's rows are rebuilt from their events without them (`ranker.stats.live.detached`,
the same code the live shop uses) and the item is scored again beside the shopper's leading items, many
"what if" shoppers in one batch, so checking a top 10 costs a few forward passes and no retraining.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ranker.features import QueryMatch
from ranker.ranking import Ranker
from ranker.search import Query
from ranker.stats.behaviour import ENGAGEMENT_KINDS
from ranker.stats.live import LiveRows, detached

BOUGHT, VIEWED = "bought", "viewed"


@dataclass(frozen=True)
class Action:
    """One thing the shopper did that a reason may name: `did` is `bought` (their purchases of the item) or
    `viewed` (their views and carts of it)."""

    item_id: str
    did: str


@dataclass(frozen=True)
class Outcome:
    """An item's standing once `removed` are taken away: its score, how far it fell, its rank among the
    shopper's leading items re-scored the same way, and the item that took its place when it left the top k."""

    removed: tuple[Action, ...]
    score: float
    drop: float
    rank: int
    left_top: bool
    replaced_by: str = ""


@dataclass(frozen=True)
class MinimalSet:
    """PRINCE's answer to "because of what?": the fewest of the shopper's actions (greedy, most credited first)
    whose removal takes the item out of the top k, and the item that would take its place; `found` is false when
    no set within the cap did (then `outcome` is the largest set tried)."""

    item_id: str
    found: bool
    outcome: Outcome
    tried: int
    seconds: float


class Counterfactuals:
    """Re-scores a shopper's items with some of their actions taken away; `k` is the list length that "leaves
    the top k" refers to, and `pool` how many of the shopper's leading items (× k) compete for those places."""

    def __init__(self, ranker: Ranker, k: int = 10, pool: int = 2):
        self.ranker, self.k, self.pool = ranker, k, pool
        self._window: tuple[pd.DataFrame, LiveRows] | None = None

    def events_of(self, user_id: str) -> pd.DataFrame:
        """The shopper's complete events: the live shop's when one serves this ranker, else the training window's."""
        source = self.ranker.shopper_events
        if source is None:
            window = self.ranker.window_events
            if self._window is None or self._window[0] is not window:
                self._window = (window, LiveRows(self.ranker.stats, window))
            source = self._window[1]
        return source.events_of([user_id])

    def actions(self, user_id: str) -> list[Action]:
        """Every distinct thing the shopper did (purchases first, latest first), as removable actions."""
        events = self.events_of(user_id).iloc[::-1]
        out: dict[Action, None] = {}
        for did, kinds in ((BOUGHT, (self.ranker.stats.target_kind,)), (VIEWED, ENGAGEMENT_KINDS)):
            for item in events.loc[events["event"].isin(kinds), "item_id"].astype(str):
                out[Action(item, did)] = None
        return list(out)

    def leading(self, user_id: str, item_ids: Sequence[str]) -> list[str]:
        """The items that compete for the top k: the shopper's leading recommendations and the items asked about."""
        top = [r.item_id for r in self.ranker.recommend(user_id, self.pool * self.k)]
        return list(dict.fromkeys([*top, *item_ids]))

    def outcomes(self, user_id: str, targets: Sequence[str], removals: Sequence[tuple[Action, ...]],
                 leading: Sequence[str] | None = None, query: Query | None = None) -> list[Outcome]:
        """For each k, `targets[k]` re-scored with `removals[k]` taken away: one batch of "what if" shoppers (one per
        distinct removal: reasons of several items often name the same purchase), each scored on the leading items
        (actions on an item take it out of the competition: a purchase undone does not make the item itself a
        recommendation); search results are scored as answers to `query`."""
        if not removals:
            return []
        r = self.ranker
        leading = list(leading) if leading is not None else self.leading(user_id, targets)
        events = self.events_of(user_id)
        ids, kinds = events["item_id"].astype(str).to_numpy(), events["event"].to_numpy()
        whatif = list(dict.fromkeys(removals))
        keep = [np.ones(len(events), bool), *(self._keep(ids, kinds, removed) for removed in whatif)]
        kept = [np.flatnonzero(k) for k in keep]
        user, at = np.repeat(np.arange(len(keep)), [len(a) for a in kept]), np.concatenate(kept)
        own = r.stats.rows_of([user_id])[0]
        exclude = np.full(len(keep), -1 if own == r.stats.cold_row else own)
        stats = detached(r.stats, user, r.catalog.index_of(ids)[at], kinds[at], exclude)
        items = r.item_indices(leading)
        rows, every = np.repeat(np.arange(len(keep)), len(items)), np.tile(items, len(keep))
        match = r.query_match(query, items)
        tiled = QueryMatch(np.tile(match.similarity, len(keep)), match.best) if match is not None else None
        x = r.critiqued(user_id, every, r.spec.compute(stats, rows, every, tiled))[0]
        scores = r.scorer(x).reshape(len(keep), len(items))
        row_of = {removed: n + 1 for n, removed in enumerate(whatif)}
        return [self._outcome(leading, scores[0], scores[row_of[removed]], target, removed)
                for target, removed in zip(targets, removals, strict=True)]

    def _keep(self, items: np.ndarray, kinds: np.ndarray, removed: tuple[Action, ...]) -> np.ndarray:
        """Which of the shopper's events remain once `removed` are taken away."""
        drop = np.zeros(len(items), bool)
        for action in removed:
            did = (self.ranker.stats.target_kind,) if action.did == BOUGHT else ENGAGEMENT_KINDS
            drop |= (items == action.item_id) & np.isin(kinds, did)
        return ~drop

    def _outcome(self, leading: list[str], before: np.ndarray, after: np.ndarray, target: str,
                 removed: tuple[Action, ...]) -> Outcome:
        t = leading.index(target)
        touched = {a.item_id for a in removed}
        competing = [n for n, i in enumerate(leading) if i not in touched or n == t]
        was = sorted(competing, key=lambda n: -before[n])[: self.k]
        now = sorted(competing, key=lambda n: -after[n])
        rank = now.index(t) + 1
        left = t in was and rank > self.k
        replaced = next((leading[n] for n in now[: self.k] if n not in was), "") if left else ""
        return Outcome(removed, float(after[t]), float(before[t] - after[t]), rank, left, replaced)

    def minimal_set(self, user_id: str, item_id: str, cap: int = 5, budget_s: float = 2.0) -> MinimalSet:
        """The smallest prefix of the shopper's actions, most effective first, whose removal takes `item_id` out of
        the top k (at most `cap` actions, about `budget_s` seconds): each action is credited by how far the item
        falls without it alone — one batch — and the prefixes are then tried in one more."""
        start = time.perf_counter()
        leading = self.leading(user_id, [item_id])
        actions = [a for a in self.actions(user_id) if a.item_id != item_id][:64]
        alone = self.outcomes(user_id, [item_id] * len(actions), [(a,) for a in actions], leading)
        credit = {o.removed[0]: o.drop for o in alone}
        ordered = sorted(actions, key=lambda a: -credit.get(a, 0.0))[:cap]
        tried: list[Outcome] = []
        if ordered and time.perf_counter() - start < budget_s:
            prefixes = [tuple(ordered[: n + 1]) for n in range(len(ordered))]
            tried = self.outcomes(user_id, [item_id] * len(prefixes), prefixes, leading)
        found = next((o for o in tried if o.left_top), None)
        best = found or (tried[-1] if tried else Outcome((), 0.0, 0.0, 0, False))
        return MinimalSet(item_id, found is not None, best, len(actions), time.perf_counter() - start)
