"""What a sentence calls an item: a short, clean name cut from an untrusted catalog title.

Catalog titles run to a hundred characters of specs ("J-B Weld 8297 HighHeat 550 Degree Epoxy Putty
Stick - 2 oz"), and a shop without Chinese titles would put them whole into a Chinese sentence of at
most 80 characters. So a name is the title's lead, cut on a word boundary; a title that is markup or
reads like an instruction or a price claim is never shown (prompt injection through titles is a real
attack), and the caller's neutral word stands in.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_NAME = 60
NAME_SUFFIXES = ("title", "title_zh", "title_en")
TAGS = re.compile(r"<[^>]*>")
WORD = re.compile(r"[A-Za-z]+")
_UNSAFE_CHARS = re.compile(r"[^\w\s\-+/.&'()（）\u3000-\u303f\u4e00-\u9fff]")
_COMMANDS = re.compile(
    r"ignore|instruction|previous|system|prompt|assistant|say |tell |script|http|www\.|\.com|click|order now|"
    r"buy now|忽略|指令|系统|提示|链接|直播|下单", re.IGNORECASE)
"""Text that speaks to the model or sends the shopper somewhere: never shown from a catalog."""
_OFFERS = re.compile(
    r"%|off\b|discount|sale|free|cheapest|lowest|best price|coupon|clearance|bogo|today only|limited time|flash sale|"
    r"最低价|折|优惠|免费|促销|秒杀|全场|限时|限量|抢购|清仓|特价|满减|立减|领券|买一送一", re.IGNORECASE)
"""Discounts, prices and urgency: only a merchant's promotion record may say them."""
_PROMISES = re.compile(r"shipping|ships free|genuine|authentic|official|guarantee|money.back|in stock|"
                       r"hurry|limited|包邮|顺丰|现货|发货|正品|官方|假一赔|旗舰店|七天无理由|退换|保证",
                       re.IGNORECASE)
"""Shipping and authenticity promises, which no record of this system backs."""
_MARKETING = re.compile(r"爆款|新款|新品|上新|热卖|热销|人气|网红|特卖|底价|直销|直供|"
                        r"best.?seller|hot sale|new arrival", re.IGNORECASE)
"""Marketplace selling words (novelty, popularity, bargain): claims only a fact may make, never catalog text."""
_NAME_BREAK = re.compile(r",|，|、|;|；|\s[-–—|]\s|\||\(|（|\[|\n|\s(?:with|for|w/)\s", re.IGNORECASE)
_DANGLING = {"by", "x", "for", "with", "and", "&", "of", "in", "to", "the", "a", "an", "-", "/", "+", "or"}
_UNITS = {"inch", "inches", "in", "oz", "ounce", "ounces", "mm", "cm", "m", "ft", "feet", "foot", "yd", "yard",
          "yards", "lb", "lbs", "pound", "pounds", "pack", "pk", "count", "ct", "pcs", "pc", "pieces", "piece",
          "gallon", "quart", "ml", "l", "liter", "g", "kg", "mil", "awg", "degree", "degrees", "long", "wide",
          "thick"}
FILLER = _DANGLING | _UNITS
_MEASURE = re.compile(r"(?i)\d{1,3}(?:[/.\-]\d+)*(?:-?[a-z]{1,6})?")
_LEADING_BRACKETS = re.compile(r"^\s*(?:\([^)]*\)|\[[^\]]*\]|（[^）]*）)\s*")
BRACKET_TAGS = re.compile(r"【[^】]*】|〖[^〗]*〗|「[^」]*」")
"""Marketplace tags ("【新品推荐】", "【顺丰空运】"): shop talk, never part of a name."""


def normalised(text: str) -> str:
    """Catalog and merchant text as a reader sees it: NFKC (full-width "ＦＲＥＥ" is "FREE", "８折" is "8折")."""
    return unicodedata.normalize("NFKC", text)


HAN = re.compile(r"[\u4e00-\u9fff]")


def is_chinese(text: str) -> bool:
    """Text written mostly in Chinese (Han characters outnumber Latin letters)."""
    han = len(HAN.findall(text))
    return han > 0 and han >= sum(c.isascii() and c.isalpha() for c in text)


def brand_in(brand: str, language: str) -> str:
    """The part of a bilingual "haier/海尔" brand a sentence in `language` shows (the Chinese part in zh, the
    Latin one in en); a brand with one form is shown as written."""
    parts = [p.strip() for p in re.split(r"[/|]", brand) if p.strip()]
    if len(parts) < 2:
        return brand.strip()
    preferred = [p for p in parts if is_chinese(p) == (language == "zh")]
    return (preferred or parts)[0]


def brand_forms(brands: set[str] | frozenset[str]) -> frozenset[str]:
    """Every way a sentence may write the catalog's brands: each brand, and each form of a bilingual one
    ("haier/海尔" is also "haier" and "海尔"), so the verifier knows the forms a name shows."""
    return frozenset(f for b in brands if b for f in (b, *(p.strip() for p in re.split(r"[/|]", b))) if f)


