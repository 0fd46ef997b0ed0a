"""The order-aware group's inputs: how the candidate relates to each of the shopper's latest purchases, in order.

Slot k (1 = the latest purchase) holds five numbers for the pair: whether the slot is filled, the text
similarity of the candidate to that purchase, their co-purchase beyond popularity (positive PMI), how much more
often than popularity predicts shoppers bought the candidate right after it (positive lift), and how strongly the
candidate's category follows its category.
The Keras ranker reads the slots with a position-aware attention (`ranker.model.RecentSequenceEncoder`), so
integrated gradients credit the group as one reason, and the slot with the largest attribution names the recent
purchase behind it — evidence a shopper can check ("you bought X last week").

Relations, not learned item ids: a catalog's new items and a catalog nobody trained on have them from the start.
"""

from __future__ import annotations

import numpy as np

from ranker.stats.behaviour import SEQUENCE_LEN, BehaviourStats
from ranker.stats.sparse_lines import lookup

SEQUENCE_GROUP = "recent_sequence"
SLOT_FEATURES: tuple[tuple[str, str], ...] = (
    ("here", "1 when the shopper has a purchase in this slot"),
    ("text", "text similarity of the candidate to that purchase"),
    ("pmi", "co-purchase of the two beyond popularity (positive PMI)"),
    ("trans", "how much more often than popularity predicts shoppers bought the candidate right after it (lift)"),
    ("cat", "how strongly the candidate's category follows that purchase's category"),
)
ITEM_BEHAVIOUR_SLOTS = ("pmi", "trans")
"""Slot features a new arrival does not have yet (nobody bought it after anything)."""
CHUNK = 65_536


def slot_name(slot: int, feature: str) -> str:
    return f"seq{slot + 1}_{feature}"


def slot_names(slots: int = SEQUENCE_LEN) -> list[tuple[str, str]]:
    """(name, description) of every column, slot by slot: the order `sequence_features` fills."""
    return [(slot_name(k, f), f"purchase {k + 1} back: {d}") for k in range(slots) for f, d in SLOT_FEATURES]


def sequence_features(stats: BehaviourStats, users: np.ndarray, items: np.ndarray,
                      slots: int = SEQUENCE_LEN) -> np.ndarray:
    """pairs × (slots · len(SLOT_FEATURES)); every column of an empty slot is 0 (the attribution baseline)."""
    out = np.zeros((len(items), slots * len(SLOT_FEATURES)), np.float32)
    for start in range(0, len(items), CHUNK):
        part = slice(start, start + CHUNK)
        out[part] = _chunk(stats, users[part], items[part], slots)
    return out


def _chunk(s: BehaviourStats, users: np.ndarray, items: np.ndarray, slots: int) -> np.ndarray:
    c = s.catalog
    out = np.zeros((len(items), slots, len(SLOT_FEATURES)), np.float32)
    recent = s.recent_items[users][:, :slots]
    leaf_i = c.leaf[items]
    for k in range(slots):
        r = recent[:, k]
        ok = np.flatnonzero(r >= 0)
        if not len(ok):
            continue
        rk, ik = r[ok], items[ok]
        out[ok, k, 0] = 1.0
        out[ok, k, 1] = np.einsum("pd,pd->p", c.emb[rk], c.emb[ik])
        out[ok, k, 2] = lookup(s.pmi, rk, ik)
        out[ok, k, 3] = lookup(s.trans_lift, rk, ik)
        leaf_r = c.leaf[rk]
        coded = np.flatnonzero((leaf_r >= 0) & (leaf_i[ok] >= 0))
        out[ok[coded], k, 4] = lookup(s.leaf_lift, leaf_r[coded], leaf_i[ok][coded])
    return out.reshape(len(items), -1)
