"""Versioned model artifacts: `ARTIFACTS/<version>/` plus a `LATEST` pointer (and labels: `ranker.versions`).

A version folder holds everything needed to score again without the training data: `model.keras`,
the feature spec, the catalog and events it was trained on (the behaviour window for serving), the
item embeddings, and metadata (data hash, metrics, library versions). It is written to a temporary
folder and renamed into place, so a crash never leaves a half-written version behind.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd

from narrator import atomic
from ranker.data import Shop
from ranker.features import SPEC_FILE, FeatureSpec

LIBRARIES = ("whyrec", "tensorflow-cpu", "keras", "numpy", "pandas", "scipy", "sentence-transformers", "torch")


def data_hash(shop: Shop) -> str:
    h = hashlib.sha256()
    for df in (shop.items, shop.events):
        h.update(pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def resolve(path: str | Path, label: str = "production") -> Path:
    """A version folder, or the one a root serves: the version `label` points to, else `LATEST`
    (`ranker.versions`)."""
    from ranker.versions import VersionError, served

    path = Path(path)
    if (path / "model.keras").exists():
        return path
    try:
        return path / served(path, label)
    except (VersionError, FileNotFoundError):
        raise FileNotFoundError(f"{path} holds no model.keras, no label {label!r} and no LATEST pointer; "
                                "run `whyrec train` first") from None


SEARCH_FILE = "search_embeddings.npy"


def save(root: str | Path, model, spec: FeatureSpec, shop: Shop, emb: np.ndarray, meta: dict,
         search_emb: np.ndarray | None = None) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    version = time.strftime("v%Y%m%d-%H%M%S", time.gmtime())
    while (root / version).exists():
        version += "b"
    with atomic.atomic_path(root / version) as tmp:
        tmp.mkdir()
        model.save(tmp / "model.keras")
        (tmp / SPEC_FILE).write_text(json.dumps(spec.to_dict(), indent=1))
        shop.save(tmp / "shop")
        np.save(tmp / "embeddings.npy", emb)
        if search_emb is not None:
            np.save(tmp / SEARCH_FILE, search_emb)
        full_meta = {"version": version, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "data_hash": data_hash(shop), "libraries": library_versions(), **meta}
        (tmp / "metadata.json").write_text(json.dumps(full_meta, indent=1, default=str))
    atomic.write_text(root / "LATEST", version)
    return root / version


@dataclass
class Artifact:
    path: Path
    model: object
    spec: FeatureSpec
    shop: Shop
    emb: np.ndarray
    meta: dict
    search_emb: np.ndarray | None = None
    """Multilingual item vectors for search (absent in versions trained before search existed)."""


def load(path: str | Path, label: str = "production") -> Artifact:
    from ranker.runtime import configure

    configure()
    import keras

    import ranker.model  # noqa: F401  (registers custom layers)
    from ranker.data import load_shop

    version = resolve(path, label)
    spec = FeatureSpec.read(version)
    model = keras.saving.load_model(version / "model.keras")
    meta = json.loads((version / "metadata.json").read_text())
    search = np.load(version / SEARCH_FILE) if (version / SEARCH_FILE).exists() else None
    return Artifact(version, model, spec, load_shop(version / "shop"), np.load(version / "embeddings.npy"), meta,
                    search)
