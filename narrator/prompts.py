"""Editor-owned prompt templates and reason phrases, loaded from `prompts/` and rendered strictly.

Editors are not programmers, so the files are TOML with comments, and every mistake is reported as
`file:line: message` instead of producing a quietly wrong prompt: an undefined variable is an error
(Jinja2 `StrictUndefined`), and templates run in Jinja's sandbox because they are data, not code.

A template (`<id>.<lang>.toml`) holds metadata (id, version, language, style, limits, description),
the system text, few-shot examples, the user text, a stricter retry text and the deterministic
fallback sentence. A phrase file (`phrases.<lang>.toml`) holds one phrase per fact kind; the model is
asked to rewrite those true phrases, and the fallback joins them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from narrator.facts import FACT_KINDS, Fact, Facts, ItemRef

LANGUAGES = ("zh", "en")
STYLES = ("short", "detailed")
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "prompts"

TEMPLATE_VARIABLES = {
    "item_name": "the item's name as shown to the shopper (cleaned of markup and instructions)",
    "item_kind": "what kind of thing the item is in the template's language, from the phrase book's glossary "
                 "(\"胶带\" for a tape), or empty",
    "reasons": "the reason phrases, strongest first (a list of strings)",
    "max_chars": "the template's length limit",
    "problems": "in `retry` only: what was wrong with the rejected answer (phrases from [problems], a list)",
}
RULES = ("number", "brand", "name", "claim", "citation", "language", "length", "echo")
REQUIRED_KEYS = ("id", "version", "language", "style", "max_chars", "max_sentences", "max_reasons", "description",
                 "system", "user", "retry", "fallback")
RENDERED_KEYS = ("system", "user", "retry", "fallback")

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=4096)
def _compiled(source: str):
    """Compiling a template costs about a millisecond; a served reason renders several, so keep them."""
    return _ENV.from_string(source)


class PromptError(ValueError):
    """A problem in an editor's file, located as `file:line`."""

    def __init__(self, path: Path | str, line: int, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{path}:{line}: {message}")


def _line_of(text: str, key: str, needle: str | None = None) -> int:
    """The line where `key = …` (or a `[key]` table) starts — or where `needle` first occurs after it —
    for error messages."""
    match = re.search(rf"^[ \t]*(\[{re.escape(key)}\]|{re.escape(key)}[ \t]*=)", text, re.MULTILINE)
    start = match.start() if match else 0
    if needle and (found := text.find(needle, start)) >= 0:
        start = found
    return text[:start].count("\n") + 1


def read_toml(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        found = re.search(r"line (\d+)", str(e))
        raise PromptError(path, int(found.group(1)) if found else 1, f"not valid TOML: {e}") from None


def _compile(path: Path, text: str, key: str, source: str):
    try:
        return _ENV.from_string(source)
    except TemplateError as e:
        line = _line_of(text, key) + max(getattr(e, "lineno", 1) or 1, 1) - 1
        raise PromptError(path, line, f"{key}: {e}") from None


def _render(path: Path, text: str, key: str, template, variables: dict) -> str:
    try:
        return template.render(**variables).strip()
    except TemplateError as e:
        raise PromptError(path, _line_of(text, key), f"{key}: {e}") from None


@dataclass(frozen=True)
class Example:
    item_name: str
    reasons: tuple[str, ...]
    reply: str
    item_kind: str = ""


@dataclass
class PromptTemplate:
    """One template file: metadata, compiled texts and few-shot examples."""

    path: Path
    id: str
    version: int
    language: str
    style: str
    max_chars: int
    max_sentences: int
    max_reasons: int
    description: str
    examples: tuple[Example, ...]
    sources: dict[str, str]
    text: str = field(repr=False, default="")

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @classmethod
    def load(cls, path: Path) -> PromptTemplate:
        data, text = read_toml(path)
        for key in REQUIRED_KEYS:
            if key not in data:
                raise PromptError(path, 1, f"missing '{key}' (every template sets {', '.join(REQUIRED_KEYS)})")
        if data["language"] not in LANGUAGES:
            raise PromptError(path, _line_of(text, "language"), f"language must be one of {LANGUAGES}")
        if data["style"] not in STYLES:
            raise PromptError(path, _line_of(text, "style"), f"style must be one of {STYLES}")
        for key in ("version", "max_chars", "max_sentences", "max_reasons"):
            if not isinstance(data[key], int) or data[key] <= 0:
                raise PromptError(path, _line_of(text, key), f"{key} must be a positive whole number")
        for key in RENDERED_KEYS:
            unknown = meta.find_undeclared_variables(_ENV.parse(data[key])) - set(TEMPLATE_VARIABLES)
            if unknown:
                raise PromptError(path, _line_of(text, key, sorted(unknown)[0]),
                                  f"{key}: undocumented variable(s) {sorted(unknown)}; "
                                  f"use only {sorted(TEMPLATE_VARIABLES)}")
            _compile(path, text, key, data[key])
        examples = []
        for n, ex in enumerate(data.get("examples", []), 1):
            if not {"item_name", "reasons", "reply"} <= set(ex):
                raise PromptError(path, _line_of(text, "[examples]"), f"example {n} needs item_name, reasons, reply")
            examples.append(Example(str(ex["item_name"]), tuple(ex["reasons"]), str(ex["reply"]),
                                    str(ex.get("item_kind", ""))))
        return cls(path, str(data["id"]), data["version"], data["language"], data["style"], data["max_chars"],
                   data["max_sentences"], data["max_reasons"], str(data["description"]), tuple(examples),
                   {k: data[k] for k in RENDERED_KEYS}, text)

    def render(self, key: str, item_name: str, reasons: list[str], problems: list[str] | None = None,
               item_kind: str = "") -> str:
        if not reasons:
            raise ValueError("at least one reason is needed to render a prompt")
        variables = {"item_name": item_name, "item_kind": item_kind, "reasons": list(reasons),
                     "max_chars": self.max_chars, "problems": list(problems or [])}
        return _render(self.path, self.text, key, _compiled(self.sources[key]), variables)

    def messages(self, item_name: str, reasons: list[str], retry: list[str] | None = None,
                 item_kind: str = "") -> list[dict[str, str]]:
        """Chat messages: system, few-shot turns, the stricter retry text as a second system message (small
        models echo it from a user turn; placed here it also keeps the shared prefix cacheable), then the
        request with the strongest `max_reasons` reasons. `retry` lists the problems of a rejected answer."""
        reasons = list(reasons[: self.max_reasons])
        out = [{"role": "system", "content": self.render("system", item_name, reasons)}]
        for ex in self.examples:
            out.append({"role": "user", "content": self.render("user", ex.item_name, list(ex.reasons),
                                                               item_kind=ex.item_kind)})
            out.append({"role": "assistant", "content": ex.reply})
        if retry is not None:
            out.append({"role": "system", "content": self.render("retry", item_name, reasons, retry)})
        out.append({"role": "user", "content": self.render("user", item_name, reasons, item_kind=item_kind)})
        return out


@dataclass
class PhraseBook:
    """Deterministic phrase per fact kind in one language; the ground truth the model rewrites.

    It also decides how items are *named* in that language: catalog titles run to a hundred characters
    of specs ("J-B Weld 8297 HighHeat 550 Degree Epoxy Putty Stick - 2 oz"), and a shop without Chinese
    titles would put them whole into a Chinese sentence of at most 80 characters. So a name is the
    title's lead, cut on a word boundary to `name_chars`; a title that is markup or reads like an
    instruction or a price claim is never shown, and the book's neutral `unnamed_item` stands in."""

    path: Path
    language: str
    texts: dict[str, str]
    cues: dict[str, tuple[str, ...]]
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
            raise PromptError(path, _line_of(text, "language"), f"language must be one of {LANGUAGES}")
        name_chars = data.get("name_chars", DEFAULT_NAME_CHARS[language])
        if not isinstance(name_chars, int) or name_chars < MIN_NAME_CHARS:
            raise PromptError(path, _line_of(text, "name_chars"),
                              f"name_chars must be a whole number of at least {MIN_NAME_CHARS}")
        unnamed_item = data.get("unnamed_item", DEFAULT_UNNAMED_ITEM[language])
        if not isinstance(unnamed_item, str) or not unnamed_item.strip():
            raise PromptError(path, _line_of(text, "unnamed_item"), "unnamed_item must be a non-empty text")
        texts, cues = {}, {}
        for kind in FACT_KINDS:
            if kind not in data or "text" not in data[kind]:
                raise PromptError(path, _line_of(text, kind), f"missing [{kind}] with a `text` phrase")
            texts[kind] = data[kind]["text"]
            cues[kind] = tuple(data[kind].get("cues", ()))
            for source in (texts[kind], *cues[kind]):
                _compile(path, text, kind, source)
        problems = data.get("problems", {})
        missing = [rule for rule in RULES if rule not in problems]
        if missing:
            raise PromptError(path, _line_of(text, "problems"), f"[problems] needs a text for {missing}")
        return cls(path, language, texts, cues, {r: str(problems[r]) for r in RULES}, name_chars,
                   unnamed_item.strip(), _glossary(path, text, data.get("glossary", {})), text)

    @cached_property
    def static_cues(self) -> dict[str, tuple[str, ...]]:
        """Each kind's cue words that need no evidence ("一起", "similar"): they claim the kind wherever they occur."""
        return {kind: tuple(c for c in cues if "{" not in c) for kind, cues in self.cues.items()}

    def name(self, title: str) -> str:
        """What a sentence calls a referenced item: its short, clean name, or "" when it must not be shown."""
        return display_name(title, self.name_chars)

    def item_name(self, item: ItemRef) -> str:
        """The recommended item's name in this language; for a hostile title, brand + category."""
        name = self.name((item.title_zh if self.language == "zh" else item.title_en) or item.title)
        if name:
            return name
        return self.name(" ".join(p for p in (item.brand, self.item_category(item)) if p)) or self.unnamed_item

    def item_category(self, item: ItemRef) -> str:
        """The last level of the item's category in this language (what "这款…"/"this …" may call it)."""
        category = item.category_zh if self.language == "zh" and item.category_zh else item.category
        return safe_text(category.split(">")[-1].strip())

    def item_kinds(self, item: ItemRef) -> tuple[str, ...]:
        """The glossary's words for what the item is: for the head noun of its name, then of its category
        ("…PLA Filament" → "耗材"; a tape category → "胶带"). Only head nouns: "3D Printer Filament" is not
        a printer. A sentence may call the item by any of these."""
        kinds: dict[str, None] = {}
        for text in (self.name(item.title), item.category.split(">")[-1]):
            for word in reversed(_WORD.findall(text.lower())):
                key = next((k for k in (word, word.removesuffix("s"), word.removesuffix("es")) if k in self.glossary),
                           None)
                if key:
                    kinds.update(dict.fromkeys(self.glossary[key]))
                    break
        return tuple(kinds)

    def item_kind(self, item: ItemRef, kinds: tuple[str, ...]) -> str:
        """Of the item's `kinds`, the one the prompt offers (`item_kind`): only for an item without a title
        in this language, whose name the model would otherwise translate by guessing."""
        own_title = item.title_zh if self.language == "zh" else item.title_en
        return kinds[0] if kinds and not own_title else ""

    def _variables(self, fact: Fact, facts: Facts) -> dict:
        variables = {k: self._value(k, v) for k, v in fact.evidence.items()}
        return {**variables, "cold_start": facts.cold_start}

    def _value(self, key: str, value):
        if not isinstance(value, str):
            return value
        if key.endswith(NAME_SUFFIXES):
            return self.name(value) or self.unnamed_item
        return safe_text(value)

    def phrase(self, fact: Fact, facts: Facts) -> str:
        return self._render_fact(fact.kind, self.texts[fact.kind], self._variables(fact, facts))

    def cue_words(self, fact: Fact, facts: Facts) -> list[str]:
        """Words that show the model cited `fact`; the neutral name stands for any item, so it cites nothing."""
        variables = self._variables(fact, facts)
        words = (self._render_fact(fact.kind, c, variables) for c in self.cues[fact.kind])
        return [w for w in words if w and w != self.unnamed_item]

    def _render_fact(self, kind: str, source: str, variables: dict) -> str:
        try:
            frozen = tuple(sorted(variables.items()))
            hash(frozen)
        except TypeError:
            return _render(self.path, self.text, kind, _compiled(source), variables)
        try:
            return _render_frozen(source, frozen)
        except TemplateError as e:
            raise PromptError(self.path, _line_of(self.text, kind), f"{kind}: {e}") from None


@lru_cache(maxsize=65536)
def _render_frozen(source: str, variables: tuple) -> str:
    """Phrases repeat across shoppers (an item's popularity, "bought 2 DEWALT items"), and a served
    reason renders a dozen phrases and cue words: each distinct one is rendered once."""
    return _compiled(source).render(**dict(variables)).strip()


_TAGS = re.compile(r"<[^>]*>")
_UNSAFE_CHARS = re.compile(r"[^\w\s\-+/.&'()（）\u3000-\u303f\u4e00-\u9fff]")
_HOSTILE = re.compile(
    r"ignore|instruction|previous|system|prompt|assistant|say |tell |script|http|www\.|\.com|%|off\b|discount|"
    r"sale|free|cheapest|lowest|best price|coupon|忽略|指令|系统|提示|最低价|折|优惠|免费|促销|秒杀|全场",
    re.IGNORECASE)
MAX_NAME = 60
DEFAULT_NAME_CHARS = {"zh": 24, "en": 42}
DEFAULT_UNNAMED_ITEM = {"zh": "商品", "en": "item"}
MIN_NAME_CHARS = 8
NAME_SUFFIXES = ("title", "title_zh", "title_en")
_NAME_BREAK = re.compile(r",|，|、|;|；|\s[-–—|]\s|\||\(|（|\[|\n|\s(?:with|for|w/)\s", re.IGNORECASE)
_DANGLING = {"by", "x", "for", "with", "and", "&", "of", "in", "to", "the", "a", "an", "-", "/", "+", "or"}
_UNITS = {"inch", "inches", "in", "oz", "ounce", "ounces", "mm", "cm", "m", "ft", "feet", "foot", "yd", "yard",
          "yards", "lb", "lbs", "pound", "pounds", "pack", "pk", "count", "ct", "pcs", "pc", "pieces", "piece",
          "gallon", "quart", "ml", "l", "liter", "g", "kg", "mil", "awg", "degree", "degrees", "long", "wide",
          "thick"}
_FILLER = _DANGLING | _UNITS
_MEASURE = re.compile(r"(?i)\d{1,3}(?:[/.\-]\d+)*(?:-?[a-z]{1,6})?")
_WORD = re.compile(r"[A-Za-z]+")
_LEADING_BRACKETS = re.compile(r"^\s*(?:\([^)]*\)|\[[^\]]*\]|（[^）]*）)\s*")


def _glossary(path: Path, text: str, table) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise PromptError(path, _line_of(text, "glossary"), "[glossary] must be a table of word = [\"term\", …]")
    glossary = {}
    for word, terms in table.items():
        if not isinstance(terms, list) or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
            raise PromptError(path, _line_of(text, "glossary", f"{word} ="),
                              f"glossary: {word!r} needs a list of one or more non-empty terms")
        glossary[word.lower()] = tuple(t.strip() for t in terms)
    return glossary


def safe_text(text: str) -> str:
    """Catalog text is untrusted: drop markup and odd characters, and cut it to a name's length."""
    return _clean(text)[:MAX_NAME].rstrip()


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _UNSAFE_CHARS.sub(" ", _TAGS.sub(" ", text))).strip()


def _lead(title: str) -> str:
    """The title up to its first break, after a leading "(2-Pack)" or "[New]"."""
    title = _LEADING_BRACKETS.sub("", title) or title
    return next((part for part in _NAME_BREAK.split(title) if safe_text(part)), title)


def short_name(title: str, limit: int) -> str:
    """The title's lead: up to the first comma, dash, bar, bracket, "with"/"for", or a size after the third
    word (sizes follow the noun). Longer than `limit`, it keeps its opening words and its head noun, the
    last plain word, because English titles end on what the thing is: "HATCHBOX PLA 3D Printer Filament"
    → "HATCHBOX PLA Filament", not "…3D Printer". Sizes and counts ("4-Inch", "10yd", "2") go; model codes
    ("DW4524") stay. One long unspaced word (Chinese) is cut hard."""
    words = _clean(_lead(title)).split()
    size_at = next((i for i, w in enumerate(words) if i >= 3 and _MEASURE.fullmatch(w)), len(words))
    words = words[:size_at]
    while len(words) > 1 and (_MEASURE.fullmatch(words[-1]) or words[-1].lower() in _FILLER):
        words.pop()
    if len(" ".join(words)) <= limit:
        return " ".join(words)
    plain = [i for i, w in enumerate(words) if not re.search(r"\d", w) and w.lower() not in _FILLER]
    head_at = plain[-1] if plain and plain[-1] > 0 else len(words)
    head = words[head_at:head_at + 1]
    kept: list[str] = []
    for word in words[:head_at]:
        if _MEASURE.fullmatch(word) or word.lower() in _FILLER or word in head:
            continue
        if len(" ".join([*kept, word, *head])) > limit:
            break
        kept.append(word)
    name = " ".join([*kept, *head])
    return name if kept and len(name) <= limit else words[0][:limit]


def display_name(title: str, limit: int) -> str:
    """A short name safe to show, or "" for a title with markup or one whose shown words read like an
    instruction or a price claim (prompt injection through titles is a real attack). The shown words are
    judged as the catalog wrote them ("100%" before cleaning drops the "%"); what the cut drops never
    reaches the model or the shopper."""
    if _TAGS.search(title):
        return ""
    name = short_name(title, limit)
    shown = " ".join(_lead(title).split()[: len(name.split())])
    return "" if _HOSTILE.search(name) or _HOSTILE.search(shown) else name


@dataclass
class PromptLibrary:
    """All templates and phrase books of one prompts directory."""

    root: Path
    templates: dict[tuple[str, str, str], PromptTemplate]
    phrases: dict[str, PhraseBook]

    @classmethod
    def load(cls, root: Path | str = DEFAULT_DIR) -> PromptLibrary:
        root = Path(root)
        templates: dict[tuple[str, str, str], PromptTemplate] = {}
        phrases: dict[str, PhraseBook] = {}
        for path in sorted(root.glob("*.toml")):
            if path.name.startswith("phrases."):
                book = PhraseBook.load(path)
                phrases[book.language] = book
            else:
                t = PromptTemplate.load(path)
                templates[(t.id, t.language, t.style)] = t
        for lang in LANGUAGES:
            if lang not in phrases:
                raise PromptError(root / f"phrases.{lang}.toml", 1, "phrase file missing")
        return cls(root, templates, phrases)

    def template(self, lang: str, style: str = "short", prompt_id: str | None = None) -> PromptTemplate:
        for (tid, tlang, tstyle), t in self.templates.items():
            if tlang == lang and tstyle == style and (prompt_id is None or tid == prompt_id):
                return t
        raise KeyError(f"no prompt template for language {lang!r}, style {style!r}"
                       + (f", id {prompt_id!r}" if prompt_id else "") + f" in {self.root}")

    def reasons(self, facts: Facts, lang: str) -> list[str]:
        book = self.phrases[lang]
        return [book.phrase(f, facts) for f in facts.facts]


def lint(root: Path | str) -> list[PromptError]:
    """Every problem in a prompts folder, each as `file:line: message`: unreadable or malformed files,
    missing metadata or limits, undocumented variables, and any template or phrase that fails to
    render on the sample facts (every fact kind and phrase branch, both languages)."""
    from narrator.samples import sample_facts

    root = Path(root)
    problems: list[PromptError] = []
    books: dict[str, PhraseBook] = {}
    templates: list[PromptTemplate] = []
    for path in sorted(root.glob("*.toml")):
        try:
            if path.name.startswith("phrases."):
                book = PhraseBook.load(path)
                books[book.language] = book
            else:
                templates.append(PromptTemplate.load(path))
        except PromptError as e:
            problems.append(e)
        except (OSError, UnicodeDecodeError) as e:
            problems.append(PromptError(path, 1, f"unreadable: {e}"))
    for lang in LANGUAGES:
        if lang not in books and not any(p.path.endswith(f"phrases.{lang}.toml") for p in problems):
            problems.append(PromptError(root / f"phrases.{lang}.toml", 1, "phrase file missing"))
    ids = {t.id for t in templates}
    for prompt_id in sorted(ids):
        have = {t.language for t in templates if t.id == prompt_id}
        for lang in sorted(set(LANGUAGES) - have):
            problems.append(PromptError(root / f"{prompt_id}.{lang}.toml", 1, f"{prompt_id} has no {lang} template"))
    for facts in sample_facts():
        for lang, book in books.items():
            try:
                reasons = [book.phrase(f, facts) for f in facts.facts]
                for f in facts.facts:
                    book.cue_words(f, facts)
            except PromptError as e:
                problems.append(e)
                continue
            for t in (t for t in templates if t.language == lang):
                for key in RENDERED_KEYS:
                    try:
                        t.render(key, book.item_name(facts.item), reasons, ["x"], "x")
                    except PromptError as e:
                        problems.append(e)
    unique = {str(p): p for p in problems}
    return list(unique.values())
