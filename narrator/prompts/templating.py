"""Reading editors' TOML files and rendering their Jinja text strictly, with `file:line` errors.

Editors are not programmers, so every mistake is reported as `file:line: message` instead of producing
a quietly wrong prompt: an undefined variable is an error (Jinja2 `StrictUndefined`), and templates run
in Jinja's sandbox because they are data, not code.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
del ENV.filters["random"], ENV.globals["lipsum"]
"""A template renders the same text every time (so a trial render in the sandbox tells what serving will do)."""


class PromptError(ValueError):
    """A problem in an editor's file, located as `file:line`."""

    def __init__(self, path: Path | str, line: int, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{path}:{line}: {message}")


def line_of(text: str, key: str, needle: str | None = None) -> int:
    """The line where `key = …` (or a `[key]` table) starts — or where `needle` first occurs after it —
    for error messages."""
    match = re.search(rf"^[ \t]*(\[{re.escape(key)}\]|{re.escape(key)}[ \t]*=)", text, re.MULTILINE)
    start = match.start() if match else 0
    if needle and (found := text.find(needle, start)) >= 0:
        start = found
    return text[:start].count("\n") + 1


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed file and its text (kept to locate later errors by line)."""
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        found = re.search(r"line (\d+)", str(e))
        raise PromptError(path, int(found.group(1)) if found else 1, f"not valid TOML: {e}") from None


@lru_cache(maxsize=4096)
def compiled(source: str) -> Template:
    """Compiling a template costs about a millisecond; a served reason renders several, so keep them."""
    return ENV.from_string(source)


def check_compiles(path: Path, text: str, key: str, source: str) -> None:
    """Compile `source` (the value of `key` in `path`) now, so a syntax error is reported at load."""
    try:
        compiled(source)
    except TemplateError as e:
        line = line_of(text, key) + max(getattr(e, "lineno", 1) or 1, 1) - 1
        raise PromptError(path, line, f"{key}: {e}") from None


def render(path: Path, text: str, key: str, source: str, variables: dict[str, Any]) -> str:
    try:
        return compiled(source).render(**variables).strip()
    except TemplateError as e:
        raise PromptError(path, line_of(text, key), f"{key}: {e}") from None


@lru_cache(maxsize=65536)
def render_frozen(source: str, variables: tuple[tuple[str, Any], ...]) -> str:
    """Phrases repeat across shoppers (an item's popularity, "bought 2 DEWALT items"), and a served
    reason renders a dozen phrases and cue words: each distinct one is rendered once."""
    return compiled(source).render(**dict(variables)).strip()
