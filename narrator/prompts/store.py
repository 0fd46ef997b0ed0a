"""Prompt versions and labels: editors save immutable versions, move labels, and roll back.

Layout under the prompts folder:
- `<id>.<lang>.toml`, `phrases.<lang>.toml` — the working copy editors edit;
- `versions/<id>@<n>/` — an immutable snapshot of one version: the template in both languages and
  the phrase books it was saved with (phrases change what is said, so they are versioned with it);
- `labels.json` — which version each label (`production`, `staging`, any name) points to, an optional
  A/B split to a second version, and the history of every move (when, from → to, note).

A version that fails lint cannot be saved or promoted; a label can only point at a saved version.
Writes go to a temporary file and are renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

from narrator import atomic
from narrator.prompts.library import PromptLibrary, lint
from narrator.prompts.phrases import LANGUAGES

REF = re.compile(r"^(?P<id>[a-z0-9][a-z0-9_-]*)@(?P<version>\d+|[A-Za-z][\w-]*)$")


class StoreError(ValueError):
    """A bad reference, a missing version or label, or a refused promotion."""


def parse_ref(ref: str) -> tuple[str, str]:
    m = REF.match(ref)
    if not m:
        raise StoreError(f"{ref!r} is not ID@VERSION or ID@LABEL (e.g. reason-short@2, reason-short@production)")
    return m.group("id"), m.group("version")


def _write_json(path: Path, data: dict) -> None:
    atomic.write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


class PromptStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.labels_path = self.root / "labels.json"
        self._cache: dict[Path, PromptLibrary] = {}

    # versions ---------------------------------------------------------------------------------
    def versions(self, prompt_id: str) -> list[int]:
        found = [int(p.name.split("@")[1]) for p in self.versions_dir.glob(f"{prompt_id}@*") if p.is_dir()]
        return sorted(found)

    def version_dir(self, prompt_id: str, version: int) -> Path:
        path = self.versions_dir / f"{prompt_id}@{version}"
        if not path.is_dir():
            raise StoreError(f"{prompt_id}@{version} is not a saved version (saved: {self.versions(prompt_id)})")
        return path

    def save(self, prompt_id: str, source: Path | None = None, note: str = "") -> int:
        """Snapshot the working copy (or `source`) of `prompt_id` as the next version; refuses on lint errors."""
        source = Path(source or self.root)
        files = [source / f"{prompt_id}.{lang}.toml" for lang in LANGUAGES]
        files += [source / f"phrases.{lang}.toml" for lang in LANGUAGES]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise StoreError(f"cannot save {prompt_id}: missing {missing}")
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        with atomic.locked(self.versions_dir / prompt_id):  # two saves never take the same number
            return self._save(prompt_id, files, note)

    def _save(self, prompt_id: str, files: list[Path], note: str) -> int:
        version = (self.versions(prompt_id) or [0])[-1] + 1
        with atomic.atomic_path(self.versions_dir / f"{prompt_id}@{version}") as tmp:
            tmp.mkdir()
            for f in files:
                text = f.read_text(encoding="utf-8")
                if f.name.startswith(prompt_id):
                    text = re.sub(r"^version\s*=\s*\d+", f"version = {version}", text, count=1, flags=re.MULTILINE)
                (tmp / f.name).write_text(text, encoding="utf-8")
            problems = lint(tmp)
            if problems:
                raise StoreError(f"{prompt_id} fails lint and was not saved:\n" + "\n".join(map(str, problems)))
            (tmp / "meta.json").write_text(json.dumps({"saved": _now(), "note": note,
                                                       "sha256": _digest(tmp)}, indent=2) + "\n")
        return version

    def library(self, prompt_id: str, version: int) -> PromptLibrary:
        path = self.version_dir(prompt_id, version)
        if path not in self._cache:
            self._cache[path] = PromptLibrary.load(path)
        return self._cache[path]

    # labels -----------------------------------------------------------------------------------
    def labels(self) -> dict:
        if not self.labels_path.is_file():
            return {"labels": {}, "history": []}
        return json.loads(self.labels_path.read_text(encoding="utf-8"))

    def label(self, prompt_id: str, label: str) -> dict | None:
        return self.labels()["labels"].get(prompt_id, {}).get(label)

    def resolve(self, ref: str) -> tuple[str, int]:
        """ID@VERSION or ID@LABEL → (id, version)."""
        prompt_id, what = parse_ref(ref)
        if what.isdigit():
            self.version_dir(prompt_id, int(what))
            return prompt_id, int(what)
        entry = self.label(prompt_id, what)
        if entry is None:
            raise StoreError(f"label {what!r} of {prompt_id} points nowhere; promote a version to it first")
        return prompt_id, int(entry["version"])

    def promote(self, ref: str, label: str, note: str = "", split: tuple[int, float] | None = None) -> dict:
        """Point `label` at ID@VERSION (optionally sending `share` of shoppers to another version)."""
        prompt_id, version = self.resolve(ref)
        versions = [version] + ([split[0]] if split else [])
        for v in versions:
            problems = lint(self.version_dir(prompt_id, v))
            if problems:
                raise StoreError(f"{prompt_id}@{v} fails lint and cannot be promoted:\n"
                                 + "\n".join(map(str, problems)))
        if split and not 0 < split[1] < 1:
            raise StoreError(f"the split share must be between 0 and 1, not {split[1]}")
        with atomic.locked(self.labels_path):
            data = self.labels()
            before = data["labels"].get(prompt_id, {}).get(label)
            entry = {"version": version, **({"split": {"version": split[0], "share": split[1]}} if split else {})}
            data["labels"].setdefault(prompt_id, {})[label] = entry
            data["history"].append({"when": _now(), "id": prompt_id, "label": label,
                                    "from": before, "to": entry, "note": note})
            _write_json(self.labels_path, data)
        return entry

    def rollback(self, prompt_id: str, label: str, note: str = "") -> dict:
        """Move `label` back to where it pointed before its last move."""
        with atomic.locked(self.labels_path):
            data = self.labels()
            moves = [h for h in data["history"] if h["id"] == prompt_id and h["label"] == label]
            if not moves or moves[-1]["from"] is None:
                raise StoreError(f"{prompt_id}@{label} has no earlier version to roll back to")
            last = moves[-1]
            data["labels"][prompt_id][label] = last["from"]
            data["history"].append({"when": _now(), "id": prompt_id, "label": label, "from": last["to"],
                                    "to": last["from"], "note": note or "rollback"})
            _write_json(self.labels_path, data)
        return last["from"]

    def fingerprint(self) -> str:
        """Changes whenever labels move (what the service watches)."""
        return hashlib.sha256(self.labels_path.read_bytes()).hexdigest() if self.labels_path.is_file() else ""


def choose_version(entry: dict, user_id: str, prompt_id: str) -> int:
    """A label entry's version for this shopper: the split arm for `share` of shoppers by hash."""
    split = entry.get("split")
    if split and _bucket(user_id, prompt_id) < float(split["share"]):
        return int(split["version"])
    return int(entry["version"])


def _bucket(user_id: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.toml")):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


__all__ = ["PromptStore", "StoreError", "choose_version", "parse_ref"]
