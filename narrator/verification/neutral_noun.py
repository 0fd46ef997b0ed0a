"""The model's sentence with what it calls the recommended item replaced by the plain word ("这款商品", "this item").

Why: most refused first attempts on an unseen catalog are right in every reason and wrong in one word, the noun the
model gives an item it has no grounded kind for ("这款防水耳机" for a pH meter, "这款 dispenser", "this UltraHD TV").
The prompt asks for the plain word then, and the 1.5B model often writes a noun anyway; a retry costs a second
generation and mostly repeats the noun. Dropping the noun keeps the model's sentence and says nothing new, so it can
only remove a claim; the result is verified again like any other sentence, and served only if it passes.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from narrator.verification.agreement import EN_DETERMINER, GENERIC_NOUNS
from narrator.verification.binding import EN_OWNED, ZH_DEMONSTRATIVE

ZH_NAMED = re.compile(rf"{ZH_DEMONSTRATIVE}\s*"
                      r"([^，。、；：！？（,.;:!?(\s][^，。、；：！？（,;:!?(]*?)"
                      r"(?=常与|与您|与|和您|跟您|很|也|还|是|而且|并且|在您|您|已|的价格|价格)")
""""这款" and the noun after it, Latin words and spaces included ("这款 TDS-4 Meter"), up to where the phrase
book's predicates start ("常与", "很受欢迎", "也"). A noun that runs into a clause break has no predicate ("这款美瞳30片
2盒装含玻，您在…") and is left alone: "这款商品，您在…" would not read; a character a predicate may start with inside
a word ("智能", "被子") does not end the noun."""
EN_DISAGREES_AFTER = re.compile(r"\s*(?:are|were|have|can|fit|pair|match|make|work|cost|sell|come|go)\b"
                                r"|.*\b(?:they|them|their)\b", re.IGNORECASE | re.DOTALL)
"""A plural verb after the noun, a plural pronoun later, or a word that is the noun's own head rather than a verb
("this end can goes"): "this item" would not agree, so nothing is changed."""
EN_CODES_AFTER = re.compile(r"(?:\s+(?![\d.,]+\b)[A-Za-z\-]*\d[\w.\-]*)+")
"""Model codes the noun phrase ends before ("this plain ASME B18.6.3 is"): they go with the noun; a bare number
("viewed this tent 2 times") does not."""
PLAIN = {"zh": "这款商品", "en": "this item"}


def neutralised(text: str, lang: str, refused: Collection[str] = ()) -> str | None:
    """`text` with each noun it calls the item by replaced by the plain word, or None when it calls the item
    nothing else (or, in English, the plain word would not agree with the rest of the sentence). In English an
    item the shopper bought or looked at that the verifier `refused` under a noun of the model's ("the glasses you
    looked at" for an item with no English name) becomes "the item you looked at" too."""
    if lang == "zh":
        return _zh(text)
    owned = _owned(text, refused)
    return _en(owned or text) or owned


def _zh(text: str) -> str | None:
    out = ZH_NAMED.sub(lambda m: m.group(0) if m.group(1).strip().startswith(GENERIC_NOUNS["zh"]) else PLAIN["zh"],
                       text)
    return out if out != text else None


def _owned(text: str, refused: Collection[str]) -> str | None:
    out = text
    for m in reversed(list(EN_OWNED.finditer(text))):
        if m.group(0).strip() in refused:
            out = out[:m.start(1)] + "item " + out[m.end(1):]
    return out if out != text else None


def _en(text: str) -> str | None:
    out = text
    for m in reversed(list(EN_DETERMINER.finditer(text))):
        det, phrase = m.group(1), m.group(0)[len(m.group(1)):].strip()
        if det.lower() != "this" or phrase.lower() in GENERIC_NOUNS["en"] or EN_DISAGREES_AFTER.match(text, m.end()):
            continue
        end = codes.end() if (codes := EN_CODES_AFTER.match(text, m.end())) else m.end()
        out = out[:m.start()] + (PLAIN["en"] if det[0].islower() else PLAIN["en"].capitalize()) + out[end:]
    return out if out != text else None
