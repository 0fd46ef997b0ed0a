"""Shoppers who answer back: reactions to a reason, and what they change in that shopper's next list.

A reaction is an event like any other (stored durably, replayed after a restart), named `critique:<reaction>` and
undone by `uncritique:<reaction>` on the same item; `wrong_reason` carries the reason's kind
(`critique:wrong_reason:brand`). Replayed in time order they leave one `Critiques` per shopper, which the ranker
applies to that shopper's feature rows (`apply`): the group a reaction is about is set to the model's baseline (the
training mean, the point integrated gradients measure credit from) for the items it concerns, so exactly the credit
that group gave them is taken away — "not interested in this brand" removes brand affinity from every item of the
brand, "this category" category interest from the category's items, "this reason is wrong" that reason's groups from
that item. The reacted-to item itself leaves the shopper's lists while the reaction stands (the reaction rejects
it), and "I already have one" holds its category back for `HAVE_WINDOW_S`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ranker.features import GROUP_KIND, FeatureSpec
from ranker.stats.catalog import CatalogIndex

REACTIONS = ("not_interested_brand", "not_interested_category", "already_have", "wrong_reason")
PREFIX, UNDO = "critique:", "uncritique:"
HAVE_WINDOW_S = 30 * 86_400.0
GROUP_OF = {"not_interested_brand": "brand_affinity", "not_interested_category": "category_interest"}


def event_name(reaction: str, reason: str = "", undo: bool = False) -> str:
    """The stored event for a reaction (and its undo): `critique:wrong_reason:brand`."""
    if reaction not in REACTIONS:
        raise ValueError(f"unknown reaction {reaction!r}; expected one of {REACTIONS}")
    return f"{UNDO if undo else PREFIX}{reaction}" + (f":{reason}" if reaction == "wrong_reason" else "")


def is_reaction(event: str) -> bool:
    return event.startswith((PREFIX, UNDO))


@dataclass(frozen=True)
class Told:
    """One standing reaction, as the shopper said it: what it was about and when."""

    reaction: str
    item_id: str
    reason: str
    at: float


@dataclass
class Critiques:
    """A shopper's standing reactions (undone ones gone), read against the catalog."""

    told: list[Told] = field(default_factory=list)

    def apply(self, x: np.ndarray, items: np.ndarray, catalog: CatalogIndex, spec: FeatureSpec,
              baseline: np.ndarray, now: float) -> tuple[np.ndarray, np.ndarray]:
        """The shopper's feature rows for `items` with each reaction's group set to the baseline where it applies,
        and which items may still be listed (the rejected items and the categories they already have are not)."""
        x = x.copy()
        listed = np.ones(len(items), bool)
        columns = spec.group_index()
        ids = catalog.item_ids[items]
        for t in self.told:
            if t.reaction != "wrong_reason":
                listed &= ids != t.item_id
            hit = reach(t, catalog, items)
            if hit is None:
                continue
            if t.reaction == "already_have":
                if now - t.at <= HAVE_WINDOW_S:
                    listed &= ~hit
                continue
            groups = [GROUP_OF[t.reaction]] if t.reaction in GROUP_OF else \
                [g for g, kind in GROUP_KIND.items() if kind == t.reason]
            cols = np.concatenate([np.zeros(0, np.int64), *(columns.get(g, np.zeros(0, np.int64)) for g in groups)])
            if len(cols) and hit.any():
                x[np.ix_(hit, cols)] = baseline[cols]
        return x, listed


def reach(t: Told, catalog: CatalogIndex, items: np.ndarray) -> np.ndarray | None:
    """Which of `items` a reaction is about: the reacted-to item's brand or category (`already_have` too), or the
    item itself (`wrong_reason`); None when the item is unknown or has no brand or category to be about."""
    at = catalog.index_of([t.item_id])[0]
    if at < 0:
        return None
    if t.reaction == "not_interested_brand":
        return catalog.brand[items] == catalog.brand[at] if catalog.brand[at] >= 0 else None
    if t.reaction in ("not_interested_category", "already_have"):
        return catalog.leaf[items] == catalog.leaf[at] if catalog.leaf[at] >= 0 else None
    return catalog.item_ids[items] == t.item_id if t.reaction == "wrong_reason" else None


def said_wrong(critiques: Critiques | None, item_id: str) -> set[str]:
    """The kinds of reason the shopper said are wrong about this item: not said again while the reaction stands
    (an offer or a new arrival has no attribution to neutralise, so it must be left out of the facts)."""
    return {t.reason for t in (critiques.told if critiques is not None else ())
            if t.reaction == "wrong_reason" and t.item_id == item_id}


def told_about(critiques: Critiques | None, catalog: CatalogIndex, i: int) -> list[dict]:
    """What the shopper told us that changed item i's place, as `feedback` evidence (`reaction`, and the brand,
    the category path or the reason kind it was about)."""
    out: list[dict] = []
    for t in critiques.told if critiques is not None else ():
        hit = reach(t, catalog, np.array([i]))
        if t.reaction == "already_have" or hit is None or not hit[0]:
            continue
        if t.reaction == "not_interested_brand":
            out.append({"reaction": t.reaction, "brand": str(catalog.brands[catalog.brand[i]])})
        elif t.reaction == "not_interested_category":
            out.append({"reaction": t.reaction, "category_path": str(catalog.leaves[catalog.leaf[i]])})
        else:
            out.append({"reaction": t.reaction, "reason": t.reason})
    return out


def critiques_of(rows: Iterable[tuple]) -> dict[str, Critiques]:
    """Each shopper's standing reactions from their reaction events, `(user_id, item_id, event, value, timestamp)`
    rows, replayed in time order: an undo removes the reaction it names on that item."""
    standing: dict[str, dict[tuple[str, str, str], Told]] = {}
    for user, item, event, _, at in sorted(rows, key=lambda r: float(r[4])):
        if not is_reaction(str(event)):
            continue
        undo = str(event).startswith(UNDO)
        reaction, _, reason = str(event).removeprefix(UNDO if undo else PREFIX).partition(":")
        mine = standing.setdefault(str(user), {})
        key = (reaction, str(item), reason)
        if undo:
            mine.pop(key, None)
        elif reaction in REACTIONS:
            mine[key] = Told(reaction, str(item), reason, float(at))
    return {u: Critiques(list(told.values())) for u, told in standing.items()}
