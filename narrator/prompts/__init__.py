"""The prompt library: editor-owned templates and reason phrases (the top-level `prompts/` folder, TOML),
rendered strictly. Its public names are here; the work is split by job:

- `templating` — TOML and the Jinja sandbox, `file:line` errors;
- `names` — item names and the hostile-title filter;
- `phrases` — the phrase book of one language; `templates` — one template and its chat messages;
- `library` — a prompts folder as one library, and its lint; `samples` — facts every phrase is linted on;
- `store` — immutable versions, labels, A/B splits and rollback.
"""

from narrator.prompts.library import DEFAULT_DIR, PromptLibrary, lint
from narrator.prompts.names import display_name, safe_text, short_name
from narrator.prompts.phrases import LANGUAGES, RULES, PhraseBook
from narrator.prompts.templates import STYLES, TEMPLATE_VARIABLES, Example, PromptTemplate
from narrator.prompts.templating import PromptError

__all__ = ["DEFAULT_DIR", "LANGUAGES", "RULES", "STYLES", "TEMPLATE_VARIABLES", "Example", "PhraseBook",
           "PromptError", "PromptLibrary", "PromptTemplate", "display_name", "lint", "safe_text", "short_name"]
