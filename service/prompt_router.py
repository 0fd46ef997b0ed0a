"""Which prompt version serves a request, and picking up label moves without a restart.

The label named in the settings (default `production`) decides the version per template id; under an
A/B split the shopper's hash picks the arm, so a shopper always sees the same version. Without a
label the working copy in `prompts/` serves. When `labels.json` changes (watched, or on
`POST /v1/admin/prompts/reload`) the new versions are loaded and linted first: a broken one is
refused with its `file:line` problems and the old versions keep serving.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from narrator.backends import Backend
from narrator.narrate import Narrator
from narrator.prompts.library import PromptLibrary, lint
from narrator.prompts.names import brand_forms
from narrator.prompts.store import PromptStore, choose_version
from narrator.prompts.templating import PromptError
from narrator.reason_store import ReasonStore

log = logging.getLogger("whyrec.prompts")


class PromptReloadError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class PromptRouter:
    def __init__(self, root: Path, label: str, backend: Backend | None, brands: set[str],
                 written_ahead: ReasonStore | None = None, **narrator_options: Any):
        """`narrator_options` go to every version's `Narrator` (the batch's attempts and cache size)."""
        self.store, self.label = PromptStore(root), label
        self.backend, self.brands, self.written_ahead = backend, brands, written_ahead
        self.options = narrator_options
        self.base = self._narrator(PromptLibrary.load(root))
        self.entries: dict[str, dict] = {}
        self.narrators: dict[tuple[str, int], Narrator] = {}
        self.fingerprint = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.reload()

    def reload(self) -> dict[str, dict]:
        """Load what the label points to now; refuse (keeping the old) if any version fails to load or lint."""
        with self._lock:
            fingerprint = self.store.fingerprint()
            labels = self.store.labels()["labels"]
            entries = {pid: byl[self.label] for pid, byl in labels.items() if self.label in byl}
            narrators = dict(self.narrators)
            problems: list[str] = []
            for pid, entry in entries.items():
                versions = [int(entry["version"])] + ([int(entry["split"]["version"])] if entry.get("split") else [])
                for v in versions:
                    if (pid, v) in narrators:
                        continue
                    try:
                        found = lint(self.store.version_dir(pid, v))
                        if found:
                            problems += [str(p) for p in found]
                            continue
                        narrators[(pid, v)] = self._narrator(self.store.library(pid, v))
                    except (PromptError, ValueError) as e:
                        problems.append(str(e))
            if problems:
                self.fingerprint = fingerprint
                raise PromptReloadError(problems)
            self.entries, self.narrators, self.fingerprint = entries, narrators, fingerprint
            return entries

    def _narrator(self, library: PromptLibrary) -> Narrator:
        return Narrator(library, self.backend, brands=self.brands, written_ahead=self.written_ahead, **self.options)

    def narrator(self, user_id: str, style: str) -> Narrator:
        prompt_id = self.base.prompts.template("en", style).id
        entry = self.entries.get(prompt_id)
        if entry is None:
            return self.base
        return self.narrators[(prompt_id, choose_version(entry, user_id, prompt_id))]

    def all(self) -> list[Narrator]:
        return [self.base, *self.narrators.values()]

    def use_backend(self, backend: Backend | None) -> None:
        """The text model every version (loaded now or later) narrates with."""
        self.backend = backend
        for narrator in self.all():
            narrator.backend = backend

    def add_brands(self, brands: set[str]) -> None:
        """Brands of items added while serving: the verifier must know them to catch one a reason invents."""
        brands = {b for b in brands if b} - set(self.brands)
        if not brands:
            return
        self.brands = {*self.brands, *brands}
        for narrator in self.all():
            narrator.brands = brand_forms(self.brands)

    def watch(self, interval: float = 0.5) -> None:
        """Reload in the background whenever labels.json changes."""
        def loop() -> None:
            while not self._stop.wait(interval):
                if self.store.fingerprint() != self.fingerprint:
                    try:
                        self.reload()
                        log.info("prompt labels reloaded: %s", self.entries)
                    except PromptReloadError as e:
                        log.error("prompt reload refused, old versions keep serving: %s", e)

        threading.Thread(target=loop, daemon=True, name="prompt-watch").start()

    def stop(self) -> None:
        self._stop.set()
