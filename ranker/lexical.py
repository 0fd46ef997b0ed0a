"""The words of each item, so a search answers the query's product type first.

Meaning alone blurs neighbouring kinds: the multilingual encoder puts 半身裙 (skirt) next to 连衣裙 (dress),
and 番荔枝 (custard apple) next to 荔枝 (lychee). A query names a kind, and the kind is a word: segmented
(jieba's dictionary for Chinese, through `rjieba`, its Rust port, which loads in 0.15 s where jieba takes 1.4;
whole words for Latin scripts, plural "s" dropped), an item *matches* a query when its titles, kind, category
or brand hold every word of the query. `Ranker.search` puts matching items first, so
the encoder orders within them and fills in after; 番荔枝 is one word, never the word 荔枝.

The words of an item are kept per catalog position and rebuilt only for positions whose text changed (items
added or edited while serving).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_LATIN = re.compile(r"[a-z0-9][a-z0-9\-]*")
_HAN = re.compile(r"[\u4e00-\u9fff]")
MAX_QUERY_WORDS = 6


def words(text: str) -> set[str]:
    """The words of `text`: jieba's words of its Chinese (one character alone is no word), lowercased Latin
    words with a plural "s" dropped."""
    import rjieba

    out = set()
    for word in rjieba.cut(text.lower()):
        word = word.strip()
        if _HAN.search(word):
            if len(word) >= 2:
                out.add(word)
        else:
            out.update(_singular(w) for w in _LATIN.findall(word))
    return out


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


class WordIndex:
    """Which catalog positions hold each word, kept in step with the texts it is given."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.postings: dict[str, set[int]] = {}

    def update(self, texts: Sequence[str]) -> None:
        """Index `texts` (one per catalog position); only positions whose text changed are segmented again."""
        for pos, text in enumerate(texts):
            old = self.texts[pos] if pos < len(self.texts) else None
            if old == text:
                continue
            if old is not None:
                for word in words(old):
                    self.postings.get(word, set()).discard(pos)
            for word in words(text):
                self.postings.setdefault(word, set()).add(pos)
            if pos < len(self.texts):
                self.texts[pos] = text
            else:
                self.texts.append(text)

    def matching(self, query: str) -> np.ndarray:
        """Positions whose words include every word of the query (none for a query without words, or with
        more than `MAX_QUERY_WORDS`: a sentence is searched by meaning alone)."""
        wanted = words(query)
        if not wanted or len(wanted) > MAX_QUERY_WORDS:
            return np.empty(0, np.int64)
        sets = sorted((self.postings.get(w, set()) for w in wanted), key=len)
        found = set.intersection(*sets) if sets else set()
        return np.fromiter(sorted(found), np.int64, count=len(found))
