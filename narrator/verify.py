"""Checks a generated reason against the facts it was asked to express.

Small models write fluent text and invent details ("good reputation", a wrong model number, a fake
discount), drift into English when asked for Chinese, and sometimes echo their instructions. Nothing
reaches a shopper unless every checkable token in it is backed by the facts or the item's own name.

The rules, each reported as claims with pass/fail and why:
- numbers: every number (digits, English number words, Chinese numerals before a measure word) must
  occur in the rendered reasons or the item name;
- names: every brand of the catalog, model code (letters+digits) and capitalised/Latin name must occur
  in the reasons or the item name; what the text calls the item ("这款焊枪", "this welder") must be said
  by its name or category, a glossary word for them ("tape" → "胶带"), or be a plain "item" — a model
  given an English name guesses a Chinese noun;
- claim words (praise, discounts, superlatives, reviews) need the fact kind that backs them, and some
  are never backed; so do the phrase books' cue words of other kinds ("一起购买" turns a brand reason into
  an invented co-purchase);
- citation: the top reason, and the second when there is one, must be cited (a cue word or name);
- language: zh text is Chinese, en text has no Chinese;
- length: at most the template's characters and sentences;
- echo: no instruction text, role markers or markup.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
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
ZH_THIS = re.compile(r"这(?:款|套|个|件|台|种|把|双|只|支|条|瓶|盒|包|组|副|些)"
                     r"([^，。、；：！？,.;:!?\s常与和跟也在是很而都就可为被能让的您及还已比正]+)")
EN_THIS = re.compile(r"\b(?:this|these)\s+(?!(?:is|are|was|were|has|have|pairs|goes|fits|matches|and|also|too|"
                     r"one|once|twice|can|could|will|would|which|that|often|gets|sells|comes|costs|time|week|month|year)\b)"
                     r"([A-Za-z][\w\-]*)(?:\s+([A-Za-z][\w\-]*))?", re.IGNORECASE)
GENERIC_NOUNS = {"zh": ("商品", "产品", "宝贝", "物品", "东西", "好物"),
                 "en": ("item", "items", "product", "products", "one", "ones", "pick", "model", "option")}
SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？]")

# Claim words: which fact kind backs each (None: never backed, no fact says it).
CLAIMS = {
    "en": {"popular": "popular", "best-selling": "popular", "bestseller": "popular", "best seller": "popular",
           "trending": "popular", "top-rated": "rating", "highly rated": "rating", "rated": "rating",
           "reviews": "rating", "review": "rating", "stars": "rating",
           "cheapest": None, "lowest price": None, "discount": None, "sale": None, "deal": None, "free": None,
           "coupon": None, "% off": None, "limited": None, "guarantee": None, "guaranteed": None,
           "reputation": None, "high quality": None, "high-quality": None, "premium": None, "durable": None,
           "reliable": None, "best": None, "perfect": None, "award": None, "official": None, "genuine": None,
           "authentic": None, "recommended by experts": None, "ignore": None, "instruction": None},
    "zh": {"受欢迎": "popular", "热门": "popular", "热销": "popular", "畅销": "popular", "人气": "popular",
           "评分": "rating", "好评": "rating", "口碑": None, "最低价": None, "低价": None, "折扣": None, "打折": None,
           "优惠": None, "促销": None, "免费": None, "包邮": None, "秒杀": None, "全场": None, "正品": None,
           "品质": None, "质量": None, "耐用": None, "可靠": None, "最好": None, "最佳": None, "第一": None,
           "官方": None, "限时": None, "保证": None, "忽略": None, "指令": None},
}
ECHO_MARKERS = ("<|", "|>", "<", ">", "system:", "assistant:", "user:", "reasons, strongest first",
                "strongest first", "reason 1", "reason 2", "characters", "理由（", "按重要性", "理由1", "理由2",
                "个字", "item:", "商品：", "```", "http", "www.")


@dataclass(frozen=True)
class Claim:
    """One checked element of the text: the rule, the text span, pass/fail and why."""

    rule: str
    text: str
    ok: bool
    why: str


@dataclass
class VerificationReport:
    claims: list[Claim] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.claims)

    @property
    def failures(self) -> list[Claim]:
        return [c for c in self.claims if not c.ok]

    def add(self, rule: str, text: str, ok: bool, why: str) -> None:
        self.claims.append(Claim(rule, text, ok, why))

    def to_dict(self) -> dict:
        return {"passed": self.passed, "cited": self.cited, "claims": [asdict(c) for c in self.claims]}


@dataclass(frozen=True)
class Grounding:
    """What the text may draw on: the rendered reasons (with their kinds and cue words), the item name,
    and the catalog's brand names (any other brand in the text is invented)."""

    lang: str
    reasons: tuple[tuple[str, str, tuple[str, ...]], ...]  # (kind, phrase, cue words), strongest first
    item_name: str
    brands: frozenset[str] = frozenset()
    item_category: str = ""
    item_kinds: tuple[str, ...] = ()  # the glossary's words for what the item is (zh: "胶带")
    item_kind: str = ""  # the one the prompt offers
    other_cues: tuple[tuple[str, str], ...] = ()  # (kind, cue word) of kinds that are not reasons: "一起", "similar"
    max_chars: int = 180
    max_sentences: int = 1

    @property
    def source_text(self) -> str:
        return " ".join([self.item_name, self.item_category, *(p for _, p, _ in self.reasons)])

    @property
    def kinds(self) -> set[str]:
        return {k for k, _, _ in self.reasons}


