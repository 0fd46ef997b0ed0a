"""The narrator's policy: generate → verify → one stricter retry → deterministic template fallback.

A shopper only ever reads a sentence that passed the verifier or the template sentence made of the
editor's true phrases; the `Explanation` says which, how many attempts it took, which prompt and
model produced it, and how long each step took. Sentences are cached by (model, prompt id+version,
language, facts hash), since greedy decoding makes the same inputs give the same text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from cachetools import LRUCache

from narrator.backends import Backend, Generation
from narrator.facts import Facts
from narrator.prompts.library import PromptLibrary
from narrator.prompts.names import brand_forms, is_chinese, short_name
from narrator.prompts.templates import PromptTemplate
from narrator.reason_store import ReasonStore
from narrator.verification.meaning import NounJudge, phrase_parts
from narrator.verification.neutral_noun import neutralised
from narrator.verification.verify import Grounding, VerificationReport, verify

Mode = Literal["template", "llm", "auto"]
MODES = ("template", "llm", "auto")
TEMPLATE_MODEL = "template"


@dataclass
class Explanation:
    """One served reason and how it came to be (what the API returns and the benchmarks count)."""

    text: str
    lang: str
    style: str
    cited: list[str]
    verified: bool
    fallback_used: bool
    attempts: int
    prompt_id: str
    prompt_version: int
    model_id: str
    timings: dict[str, float] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    cache_hit: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class Narrator:
    """Turns facts into a verified sentence. Thread-safe: backends serialise their own model calls."""

    def __init__(self, prompts: PromptLibrary, backend: Backend | None = None, brands: set[str] | None = None,
                 cache_size: int = 20_000, max_tokens: int = 80, written_ahead: ReasonStore | None = None,
                 attempts: int = 2, noun_judge: NounJudge | None = None):
        self.prompts, self.backend, self.written_ahead = prompts, backend, written_ahead
        self.noun_judge = noun_judge
        """`noun_judge`: lets a zh sentence call an English-titled item by a noun no list knows when it means
        what the item is (`narrator.verification.meaning`); without it, only the item's text and kinds do."""
        self.brands = brand_forms(brands or set())
        self.max_tokens, self.attempts = max_tokens, attempts
        """`attempts`: model tries before the template; each retry names what the verifier refused last time.
        Two online (a shopper waits); the batch job, which nobody waits for, may afford more."""
        self._cache: LRUCache[tuple, Explanation] | None = LRUCache(cache_size) if cache_size > 0 else None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.backend.model_id if self.backend else TEMPLATE_MODEL

    def grounding(self, facts: Facts, template: PromptTemplate) -> Grounding:
        book = self.prompts.phrases[template.language]
        reasons = tuple((f.kind, book.phrase(f, facts), tuple(book.cue_words(f, facts))) for f in facts.facts)
        given = {f.kind for f in facts.facts}
        other_cues = tuple((kind, cue) for kind, cues in book.static_cues.items() if kind not in given for cue in cues)
        kinds = book.item_kinds(facts.item)
        objects = tuple((f.kind, names) for f in facts.facts if (names := book.named_items(f, facts)))
        labels = tuple(label for f in facts.facts for label in book.labels(f, facts))
        heads, modifiers = self._english_parts(facts, template.language)
        return Grounding(template.language, reasons, book.item_name(facts.item), self.brands,
                         book.item_category(facts.item), kinds, book.item_kind(facts.item, kinds), other_cues,
                         template.max_chars, template.max_sentences, objects, book.relations(facts), labels,
                         heads, modifiers, self.noun_judge)

    def _english_parts(self, facts: Facts, lang: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What a zh noun is judged against (`meaning.phrase_parts`): an item's English name and category, when
        it has no Chinese title of its own (a Chinese title backs its nouns by text)."""
        item = facts.item
        if lang != "zh" or self.noun_judge is None or item.title_zh or is_chinese(item.title):
            return (), ()
        return phrase_parts(short_name(item.title_en or item.title, 80), item.category.split(">")[-1], item.kind_en)

    def fallback_text(self, facts: Facts, template: PromptTemplate, g: Grounding | None = None) -> str:
        """The deterministic sentence: the template's fallback over the true phrases."""
        g = g or self.grounding(facts, template)
        return template.render("fallback", g.item_name, [p for _, p, _ in g.reasons])

    def explain(self, facts: Facts, lang: str = "en", style: str = "short", mode: Mode = "auto",
                prompt_id: str | None = None) -> Explanation:
        """A served sentence for `facts`. `template`: the deterministic sentence; `llm`/`auto`: the model's
        sentence if it passes the verifier (after at most one stricter retry), else the template one.
        Without a backend, `auto` serves the template sentence and `llm` is an error."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if mode == "llm" and self.backend is None:
            raise RuntimeError("mode 'llm' needs a text model backend; none is loaded")
        template = self.prompts.template(lang, style, prompt_id)
        if not facts.facts:
            raise ValueError(f"no reasons to explain for item {facts.item.item_id!r}")
        said = None if mode == "template" or self.backend is None else self.sayable(facts, template)
        if said is None or not said.facts:
            return self._template(facts, template, attempts=0, fallback=False)
        key = self._key(facts, template)
        hit = self._lookup(key)
        if hit is not None:
            return hit
        result = self._generate(said, template)
        if self._cache is not None:
            with self._lock:
                self._cache[key] = result
        return result

    def sayable(self, facts: Facts, template: PromptTemplate) -> Facts:
        """The facts whose catalog and merchant text may be shown (`PhraseBook.sayable`): a reason whose brand
        or category is an offer or an instruction is not said, whoever writes the sentence."""
        book = self.prompts.phrases[template.language]
        kept = tuple(f for f in facts.facts if book.sayable(f))
        return facts if len(kept) == len(facts.facts) else replace(facts, facts=kept)

    def _key(self, facts: Facts, template: PromptTemplate) -> tuple:
        return self.model_id, template.id, template.version, template.language, template.style, facts.content_hash()

    def cache_key(self, facts: Facts, lang: str, style: str = "short", prompt_id: str | None = None) -> tuple:
        """What a model sentence is cached by: model, prompt id and version, language, style, facts hash."""
        return self._key(facts, self.prompts.template(lang, style, prompt_id))

    def cached(self, facts: Facts, lang: str, style: str = "short", prompt_id: str | None = None) -> Explanation | None:
        """The model's sentence for these facts if one was made before (no generation)."""
        return self._lookup(self.cache_key(facts, lang, style, prompt_id))

    def _lookup(self, key: tuple) -> Explanation | None:
        """A sentence made before: in this process's cache, else in the reason store written ahead."""
        hit = None
        if self._cache is not None:
            with self._lock:
                hit = self._cache.get(key)
        if hit is not None:
            return Explanation(**{**asdict(hit), "cache_hit": True})
        stored = self.written_ahead.get(*key) if self.written_ahead is not None else None
        if stored is None:
            return None
        _, _, _, lang, style, _ = key
        return Explanation(stored.text, lang, style, stored.cited, True, stored.fallback_used, stored.attempts,
                           stored.prompt_id, stored.prompt_version, stored.model_id, {"written_ahead": 1.0},
                           cache_hit=True)

    def fallback(self, facts: Facts, lang: str, style: str, why: str, prompt_id: str | None = None) -> Explanation:
        """The template sentence served in place of the model's (deadline passed, queue full): marked
        `fallback_used`, with `why` in the timings' keys so operators can count it."""
        template = self.prompts.template(lang, style, prompt_id)
        return self._template(facts, template, attempts=0, fallback=True, timings={f"fallback_{why}": 1.0})

    def _template(self, facts: Facts, template: PromptTemplate, attempts: int, fallback: bool,
                  timings: dict | None = None, rejected: list[str] | None = None,
                  g: Grounding | None = None) -> Explanation:
        start = time.perf_counter()
        text, report, dropped = self._true_template(facts, template, g)
        timings = {**(timings or {}), "template_s": time.perf_counter() - start}
        if dropped:
            timings["dropped_reasons"] = float(dropped)
        return Explanation(text, template.language, template.style, report.cited, report.passed, fallback, attempts,
                           template.id, template.version, TEMPLATE_MODEL if not attempts else self.model_id, timings,
                           report.to_dict(), rejected or [])

    def _true_template(self, facts: Facts, template: PromptTemplate,
                       g: Grounding | None = None) -> tuple[str, VerificationReport, int]:
        """The template sentence, verified; when the verifier refuses it (a reason whose catalog text claims a
        discount, say), the sentence over the reasons that pass on their own, strongest first, else the template's
        neutral sentence. A template sentence that fails is never served. Returns the text, its report and how
        many reasons were dropped."""
        said = self.sayable(facts, template)
        if said.facts:
            text, report = self._verified_over(said, template, g if said is facts else None)
            if report.passed:
                return text, report, len(facts.facts) - len(said.facts)
            alone = [f for f in said.facts if self._verified_over(replace(said, facts=(f,)), template)[1].passed]
            for kept in (alone, alone[:1]):
                if kept:
                    text, report = self._verified_over(replace(said, facts=tuple(kept)), template)
                    if report.passed:
                        return text, report, len(facts.facts) - len(kept)
        return (*self._verified_over(replace(facts, facts=()), template), len(facts.facts))

    def _verified_over(self, facts: Facts, template: PromptTemplate,
                       g: Grounding | None = None) -> tuple[str, VerificationReport]:
        """The template's sentence over `facts` (its neutral sentence when there are none) and its report."""
        g = g or self.grounding(facts, template)
        text = self.fallback_text(facts, template, g) if facts.facts else template.neutral(g.item_name)
        return text, verify(text, g)

    def messages(self, facts: Facts, template: PromptTemplate, rejected: VerificationReport | None = None,
                 g: Grounding | None = None) -> list[dict[str, str]]:
        """The chat prompt; after a rejected answer, with the retry text naming what broke."""
        g = g or self.grounding(facts, template)
        problems = None
        if rejected is not None:
            book = self.prompts.phrases[template.language]
            problems = list(dict.fromkeys(book.problems[c.rule] for c in rejected.failures))
        return template.messages(g.item_name, [p for _, p, _ in g.reasons], retry=problems,
                                 item_kind=g.item_kind)

    def _generate(self, facts: Facts, template: PromptTemplate, first: Generation | None = None) -> Explanation:
        """Up to `attempts` tries (each retry with the stricter text naming what broke), then the fallback;
        `first` is an attempt already generated elsewhere (the streamed one). A refused attempt is first tried
        with the plain word for the item in place of the noun it gave (`neutralised`, verified again; marked
        `noun_neutralised` in the timings, the refused text kept in `rejected`), which saves a generation."""
        backend = self.backend
        if backend is None:
            raise RuntimeError("generating needs a text model backend; none is loaded")
        g = self.grounding(facts, template)
        timings: dict[str, float] = {}
        rejected: list[str] = []
        report = None
        for attempt in range(1, self.attempts + 1):
            generation = first if attempt == 1 and first is not None else \
                backend.generate(self.messages(facts, template, report, g), self.max_tokens)
            timings[f"generate_{attempt}_s"] = generation.seconds
            timings[f"tokens_{attempt}"] = generation.completion_tokens
            text, report = generation.text, verify(generation.text, g)
            if not report.passed and (plain := self._noun_made_plain(text, report, g)):
                rejected.append(text)
                (text, report), timings["noun_neutralised"] = plain, 1.0
            if report.passed:
                return Explanation(text, template.language, template.style, report.cited, True, False,
                                   attempt, template.id, template.version, self.model_id, timings, report.to_dict(),
                                   rejected)
            rejected.append(text)
        return self._template(facts, template, attempts=self.attempts, fallback=True, timings=timings,
                              rejected=rejected, g=g)

    @staticmethod
    def _noun_made_plain(text: str, report: VerificationReport, g: Grounding) -> tuple[str, VerificationReport] | None:
        """The refused `text` with the plain word for the item (`neutralised`) and its report, when that passes."""
        plain = neutralised(text, g.lang, [c.text for c in report.failures])
        if plain is None:
            return None
        again = verify(plain, g)
        return (plain, again) if again.passed else None

    def verify_text(self, text: str, facts: Facts, lang: str, style: str = "short") -> VerificationReport:
        return verify(text, self.grounding(facts, self.prompts.template(lang, style)))

    def stream(self, facts: Facts, lang: str = "en", style: str = "short") -> Iterator[tuple[str, object]]:
        """Events for a live view: ("token", piece) while the first attempt is generated, then
        ("final", Explanation) — the verified text, or the retry/fallback result, clearly marked."""
        template = self.prompts.template(lang, style)
        facts = self.sayable(facts, template)
        if self.backend is None or not facts.facts:
            yield "final", self._template(facts, template, attempts=0, fallback=False)
            return
        start = time.perf_counter()
        pieces = []
        for piece in self.backend.stream(self.messages(facts, template), self.max_tokens):
            pieces.append(piece)
            yield "token", piece
        first = Generation("".join(pieces).strip(), len(pieces), time.perf_counter() - start)
        yield "final", self._generate(facts, template, first)
