"""What a sentence says about which item: what it calls the recommended item, which other items it names
and with what relation, and whether its determiners agree. `check` gives its findings as
`(rule, text, ok, why)`; the verifier adds them to its report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from narrator.grounding import Grounding
from narrator.text_match import LATIN_WORD, cites, contains

ZH_THIS = re.compile(r"这(?:款|套|个|件|台|种|把|双|只|支|条|瓶|盒|包|组|副|些)"
                     r"([^，。、；：！？,.;:!?\s常与和跟也在是很而都就可为被能让的您及还已比正]+)")
EN_THIS = re.compile(r"\b(?:this|these)\s+(?!(?:is|are|was|were|has|have|pairs|goes|fits|matches|and|also|too|"
                     r"one|once|twice|can|could|will|would|which|that|often|gets|sells|comes|costs|time|week|month|year)\b)"
                     r"([A-Za-z][\w\-]*)(?:\s+([A-Za-z][\w\-]*))?", re.IGNORECASE)
GENERIC_NOUNS = {"zh": ("商品", "产品", "宝贝", "物品", "东西", "好物"),
                 "en": ("item", "items", "product", "products", "one", "ones", "pick", "model", "option")}
EN_CLAUSE = re.compile(r"[,;:.!?]|\b(?:and|while|but|plus)\b", re.IGNORECASE)
ZH_CLAUSE = re.compile(r"[，,；;：:。！？!?、]|并且|而且|同时|此外")
# A finite "(you) bought X" run into "bought together" ("您已购买过X一起购买"); "您买过的X一起购买" is fine.
ZH_CLASH = re.compile(r"[已您]购买过[^，。；的]*一起购买")
# "this"/"these" and the head noun of what follows, up to a verb, preposition or clause end.
_EN_STOP = ("is|are|was|were|has|have|had|will|would|can|could|should|may|might|goes|go|fits|fit|pairs|pair|matches|"
            "match|together|with|and|or|from|for|to|you|your|that|which|who|by|in|on|at|of|because|as|also|too|"
            "often|comes|come|sells|sell|costs|cost|makes|make|works|work|since|so|but|while|shoppers")
EN_DETERMINER = re.compile(rf"\b(this|these)\s+((?:[\w\-]+\s+){{0,3}}?)([A-Za-z][\w\-]*)"
                           rf"(?=\s*(?:[,.;:!?)]|$)|\s+(?:{_EN_STOP})\b)", re.IGNORECASE)


Finding = tuple[str, str, bool, str]  # (rule, text, ok, why)


def check(text: str, g: Grounding, claim_words: Iterable[str] = ()) -> list[Finding]:
    """What `text` calls the item (its own name, category or kind, never another item's noun), and every
    binding failure: swapped relations, clashing verbs, English words in Chinese, disagreeing determiners."""
    failures = [*_relations(text, g), *_foreign_words(text, g), *_agreement(text, g)]
    nouns = _item_nouns_checked(text, g, set(claim_words))
    return [*nouns, *((rule, what, False, why) for rule, what, why in failures)]


def _item_nouns_checked(text: str, g: Grounding, claim_words: set[str]) -> list[Finding]:
    own = g.own_text
    out = []
    for noun in _item_nouns(text, g.lang, claim_words):
        ok = _noun_backed(noun, own, g.lang) or any(_is_kind(noun, kind) for kind in g.item_kinds)
        out.append(("name", noun, ok, "the item's own name or category says so" if ok else
                    "calls the item something its own name and category do not say"))
    return out


def _foreign_words(text: str, g: Grounding) -> list[tuple[str, str, str]]:
    """In zh, Latin letters only inside whole names from the facts; codes and acronyms ("PLA", "3D") are
    the name rule's."""
    if g.lang != "zh":
        return []
    return [("language", word, "an English word in Chinese text (only whole names from the facts may be Latin)")
            for word in sorted(set(LATIN_WORD.findall(_without_names(text, g)))) if any(c.islower() for c in word)]


def _agreement(text: str, g: Grounding) -> list[tuple[str, str, str]]:
    if g.lang != "en":
        return []
    return [("name", m.group(0), f"'{m.group(1)}' does not agree with '{m.group(3)}'")
            for m in EN_DETERMINER.finditer(text) if (m.group(1).lower() == "this") == _plural(m.group(3))]


def _is_kind(noun: str, kind: str) -> bool:
    """"电钻价格" is an 电钻; "钻头套装" is not a 钻 (a one-character kind must be the whole noun)."""
    return noun == kind or (len(kind) >= 2 and noun.startswith(kind))


def _plural(word: str) -> bool:
    w = word.lower()
    return w.endswith("s") and not w.endswith(("ss", "us", "is", "as"))


def _clauses(text: str, lang: str) -> list[str]:
    return [c for c in (ZH_CLAUSE if lang == "zh" else EN_CLAUSE).split(text) if c and c.strip()]


def _relations(text: str, g: Grounding) -> list[tuple[str, str, str]]:
    """Each item a reason names keeps its own relation in its clause: "bought together with the X you
    bought", "similar to the Y you looked at". A clause that names it with another reason's relation
    (its cue words, or its words for what the shopper did) and none of its own has swapped them."""
    cues = {kind: rel for kind, rel, _ in g.relations}
    owners = {kind: own for kind, _, own in g.relations}

    def swapped(kind: str, clause: str) -> str | None:
        for words, what in ((cues, "relation"), (owners, "words for what you did with it")):
            own = any(contains(clause, w) for w in words.get(kind, ()))
            other = [w for k, ws in words.items() if k != kind for w in ws if contains(clause, w)]
            if other and not own:
                return f"names the item of the {kind} reason with another reason's {what} ('{other[0]}')"
        return None

    out = []
    for clause in _clauses(text, g.lang):
        named = [kind for kind, names in g.objects if any(cites(clause, n, g.brands) for n in names)]
        problems = [swapped(kind, clause) for kind in named]
        if named and all(problems):  # one name may belong to two reasons: one right reading is enough
            out.append(("relation", clause.strip(), str(problems[0])))
    if g.lang == "zh" and (clash := ZH_CLASH.search(text)):
        out.append(("relation", clash.group(0), "two verbs clash: a purchase and a co-purchase of one item"))
    return out


def _without_names(text: str, g: Grounding) -> str:
    """The text with every name from the facts (the item's, the named items', the brands) taken out."""
    for name in sorted([*g.names, *(b for b in g.brands if contains(text, b))], key=len, reverse=True):
        if name:
            text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    return text


def _item_nouns(text: str, lang: str, claim_words: set[str]) -> list[str]:
    """What the text calls the item: the head after "这款" (its first Chinese run) or the word after "this"
    (after a claim word, which has its own rule)."""
    if lang == "zh":
        runs = (re.search(r"[\u4e00-\u9fff]+", m.group(1)) for m in ZH_THIS.finditer(text))
        return [r.group(0) for r in runs if r]
    nouns = []
    for m in EN_THIS.finditer(text):
        first, second = m.group(1), m.group(2)
        nouns.append(second if first.lower() in claim_words and second else first)  # "this popular drill"
    return nouns


def _noun_backed(noun: str, source: str, lang: str) -> bool:
    """A plain "item", or said by the name or category: in zh the run's first two characters ("汤锅价格"
    starts with "汤锅"), in en the word, singular or plural."""
    if lang == "zh":
        return any(noun.startswith(g) for g in GENERIC_NOUNS["zh"]) or noun[:2] in source
    word = noun.lower()
    return word in GENERIC_NOUNS["en"] or any(contains(source, w) for w in (word, word.rstrip("s"), word + "s"))
