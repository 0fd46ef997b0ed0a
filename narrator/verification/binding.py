"""What a sentence says about which item: what it calls the recommended item, which other items it names
and with what relation, and whether its determiners agree. `check` gives its findings as
`(rule, text, ok, why)`; the verifier adds them to its report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from narrator.verification.agreement import GENERIC_NOUNS, MAKER_NOUNS, agreement
from narrator.verification.grounding import Grounding
from narrator.verification.meaning import leading_noun
from narrator.verification.text_match import LATIN_WORD, MODEL_CODE, brands_in, cites, contains, normal_number, numbers

ZH_DEMONSTRATIVE = r"这(?:款|套|个|件|台|种|把|双|只|支|条|瓶|盒|包|组|副|些)"
""""This" with a measure word, as a sentence points at the item ("这款", "这双", "这些")."""
ZH_THIS = re.compile(rf"{ZH_DEMONSTRATIVE}(?!可以|可能)"
                     r"([^，。、；：！？,.;:!?\s常与和跟也在是很而都就为被能让的您及还已比正]+)")
EN_THIS = re.compile(r"\b(?:this|these)\s+(?!(?:is|are|was|were|has|have|pairs|goes|fits|matches|and|also|too|"
                     r"one|once|twice|can|could|will|would|which|that|often|gets|sells|comes|costs|time|week|month|year|"
                     r"together|with|for|to|from|alongside|again|now|here)\b)"
                     r"([A-Za-z][\w\-]*)(?:\s+([A-Za-z][\w\-]*))?", re.IGNORECASE)
ZH_NOUN_CHARS = 8
"""The longest Chinese noun "这款…" may call the item by: of 20,656 product types labelled in real Taobao titles (the
e-commerce NER set, train split) 99.0 % have at most 5 characters and 99.8 % at most 8; a longer run is the title's
keyword string copied ("这款化妆工具安全2把装迷你进口修眉刀日本细致刮美容"), which no shopper says."""
ZH_NO_SUBJECT = re.compile(r"(?:而且|并且|同时|另外|此外)?(?:在[^，。、；]{1,24}?类)?(?:已经?|曾经?|还|也|共)?"
                           r"(?:购买|浏览|买|看过|收藏|加购)(?!家|主|者)(?:过|了)?+(?!的(?:人|顾客|用户|买家))")
ZH_ITEM_ACTS = re.compile(r"^(?:这款|这件|这个|这台|这套|该)[^，。；;您你与和被的（(]{0,16}?(?:也|还|已经?|曾经?|都)?"
                          r"(?:购买|浏览|买|看|收藏|加购)(?:过|了)")
"""A clause whose subject is the recommended item doing what the shopper did ("这款无线电钻也浏览过它2次")."""
# Clause breaks; a point or comma inside a number ("$88.99", "1,200") is not one.
EN_CLAUSE = re.compile(r"[;:!?]|[.,](?!\d)|\b(?:and|while|but|plus)\b", re.IGNORECASE)
ZH_CLAUSE = re.compile(r"[，；;：:。！？!?、]|,(?!\d)|并且|而且|同时|此外")
# A finite "(you) bought X" run into "bought together" ("您已购买过X一起购买"); "您买过的X一起购买" is fine.
ZH_CLASH = re.compile(r"[已您]购买过[^，。；的]*一起购买")
# The shopper as the buyer of the recommended item: never true, since what a shopper bought is not recommended.
EN_YOU_BUY = re.compile(r"\byou(?:'\w+)?(?:\s+\w+){0,2}?\s+(?:buy|buys|bought|purchase|purchased)\b[^;:]*?"
                        r"\b(?:this|these|it)\b", re.IGNORECASE)
""""you" as the subject of buying (at most two words between: "you often buy", "you have already bought") and the
recommended item after it; "picked for you because shoppers often buy it" is not the shopper buying."""
ZH_YOU_BUY = re.compile(r"您[^，。；、]*?(?:(?:购买|买)[^，。；、]*?(?:这[款个件套台]|它)|"
                        r"(?:这[款个件套台]|它)[^，。；、]*?(?:购买|买))")
EN_OWNED = re.compile(r"\bthe\s+((?:[A-Za-z][\w\-']*\s+){1,4}?)(?:that\s+)?you(?:'ve|\s+have)?\s+"
                      r"(?:already\s+|recently\s+|just\s+|also\s+)?(?:bought|purchased|looked\s+at|viewed|browsed)\b",
                      re.IGNORECASE)
"""'the X you bought': what the sentence calls an item the shopper bought or looked at (names blanked first)."""
EN_OWNED_PLAIN = frozenset({"thing", "things", "stuff", "other", "others", "same", "similar", "last", "latest",
                            "recent", "previous", "earlier", "two", "three", "few", "several", "very", "one"})
# After "这款" an attribute ("这款价格$23.99", "这款销量") says "this one's price", not what the item is.
ZH_ATTRIBUTES = ("价格", "价位", "售价", "评分", "销量", "型号")


Finding = tuple[str, str, bool, str]  # (rule, text, ok, why)


def check(text: str, g: Grounding, claim_words: Iterable[str] = ()) -> list[Finding]:
    """What `text` calls the item (its own name, category or kind, never another item's noun), and every
    binding failure: swapped relations, clashing verbs, numbers outside their reason's clause, clauses that
    state no reason, English words in Chinese, disagreeing determiners and foreign head nouns."""
    bare = without_names(text, g)
    clauses = _clauses(text, bare, g.lang)
    failures = [*_relations(text, clauses, g), *_numbers_bound(text, bare, g), *_unsupported(clauses, g),
                *_foreign_words(bare, g), *agreement(text, g), *_shopper_bought_it(clauses, g),
                *_subject_dropped(clauses, g), *_owned_items_named(text, g)]
    nouns = _item_nouns_checked(text, g, set(claim_words))
    return [*nouns, *((rule, what, False, why) for rule, what, why in failures)]


def _item_nouns_checked(text: str, g: Grounding, claim_words: set[str]) -> list[Finding]:
    own = g.own_text
    out = []
    for noun in _item_nouns(text, g.lang, claim_words):
        if noun in MAKER_NOUNS["zh"]:  # "这款品牌": who makes it, never what it is
            out.append(("name", noun, False, "calls the item its maker or seller, not what it is"))
            continue
        if g.lang == "zh" and len(noun) > ZH_NOUN_CHARS:
            out.append(("name", noun, False, "calls the item by a run of title words, longer than a product type"))
            continue
        ok = _noun_backed(noun, own, g.lang) or any(_is_kind(noun, kind) for kind in g.item_kinds)
        meant = not ok and g.lang == "zh" and g.noun_judge is not None and \
            bool(head := leading_noun(noun, ZH_ATTRIBUTES)) and g.noun_judge.means(head, g.item_heads, g.item_modifiers)
        out.append(("name", noun, ok or meant, "the item's own name or category says so" if ok else
                    "means what the item's English name and category end on" if meant else
                    "calls the item something its own name and category do not say"))
    return out


def _foreign_words(bare: str, g: Grounding) -> list[tuple[str, str, str]]:
    """In zh, Latin letters only inside whole names from the facts; codes and acronyms ("PLA", "3D") are
    the name rule's."""
    if g.lang != "zh":
        return []
    return [("language", word, "an English word in Chinese text (only whole names from the facts may be Latin)")
            for word in sorted(set(LATIN_WORD.findall(bare))) if any(c.islower() for c in word)]


def _subject_dropped(clauses: list[str], g: Grounding) -> list[tuple[str, str, str]]:
    """"…一起购买，而且浏览过它2次": a clause about what the shopper did that drops its subject reads as if the
    item did it, and "这款无线电钻也浏览过它2次" says so; the phrase says "您…". The shopper carries over only from
    a clause that starts with "您"."""
    if g.lang != "zh":
        return []
    out = []
    for k, clause in enumerate(clauses):
        carried = k > 0 and clauses[k - 1].strip().startswith(("您", "你"))  # "您浏览过…，而且在…类已购买"
        if ZH_NO_SUBJECT.match(clause.strip()) and not carried:
            out.append(("language", clause.strip(), "the clause says what was done without saying who (您…)"))
        elif ZH_ITEM_ACTS.match(clause.strip()):
            out.append(("language", clause.strip(), "the item is said to have done what the shopper did (您…)"))
    return out


def _shopper_bought_it(clauses: list[str], g: Grounding) -> list[tuple[str, str, str]]:
    """"You often buy this power bank together with …" (seen from the small model): the shopper is never the
    buyer of the recommended item; shoppers buy it with what *you* bought."""
    pattern = ZH_YOU_BUY if g.lang == "zh" else EN_YOU_BUY
    return [("relation", clause.strip(), "says you bought the recommended item")
            for clause in clauses if pattern.search(clause)]


def _owned_items_named(text: str, g: Grounding) -> list[tuple[str, str, str]]:
    """"It goes well with the gloves you bought" where the reason names no item, or the window robot: an item
    the shopper bought or looked at is called by its name from the facts, a word of it, or a plain word ("the
    item you bought"), never by a noun of the model's own, nor by the recommended item's own name or kind ("the
    cordless drill you bought" for a drill bought with a window robot). Read in the raw text: blanking names
    would hide the recommended item's."""
    if g.lang != "en":
        return []
    names = " ".join(n for _, shown in g.objects for n in shown)
    out = []
    for m in EN_OWNED.finditer(text):
        unknown = [w for w in m.group(1).split()
                   if w.lower() not in EN_OWNED_PLAIN and not _noun_backed(w, names, "en")]
        if unknown:
            out.append(("name", m.group(0).strip(), f"calls an item you bought or looked at '{unknown[0]}', which "
                                                     "no reason says"))
    return out


def _is_kind(noun: str, kind: str) -> bool:
    """"电钻价格" is an 电钻; "钻头套装" is not a 钻 (a one-character kind must be the whole noun)."""
    return noun == kind or (len(kind) >= 2 and noun.startswith(kind))


def _clauses(text: str, bare: str, lang: str) -> list[str]:
    """The text's clauses, cut where `bare` (the text with its names blanked) has separators, so a name
    from the facts is never cut ("E.C. Kraus", "Alex Plus Silicone")."""
    return [text[a:b] for a, b in _clause_spans(bare, lang) if text[a:b].strip()]


def _relations(text: str, clauses: list[str], g: Grounding) -> list[tuple[str, str, str]]:
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

    taken = {label for label in g.labels} | set(g.brands)  # an item titled only by its brand names no item
    phrases = {kind: phrase for kind, phrase, _ in g.reasons}
    shown = {kind: [n for n in names if contains(phrases.get(kind, ""), n)] for kind, names in g.objects}
    out = []
    for clause in clauses:
        named = [kind for kind, names in g.objects if any(_names(clause, n) for n in names if n not in taken)]
        problems = [swapped(kind, clause) for kind in named]
        if named and all(problems):  # one name may belong to two reasons: one right reading is enough
            out.append(("relation", clause.strip(), str(problems[0])))
        for kind, words in cues.items():  # "bought together with this scale": the relation without its item
            if shown.get(kind) and any(contains(clause, w) for w in words) and \
                    not any(cites(clause, n, g.brands) for names in shown.values() for n in names):
                out.append(("relation", clause.strip(), f"states the {kind} relation without the item it is with"))
    if g.lang == "zh" and (clash := ZH_CLASH.search(text)):
        out.append(("relation", clash.group(0), "two verbs clash: a purchase and a co-purchase of one item"))
    return out


def _numbers_bound(text: str, bare: str, g: Grounding) -> list[tuple[str, str, str]]:
    """A number says what its reason says: "(135 purchases)" is not "viewed 135 times". Each number outside
    a name needs, in its clause or the one before, a cue word of a reason whose phrase holds that number."""
    spans = _clause_spans(bare, g.lang)
    in_names = {normal_number(n) for name in g.names for n in numbers(name, g.lang)}
    out = []
    for m in re.finditer(r"(?<![A-Za-z\d.])\d+(?:[.,]\d+)*(?![A-Za-z\d])", bare):  # not codes ("B35", "20V")
        number = normal_number(m.group(0).replace(",", ""))
        owners = [cues for _, phrase, cues in g.reasons
                  if number in {normal_number(n) for n in numbers(phrase, g.lang)}]
        if not owners:
            if number in in_names:  # only a name holds it ("4-Person Tent" is no count of views)
                out.append(("number", m.group(0), "a number from a name, used outside it"))
            continue  # an invented number is the number rule's
        at = next(i for i, (a, b) in enumerate(spans) if a <= m.start() < b)  # numbers are never separators
        window = text[spans[max(at - 1, 0)][0]:spans[at][1]]
        if not any(contains(window, cue) for cues in owners for cue in cues):
            out.append(("number", m.group(0), "this number belongs to a reason its clause does not state"))
    return out


def _unsupported(clauses: list[str], g: Grounding) -> list[tuple[str, str, str]]:
    """Every clause states a reason (one of its cue words, names or values) or names the item: a clause
    that states none ("and experts recommend it", "而且性价比很高") is a claim no fact makes, however it
    is worded. A short lead-in ("Recommended because", "推荐理由") opening the sentence states nothing, and so
    may the one clause of a sentence given no reasons at all (a template's neutral sentence: "Picked for you")."""
    cues = [c for _, _, cs in g.reasons for c in cs] + [p for _, p, _ in g.reasons] + g.names
    out = []
    for n, clause in enumerate(clauses):
        if not g.reasons and n == 0:
            continue
        size = len(re.findall(r"[\u4e00-\u9fff]", clause)) if g.lang == "zh" else len(re.findall(r"[A-Za-z]+", clause))
        lead_in = n == 0 and size <= (4 if g.lang == "zh" else 2)
        if not lead_in and not any(contains(clause, c) for c in cues):
            out.append(("claim", clause.strip(), "a clause that states none of the reasons"))
    return out


def _clause_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Where each clause lies, separators left out."""
    spans, start = [], 0
    for m in (ZH_CLAUSE if lang == "zh" else EN_CLAUSE).finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    return [*spans, (start, len(text))]


def _names(clause: str, name: str) -> bool:
    """A clause names an item by its whole name or its model code; a brand alone may be another reason's."""
    return contains(clause, name) or any(contains(clause, c) for c in MODEL_CODE.findall(name) if not c.isdigit())


def without_names(text: str, g: Grounding) -> str:
    """The text with every name from the facts (the item's, the named items', the brands) blanked out,
    each character by a space, so positions still match the text."""
    for name in sorted([*g.names, *brands_in(text, g.brands)], key=len, reverse=True):
        if name:
            text = re.sub(re.escape(name), lambda m: " " * len(m.group(0)), text, flags=re.IGNORECASE)
    return text


def _item_nouns(text: str, lang: str, claim_words: set[str]) -> list[str]:
    """What the text calls the item: the head after "这款" (its first Chinese run) or the word after "this"
    (after a claim word, which has its own rule, in either language)."""
    if lang == "zh":
        runs = (re.search(r"[\u4e00-\u9fff]+", m.group(1)) for m in ZH_THIS.finditer(text))
        leading = sorted(claim_words, key=len, reverse=True)
        nouns = [next((r.group(0)[len(w):] for w in leading if r.group(0).startswith(w)), r.group(0))
                 for r in runs if r]  # "这款新品电钻": the claim word has its own rule
        return [n for n in nouns if n and not n.startswith(ZH_ATTRIBUTES)]
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
    compound = len(word) >= 3 and any(w.lower().endswith(word) for w in re.findall(r"[A-Za-z]+", source))
    plain = any(contains(source, w) for w in (word, word.rstrip("s"), word + "s"))
    return word in GENERIC_NOUNS["en"] or compound or plain
