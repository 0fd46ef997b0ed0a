"""English determiners and head nouns: "this"/"these" agree with the noun that follows, and that noun is what
the item is. English noun phrases end on their head, so the check needs only the item's own name, category and
kind words, no list of products."""

from __future__ import annotations

import re

from narrator.verification.grounding import Grounding
from narrator.verification.text_match import MODEL_CODE

GENERIC_NOUNS = {"zh": ("商品", "产品", "宝贝", "物品", "东西", "好物"),
                 "en": ("item", "items", "product", "products", "one", "ones", "pick", "model", "option")}
MAKER_NOUNS = {"zh": ("品牌", "牌子", "厂家", "厂商", "商家", "卖家", "店铺", "公司"),
               "en": ("brand", "maker", "manufacturer", "seller", "vendor", "company")}
"""Nouns for who makes or sells a thing, never what it is: "this brand is popular (35 purchases)" says the brand sold
35, even when the item's own name ends on the word ("VELCRO Brand")."""
_NOT_NOUNS = ("is|are|was|were|has|have|had|will|would|could|should|may|might|together|with|and|or|from|for|to|you|"
              "your|that|which|who|by|in|on|at|of|because|as|also|too|often|since|so|but|while|once|twice|now|today|"
              "here|yet|again|alongside|just|recently|newly")
"""Function words that are never nouns."""
# "this"/"these" and the head noun of what follows, up to a verb, preposition or clause end; the verbs may be nouns
# too ("this can", "these fits"), so they end a phrase but may be its words.
_EN_STOP = (f"{_NOT_NOUNS}|can|goes|go|fits|fit|pairs|pair|matches|match|comes|come|sells|sell|costs|cost|makes|make|"
            "works|work|shoppers|right")
EN_PHRASE_END = re.compile(rf"\s*(?:[,.;:!?)]|$)|\s+(?:{_EN_STOP})\b", re.IGNORECASE)
"""Where an English noun phrase ends: a clause end or a function word."""
_NUMBER = r"\s+\d[\d.,]*(?![\w\-])"
# Words before the head start with a letter or are codes ("this 20V drill"; a bare number is not a word of it:
# "this 2 times"); no word of it is one of `_NOT_NOUNS` ("buy this together with": no noun at all); the head starts with
# a letter and is followed by a clause end, a function word, a bare number ("this tent 2 times") or a code that ends the
# phrase ("this speaker A73 is", "this speaker A73 2 times"; in "this PLA 3D printer filament" the head is "filament").
_EN_PHRASE = (rf"((?:(?!(?:{_NOT_NOUNS})\b)(?:[A-Za-z]|\d[\w\-]*[A-Za-z])[\w\-]*\s+){{0,3}}?)"
              rf"(?!(?:{_NOT_NOUNS})\b)([A-Za-z][\w\-]*)"
              rf"(?={EN_PHRASE_END.pattern}|{_NUMBER}|\s+[A-Za-z\-]*\d[\w.\-]*(?:{EN_PHRASE_END.pattern}|{_NUMBER}))")
EN_DETERMINER = re.compile(rf"\b(this|these)\s+{_EN_PHRASE}", re.IGNORECASE)
# "… set of X" / "… pack of X": the noun phrase after "of", whose head is what the set holds.
EN_OF_HEAD = re.compile(rf"\s+of\s+{_EN_PHRASE}", re.IGNORECASE)


def agreement(text: str, g: Grounding) -> list[tuple[str, str, str]]:
    """"this"/"these" agree with the head noun, and the head is what the item is: English noun phrases end on
    their head ("this drill bit set" is a set, "this drill" is not), so the head must be the last word of the
    item's name or category, or end like it ("lamp" for a headlamp), or be a plain "item". One product is
    "this": "these" only for an item whose own name or kind is plural ("these coffee beans", "these gloves";
    not "these power banks" for one power bank)."""
    if g.lang != "en":
        return []
    heads = _heads(g)
    out = []
    for m in EN_DETERMINER.finditer(text):
        det, head = m.group(1).lower(), m.group(3).lower()
        said = m.group(3)
        of = EN_OF_HEAD.match(text, m.end()) if _in_name(head, g) else None
        if of:  # "this set of titanium-coated burrs": the set is in the name, the burrs are what it holds
            head, said = of.group(2).lower(), of.group(2)
        if _singular(head) in MAKER_NOUNS["en"]:
            out.append(("name", m.group(0), f"calls the item a '{said}', who makes or sells it, not what it is"))
        elif (det == "this") == _plural(m.group(3)):
            out.append(("name", m.group(0), f"'{m.group(1)}' does not agree with '{m.group(3)}'"))
        elif det == "these" and not _plural_item(g):
            out.append(("name", m.group(0), f"calls one item '{m.group(1)} {m.group(3)}'"))
        elif head not in GENERIC_NOUNS["en"] and not any(h.endswith(form) for h in heads for form in _forms(head)):
            out.append(("name", m.group(0) + (of.group(0) if of else ""),
                        f"calls the item a '{said}', which its own name and category do not end on"))
    return out


def _in_name(word: str, g: Grounding) -> bool:
    """The word is one of the item name's own words ("Set", "12-Pack"), singular or plural."""
    words = {_singular(w.lower().rsplit("-", 1)[-1]) for w in re.findall(r"[A-Za-z0-9][\w\-]*", g.item_name)}
    return _singular(word) in words


def _last_word(text: str) -> str:
    """The last plain word of a name (not a model code): "…Coffee Beans B19" → "Beans"."""
    words = [w for w in re.findall(r"[A-Za-z][\w\-]*", text) if not MODEL_CODE.fullmatch(w)]
    return words[-1] if words else ""


def _plural_item(g: Grounding) -> bool:
    """The item's own name or kind ends on a plural noun ("…Coffee Beans B19", kind "gloves")."""
    return any(_plural(word) for word in map(_last_word, (g.item_name, *g.item_kinds)) if word)


def _heads(g: Grounding) -> set[str]:
    """The last plain word (not a model code) of the item's name and category, and its kind words."""
    heads = {k.lower() for k in g.item_kinds}
    heads |= {_singular(word.lower()) for word in map(_last_word, (g.item_name, g.item_category)) if word}
    return heads


def _singular(word: str) -> str:
    return word[:-1] if _plural(word) else word


def _forms(word: str) -> tuple[str, ...]:
    """The singular forms a head may stand for ("boxes" → "boxe", "box")."""
    return (word[:-1], word[:-2]) if _plural(word) else (word,)


def _plural(word: str) -> bool:
    w = word.lower()
    return w.endswith("s") and not w.endswith(("ss", "us", "is", "as"))
