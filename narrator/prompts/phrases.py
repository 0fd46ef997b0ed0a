"""The phrase book of one language: one true phrase per fact kind, which the model is asked to rewrite
and the fallback sentence joins, plus the cue words that show a fact was cited, the verifier's problem
texts, and how items are named and called ("这款胶带") in that language."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import TemplateError

from narrator.facts import FACT_KINDS, Fact, Facts, ItemRef
from narrator.prompts.names import HAN, NAME_SUFFIXES, WORD, brand_in, display_name, hostile, safe_text
from narrator.prompts.templating import PromptError, check_compiles, line_of, read_toml, render, render_frozen

LANGUAGES = ("zh", "en")
RULES = ("number", "brand", "name", "claim", "relation", "citation", "language", "length", "echo")
DEFAULT_NAME_CHARS = {"zh": 24, "en": 42}
DEFAULT_UNNAMED_ITEM = {"zh": "商品", "en": "item"}
MIN_NAME_CHARS = 8
CURRENCY_SHOWN = re.compile(r"[$¥€£]|[A-Z]{3} ")


@dataclass
class PhraseBook:
    """Deterministic phrase per fact kind in one language; the ground truth the model rewrites.

    It also decides how items are *named* in that language (`narrator.prompts.names`): a title's lead cut to
    `name_chars`, and the book's neutral `unnamed_item` for a title that must not be shown."""

    path: Path
    language: str
    texts: dict[str, str]
    cues: dict[str, tuple[str, ...]]
    owners: dict[str, dict[str, tuple[str, ...]]]  # kind → the fact's `relation` ("" for one list) → words
    problems: dict[str, str]
    name_chars: int
    unnamed_item: str
    glossary: dict[str, tuple[str, ...]] = field(default_factory=dict)
    text: str = field(repr=False, default="")

    @classmethod
    def load(cls, path: Path) -> PhraseBook:
        data, text = read_toml(path)
        language = data.get("language")
        if language not in LANGUAGES:
            raise PromptError(path, line_of(text, "language"), f"language must be one of {LANGUAGES}")
        name_chars = data.get("name_chars", DEFAULT_NAME_CHARS[language])
        if not isinstance(name_chars, int) or name_chars < MIN_NAME_CHARS:
            raise PromptError(path, line_of(text, "name_chars"),
                              f"name_chars must be a whole number of at least {MIN_NAME_CHARS}")
        unnamed_item = data.get("unnamed_item", DEFAULT_UNNAMED_ITEM[language])
        if not isinstance(unnamed_item, str) or not unnamed_item.strip():
            raise PromptError(path, line_of(text, "unnamed_item"), "unnamed_item must be a non-empty text")
        texts, cues, owners = {}, {}, {}
        for kind in FACT_KINDS:
            if kind not in data or "text" not in data[kind]:
                raise PromptError(path, line_of(text, kind), f"missing [{kind}] with a `text` phrase")
            texts[kind] = data[kind]["text"]
            cues[kind] = tuple(data[kind].get("cues", ()))
            if (owner := _owners(path, text, kind, data[kind].get("owner", []))):
                owners[kind] = owner
            for source in (texts[kind], *cues[kind]):
                check_compiles(path, text, kind, source)
        problems = data.get("problems", {})
        missing = [rule for rule in RULES if rule not in problems]
        if missing:
            raise PromptError(path, line_of(text, "problems"), f"[problems] needs a text for {missing}")
        return cls(path, language, texts, cues, owners, {r: str(problems[r]) for r in RULES}, name_chars,
                   unnamed_item.strip(), _glossary(path, text, data.get("glossary", {})), text)

    @cached_property
    def static_cues(self) -> dict[str, tuple[str, ...]]:
        """Each kind's cue words that need no evidence ("一起", "similar"): they claim the kind wherever they occur."""
        return {kind: tuple(c for c in cues if "{" not in c) for kind, cues in self.cues.items()}

    def owner_words(self, kind: str, evidence: dict[str, Any]) -> tuple[str, ...]:
        """How a sentence says what the shopper did with the item a fact names. A kind whose `owner` is a
        table keyed by the fact's `relation` ("bought"/"viewed") has words per relation; a fact that says
        none (written before the field existed) takes the table's first entry."""
        table = self.owners.get(kind, {})
        return table.get(str(evidence.get("relation", "")), next(iter(table.values()), ()))

    def relations(self, facts: Facts) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
        """(kind, relation cue words, owner words) of each kind that names another item, with the owner words
        of the fact of that kind in `facts`; the words of its other relations follow as `kind:relation`
        without cues, so they count as another reason's words ("the X you looked at" for a bought X)."""
        evidence = {f.kind: f.evidence for f in facts.facts}
        out = []
        for kind, table in self.owners.items():
            own = self.owner_words(kind, evidence.get(kind, {}))
            out.append((kind, self.static_cues[kind], own))
            out.extend((f"{kind}:{rel}", (), words) for rel, words in table.items() if words != own)
        return tuple(out)

    def named_items(self, fact: Fact, facts: Facts) -> tuple[str, ...]:
        """The other items this fact names, as the phrase shows them ("the X you bought")."""
        variables = self._variables(fact, facts)
        names = (variables[k] for k in fact.evidence if k.endswith(NAME_SUFFIXES))
        return tuple(dict.fromkeys(n for n in names if n and n != self.unnamed_item))

    def labels(self, fact: Fact, facts: Facts) -> tuple[str, ...]:
        """The other names a fact's phrase shows: brands, the category's name in this language (none when the
        catalog writes it only in the other: "First Aid Supplies" is not shown in a zh sentence), the shopper's
        query as they typed it, and a promotion label as the merchant wrote it."""
        variables = self._variables(fact, facts)
        values = (variables.get(k) for k in ("brand", f"category_{self.language}", "query", "label"))
        return tuple(v for v in values if isinstance(v, str) and v)

    def sayable(self, fact: Fact) -> bool:
        """Whether the catalog and merchant text the fact's phrase would show may reach a sentence: a brand or
        category that is an offer, a promise or an instruction ("限时8折", "包邮", "ＦＲＥＥ shipping") is not
        shown, so its reason is not said; a promotion record's label may say its discount."""
        return not any(isinstance(value := fact.evidence.get(k), str) and hostile(value, offers_allowed=k == "label")
                       for k in ("brand", "category", "category_zh", "category_en", "label"))

    def name(self, title: str) -> str:
        """What a sentence calls a referenced item: its short, clean name, or "" when it must not be shown (or,
        in English, when it is Chinese: a sentence names items in its own language)."""
        name = display_name(title, self.name_chars)
        return "" if self.language == "en" and HAN.search(name) else name

    def item_name(self, item: ItemRef) -> str:
        """The recommended item's name in this language; for a hostile title, brand + category."""
        name = self.name((item.title_zh if self.language == "zh" else item.title_en) or item.title)
        if name:
            return name
        return self.name(" ".join(p for p in (item.brand, self.item_category(item)) if p)) or self.unnamed_item

    def item_category(self, item: ItemRef) -> str:
        """The last level of the item's category in this language (what "这款…"/"this …" may call it)."""
        own = item.category_zh if self.language == "zh" else item.category_en
        category = own or item.category
        return safe_text(category.split(">")[-1].strip())

    def item_kinds(self, item: ItemRef) -> tuple[str, ...]:
        """What the item is in this language: its enriched kind (the catalog enrichment, grounded against its
        own title), then the glossary's words for the head noun of its name and of its category ("…PLA
        Filament" → "耗材"): the last word only, so "3D Printer Filament" is not a printer and "Inkjet Printer
        Ink" is not one either when the glossary lacks "ink". A sentence may call the item by any of these."""
        enriched = item.kind_zh if self.language == "zh" else item.kind_en
        kinds: dict[str, None] = {enriched: None} if enriched else {}
        for text in (self.name(item.title), item.category.split(">")[-1]):
            words = WORD.findall(text.lower())
            head = words[-1] if words else ""
            key = next((k for k in (head, head.removesuffix("s"), head.removesuffix("es")) if k in self.glossary), None)
            if key:
                kinds.update(dict.fromkeys(self.glossary[key]))
        return tuple(kinds)

    def item_kind(self, item: ItemRef, kinds: tuple[str, ...]) -> str:
        """Of the item's `kinds`, the one the prompt offers (`item_kind`): only for an item without a title
        in this language, whose name the model would otherwise translate by guessing."""
        own_title = item.title_zh if self.language == "zh" else item.title_en
        return kinds[0] if kinds and not own_title else ""

    def _variables(self, fact: Fact, facts: Facts) -> dict[str, Any]:
        """The evidence as a phrase shows it; a price always has a `currency` ("" when the catalog says none). A
        category's name in this language (`category_zh`, `category_en`) is "" when the catalog has none written
        in it: an English sentence does not say "4 items in 裤子", nor a Chinese one "在Small Parts类", and the
        phrase says "the same category" / "同类商品" instead."""
        variables = {k: self._value(k, v) for k, v in fact.evidence.items()}
        if fact.kind == "price":
            variables.setdefault("currency", "")
        if "category" in variables:
            own = f"category_{self.language}"
            name = str(variables.get(own, variables["category"]))
            variables[own] = name if bool(HAN.search(name)) == (self.language == "zh") else ""
        return {**variables, "cold_start": facts.cold_start}

    def _value(self, key: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if key == "currency":
            return value if CURRENCY_SHOWN.fullmatch(value) else ""
        if key == "brand":
            return safe_text(brand_in(value, self.language))
        if key.endswith(NAME_SUFFIXES):
            return self.name(value) or self.unnamed_item
        if key == "query":  # the shopper's own words, in their language
            return display_name(value, self.name_chars)
        return safe_text(value)

    def phrase(self, fact: Fact, facts: Facts) -> str:
        return self._render_fact(fact.kind, self.texts[fact.kind], self._variables(fact, facts))

    def cue_words(self, fact: Fact, facts: Facts) -> list[str]:
        """Words that show the model cited `fact`; the neutral name stands for any item, so it cites nothing."""
        variables = self._variables(fact, facts)
        words = (self._render_fact(fact.kind, c, variables) for c in self.cues[fact.kind])
        return [w for w in words if w and w != self.unnamed_item]

    def _render_fact(self, kind: str, source: str, variables: dict[str, Any]) -> str:
        try:
            frozen = tuple(sorted(variables.items()))
            hash(frozen)
        except TypeError:
            return render(self.path, self.text, kind, source, variables)
        try:
            return render_frozen(source, frozen)
        except TemplateError as e:
            raise PromptError(self.path, line_of(self.text, kind), f"{kind}: {e}") from None


def _owners(path: Path, text: str, kind: str, owner: object) -> dict[str, tuple[str, ...]]:
    """`owner = [words]`, or a table of lists keyed by the fact's `relation` (`owner.bought = […]`)."""
    if owner == []:
        return {}
    table: dict[str, object] = owner if isinstance(owner, dict) else {"": owner}
    out = {}
    for rel, words in table.items():
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            where = f"owner.{rel}" if rel else "owner"
            raise PromptError(path, line_of(text, kind), f"[{kind}] {where} must be a list of non-empty words")
        out[rel] = tuple(w.strip() for w in words)
    return out


def _glossary(path: Path, text: str, table: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise PromptError(path, line_of(text, "glossary"), "[glossary] must be a table of word = [\"term\", …]")
    glossary = {}
    for word, terms in table.items():
        if not isinstance(terms, list) or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
            raise PromptError(path, line_of(text, "glossary", f"{word} ="),
                              f"glossary: {word!r} needs a list of one or more non-empty terms")
        glossary[word.lower()] = tuple(t.strip() for t in terms)
    return glossary
