"""Whether a Chinese noun *means* what the item is, for items whose own text is not Chinese.

A sentence may call a Quartet whiteboard "这款白板" although neither its English name, its category nor any
glossary says 白板; it may not call a Canon ink pack "这款打印机" although its category ("Inkjet Printer Ink")
holds the word printer. No word list carries to a catalog nobody has seen, so the noun is judged by meaning
with the multilingual encoder, against the structure of the item's English text: English noun phrases end on
their head ("…Printer *Ink*", "…Drill Bit *Set*"), and the words before it say what the thing is *for* or
*with*; Chinese compounds end on theirs ("白板*笔*" is a pen). The noun is accepted when it is close to a head
phrase (the enriched English kind, or an ending of the name's or the category's phrase), not clearly nearer a
modifier alone, and its own last word passes too: 墨水 is nearer "ink" than "printer"; 打印机 is nearer
"printer" than "printer ink"; 白板笔 ends on 笔, which is no whiteboard.

Before the encoder, a bilingual dictionary may say yes (`narrator.verification.dictionary`: a sense of the noun
ends on a head phrase's head and says only the item's words), never no.

The thresholds are chosen on the demo shop's nouns (each leaf's own noun against its companion's and its
siblings': the most right nouns accepted while refusing 95% of wrong ones, `bench/noun_meaning.py`) and
measured on hand-labelled Amazon office and industrial items: 73% of right nouns accepted (none was before),
85% of wrong ones refused (with the shop's kinds). What it lets through is near the item (白板笔 and 板擦 for
a whiteboard, 笔芯 for gel pens: one-word compounds jieba does not split); the glossary and the enriched kinds
stay exact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from threading import Lock

import numpy as np
from cachetools import LRUCache

from narrator.verification.dictionary import cedict

Encoder = Callable[[list[str]], np.ndarray]
MIN_HEAD = 0.6
MARGIN = -0.05
MIN_TAIL = 0.4
_WORD = re.compile(r"[A-Za-z][A-Za-z\-']*")


def phrase_parts(name: str, category_leaf: str, kind_en: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(head phrases, modifier words) of an item's English text: each phrase's last one to three plain words
    and the whole phrase (no digits or codes), and the kind; every other plain word alone."""
    heads: dict[str, None] = {kind_en.lower(): None} if kind_en else {}
    modifiers: dict[str, None] = {}
    for text in (name, category_leaf):
        words = [w.lower() for w in _WORD.findall(text) if len(w) > 1]
        if not words:
            continue
        heads.update(dict.fromkeys(" ".join(words[-n:]) for n in (1, 2, 3, len(words)) if len(words) >= n))
        modifiers.update(dict.fromkeys(words[:-1]))
    last = {h.split()[-1] for h in heads}
    return tuple(heads), tuple(m for m in modifiers if m not in last)


def shop_kinds(categories: Iterable[str], kinds_en: Iterable[str] = ()) -> tuple[str, ...]:
    """What a shop's items are, as `NounJudge.others`: its category leaves and English kinds, as head phrases."""
    phrases = (" ".join(w.lower() for w in _WORD.findall(text) if len(w) > 1)
               for text in (*(c.split(">")[-1] for c in categories), *kinds_en) if isinstance(text, str))
    return tuple(sorted({p for p in phrases if p}))


@dataclass
class NounJudge:
    """Judges nouns by meaning; vectors of nouns and phrases are cached (a shop repeats them)."""

    encode: Encoder
    min_head: float = MIN_HEAD
    margin: float = MARGIN
    others: tuple[str, ...] = ()
    """What the shop's other items are (category leaves, English kinds): a noun nearer one of them than the
    item's own head means another item's kind ("充电器" for batteries in a shop with a chargers category)."""
    dictionary: bool = True
    """Accept a noun a bilingual dictionary says translates one of the item's head phrases (in the item's own
    words, `narrator.verification.dictionary`) before asking the encoder."""
    _vectors: LRUCache = field(default_factory=lambda: LRUCache(65_536), repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)
    _others: tuple[tuple[str, ...], np.ndarray] | None = field(default=None, repr=False)

    def _other_vectors(self) -> tuple[tuple[str, ...], np.ndarray]:
        """The shop's kinds as one matrix, encoded once (a shop has thousands; a sentence asks for all of them)."""
        if self._others is None or self._others[0] != self.others:
            self._others = (self.others, self._vector(self.others) if self.others else np.zeros((0, 0), np.float32))
        return self._others

    def _vector(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            found = self.encode(missing)
            found = found / np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-9)
            with self._lock:
                self._vectors.update(zip(missing, found, strict=True))
        with self._lock:
            return np.stack([self._vectors[t] for t in texts])

    def scores(self, noun: str, heads: Sequence[str], modifiers: Sequence[str]) -> tuple[float, float]:
        """(closest head phrase, closest modifier; -1 without any) by cosine similarity."""
        if not heads:
            return -1.0, -1.0
        vectors = self._vector([noun, *heads, *modifiers])
        sims = vectors[1:] @ vectors[0]
        return float(sims[:len(heads)].max()), float(sims[len(heads):].max()) if modifiers else -1.0

    def means(self, noun: str, heads: Sequence[str], modifiers: Sequence[str]) -> bool:
        """Close to a head phrase, not nearer a modifier; and a compound's own head, its last word, too:
        "白板笔" is a *pen* for a whiteboard and "胶带座" a *holder* for tape, however close to the board and
        the tape the whole reads."""
        if self.dictionary and _translates(noun, heads, modifiers):
            return True
        head, modifier = self.scores(noun, heads, modifiers)
        if head < self.min_head or head < modifier + self.margin:
            return False
        names, others = self._other_vectors()
        foreign = np.array([o not in heads for o in names], bool)
        if foreign.any() and float((others[foreign] @ self._vector([noun])[0]).max()) > head:
            return False
        words = _words(noun)
        if len(words) < 2:
            return True
        head, modifier = self.scores(words[-1], heads, modifiers)
        return head >= MIN_TAIL and head >= modifier + self.margin


def _translates(noun: str, heads: Sequence[str], modifiers: Sequence[str]) -> bool:
    context = [w for text in (*heads, *modifiers) for w in text.split()]
    return any(cedict().means(noun, head, context) for head in heads)


def _tagged(text: str) -> list[tuple[str, str]]:
    import rjieba

    return [(word, tag) for word, tag in rjieba.tag(text)]


def _words(noun: str) -> list[str]:
    return [w for w, _ in _tagged(noun)]


def leading_noun(run: str, attributes: Sequence[str] = ()) -> str:
    """The noun phrase a Chinese run after "这款" opens with: its leading nouns and attributives, up to the
    first verb or function word or an attribute noun ("白板来自…" → 白板, "磁性白板价格" → 磁性白板)."""
    kept = []
    for word, tag in _tagged(run):
        if word in attributes or not (tag[0] in "nab" or tag == "vn"):
            break
        kept.append(word)
    return "".join(kept)
