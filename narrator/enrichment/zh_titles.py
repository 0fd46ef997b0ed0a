"""Chinese marketplace titles, read without a model: what the item is, and the short name a shopper would say.

Marketplace titles are keyword runs ("【新品推荐】2019夏装新款羊毛阔腿裤显瘦高腰系带宽松九分休闲裤女"). Cut to a
length they end inside a word (日本 → 日|常与…), and their tags and marketing words read as claims. So a
Chinese name is composed, never cut: brand + the item's kind + its model code, each a whole word, at most
`NAME_CHARS` characters ("海尔 空调挂机 KFR-35GW").

The kind is one of the title's own nouns (jieba's segmentation and tags, `rjieba`), chosen by meaning and structure
rather than a word list, so it carries to a catalog nobody has seen:

- meaning: the noun the multilingual encoder finds closest to the whole title (a title is about its product;
  "孕妇" and "新鲜" are about the buyer and the state);
- structure: how often the noun ends a keyword run in *this* catalog's titles (product types close a run,
  modifiers and marketing words open it: "…卫生帽", "…挂机"), learned from the catalog itself;
- words spread over many of the catalog's categories ("新款", "韩版", "包邮") are shop-wide, never a kind, and
  hostile words (offers, promises, instructions; `narrator.prompts.names.hostile`) are never shown.

On the labelled e-commerce NER titles (`bench/zh_names.py`; weight chosen on its dev split) the chosen noun is
one of the labelled product types for 71% of test titles, against 56% for the title's last noun.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from narrator.prompts.names import BRACKET_TAGS, brand_in, hostile, is_chinese, normalised

Encoder = Callable[[list[str]], np.ndarray]
NAME_CHARS = 16
END_WEIGHT = 0.5
SHOP_WIDE_SHARE = 1 / 3
MIN_CATEGORIES = 6
ALL_HAN = re.compile(r"[\u4e00-\u9fff]+")
RUN_BREAK = re.compile(r"[\s,，;；/、!！。|()（）+*_\-:：~～#@]")
NOT_KINDS = frozenset({"ns", "nrt", "t"})
"""Place, transliterated-name and time nouns: where, who and when, never what. (jieba tags some product words
as person names, "连衣裙"/nr, so those stay; the tag set was chosen on the NER dev split.)"""
MODEL_CODE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9\-]*\d)(?=[A-Za-z0-9\-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9\-]{2,15}"
                        r"(?![A-Za-z0-9])")


def words(title: str) -> list[tuple[str, str]]:
    """(word, jieba tag) of a title, tags (【新品推荐】) removed first."""
    import rjieba

    return [(word, tag) for word, tag in rjieba.tag(BRACKET_TAGS.sub(" ", normalised(title)))]


def candidates(segmented: list[tuple[str, str]]) -> list[str]:
    """The title's nouns that could say what the item is: all Chinese, two characters or more, not a place,
    transliterated name or time, not hostile."""
    return [w for w, tag in segmented if (tag.startswith("n") or tag == "vn") and tag not in NOT_KINDS
            and len(w) >= 2 and ALL_HAN.fullmatch(w) and not hostile(w)]


@dataclass
class TitleReader:
    """What this catalog's titles teach: how often each word ends a keyword run, and which words are spread
    over so many categories that they say nothing about the item (`shop_wide`)."""

    ends: Counter[str]
    seen: Counter[str]
    shop_wide: frozenset[str]

    @classmethod
    def learn(cls, titles: Sequence[str], categories: Sequence[str]) -> TitleReader:
        ends: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        spread: dict[str, set[str]] = {}
        for title, category in zip(titles, categories, strict=True):
            segmented = words(title)
            for k, (word, _) in enumerate(segmented):
                if len(word) < 2 or not ALL_HAN.fullmatch(word):
                    continue
                seen[word] += 1
                after = segmented[k + 1][0] if k + 1 < len(segmented) else " "
                ends[word] += bool(RUN_BREAK.match(after) or not ALL_HAN.match(after[0]))
                spread.setdefault(word, set()).add(category)
        n_categories = len(set(categories))
        if n_categories < MIN_CATEGORIES:
            return cls(ends, seen, frozenset())
        wide = frozenset(w for w, cats in spread.items() if len(cats) >= SHOP_WIDE_SHARE * n_categories)
        return cls(ends, seen, wide)

    def end_rate(self, word: str) -> float:
        return (self.ends[word] + 1) / (self.seen[word] + 2)

    def kinds(self, titles: Sequence[str], brands: Sequence[str], encode: Encoder) -> list[str]:
        """Each title's kind ("" when it has no noun that could be one)."""
        options = [[w for w in candidates(words(t)) if w not in self.shop_wide and w not in b]
                   for t, b in zip(titles, brands, strict=True)]
        texts = sorted({*titles, *(w for found in options for w in found)})
        if not texts:
            return [""] * len(titles)
        vectors = encode(texts)
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        at = {t: i for i, t in enumerate(texts)}
        out = []
        for title, found in zip(titles, options, strict=True):
            about = vectors[at[title]]
            out.append(max(found, key=lambda w: float(vectors[at[w]] @ about) + END_WEIGHT * self.end_rate(w))
                       if found else "")
        return out


def model_code(title: str, brand: str) -> str:
    """The title's first model code ("KFR-35GW"): letters and digits together, not the brand, not a size."""
    for code in MODEL_CODE.findall(normalised(title)):
        if code.lower() not in brand.lower() and not re.fullmatch(r"(?i)\d+[a-z]{1,3}|[a-z]{1,3}\d{1,2}", code):
            return code.upper()
    return ""


def zh_name(brand: str, kind: str, code: str, limit: int = NAME_CHARS) -> str:
    """brand + kind + model code ("海尔空调挂机 KFR-35GW"), dropping the code, then the brand, while longer than
    `limit`; "" without a kind (the phrase book's neutral word is better than a cut title)."""
    if not kind:
        return ""
    shown = brand_in(brand, "zh")
    head = f"{shown}{kind}" if is_chinese(shown) else " ".join(p for p in (shown, kind) if p)
    for name in (f"{head} {code}" if code else head, head, kind):
        if len(name) <= limit:
            return name
    return kind[:limit]
