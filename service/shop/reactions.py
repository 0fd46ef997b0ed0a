"""Shoppers' reactions to reasons, kept on the served ranker: read from the store when a model starts serving (every
shopper's, so a restart or a snapshot loses none) and again for the shoppers whose events arrive."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ranker.ranking import Ranker
    from ranker.stats.live import LiveRows
    from service.shop.store import EventStore


def react(ranker: Ranker, store: EventStore, users: set[str] | None) -> None:
    """Replace the standing reactions of `users` (of every shopper when None) with what the store holds."""
    from ranker.critiques import Critiques, critiques_of

    found = critiques_of(store.reactions(None if users is None else sorted(users)))
    if users is None:
        ranker.critiques = found
    else:
        ranker.critiques = {**ranker.critiques, **{u: found.get(u, Critiques()) for u in users}}


def refreshed(ranker: Ranker, rows: LiveRows, store: EventStore, users: set[str]) -> None:
    """Serve fresh rows and standing reactions for `users` (one swap of the statistics)."""
    ranker.use_stats(rows.refresh(ranker.stats, users))
    react(ranker, store, users)