def _numbers(text: str, lang: str) -> list[str]:
    found = [n.replace(",", "") for n in NUMBER.findall(text)]
    if lang == "en":
        found += [EN_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in EN_NUMBER_WORDS]
    else:
        found += [ZH_NUMERALS.get(m, m) for m in ZH_NUMBER.findall(text)]
    return found


def _normal_number(n: str) -> str:
    try:
        value = float(n)
    except ValueError:
        return n
    return f"{value:g}"


def _contains(haystack: str, needle: str) -> bool:
    """Case-insensitive; a word-like needle must stand as a whole word ("Ace" is not in "Acetone").
    The substring test first: the verifier asks this for every catalog brand, nearly all absent."""
    if not needle or needle.lower() not in haystack.lower():
        return False
    word = _whole_word(needle)
    return word is None or word.search(haystack) is not None


@lru_cache(maxsize=16384)
def _whole_word(needle: str) -> re.Pattern | None:
    if re.fullmatch(r"[\w\-&' ]+", needle, re.ASCII):
        return re.compile(rf"(?<![A-Za-z0-9]){re.escape(needle)}(?![A-Za-z0-9])", re.IGNORECASE)
    return None


def verify(text: str, g: Grounding) -> VerificationReport:
    """Every rule of the module docstring, applied to `text`."""
    report = VerificationReport()
    source = g.source_text
    lowered = text.lower()

    allowed_numbers = {_normal_number(n) for n in _numbers(source, g.lang)}
    for n in _numbers(text, g.lang):
        ok = _normal_number(n) in allowed_numbers
        report.add("number", n, ok, "in the facts" if ok else "no fact or the item name says this number")

    for brand in sorted(g.brands):
        if _contains(text, brand):
            ok = _contains(source, brand)
            report.add("brand", brand, ok, "in the facts" if ok else "a brand the facts do not mention")
    for code in set(MODEL_CODE.findall(text)):
        if not NUMBER.fullmatch(code):
            ok = _contains(source, code)
            report.add("name", code, ok, "in the facts" if ok else "a model code not in the facts or the item name")
    brand_words = {w.lower() for b in g.brands if _contains(text, b) for w in LATIN_WORD.findall(b)}
    for word in set(LATIN_WORD.findall(text)):
        if word.lower() in brand_words:
            continue
        if g.lang == "zh" or (word[0].isupper() and not _sentence_initial(text, word)):
            ok = word.lower() in {"i"} or _contains(source, word)
            report.add("name", word, ok, "in the facts" if ok else "a name or Latin word not in the facts")
    for noun in _item_nouns(text, g.lang):
        ok = _noun_backed(noun, source, g.lang) or any(kind in noun for kind in g.item_kinds)
        report.add("name", noun, ok, "the item's name or category says so" if ok else
                   "calls the item something its name and category do not say")

    remaining = lowered
    for claim, kind in sorted(CLAIMS[g.lang].items(), key=lambda kv: -len(kv[0])):
        if _contains(remaining, claim):
            remaining = remaining.replace(claim, " ")
            ok = _contains(source, claim) or (kind is not None and kind in g.kinds)
            report.add("claim", claim, ok, f"backed by the {kind} fact" if ok else
                       "no fact backs this claim" if kind is None else f"needs a {kind} fact, which is not a reason")

    for kind, cue in g.other_cues:
        if cue.lower() not in CLAIMS[g.lang] and _contains(text, cue) and not _contains(source, cue):
            report.add("claim", cue, False, f"says {kind}, which is not a reason here")

    for rank, (kind, phrase, cues) in enumerate(g.reasons, 1):
        cited = any(_cites(text, c, g.brands) for c in cues) or _contains(text, phrase)
        if cited:
            report.cited.append(kind)
        if rank <= 2:
            report.add("citation", f"reason {rank} ({kind})", cited,
                       "cited" if cited else f"the {'top' if rank == 1 else 'second'} reason is not mentioned")

    cjk = len(CJK.findall(text))
    latin = sum(len(w) for w in LATIN_WORD.findall(text) if not _contains(source, w))
    if g.lang == "zh":
        ok = cjk >= 4 and latin <= cjk * 0.2
        report.add("language", "zh", ok, "Chinese" if ok else "not written in Chinese")
    else:
        foreign = len(CJK.findall(re.sub(re.escape(g.item_name), "", text)))
        ok = foreign == 0 and len(LATIN_WORD.findall(text)) >= 3
        report.add("language", "en", ok, "English" if ok else "not written in English")

    sentences = len(SENTENCE_END.findall(text.strip())) or 1
    ok = 0 < len(text.strip()) <= g.max_chars and sentences <= g.max_sentences
    report.add("length", f"{len(text)} chars, {sentences} sentence(s)", ok,
               "within limits" if ok else f"limit {g.max_chars} chars, {g.max_sentences} sentence(s)")

    echoed = [m for m in ECHO_MARKERS if m in lowered and m not in source.lower()]
    report.add("echo", ", ".join(echoed) or "-", not echoed,
               "no instructions echoed" if not echoed else "instruction text or markup in the output")
    return report


