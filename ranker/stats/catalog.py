"""The catalog as integer codes: item ids, brands and category paths coded once, prices, text embeddings
and title words, so every behaviour statistic and feature is a lookup instead of a string comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ranker.data import CATEGORY_SEP


def coded(vocab: np.ndarray, values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of `values` in `vocab` (-1 for ""), appending values the vocabulary lacks."""
    index = {v: k for k, v in enumerate(vocab.tolist())}
    extra: list[str] = []
    codes = []
    for v in values:
        if not v:
            codes.append(-1)
            continue
        if v not in index:
            index[v] = len(vocab) + len(extra)
            extra.append(v)
        codes.append(index[v])
    return np.asarray(codes, np.int64), np.concatenate([vocab, np.asarray(extra, dtype=object)])


NO_VOCABULARY = np.empty(0, dtype=object)


def labels_coded(brand: pd.Series, category: pd.Series, vocabularies: tuple[np.ndarray, ...] = (NO_VOCABULARY,) * 3
                 ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(codes, vocabulary) of the brands, the category paths and their parent paths — the one encoding of a
    catalog's labels, used when it is built and when items are added while serving (`vocabularies`: the ones
    the codes so far index, extended by new values)."""
    category = category.astype(str)
    parent = category.map(lambda c: f" {CATEGORY_SEP} ".join(c.split(f" {CATEGORY_SEP} ")[:-1]) or c)
    return tuple(coded(vocab, values.astype(str).tolist())
                 for vocab, values in zip(vocabularies, (brand, category, parent), strict=True))


def look_up(ids, index: pd.Index, table: dict, missing: int) -> np.ndarray:
    """Positions of `ids` in `index` (`missing` for unknown ones). Serving asks for a handful of ids at a
    time, where a dict beats building a pandas index per call; whole event logs go through pandas."""
    if len(ids) > 256:
        found = index.get_indexer(pd.Index(np.asarray(ids, dtype=object)))
        return np.where(found < 0, missing, found).astype(np.int64)
    get = table.get
    return np.fromiter((get(i, missing) for i in ids), np.int64, count=len(ids))


@dataclass
class CatalogIndex:
    item_ids: np.ndarray
    brand: np.ndarray
    brands: np.ndarray
    leaf: np.ndarray
    leaves: np.ndarray
    parent: np.ndarray
    parents: np.ndarray
    log_price: np.ndarray
    emb: np.ndarray
    words: sp.csr_matrix
    vectorizer: object | None = None
    """The fitted TF-IDF of `words`: items added while serving are read with the same vocabulary."""

    @classmethod
    def build(cls, items: pd.DataFrame, emb: np.ndarray) -> CatalogIndex:
        (brand, brands), (leaf, leaves), (parent, parents) = labels_coded(items["brand"], items["category"])
        words, vectorizer = title_tfidf(items["title"].astype(str))
        return cls(items["item_id"].astype(str).to_numpy(), brand, brands, leaf, leaves, parent, parents,
                   log_prices(items), emb.astype(np.float32), words, vectorizer)

    @property
    def n(self) -> int:
        return len(self.item_ids)

    @cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.item_ids)

    @cached_property
    def _positions(self) -> dict:
        return {item: i for i, item in enumerate(self.item_ids.tolist())}

    def index_of(self, item_ids) -> np.ndarray:
        """Catalog positions of item ids (-1 for unknown ones)."""
        return look_up(item_ids, self._index, self._positions, -1)


def log_prices(items: pd.DataFrame) -> np.ndarray:
    """log(1 + price) per item, NaN where the catalog has no price."""
    price = pd.to_numeric(items.get("price", pd.Series(np.nan, index=items.index)), errors="coerce")
    return np.log1p(price.to_numpy(dtype=np.float64)).astype(np.float32)


def title_tfidf(titles: pd.Series) -> tuple[sp.csr_matrix, object | None]:
    """L2-normalised TF-IDF of title words: catches product lines and model numbers ("740000801",
    "80 Grit") that a sentence embedding smooths over. Returns the fitted vectorizer too (None when every
    title is empty)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(token_pattern=r"(?u)\b\w[\w.-]*\b", min_df=1, sublinear_tf=True, dtype=np.float32)
    try:
        return sp.csr_matrix(vectorizer.fit_transform(titles.str.lower())), vectorizer
    except ValueError:  # every title empty
        return sp.csr_matrix((len(titles), 1), dtype=np.float32), None
