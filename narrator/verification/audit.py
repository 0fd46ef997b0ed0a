"""The verifier's audit: sentences labelled good or bad (with the kind of error), and how the verifier
does on them — its recall on bad sentences and its false rejections of good ones, per language and
error type. Measured apart from the verifier, so its own acceptance rate never stands in for truth.

Bad sentences come two ways: real model outputs labelled by reading them (committed with the demo
audit set), and corruptions of true sentences, one error each, made here from the facts: the label is
the corruption, and a sample is read to confirm it is wrong. A corruption that leaves the sentence as
it was is dropped.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from narrator.facts import Facts
from narrator.narrate import Narrator
from narrator.prompts.phrases import PhraseBook
from narrator.verification.text_match import CJK, MODEL_CODE, NUMBER

GOOD = "good"
ERRORS = ("relation_swap", "relation_missing", "other_noun", "wrong_number", "foreign_noun", "agreement",
          "invented_claim", "entity", "garbled", "subject_dropped")
# Invented claims, phrased beyond the verifier's own claim words on purpose: recall must not be circular.
PRAISE = {"en": [", and it is on sale this week", ", and experts recommend it", ", and it is a real bargain",
                 ", and it has excellent build quality", ", and it comes with a lifetime warranty"],
          "zh": ["，而且本周在打折", "，而且性价比很高", "，而且做工精良", "，专家也推荐它", "，还享受终身保修"]}


@dataclass(frozen=True)
class AuditRow:
    """One labelled sentence: `label` is "good" or the error it contains; `source` says where it came from
    (a model's output read by hand, a template sentence, or a corruption)."""

    lang: str
    text: str
    label: str
    source: str
    facts: Facts

    def to_dict(self) -> dict:
        return {**asdict(self), "facts": self.facts.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> AuditRow:
        return cls(data["lang"], data["text"], data["label"], data["source"], Facts.from_dict(data["facts"]))


def corruptions(text: str, facts: Facts, book: PhraseBook, rng: random.Random) -> list[tuple[str, str]]:
    """(error type, corrupted text) for each corruption that applies to this true sentence."""
    out = []
    for error, make in CORRUPTIONS.items():
        bad = make(text, facts, book, rng)
        if bad and bad != text:
            out.append((error, bad))
    return out


def _named(facts: Facts, book: PhraseBook) -> list[tuple[str, str]]:
    return [(f.kind, n) for f in facts.facts for n in book.named_items(f, facts)]


def _relation_swap(text: str, facts: Facts, book: PhraseBook, rng: random.Random) -> str | None:
    """What the shopper did with a named item, said with another reason's words: "the X you bought" →
    "the X you looked at", "买过的X" → "浏览过的X"."""
    for fact in facts.facts:
        own = book.owner_words(fact.kind, fact.evidence)
        others = [words[0] for table in book.owners.values() for words in table.values() if not set(words) & set(own)]
        for name in book.named_items(fact, facts):
            for word in own:
                pattern = f"{re.escape(word)}的{re.escape(name)}" if book.language == "zh" else \
                    f"{re.escape(name)} {re.escape(word)}"
                if others and (m := re.search(pattern, text)):
                    return text[:m.start()] + m.group(0).replace(word, rng.choice(others), 1) + text[m.end():]
    return None


def _head(name: str, lang: str) -> str:
    """A name's head noun: the last plain word (en) or the last Chinese run (zh)."""
    if lang == "zh":
        runs = re.findall(r"[\u4e00-\u9fff]+", name)
        return runs[-1] if runs else ""
    words = [w for w in re.findall(r"[A-Za-z][\w\-]*", name) if not MODEL_CODE.fullmatch(w)]
    return words[-1].lower() if words else ""


def _call_item(text: str, lang: str, noun: str) -> str | None:
    """The text with the item called `noun`: "this X"/"这款X" replaced, or "it"/"它" turned into it."""
    if lang == "zh":
        if (m := re.search(r"这款[\u4e00-\u9fff]+?(?=[常与很在也而，。])", text)):
            return text[:m.start()] + f"这款{noun}" + text[m.end():]
        return text.replace("它", f"这款{noun}", 1) if "它" in text else None
    if (m := re.search(r"\bthis [a-z][\w\- ]*?(?= (?:is|together|at|fits|once|\d))", text, re.IGNORECASE)):
        return text[:m.start()] + f"this {noun}" + text[m.end():]
    return re.sub(r"\bit\b", f"this {noun}", text, count=1) if re.search(r"\bit\b", text) else None


def _other_noun(text: str, facts: Facts, book: PhraseBook, rng: random.Random) -> str | None:
    """The item called by the noun of another item the reasons name (a coffee maker for coffee beans)."""
    own = " ".join([book.item_name(facts.item), facts.item.title, facts.item.category, facts.item.category_zh]).lower()
    shown = [name for _, name in _named(facts, book) if (book.language == "zh") == bool(CJK.search(name))]
    nouns = [h for name in shown if (h := _head(name, book.language)) and h.lower() not in own]
    return _call_item(text, book.language, rng.choice(nouns)) if nouns else None


def _wrong_number(text: str, facts: Facts, book: PhraseBook, rng: random.Random) -> str | None:
    names = [book.item_name(facts.item), *(n for _, n in _named(facts, book))]
    spans = [(m.start(), m.end()) for n in names if n for m in re.finditer(re.escape(n), text)]
    found = [m for m in NUMBER.finditer(text) if not any(a <= m.start() < b for a, b in spans)]
    if not found:
        return None
    m = rng.choice(found)
    value = m.group(0)
    wrong = str(int(float(value.replace(",", ""))) + rng.choice([1, 2, 7])) if "." not in value else \
        f"{float(value) + 5:.2f}"
    return text[:m.start()] + wrong + text[m.end():]


def _foreign_noun(text: str, facts: Facts, book: PhraseBook, rng: random.Random) -> str | None:
    """zh: the item called by an English noun ("这款 stapler")."""
    if book.language != "zh":
        return None
    noun = _head(facts.item.title_en or facts.item.title, "en")
    return _call_item(text, "zh", rng.choice([noun, f" {noun}"])) if noun else None


def _agreement(text: str, facts: Facts, book: PhraseBook, rng: random.Random) -> str | None:
    """en: the item's own noun after the wrong determiner ("these drill", "this beans")."""
    head = _head(book.item_name(facts.item), "en") if book.language == "en" else ""
    called = _call_item(text, "en", head) if head else None
    if not called:
        return None
    plural = head.endswith("s") and not head.endswith("ss")
    return called if plural else called.replace(f"this {head}", f"these {head}", 1)


def _invented_claim(text: str, facts: Facts, book: PhraseBook, rng: random.Random) -> str:
    end = "。" if book.language == "zh" else "."
    return text.rstrip("。.") + rng.choice(PRAISE[book.language]) + end


def _entity(text: str, facts: Facts, book: PhraseBook, rng: random.Random) -> str | None:
    """Markup from a catalog export: "&" escaped, or a trademark entity after a brand or name."""
    if "&" in text:
        return text.replace("&", "&amp;", 1)
    brands = [facts.item.brand, *(str(f.evidence.get("brand", "")) for f in facts.facts)]
    words = [w for w in brands if w and w in text] + [n.split()[0] for _, n in _named(facts, book) if n in text]
    return text.replace(words[0], words[0] + rng.choice(["&reg;", "&trade;", "&#174;"]), 1) if words else None


CORRUPTIONS: dict[str, Callable[[str, Facts, PhraseBook, random.Random], str | None]] = {
    "relation_swap": _relation_swap, "other_noun": _other_noun, "wrong_number": _wrong_number,
    "foreign_noun": _foreign_noun, "agreement": _agreement, "invented_claim": _invented_claim, "entity": _entity,
}


def run(narrator: Narrator, rows: Iterable[AuditRow]) -> dict[str, dict[str, dict[str, float]]]:
    """Per language: the false-rejection rate on good rows, the recall on bad rows, and the recall per
    error type, each with its count."""
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in rows:
        rejected = not narrator.verify_text(row.text, row.facts, row.lang).passed
        for key in ({"good"} if row.label == GOOD else {"bad", row.label}):
            counts[row.lang][key][0] += int(rejected)
            counts[row.lang][key][1] += 1
    out: dict[str, dict[str, dict[str, float]]] = {}
    for lang, by in counts.items():
        out[lang] = {}
        for key, (hits, n) in sorted(by.items()):
            name = "false_rejection" if key == "good" else "recall" if key == "bad" else f"recall_{key}"
            out[lang][name] = {"rate": hits / n if n else 0.0, "n": n}
    return out
