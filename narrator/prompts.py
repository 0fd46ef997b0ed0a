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
from functools import lru_cache
from pathlib import Path

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from narrator.facts import FACT_KINDS, Fact, Facts, ItemRef

LANGUAGES = ("zh", "en")
STYLES = ("short", "detailed")
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "prompts"

TEMPLATE_VARIABLES = {
    "item_name": "the item's name as shown to the shopper (cleaned of markup and instructions)",
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
            examples.append(Example(str(ex["item_name"]), tuple(ex["reasons"]), str(ex["reply"])))
        return cls(path, str(data["id"]), data["version"], data["language"], data["style"], data["max_chars"],
                   data["max_sentences"], data["max_reasons"], str(data["description"]), tuple(examples),
                   {k: data[k] for k in RENDERED_KEYS}, text)

    def render(self, key: str, item_name: str, reasons: list[str], problems: list[str] | None = None) -> str:
        if not reasons:
            raise ValueError("at least one reason is needed to render a prompt")
        variables = {"item_name": item_name, "reasons": list(reasons), "max_chars": self.max_chars,
                     "problems": list(problems or [])}
        return _render(self.path, self.text, key, _compiled(self.sources[key]), variables)

    def messages(self, item_name: str, reasons: list[str], retry: list[str] | None = None) -> list[dict[str, str]]:
        """Chat messages: system, few-shot turns, the stricter retry text as a second system message (small
        models echo it from a user turn; placed here it also keeps the shared prefix cacheable), then the
        request with the strongest `max_reasons` reasons. `retry` lists the problems of a rejected answer."""
        reasons = list(reasons[: self.max_reasons])
        out = [{"role": "system", "content": self.render("system", item_name, reasons)}]
        for ex in self.examples:
            out.append({"role": "user", "content": self.render("user", ex.item_name, list(ex.reasons))})
            out.append({"role": "assistant", "content": ex.reply})
        if retry is not None:
            out.append({"role": "system", "content": self.render("retry", item_name, reasons, retry)})
        out.append({"role": "user", "content": self.render("user", item_name, reasons)})
        return out


@dataclass
class PhraseBook:
    """Deterministic phrase per fact kind in one language; the ground truth the model rewrites."""

    path: Path
    language: str
    texts: dict[str, str]
    cues: dict[str, tuple[str, ...]]
    problems: dict[str, str]
    text: str = field(repr=False, default="")

    @classmethod
    def load(cls, path: Path) -> PhraseBook:
        data, text = read_toml(path)
        language = data.get("language")
        if language not in LANGUAGES:
            raise PromptError(path, _line_of(text, "language"), f"language must be one of {LANGUAGES}")
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
        return cls(path, language, texts, cues, {r: str(problems[r]) for r in RULES}, text)

    def _variables(self, fact: Fact, facts: Facts) -> dict:
        return {**{k: _clean_value(v) for k, v in fact.evidence.items()}, "cold_start": facts.cold_start}

    def phrase(self, fact: Fact, facts: Facts) -> str:
        return self._render_fact(fact.kind, self.texts[fact.kind], self._variables(fact, facts))

    def cue_words(self, fact: Fact, facts: Facts) -> list[str]:
        variables = self._variables(fact, facts)
        return [w for w in (self._render_fact(fact.kind, c, variables) for c in self.cues[fact.kind]) if w]

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


def _clean_value(value):
    return safe_text(value) if isinstance(value, str) else value


def safe_text(text: str) -> str:
    """Catalog text is untrusted: drop markup and odd characters, and cut it to a name's length."""
    text = _UNSAFE_CHARS.sub(" ", _TAGS.sub(" ", text))
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_NAME].rstrip()


def item_name(item: ItemRef, lang: str) -> str:
    """The item's name in `lang`, or a neutral brand + category name when the title looks like an
    instruction or a price claim (prompt injection through titles is a real attack)."""
    title = (item.title_zh if lang == "zh" else item.title_en) or item.title
    if not _HOSTILE.search(title) and not _TAGS.search(title):
        cleaned = safe_text(title)
        if cleaned:
            return cleaned
    category = (item.category_zh if lang == "zh" and item.category_zh else item.category).split(">")[-1].strip()
    return safe_text(" ".join(p for p in (item.brand, category) if p)) or ("这件商品" if lang == "zh" else "this item")


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
                        t.render(key, item_name(facts.item, lang), reasons, ["x"])
                    except PromptError as e:
                        problems.append(e)
    unique = {str(p): p for p in problems}
    return list(unique.values())
