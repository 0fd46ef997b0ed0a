"""Checks a generated reason against the facts it was asked to express.

Small models write fluent text and invent details ("good reputation", a wrong model number, a fake
discount), drift into English when asked for Chinese, and sometimes echo their instructions. Nothing
reaches a shopper unless every checkable token in it is backed by the facts or the item's own name.

The rules, each reported as claims with pass/fail and why:
- numbers: every number (digits, English number words, Chinese numerals before a measure word) must
  occur in the rendered reasons or the item name;
- names: every brand of the catalog, model code (letters+digits) and capitalised/Latin name must occur
  in the reasons or the item name; what the text calls the item ("这款焊枪", "this welder") must be said
  by its *own* name or category, a glossary word for them ("tape" → "胶带"), or be a plain "item" — a
  model given an English name guesses a Chinese noun, or borrows the noun of another item the reasons
  name; "this"/"these" agree with their noun;
- relations: each item a reason names keeps that reason's relation in its clause (bought together vs
  similar) and the phrase book's words for what the shopper did with it (`owner`: bought vs viewed);
  zh "您已购买过X一起购买" (two clashing verbs) is rejected;
- claim words (praise, discounts, superlatives, reviews) need the fact kind that backs them, and some
  are never backed; so do the phrase books' cue words of other kinds ("一起购买" turns a brand reason
  into an invented co-purchase); every clause must state a reason, so an invented claim fails however
  it is worded; each number stands in the clause of the reason it comes from, and money only comes
  from a price or promotion fact; discount words ("20% off", "8折", "促销") and discount figures only from an
  active promotion fact, never from a title or query that says them;
- citation: the top reason, and the second when there is one, must be cited (a cue word or name);
- language: zh text is Chinese, with no English word outside a whole name from the facts; en text has
  no Chinese;
- length: at most the template's characters and sentences;
- echo: no instruction text, role markers, markup or HTML entities.
"""

from __future__ import annotations

import re

import narrator.verification.binding as binding
from narrator.verification.grounding import Claim, Grounding, VerificationReport
from narrator.verification.text_match import (
    CJK,
    LATIN_WORD,
    MODEL_CODE,
    NUMBER,
    brands_in,
    cites,
    contains,
    normal_number,
    numbers,
    sentence_initial,
)

__all__ = ["Claim", "Grounding", "VerificationReport", "verify"]

# Claim words: which fact kind backs each (None: never backed, no fact says it).
CLAIMS = {
    "en": {"popular": "popular", "best-selling": "popular", "bestseller": "popular", "best seller": "popular",
           "trending": "popular", "new": "new_arrival", "new arrival": "new_arrival", "just arrived": "new_arrival",
           "top-rated": "rating", "highly rated": "rating", "rated": "rating",
           "reviews": "rating", "review": "rating", "stars": "rating",
           "cheapest": None, "lowest price": None, "discount": "promotion", "sale": "promotion",
           "deal": "promotion", "free": None, "coupon": "promotion", "% off": "promotion", "promotion": "promotion",
           "limited": None, "guarantee": None, "guaranteed": None,
           "reputation": None, "high quality": None, "high-quality": None, "premium": None, "durable": None,
           "reliable": None, "best": None, "perfect": None, "award": None, "official": None, "genuine": None,
           "authentic": None, "recommended by experts": None, "ignore": None, "instruction": None,
           "free shipping": None, "ships free": None, "in stock": None, "today only": None, "hurry": None,
           "limited time": "promotion", "flash sale": "promotion", "clearance": "promotion", "bogo": "promotion",
           "money-back": None, "money back": None, "click": None, "order now": None, "buy now": None,
           "official store": None, "100% original": None},
    "zh": {"受欢迎": "popular", "热门": "popular", "热销": "popular", "畅销": "popular", "人气": "popular",
           "新品": "new_arrival", "新上架": "new_arrival", "上新": "new_arrival", "新款": "new_arrival",
           "新到": "new_arrival",
           "评分": "rating", "好评": "rating", "口碑": None, "最低价": None, "低价": None, "折扣": "promotion",
           "打折": "promotion", "优惠": "promotion", "促销": "promotion",
           "免费": None, "包邮": None, "秒杀": None, "全场": None, "正品": None,
           "品质": None, "质量": None, "耐用": None, "可靠": None, "最好": None, "最佳": None, "第一": None,
           "官方": None, "限时": "promotion", "保证": None, "忽略": None, "指令": None,
           "顺丰": None, "现货": None, "发货": None, "假一赔": None, "旗舰店": None, "七天无理由": None, "退换": None,
           "限量": None, "抢购": None, "爆款": None, "清仓": "promotion", "特价": "promotion", "满减": "promotion",
           "立减": "promotion", "领券": "promotion", "优惠券": "promotion", "买一送一": "promotion", "链接": None,
           "直播": None, "下单": None, "热卖": "popular", "网红": None, "特卖": "promotion", "底价": None,
           "直销": None, "直供": None},
}
TRUSTED_ONLY = {"promotion"}
"""Kinds whose claims only their fact may back, never words in a title, a query or another reason: a discount
is true only when the merchant's promotion record says so."""
NEVER_FROM_CATALOG = {
    "free", "free shipping", "ships free", "in stock", "today only", "hurry", "limited", "guarantee", "guaranteed",
    "money-back", "money back", "official", "official store", "genuine", "authentic", "100% original", "click",
    "order now", "buy now", "免费", "包邮", "顺丰", "现货", "发货", "正品", "官方", "假一赔", "旗舰店", "七天无理由",
    "退换", "保证", "限量", "抢购", "秒杀", "全场", "链接", "直播", "下单", "爆款", "新款", "新品", "上新", "热卖",
    "热销", "人气", "网红", "特卖", "底价", "直销", "直供", "best seller", "bestseller"}