def hostile(text: str, offers_allowed: bool = False) -> bool:
    """Catalog or merchant text that must not reach a sentence: instructions and links, shipping or authenticity
    promises, marketplace selling words ("爆款", "新款", "best seller"), and (unless `offers_allowed`, for a
    promotion record's own label) discount or urgency words.
    Judged on the normalised, case-folded text."""
    folded = normalised(text).casefold()
    return bool(_COMMANDS.search(folded) or _PROMISES.search(folded) or _MARKETING.search(folded)
                or (not offers_allowed and _OFFERS.search(folded)))


def safe_text(text: str) -> str:
    """Catalog text is untrusted: normalised, markup and odd characters dropped, cut to a name's length."""
    return _clean(text)[:MAX_NAME].rstrip()


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _UNSAFE_CHARS.sub(" ", TAGS.sub(" ", normalised(text)))).strip()


def _lead(title: str) -> str:
    """The title up to its first break, after a leading "(2-Pack)" or "[New]"."""
    title = BRACKET_TAGS.sub(" ", title)
    title = _LEADING_BRACKETS.sub("", title) or title
    return next((part for part in _NAME_BREAK.split(title) if safe_text(part)), title)


def short_name(title: str, limit: int) -> str:
    """The title's lead: up to the first comma, dash, bar, bracket, "with"/"for", or a size after the third
    word (sizes follow the noun). Longer than `limit`, it keeps its opening words and its head noun, the
    last plain word, because English titles end on what the thing is: "HATCHBOX PLA 3D Printer Filament"
    → "HATCHBOX PLA Filament", not "…3D Printer". Sizes and counts ("4-Inch", "10yd", "2") go; model codes
    ("DW4524") and a leading brand in capitals ("3M 8210 … Respirator") stay. A Chinese lead is cut between
    words (`_whole_words`); Chinese titles read by `narrator.enrichment.zh_titles` get a composed name instead."""
    lead = _clean(_lead(title))
    if is_chinese(lead):
        return _whole_words(lead, limit).strip()
    words = lead.split()
    size_at = next((i for i, w in enumerate(words) if i >= 3 and _MEASURE.fullmatch(w)), len(words))
    words = words[:size_at]
    while len(words) > 1 and (_MEASURE.fullmatch(words[-1]) or words[-1].lower() in FILLER):
        words.pop()
    if len(" ".join(words)) <= limit:
        return " ".join(words)
    plain = [i for i, w in enumerate(words) if not re.search(r"\d", w) and w.lower() not in FILLER]
    head_at = plain[-1] if plain and plain[-1] > 0 else len(words)
    head = words[head_at:head_at + 1]
    kept: list[str] = []
    for at, word in enumerate(words[:head_at]):
        if (_MEASURE.fullmatch(word) and not _brand_code(word, at)) or word.lower() in FILLER or word in head:
            continue
        if len(" ".join([*kept, word, *head])) > limit:
            break
        kept.append(word)
    name = " ".join([*kept, *head])
    return name if kept and len(name) <= limit else _whole_words(words[0], limit)


def _brand_code(word: str, at: int) -> bool:
    """A title's first word in capitals ("3M", "4K") is its brand or line, not a size: sizes are written
    "4-Inch", "12oz", "2-Pack" (or "2-PACK": a unit word), and they follow the noun."""
    letters = "".join(c for c in word if c.isalpha())
    return at == 0 and word.isupper() and not (len(letters) > 1 and letters.lower() in _UNITS)


def _whole_words(text: str, limit: int) -> str:
    """The longest run of `text`'s leading words within `limit`: Chinese is cut between jieba's words, never
    inside one ("…日本" is not "…日"); an unspaced Latin run is cut hard."""
    if not is_chinese(text):
        return text[:limit]
    if len(text) <= limit:
        return text
    import rjieba

    kept = ""
    for word in rjieba.cut(text):
        if len(kept) + len(word) > limit:
            break
        kept += word
    return kept or text[:limit]


@lru_cache(maxsize=65_536)
def display_name(title: str, limit: int) -> str:
    """A short name safe to show, or "" for a title with markup, one whose shown words read like an
    instruction or a price claim, or one whose lead is only sizes and counts ("4 x 6 4 Mil (Heavy Duty) … Bags"
    leads with "4": no word names the thing). The shown words are judged as the catalog wrote them ("100%"
    before cleaning drops the "%"); what the cut drops never reaches the model or the shopper."""
    title = normalised(title)
    if TAGS.search(title):
        return ""
    name = short_name(title, limit)
    if not re.search(r"[^\W\d_]", name):
        return ""
    shown = " ".join(_lead(title).split()[: len(name.split())])
    return "" if hostile(name) or hostile(shown) else name
