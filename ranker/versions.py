"""Model versions and labels: which trained version the shop serves, moved without a restart.

Training adds a version folder and moves `LATEST` (see `ranker.artifacts`); it never changes what is
served. `labels.json` in the artifacts root names versions (`production`, `staging`, any name) and keeps
the history of every move (when, from → to, note), so `rollback` returns a label to where it pointed
before. A root with no label serves `LATEST`, as before labels existed. The service watches the file and
swaps versions in the background (`service.engine`). The file is rewritten atomically.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from narrator import atomic

LABELS = "labels.json"


VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""What a version folder may be called (`whyrec train` names them `v<date>-<time>`): never a path."""


class VersionError(ValueError):
    """A version or label that does not exist, or a move that cannot be made; the message says which."""


class UnservableVersionError(VersionError):
    """A version that exists but was trained on another feature set."""


@dataclass(frozen=True)
class Version:
    name: str
    path: Path
    meta: dict

    @property
    def created(self) -> str:
        return str(self.meta.get("created", ""))

    @property
    def val_ndcg10(self) -> float | None:
        value = self.meta.get("best_val_NDCG@10")
        return None if value is None else float(value)


def versions(root: Path) -> list[Version]:
    """Every complete version folder under the root, oldest first."""
    out: list[Version] = []
    if not Path(root).is_dir():
        return out
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir() and (p / "model.keras").exists()):
        meta_file = folder / "metadata.json"
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        out.append(Version(folder.name, folder, meta))
    return out


def labels(root: Path) -> dict:
    path = Path(root) / LABELS
    if not path.is_file():
        return {"labels": {}, "history": []}
    return json.loads(path.read_text(encoding="utf-8"))


def labelled(root: Path, label: str) -> str | None:
    """The version a label points to, or None."""
    return labels(root)["labels"].get(label)


def latest(root: Path) -> str | None:
    pointer = Path(root) / "LATEST"
    return pointer.read_text().strip() if pointer.exists() else None


def served(root: Path, label: str) -> str:
    """What a service following `label` serves: the label's version, else LATEST."""
    version = labelled(root, label) or latest(root)
    if version is None:
        raise VersionError(f"{root} has no label {label!r} and no LATEST pointer; run `whyrec train` first")
    return version


def _check(root: Path, version: str) -> None:
    """The version exists and this whyrec can serve it (its features are the ones computed here): a label never
    moves to a version the service would then fail to load."""
    from ranker.features import FeatureSetError, FeatureSpec

    if not VERSION_NAME.fullmatch(version) or (Path(root) / version).resolve().parent != Path(root).resolve():
        raise VersionError(f"{version!r} is not a version name (letters, digits, '.', '_' and '-', as "
                           "`whyrec model list` shows them)")
    if not (Path(root) / version / "model.keras").exists():
        known = ", ".join(v.name for v in versions(root)) or "none"
        raise VersionError(f"no version {version!r} in {root} (versions: {known})")
    try:
        FeatureSpec.read(Path(root) / version)
    except FeatureSetError as e:
        raise UnservableVersionError(f"version {version!r} cannot be served: {e}") from None


def _write(root: Path, data: dict) -> None:
    atomic.write_text(Path(root) / LABELS, json.dumps(data, indent=1))


def promote(root: Path, version: str, label: str, note: str = "") -> str | None:
    """Point `label` at `version`; returns where it pointed before."""
    _check(root, version)
    with atomic.locked(Path(root) / LABELS):
        data = labels(root)
        before = data["labels"].get(label)
        data["labels"][label] = version
        data["history"].append({"when": _now(), "label": label, "from": before, "to": version, "note": note})
        _write(root, data)
    return before


def rollback(root: Path, label: str, note: str = "") -> str:
    """Move `label` back to where it pointed before its last move; returns that version."""
    with atomic.locked(Path(root) / LABELS):
        data = labels(root)
        moves = [h for h in data["history"] if h["label"] == label]
        if not moves or moves[-1]["from"] is None:
            raise VersionError(f"label {label!r} has no earlier version to roll back to")
        last = moves[-1]
        _check(root, last["from"])
        data["labels"][label] = last["from"]
        data["history"].append({"when": _now(), "label": label, "from": last["to"], "to": last["from"],
                                "note": note or "rollback"})
        _write(root, data)
    return str(last["from"])


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