"""Shipping, stock, authenticity, urgency and link claims, and marketplace selling words: no record of this
system backs them, so a catalog title or brand that says them ("正品包邮", "Official Store") never makes them
true in a sentence."""
DISCOUNT = re.compile(r"(\d+(?:\.\d+)?)\s?%|(\d+(?:\.\d+)?|[一二两三四五六七八九])\s?折(?!叠)")
MONEY = re.compile(r"([$¥€£]|(?:USD|CNY|RMB|EUR|GBP|JPY) )\s?(\d+(?:\.\d+)?)"
                   r"|(?<![\d.])(\d+(?:\.\d+)?)\s?(元|块钱|美元|dollars?\b|yuan\b|RMB\b)")
UNITS = {"元": "¥", "块钱": "¥", "yuan": "¥", "RMB": "¥", "RMB ": "¥", "CNY ": "¥", "JPY ": "¥", "美元": "$",
         "dollar": "$", "dollars": "$", "USD ": "$", "EUR ": "€", "GBP ": "£"}
"""Ways of saying a currency, as the symbol a price fact writes: "58元" is "¥58"."""
ENTITY = re.compile(r"&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")
SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？]")
ECHO_MARKERS = ("<|", "|>", "<", ">", "system:", "assistant:", "user:", "reasons, strongest first",
                "strongest first", "reason 1", "reason 2", "characters", "理由（", "按重要性", "理由1", "理由2",
                "个字", "item:", "商品：", "```", "http", "www.")