def _item_nouns(text: str, lang: str) -> list[str]:
    """What the text calls the item: the head after "这款" (its first Chinese run) or the word after "this"
    (after a claim word, which has its own rule)."""
    if lang == "zh":
        runs = (re.search(r"[\u4e00-\u9fff]+", m.group(1)) for m in ZH_THIS.finditer(text))
        return [r.group(0) for r in runs if r]
    nouns = []
    for m in EN_THIS.finditer(text):
        first, second = m.group(1), m.group(2)
        nouns.append(second if first.lower() in CLAIMS["en"] and second else first)  # "this popular drill"
    return nouns


def _noun_backed(noun: str, source: str, lang: str) -> bool:
    """A plain "item", or said by the name or category: in zh the run's first two characters ("汤锅价格"
    starts with "汤锅"), in en the word, singular or plural."""
    if lang == "zh":
        return any(noun.startswith(g) for g in GENERIC_NOUNS["zh"]) or noun[:2] in source
    word = noun.lower()
    return word in GENERIC_NOUNS["en"] or any(_contains(source, w) for w in (word, word.rstrip("s"), word + "s"))


def _cites(text: str, cue: str, brands: frozenset[str]) -> bool:
    """A cue is cited verbatim, or — for a product name, which models shorten — by its brand or model code."""
    if _contains(text, cue):
        return True
    if len(cue.split()) < 3 and not CJK.search(cue):
        return False
    anchors = [b for b in brands if _contains(cue, b)] + [c for c in MODEL_CODE.findall(cue) if not c.isdigit()]
    return any(_contains(text, a) for a in anchors)


def _sentence_initial(text: str, word: str) -> bool:
    return re.search(rf"(^|[.!?]\s+){re.escape(word)}\b", text) is not None
