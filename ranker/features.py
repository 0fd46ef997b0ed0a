"""The FeatureSpec: every ranker input declared once, with its group and what it means.

Groups are the unit of explanation: each maps to one kind of reason a shopper understands, so a
feature belongs to exactly one group and the group name is what attributions are summed into.
Computation is vectorised over (shopper, item) pairs: sparse lookups and row-wise dot products.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ranker import feature_values as values
from ranker.sequence import ITEM_BEHAVIOUR_SLOTS, SEQUENCE_GROUP, SLOT_FEATURES, sequence_features, slot_names
from ranker.stats.behaviour import BehaviourStats
from ranker.stats.sparse_lines import lookup

GROUPS = ("brand_affinity", "category_interest", "price_fit", "bought_together", "text_similarity",
          "popularity", "rating", "shopper_activity", "query_relevance", SEQUENCE_GROUP, "item_text_embedding")
EMBEDDING_GROUP = "item_text_embedding"
# Which group becomes which kind of reason (`narrator.facts.FACT_KINDS`). Two groups may share a kind:
# the text embedding of the item and its similarity to the shopper's items are both "it resembles
# what you looked at", and their shares add up.
GROUP_KIND: dict[str, str] = {
    "brand_affinity": "brand",
    "category_interest": "category",
    "price_fit": "price",
    "bought_together": "bought_together",
    "text_similarity": "similar_text",
    "item_text_embedding": "similar_text",
    "popularity": "popular",
    "rating": "rating",
    "shopper_activity": "activity",
    "query_relevance": "query_match",
    SEQUENCE_GROUP: "recent",
}
QUERY_GROUP = "query_relevance"


@dataclass(frozen=True)
class Feature:
    name: str
    group: str
    description: str


SCALAR_FEATURES: list[tuple[Feature, Callable]] = [
    (Feature("brand_buy_share", "brand_affinity", "share of the shopper's purchases from this brand"),
     values.coded("brand_buy", "brand")),
    (Feature("brand_view_share", "brand_affinity", "share of the shopper's views/carts from this brand"),
     values.coded("brand_view", "brand")),
    (Feature("brand_last_match", "brand_affinity", "the last purchase was the same brand"), values.last_match("brand")),
    (Feature("leaf_buy_share", "category_interest", "share of purchases in this exact category"),
     values.coded("leaf_buy", "leaf")),
    (Feature("leaf_view_share", "category_interest", "share of views/carts in this exact category"),
     values.coded("leaf_view", "leaf")),
    (Feature("parent_buy_share", "category_interest", "share of purchases in the parent category"),
     values.coded("parent_buy", "parent")),
    (Feature("leaf_last_match", "category_interest", "the last purchase was in the same category"),
     values.last_match("leaf")),
    (Feature("log_price", "price_fit", "log(1 + price); 0 when the catalog has no prices"),
     lambda s, u, i: np.nan_to_num(s.catalog.log_price[i], nan=0.0)),
    (Feature("price_gap", "price_fit", "distance from the shopper's median price, in their range"), values.price_gap),
    (Feature("price_in_range", "price_fit", "price within the shopper's min–max purchase price"),
     values.price_in_range),
    (Feature("cooc_sum", "bought_together", "sum of co-purchase beyond popularity (positive PMI) with all purchased "
             "items"),
     values.pair("cooc_all")),
    (Feature("cooc_recent", "bought_together", "positive PMI of co-purchase with the last 5 purchases, decayed"),
     values.pair("cooc_recent_lift")),
    (Feature("cooc_last", "bought_together", "positive PMI of co-purchase with the last purchase"),
     values.from_last("pmi")),
    (Feature("trans_recent", "bought_together", "how much more often than its popularity predicts shoppers bought it "
             "right after the last 5 (positive lift, decayed)"),
     values.pair("trans_recent_lift")),
    (Feature("trans_last", "bought_together", "bought right after the last purchase (positive lift)"),
     values.from_last("trans_lift")),
    (Feature("ease", "bought_together", "EASE linear item-item score of the shopper's purchases"), values.ease),
    (Feature("similar_shoppers", "bought_together", "bought by shoppers whose purchases overlap"),
     values.pair("user_neighbours")),
    (Feature("leaf_window_recent", "bought_together",
             "its category is often bought within 3 purchases of the recent purchases' categories"),
     values.coded("leaf_window_recent", "leaf")),
    (Feature("window_last", "bought_together", "bought within 3 purchases of the last one (positive lift)"),
     values.from_last("window_lift")),
    (Feature("cooc_recent_rel", "bought_together", "cooc_recent relative to the shopper's best item"),
     values.relative(values.pair("cooc_recent_lift"), "cooc_recent_lift_max")),
    (Feature("trans_recent_rel", "bought_together", "trans_recent relative to the shopper's best item"),
     values.relative(values.pair("trans_recent_lift"), "trans_recent_lift_max")),
    (Feature("window_recent", "bought_together", "bought within 3 purchases of the last 5, decayed (positive lift)"),
     values.pair("window_recent_lift")),
    (Feature("window_recent_rel", "bought_together", "window_recent relative to the shopper's best item"),
     values.relative(values.pair("window_recent_lift"), "window_recent_lift_max")),
    (Feature("text_mean", "text_similarity", "text similarity to everything the shopper engaged with"),
     values.dot("text_mean")),
    (Feature("text_recent", "text_similarity", "text similarity to the last 5 purchases"), values.dot("text_recent")),
    (Feature("text_recent_rel", "text_similarity", "text_recent relative to the shopper's closest item"),
     values.relative(values.dot("text_recent"), "text_recent_max")),
    (Feature("text_last", "text_similarity", "text similarity to the last purchase"), values.text_last),
    (Feature("text_max", "text_similarity", "text similarity to the closest item the shopper bought or viewed"),
     values.text_max),
    (Feature("words_last", "text_similarity", "title word overlap (TF-IDF cosine) with the last purchase"),
     values.words_last),
    (Feature("words_recent", "text_similarity", "title word overlap with the last 5 purchases, decayed"),
     values.words_recent),
    (Feature("pop_buys", "popularity", "log(1 + purchases of the item)"), values.item("item_buys", log=True)),
    (Feature("pop_views", "popularity", "log(1 + views/carts of the item)"), values.item("item_views", log=True)),
    (Feature("rating_mean", "rating", "item's mean rating, shrunk to the global mean"), values.item("rating_mean")),
    (Feature("rating_count", "rating", "log(1 + number of ratings)"), values.item("rating_count", log=True)),
    (Feature("user_buys", "shopper_activity", "log(1 + the shopper's purchases)"), values.user("user_buys")),
    (Feature("user_views", "shopper_activity", "log(1 + the shopper's views/carts)"), values.user("user_views")),
    (Feature("viewed_item", "shopper_activity", "log(1 + times the shopper viewed/carted this item)"),
     lambda s, u, i: np.log1p(lookup(s.view, u, i))),
    (Feature("carted_item", "shopper_activity", "times the shopper put this item in the cart"), values.pair("cart")),
]


@dataclass(frozen=True)
class QueryMatch:
    """How well each (shopper, item) pair's item matches a search query: the multilingual text similarity of
    query and item, and the best similarity among the items retrieved for the query (so a model sees how
    close an item is to the best match, whatever the query's language makes of absolute cosines)."""

    similarity: np.ndarray
    best: np.ndarray | float


QUERY_FEATURES: list[tuple[Feature, Callable[[QueryMatch], np.ndarray]]] = [
    (Feature("query_sim", QUERY_GROUP, "multilingual text similarity of the item to the search query"),
     lambda q: q.similarity),
    (Feature("query_sim_rel", QUERY_GROUP, "query_sim relative to the best match among the retrieved items"),
     lambda q: np.divide(q.similarity, q.best, out=np.zeros_like(q.similarity), where=np.asarray(q.best) > 0)),
]
"""Query features are 0 outside a search (and in the attribution baseline), so a list that answers no query
credits nothing to the query."""


# What an item nobody has engaged with yet shows (a new arrival): its behaviour features at their empty
# values. Brand, category, price and text it has from the start. Training shows the model groups of such
# items (`TrainConfig.cold_groups`), so it learns to rank new arrivals by what they have.
ITEM_BEHAVIOUR = ("cooc_sum", "cooc_recent", "cooc_last", "trans_recent", "trans_last", "ease", "similar_shoppers",
                  "window_last", "cooc_recent_rel", "trans_recent_rel", "window_recent", "window_recent_rel",
                  "pop_buys", "pop_views", "rating_mean", "rating_count", "viewed_item", "carted_item",
                  *(name for name, _ in slot_names() if name.endswith(ITEM_BEHAVIOUR_SLOTS)))


def as_new_items(x: np.ndarray, names: list[str], stats: BehaviourStats) -> np.ndarray:
    """Feature rows as if their items had just arrived (no purchases, views, ratings or co-purchases)."""
    out = x.copy()
    for k, name in enumerate(names):
        if name in ITEM_BEHAVIOUR:
            out[:, k] = stats.rating_prior if name == "rating_mean" else 0.0
    return out


FEATURE_SET = 3
"""Bumped whenever a feature's computation changes under its name, so a model trained on an earlier set is refused
with a clear error instead of scored on inputs it never saw. 2: `cooc_sum` positive PMI instead of cosine. 3: the
recent and last-purchase co-purchase, transition and window features as positive lift (popularity removed), and
the recent-sequence group."""


SPEC_FILE = "spec.json"


class FeatureSetError(ValueError):
    """A saved spec was computed by another version of the features."""


@dataclass(frozen=True)
class FeatureSpec:
    """Ordered feature names and groups; the ranker's input vector follows this order exactly."""

    features: tuple[Feature, ...]
    embedding_dim: int
    sequence_len: int = 0
    """Slots of the order-aware group (`ranker.sequence`), laid out just before the text embedding; 0 in a model
    trained before the group existed."""

    @classmethod
    def default(cls, embedding_dim: int, search: bool = True, sequence_len: int = 0) -> FeatureSpec:
        emb = tuple(Feature(f"text_emb_{k}", EMBEDDING_GROUP, f"item text embedding dimension {k}")
                    for k in range(embedding_dim))
        query = tuple(f for f, _ in QUERY_FEATURES) if search else ()
        sequence = tuple(Feature(name, SEQUENCE_GROUP, d) for name, d in slot_names(sequence_len))
        return cls(tuple(f for f, _ in SCALAR_FEATURES) + query + sequence + emb, embedding_dim, sequence_len)

    @property
    def query_columns(self) -> np.ndarray:
        """Columns of the query relevance group (none in a model trained before search existed)."""
        return np.flatnonzero(np.array(self.groups) == QUERY_GROUP)

    @property
    def searchable(self) -> bool:
        return len(self.query_columns) > 0

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def groups(self) -> list[str]:
        return [f.group for f in self.features]

    @property
    def n_scalar(self) -> int:
        """Columns before the text embedding (the sequence slots are the last of them)."""
        return len(self.features) - self.embedding_dim

    @property
    def sequence_start(self) -> int:
        return self.n_scalar - self.sequence_len * len(SLOT_FEATURES)

    def group_index(self) -> dict[str, np.ndarray]:
        groups = np.array(self.groups)
        return {g: np.flatnonzero(groups == g) for g in dict.fromkeys(self.groups)}

    def to_dict(self) -> dict:
        return {"embedding_dim": self.embedding_dim, "sequence_len": self.sequence_len, "feature_set": FEATURE_SET,
                "features": [asdict(f) for f in self.features]}

    @classmethod
    def read(cls, version: Path) -> FeatureSpec:
        """The spec saved with a model version (`spec.json`); FeatureSetError names the version when this whyrec
        computes other features than it was trained on."""
        try:
            return cls.from_dict(json.loads((version / SPEC_FILE).read_text()))
        except FeatureSetError as e:
            raise FeatureSetError(f"{version}: {e}") from None

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSpec:
        found = int(data.get("feature_set", 1))
        if found != FEATURE_SET:
            raise FeatureSetError(f"the model was trained on feature set {found} and this whyrec computes set "
                                  f"{FEATURE_SET} (features changed meaning since); retrain it with `whyrec train`")
        return cls(tuple(Feature(**f) for f in data["features"]), int(data["embedding_dim"]),
                   int(data.get("sequence_len", 0)))

    def compute(self, stats: BehaviourStats, user_rows: np.ndarray, items: np.ndarray,
                query: QueryMatch | None = None) -> np.ndarray:
        """The full input matrix (pairs × features) for shopper rows and item indices; the query features
        are 0 without a `query`."""
        user_rows, items = np.asarray(user_rows, np.int64), np.asarray(items, np.int64)
        by_name = {f.name: fn for f, fn in SCALAR_FEATURES}
        by_query = {f.name: fn for f, fn in QUERY_FEATURES}
        out = np.empty((len(items), len(self.features)), np.float32)
        for k, f in enumerate(self.features[: self.sequence_start]):
            if f.name in by_query:
                out[:, k] = 0.0 if query is None else by_query[f.name](query)
            else:
                out[:, k] = by_name[f.name](stats, user_rows, items)
        if self.sequence_len:
            out[:, self.sequence_start:self.n_scalar] = sequence_features(stats, user_rows, items, self.sequence_len)
        out[:, self.n_scalar:] = stats.catalog.emb[items]
        return out
