"""Shoppers' reactions to reasons, kept on the served ranker: read from the store when a model starts serving (every
shopper's, so a restart or a snapshot loses none) and again, with their other events, for the shoppers whose events
arrive."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ranker.ranking import Ranker
    from ranker.stats.live import LiveRows
    from service.shop.store import EventStore


def react(ranker: Ranker, store: EventStore) -> None:
    """Every shopper's standing reactions, as the store holds them (when a model starts serving)."""
    from ranker.critiques import critiques_of

    ranker.critiques = critiques_of(store.reactions())


def refreshed(ranker: Ranker, rows: LiveRows, users: set[str]) -> None:
    """Serve fresh rows and standing reactions for `users` (one swap of the statistics), both from one read of their
    events: a reaction is an event like the others."""
    from ranker.critiques import Critiques, critiques_of, is_reaction

    events = rows.events_of(sorted(users))
    ranker.use_stats(rows.refresh(ranker.stats, users, events))
    told = events[events["event"].astype(str).map(is_reaction)]
    found = critiques_of(told.itertuples(index=False, name=None))
    ranker.critiques = {**ranker.critiques, **{u: found.get(u, Critiques()) for u in users}}
