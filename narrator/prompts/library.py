"""A prompts folder as one library (every template and both phrase books), and its lint.

Lint reads the folder with the same loader as production, collecting each problem as `file:line`
instead of stopping at the first, then renders every template and phrase on the sample facts."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrator.facts import Facts
from narrator.prompts.phrases import LANGUAGES, PhraseBook
from narrator.prompts.templates import RENDERED_KEYS, PromptTemplate
from narrator.prompts.templating import PromptError


def _shipped() -> Path:
    """The project's `prompts/` folder: the package data `whyrec_prompts` of an installed wheel (an editable
    install maps it to the checkout's folder), else the checkout's folder beside the packages."""
    found = importlib.util.find_spec("whyrec_prompts")
    if found is not None and found.submodule_search_locations:
        return Path(next(iter(found.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "prompts"


DEFAULT_DIR = _shipped()
TemplateKey = tuple[str, str, str]


@dataclass
class PromptLibrary:
    """All templates and phrase books of one prompts directory."""

    root: Path
    templates: dict[TemplateKey, PromptTemplate]
    phrases: dict[str, PhraseBook]

    @classmethod
    def load(cls, root: Path | str = DEFAULT_DIR) -> PromptLibrary:
        """The library, or the first problem as a `PromptError`."""
        return _read(Path(root), problems=None)

    def template(self, lang: str, style: str = "short", prompt_id: str | None = None) -> PromptTemplate:
        for (tid, tlang, tstyle), t in self.templates.items():
            if tlang == lang and tstyle == style and (prompt_id is None or tid == prompt_id):
                return t
        raise KeyError(f"no prompt template for language {lang!r}, style {style!r}"
                       + (f", id {prompt_id!r}" if prompt_id else "") + f" in {self.root}")

    def reasons(self, facts: Facts, lang: str) -> list[str]:
        book = self.phrases[lang]
        return [book.phrase(f, facts) for f in facts.facts]


def copy_with(root: Path, prompt_id: str, templates: Mapping[Any, str], into: Path) -> PromptLibrary:
    """The library of `root` rebuilt in the folder `into`, with `templates` (TOML text per language)
    replacing the working copy of `prompt_id`: how an editor's unsaved edit is rendered or saved."""
    for lang in LANGUAGES:
        (into / f"phrases.{lang}.toml").write_text((root / f"phrases.{lang}.toml").read_text(encoding="utf-8"),
                                                   encoding="utf-8")
        text = templates.get(lang) or (root / f"{prompt_id}.{lang}.toml").read_text(encoding="utf-8")
        (into / f"{prompt_id}.{lang}.toml").write_text(text, encoding="utf-8")
    return PromptLibrary.load(into)


def _read(root: Path, problems: list[PromptError] | None) -> PromptLibrary:
    """Load every file of `root`; with a `problems` list, record each problem there and go on."""
    def report(error: PromptError) -> None:
        if problems is None:
            raise error
        problems.append(error)

    templates: dict[TemplateKey, PromptTemplate] = {}
    phrases: dict[str, PhraseBook] = {}
    for path in sorted(root.glob("*.toml")):
        try:
            if path.name.startswith("phrases."):
                book = PhraseBook.load(path)
                phrases[book.language] = book
            else:
                t = PromptTemplate.load(path)
                templates[(t.id, t.language, t.style)] = t
        except PromptError as e:
            report(e)
        except (OSError, UnicodeDecodeError) as e:
            if problems is None:
                raise
            report(PromptError(path, 1, f"unreadable: {e}"))
    for lang in LANGUAGES:
        missing = root / f"phrases.{lang}.toml"
        if lang not in phrases and not any(p.path == str(missing) for p in problems or ()):
            report(PromptError(missing, 1, "phrase file missing"))
    return PromptLibrary(root, templates, phrases)


def lint(root: Path | str) -> list[PromptError]:
    """Every problem in a prompts folder, each as `file:line: message`: unreadable or malformed files,
    missing metadata or limits, undocumented variables, and any template or phrase that fails to
    render on the sample facts (every fact kind and phrase branch, both languages)."""
    from narrator.prompts.samples import sample_facts

    root = Path(root)
    problems: list[PromptError] = []
    library = _read(root, problems)
    templates = list(library.templates.values())
    for prompt_id in sorted({t.id for t in templates}):
        have = {t.language for t in templates if t.id == prompt_id}
        for lang in sorted(set(LANGUAGES) - have):
            problems.append(PromptError(root / f"{prompt_id}.{lang}.toml", 1, f"{prompt_id} has no {lang} template"))
    for facts in sample_facts():
        for lang, book in library.phrases.items():
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
