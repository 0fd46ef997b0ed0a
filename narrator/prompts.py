"""The prompt library's public names, in one place for callers (service, bench, tests).

Editor-owned templates and reason phrases live in `prompts/` as TOML and are rendered strictly; the
work is split by job: `templating` (TOML and the Jinja sandbox, `file:line` errors), `names` (item
names and the hostile-title filter), `phrases` (phrase books), `templates` (one template and its chat
messages) and `library` (a prompts folder, and its lint).
"""

from narrator.library import DEFAULT_DIR, PromptLibrary, lint
from narrator.names import display_name, safe_text, short_name
from narrator.phrases import LANGUAGES, RULES, PhraseBook
from narrator.templates import STYLES, TEMPLATE_VARIABLES, Example, PromptTemplate
from narrator.templating import PromptError

__all__ = ["DEFAULT_DIR", "LANGUAGES", "RULES", "STYLES", "TEMPLATE_VARIABLES", "Example", "PhraseBook",
           "PromptError", "PromptLibrary", "PromptTemplate", "display_name", "lint", "safe_text", "short_name"]
