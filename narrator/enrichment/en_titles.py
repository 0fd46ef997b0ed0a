"""English titles whose lead names the item's category: the kind is read there, without the model.

"LDR 020 9645 Pressure Gauge, 3/4-Inch IPS" filed under "… > Pressure Gauges" says what it is twice, in the
catalog's words and the merchant's; the model need not read it. The kind is the longest ending of a category
level's name (deepest level first, up to three words, singular or plural) that the title's *lead* says as a
whole phrase ending on its head — before the first comma, dash, bracket or "for"/"with", with no word after it
(sizes, codes and a lone "x" may follow): "Ball Bearings" is no ball, "3D Printer 0.4mm Extruder Nozzle" no
printer, and "Microswitches for 3D Printer" no printer.

On Scientific two titles in five name their category this way; of 58 hand-labelled ones, 53 get the labelled
right kind's head and the other five a kind as right ("sealant" for a "Silicone Rubber Sealant" labelled
"silicone adhesives"). What generalises is the structure (a catalog's leaf names its items' kind; a title's lead
ends on its head noun), not any word.
"""

from __future__ import annotations

import html
import re

from narrator.verification.dictionary import forms

_CUT = re.compile(r"\s[-–—|]\s|[,;|(\[【]|\s(?:for|with|w/|fits|compatible)\s", re.I)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'\-]*|\S+")
LEVELS = 3
PHRASE_WORDS = 3


def lead(title: str) -> list[str]:
    """The title's lead as lowercase tokens (words, and anything else as one token each)."""
    text = re.sub(r"\[[^\]]*\]|【[^】]*】", " ", html.unescape(title))
    return [t.lower() for t in _TOKEN.findall(_CUT.split(text)[0])]


def category_phrase(title: str, category: str, brand: str = "") -> str:
    """The item's kind as its title's lead says its category ("" when it does not)."""
    words = lead(title)
    brand_words = {w.lower() for w in brand.split()}
    levels = [part.strip() for part in category.split(">") if part.strip()][::-1][:LEVELS]
    for level in levels:
        name = re.findall(r"[a-z]+", level.lower())
        for n in range(min(PHRASE_WORDS, len(name)), 0, -1):
            if found := _said(words, name[-n:], brand_words):
                return found
    return ""


def _said(words: list[str], phrase: list[str], brand_words: set[str]) -> str:
    n = len(phrase)
    for start in range(len(words) - n + 1):
        said, rest = words[start:start + n], words[start + n:]
        if all(w in forms(p) for w, p in zip(said, phrase, strict=True)) and not set(said) & brand_words \
                and not any(re.match(r"[a-z]{2}", w) for w in rest):
            return " ".join(said)
    return ""
