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
    """The brands `contains` finds in `text`, in name order. A catalog has thousands of brands and the verifier
    asks for every sentence, so only the brands whose first word (or CJK character) is in the text are tried."""
    by_first, anywhere = _brand_index(brands)
    words = set(_TOKEN.findall(text.lower()))
    tried = {b for w in words for b in by_first.get(w, ())} | set(anywhere)
    return [b for b in sorted(tried) if contains(text, b)]


_TOKEN = re.compile(r"[0-9a-z]+|[^\x00-\x7f\s]")


@lru_cache(maxsize=8)
def _brand_index(brands: frozenset[str]) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """Brands by the first token of their lowered name; brands without a token, or matched as plain substrings
    ("J.V" inside "XJ.V"), are always tried."""
    by_first: dict[str, list[str]] = {}
    anywhere = []
    for brand in brands:
        tokens = _TOKEN.findall(brand.lower())
        if tokens and (not brand.isascii() or _WORD_LIKE.fullmatch(brand)):
            by_first.setdefault(tokens[0], []).append(brand)
        elif brand:
            anywhere.append(brand)
    return {k: tuple(v) for k, v in by_first.items()}, tuple(anywhere)


_WORD_LIKE = re.compile(r"[\w\-&' ]+", re.ASCII)


@lru_cache(maxsize=16384)
def _whole_word(needle: str) -> re.Pattern | None:
    if _WORD_LIKE.fullmatch(needle):
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
