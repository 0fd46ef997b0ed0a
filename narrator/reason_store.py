"""The reason store: sentences written ahead of the request (`whyrec batch`), served when the facts match.

A folder of Parquet files, one per batch run (written whole, then renamed in: a crash leaves no half
file). Each row is one reason: who and what it is for (shopper, item, language, style), what wrote it
(prompt id@version, text model) and the hash of the facts it was written from, plus the sentence and
its verification. Serving reads the columns through Arrow (memory-mapped) and keeps one sorted array of
64-bit key hashes, so a lookup is a binary search, not a dict of strings. The lookup key is the
narrator's cache key (model, prompt id, prompt version, language, style, facts hash): a sentence depends
only on those, so a store written for another model, prompt version or other facts is never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from narrator import atomic

SCHEMA = pa.schema([
    ("user_id", pa.string()), ("item_id", pa.string()), ("lang", pa.string()), ("style", pa.string()),
    ("prompt_id", pa.string()), ("prompt_version", pa.int32()), ("model_id", pa.string()),
    ("facts_hash", pa.string()), ("text", pa.string()), ("verified", pa.bool_()), ("fallback_used", pa.bool_()),
    ("cited", pa.string()), ("attempts", pa.int32()), ("seconds", pa.float32()), ("ranker_version", pa.string()),
    ("written_at", pa.float64()),
])
KEY_FIELDS = ("model_id", "prompt_id", "prompt_version", "lang", "style", "facts_hash")


log = logging.getLogger("whyrec.reasons")


def key_hash(model_id: str, prompt_id: str, prompt_version: int, lang: str, style: str, facts_hash: str) -> int:
    """64 bits of the lookup key (collisions: 1 in 2^64 per pair of keys)."""
    raw = "\x1f".join((model_id, prompt_id, str(int(prompt_version)), lang, style, facts_hash)).encode()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little", signed=True)


@dataclass(frozen=True)
class StoredReason:
    text: str
    cited: list[str]
    attempts: int
    prompt_id: str
    prompt_version: int
    model_id: str
    fallback_used: bool = False
    """The verifier refused the model's sentences for these facts; `text` is the template sentence served
    instead (final: asking the model again online would give the same answer)."""


class ReasonStore:
    """Read side: every run's rows. A key serves the model's verified sentence; a key whose model sentences
    the verifier refused serves the template sentence the batch fell back to, marked as such."""

    def __init__(self, root: Path):
        self.root = Path(root)
        files = sorted(self.root.glob("*.parquet")) if self.root.is_dir() else []
        tables = [t for f in files if (t := _read(f)) is not None]
        self.table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
        keys = np.fromiter((key_hash(*k) for k in zip(*(self.table[f].to_pylist() for f in KEY_FIELDS),
                                                        strict=True)), np.int64, count=self.table.num_rows)
        verified = self.table["verified"].to_numpy(zero_copy_only=False) if len(keys) else np.zeros(0, bool)
        fallback = self.table["fallback_used"].to_numpy(zero_copy_only=False) if len(keys) else np.zeros(0, bool)
        model = np.flatnonzero(verified & ~fallback)
        refused = np.flatnonzero(verified & fallback & ~np.isin(keys, keys[model]))
        self._model_keys = np.unique(keys[model])
        rows = np.concatenate([model, refused])  # per key: the model's sentence, else the template it got
        order = np.argsort(keys[rows], kind="stable")
        self._keys, self._rows = keys[rows][order], rows[order]
        self._all_keys = np.unique(keys)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    @property
    def keys(self) -> np.ndarray:
        """Every key hash stored (served or refused by the verifier): a rerun of the batch skips these."""
        return self._all_keys

    @property
    def servable_keys(self) -> np.ndarray:
        """The key hashes with a verified sentence the model wrote."""
        return self._model_keys

    @property
    def servable(self) -> int:
        return len(self._model_keys)

    def get(self, model_id: str, prompt_id: str, prompt_version: int, lang: str, style: str,
            facts_hash: str) -> StoredReason | None:
        if not len(self._keys):
            return None
        k = key_hash(model_id, prompt_id, prompt_version, lang, style, facts_hash)
        at = int(np.searchsorted(self._keys, k))
        if at >= len(self._keys) or self._keys[at] != k:
            return None
        row = int(self._rows[at])
        value = {c: self.table[c][row].as_py() for c in ("text", "cited", "attempts", "prompt_id", "prompt_version",
                                                          "model_id", "fallback_used")}
        return StoredReason(value["text"], json.loads(value["cited"]), int(value["attempts"]), value["prompt_id"],
                            int(value["prompt_version"]), value["model_id"], bool(value["fallback_used"]))


def _read(path: Path) -> pa.Table | None:
    """One run's file, or None (with a warning naming it) when it cannot be read: a truncated or foreign file
    costs its reasons, never the service's start."""
    try:
        return pq.read_table(path, memory_map=True, schema=SCHEMA)
    except (OSError, ValueError, pa.ArrowException) as e:
        log.warning("reason store: skipped %s, which cannot be read (%s)", path, e)
        return None


def write_run(root: Path, rows: list[dict]) -> Path | None:
    """Add one run's rows to the store as a new file (written whole, then renamed in)."""
    if not rows:
        return None
    root.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{**r, "written_at": r.get("written_at", time.time())} for r in rows],
                                 schema=SCHEMA)
    path = root / f"run-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}.parquet"
    with atomic.atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path
