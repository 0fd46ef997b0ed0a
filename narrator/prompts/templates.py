"""One editor-owned prompt template (`<id>.<lang>.toml`): metadata (id, version, language, style,
limits, description), the system text, few-shot examples, the user text, a stricter retry text and
the deterministic fallback sentence, with only documented variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import meta

from narrator.prompts.phrases import LANGUAGES
from narrator.prompts.templating import ENV, PromptError, check_compiles, line_of, read_toml, render

STYLES = ("short", "detailed")
TEMPLATE_VARIABLES = {
    "item_name": "the item's name as shown to the shopper (cleaned of markup and instructions)",
    "item_kind": "what kind of thing the item is in the template's language, from the phrase book's glossary "
                 "(\"胶带\" for a tape), or empty",
    "reasons": "the reason phrases, strongest first (a list of strings)",
    "max_chars": "the template's length limit",
    "problems": "in `retry` only: what was wrong with the rejected answer (phrases from [problems], a list)",
}
NEUTRAL = {"en": "Picked for you.", "zh": "这是为您精选的商品。"}
"""The sentence an item keeps when none of its reasons can be said truly (every one refused by the verifier),
for templates that set no `neutral` of their own: it claims nothing."""
REQUIRED_KEYS = ("id", "version", "language", "style", "max_chars", "max_sentences", "max_reasons", "description",
                 "system", "user", "retry", "fallback")
RENDERED_KEYS = ("system", "user", "retry", "fallback")
OPTIONAL_KEYS = ("neutral",)
"""`neutral`: the sentence served when no reason passes the verifier; it may use `item_name` and `item_kind`."""
Messages = list[dict[str, str]]


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
            raise PromptError(path, line_of(text, "language"), f"language must be one of {LANGUAGES}")
        if data["style"] not in STYLES:
            raise PromptError(path, line_of(text, "style"), f"style must be one of {STYLES}")
        for key in ("version", "max_chars", "max_sentences", "max_reasons"):
            if not isinstance(data[key], int) or data[key] <= 0:
                raise PromptError(path, line_of(text, key), f"{key} must be a positive whole number")
        rendered = [*RENDERED_KEYS, *(k for k in OPTIONAL_KEYS if k in data)]
        for key in rendered:
            check_compiles(path, text, key, data[key])
            unknown = meta.find_undeclared_variables(ENV.parse(data[key])) - set(TEMPLATE_VARIABLES)
            if unknown:
                raise PromptError(path, line_of(text, key, sorted(unknown)[0]),
                                  f"{key}: undocumented variable(s) {sorted(unknown)}; "
                                  f"use only {sorted(TEMPLATE_VARIABLES)}")
        examples = []
        for n, ex in enumerate(data.get("examples", []), 1):
            if not {"item_name", "reasons", "reply"} <= set(ex):
                raise PromptError(path, line_of(text, "[examples]"), f"example {n} needs item_name, reasons, reply")
            examples.append(Example(str(ex["item_name"]), tuple(ex["reasons"]), str(ex["reply"]),
                                    str(ex.get("item_kind", ""))))
        return cls(path, str(data["id"]), data["version"], data["language"], data["style"], data["max_chars"],
                   data["max_sentences"], data["max_reasons"], str(data["description"]), tuple(examples),
                   {k: data[k] for k in rendered}, text)

    def render(self, key: str, item_name: str, reasons: list[str], problems: list[str] | None = None,
               item_kind: str = "") -> str:
        if not reasons:
            raise ValueError("at least one reason is needed to render a prompt")
        variables = {"item_name": item_name, "item_kind": item_kind, "reasons": list(reasons),
                     "max_chars": self.max_chars, "problems": list(problems or [])}
        return render(self.path, self.text, key, self.sources[key], variables)

    def neutral(self, item_name: str, item_kind: str = "") -> str:
        """The sentence that states no reason (the template's `neutral`, else the built-in one per language)."""
        if "neutral" not in self.sources:
            return NEUTRAL[self.language]
        variables = {"item_name": item_name, "item_kind": item_kind, "reasons": [], "max_chars": self.max_chars,
                     "problems": []}
        return render(self.path, self.text, "neutral", self.sources["neutral"], variables)

    def messages(self, item_name: str, reasons: list[str], retry: list[str] | None = None,
                 item_kind: str = "") -> Messages:
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