def verify(text: str, g: Grounding) -> VerificationReport:
    """Every rule of the module docstring, applied to `text`."""
    report = VerificationReport()
    source = g.source_text
    lowered = text.lower()

    allowed_numbers = {normal_number(n) for n in numbers(source, g.lang)}
    for n in numbers(text, g.lang):
        ok = normal_number(n) in allowed_numbers
        report.add("number", n, ok, "in the facts" if ok else "no fact or the item name says this number")
    priced = " ".join(p for kind, p, _ in g.reasons if kind in ("price", "promotion"))
    prices = set(_money(priced))
    for unit, n in _money(text):
        ok = (unit, n) in prices
        why = "no fact gives this price" if n not in {p for _, p in prices} else "the shop prices in another currency"
        report.add("number", f"{unit}{n}", ok, "a price in the facts" if ok else why)
    offered = set(_discounts(" ".join(p for kind, p, _ in g.reasons if kind == "promotion")))
    for n in _discounts(text):
        ok = n in offered
        report.add("claim", n, ok, "the promotion's discount" if ok else "no active promotion gives this discount")

    named_brands = brands_in(text, g.brands)
    for brand in named_brands:
        ok = contains(source, brand)
        report.add("brand", brand, ok, "in the facts" if ok else "a brand the facts do not mention")
    for code in set(MODEL_CODE.findall(text)):
        if not NUMBER.fullmatch(code):
            ok = contains(source, code)
            report.add("name", code, ok, "in the facts" if ok else "a model code not in the facts or the item name")
    brand_words = {w.lower() for b in named_brands for w in LATIN_WORD.findall(b)}
    for word in set(LATIN_WORD.findall(text)):
        if word.lower() in brand_words:
            continue
        if g.lang == "zh" or (word[0].isupper() and not sentence_initial(text, word)):
            ok = word.lower() in {"i"} or contains(source, word)
            report.add("name", word, ok, "in the facts" if ok else "a name or Latin word not in the facts")
    for rule, what, ok, why in binding.check(text, g, CLAIMS[g.lang]):
        report.add(rule, what, ok, why)

    remaining = lowered
    for claim, kind in sorted(CLAIMS[g.lang].items(), key=lambda kv: -len(kv[0])):
        if contains(remaining, claim):
            remaining = remaining.replace(claim, " ")
            from_source = kind not in TRUSTED_ONLY and claim not in NEVER_FROM_CATALOG and contains(source, claim)
            ok = from_source or (kind is not None and kind in g.kinds)
            report.add("claim", claim, ok, f"backed by the {kind} fact" if ok else
                       "no fact backs this claim" if kind is None else f"needs a {kind} fact, which is not a reason")

    for kind, cue in g.other_cues:
        if cue.lower() not in CLAIMS[g.lang] and contains(text, cue) and not contains(source, cue):
            report.add("claim", cue, False, f"says {kind}, which is not a reason here")

    for rank, (kind, phrase, cues) in enumerate(g.reasons, 1):
        cited = any(cites(text, c, g.brands) for c in cues) or contains(text, phrase)
        if cited:
            report.cited.append(kind)
        if rank <= 2:
            report.add("citation", f"reason {rank} ({kind})", cited,
                       "cited" if cited else f"the {'top' if rank == 1 else 'second'} reason is not mentioned")

    cjk = len(CJK.findall(text))
    latin = sum(len(w) for w in LATIN_WORD.findall(text) if not contains(source, w))
    if g.lang == "zh":
        ok = cjk >= 4 and latin <= cjk * 0.2
        report.add("language", "zh", ok, "Chinese" if ok else "not written in Chinese")
    else:
        foreign = len(CJK.findall(binding.without_names(text, g)))
        ok = foreign == 0 and len(LATIN_WORD.findall(text)) >= 3
        report.add("language", "en", ok, "English" if ok else "not written in English")

    sentences = len(SENTENCE_END.findall(binding.without_names(text, g).strip())) or 1
    ok = 0 < len(text.strip()) <= g.max_chars and sentences <= g.max_sentences
    report.add("length", f"{len(text)} chars, {sentences} sentence(s)", ok,
               "within limits" if ok else f"limit {g.max_chars} chars, {g.max_sentences} sentence(s)")

    echoed = [m for m in ECHO_MARKERS if m in lowered and m not in source.lower()] + ENTITY.findall(text)
    report.add("echo", ", ".join(echoed) or "-", not echoed,
               "no instructions echoed" if not echoed else "instruction text or markup in the output")
    return report


def _discounts(text: str) -> list[str]:
    """Discounts as the share paid off: "20%" → "20", "8折"/"八折" → "20" (the zh label names what is paid)."""
    out = []
    for m in DISCOUNT.finditer(text):
        if m.group(1):
            out.append(normal_number(m.group(1)))
        else:
            paid = m.group(2)
            tenths = float(ZH_DIGITS.get(paid, paid))
            out.append(normal_number(f"{100 - tenths * 10:g}"))
    return out


ZH_DIGITS = dict(zip("一二两三四五六七八九", "1223456789", strict=True))


def _money(text: str) -> list[tuple[str, str]]:
    """Amounts said as money, as (currency symbol, amount): "$111" is ("$", "111"), "111元" ("¥", "111"). Only a
    price fact may give one, in the shop's own currency ("$58.8" for a yuan price is refused)."""
    out = []
    for m in MONEY.finditer(text):
        unit = m.group(1) or m.group(4)
        out.append((UNITS.get(unit, unit), normal_number(m.group(2) or m.group(3))))
    return out
