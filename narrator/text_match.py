"""Finding names, numbers and words in a sentence the way a reader would: whole words, case-insensitive,
numbers in digits or words, model codes read whole even where they touch Chinese."""

from __future__ import annotations

import re
from functools import lru_cache

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
EN_NUMBER_WORDS = {"two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
                   "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20", "hundred": "100",
                   "thousand": "1000", "dozen": "12", "twice": "2", "thrice": "3"}
ZH_NUMERALS = {"两": "2", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
               "十": "10", "百": "100", "千": "1000", "万": "10000"}
ZH_NUMBER = re.compile(r"([两二三四五六七八九十百千万]+)(?=[件款个次位种台套元块])")
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[0-9]*[A-Za-z][A-Za-z0-9\-'&]*")
MODEL_CODE = re.compile(r"(?<![A-Za-z0-9\-])(?=[A-Za-z0-9\-]*\d)(?=[A-Za-z0-9\-]*[A-Za-z])"
                        r"[A-Za-z0-9\-]{2,}(?![A-Za-z0-9\-])")  # ASCII bounds: in zh, "A10一起" has no \b


def numbers(text: str, lang: str) -> list[str]:
    found = [n.replace(",", "") for n in NUMBER.findall(text)]
    if lang == "en":
        found += [EN_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in EN_NUMBER_WORDS]
    else:
        found += [ZH_NUMERALS.get(m, m) for m in ZH_NUMBER.findall(text)]
    return found


def normal_number(n: str) -> str:
    try:
        value = float(n)
    except ValueError:
        return n
    return f"{value:g}"


def contains(haystack: str, needle: str) -> bool:
    """Case-insensitive; a word-like needle must stand as a whole word ("Ace" is not in "Acetone").
    The substring test first: the verifier asks this for every catalog brand, nearly all absent."""
    if not needle or needle.lower() not in haystack.lower():
        return False
    word = _whole_word(needle)
    return word is None or word.search(haystack) is not None


def brands_in(text: str, brands: frozenset[str]) -> list[str]:
    """The brands `contains` finds in `text`: the text is lowered once against the lowered catalog brands
    (a catalog has thousands of brands and the verifier asks for every sentence)."""
    lowered = text.lower()
    return [b for b, low in _lowered(brands) if low in lowered and contains(text, b)]


@lru_cache(maxsize=8)
def _lowered(brands: frozenset[str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((b, b.lower()) for b in brands if b))


@lru_cache(maxsize=16384)
def _whole_word(needle: str) -> re.Pattern | None:
    if re.fullmatch(r"[\w\-&' ]+", needle, re.ASCII):
        return re.compile(rf"(?<![A-Za-z0-9]){re.escape(needle)}(?![A-Za-z0-9])", re.IGNORECASE)
    return None


def cites(text: str, cue: str, brands: frozenset[str]) -> bool:
    """A cue is cited verbatim, or — for a product name, which models shorten — by its brand or model code."""
    if contains(text, cue):
        return True
    if len(cue.split()) < 3 and not CJK.search(cue):
        return False
    anchors = brands_in(cue, brands) + [c for c in MODEL_CODE.findall(cue) if not c.isdigit()]
    return any(contains(text, a) for a in anchors)


def sentence_initial(text: str, word: str) -> bool:
    return re.search(rf"(^|[.!?]\s+){re.escape(word)}\b", text) is not None
