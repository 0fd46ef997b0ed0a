"""A ranker as the service shows it: the trained artifact plus the catalog enrichment stored beside it.

The ranker scores; the enrichment (`narrator.enrichment`, written by `whyrec catalog enrich`, corrected by
editors) says what each item is and what it is called in Chinese. Both the CLI and the engine load rankers
through `load`/`ranker_of`, so a sentence reads the same wherever it is written.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from narrator import enrichment, kinds

if TYPE_CHECKING:
    from narrator.backends import Backend
    from ranker.artifacts import Artifact
    from ranker.ranking import Ranker


def root_of(artifacts_path: Path) -> Path:
    """The artifacts root (the folder with `LATEST`), where the enrichment lives for every version."""
    from ranker import artifacts

    return artifacts.resolve(artifacts_path).parent


def load(artifacts_path: Path, store: Path | None = None) -> Ranker:
    """The ranker of `artifacts_path` (a root or one version folder), described by its enrichment, with the
    promotions of the event store (`store`, default `events.db` in the artifacts root) when there is one."""
    from ranker import artifacts

    artifact = artifacts.load(artifacts_path)
    return with_promotions(ranker_of(artifact), store or artifact.path.parent / "events.db")


def ranker_of(artifact: Artifact) -> Ranker:
    """The artifact's ranker, described by the enrichment in its root. An editor's override file with a
    problem stops the load with file:line."""
    from ranker.ranking import Ranker

    ranker = Ranker.from_artifact(artifact)
    describe(ranker, artifact.path.parent)
    return ranker


def with_promotions(ranker: Ranker, store: Path) -> Ranker:
    """The ranker showing the promotions stored in `store` (the service's event store), when it exists: what
    the CLI's explanations and previews need to read like the service's."""
    if store.exists():
        from service.promotions import PromotionBook

        ranker.promotions = PromotionBook(store)
    return ranker


def describe(ranker: Ranker, root: Path) -> int:
    """Show the enrichment stored in `root` (with the editors' overrides) in the ranker's facts."""
    rows = enrichment.load(root, known=list(ranker.items.index))
    if not rows:
        return 0
    return ranker.describe(pd.DataFrame([asdict(r) for r in rows.values()]))


def embedder_for(artifact: Artifact) -> Callable[[pd.DataFrame], np.ndarray]:
    """Text embeddings for items added while serving, from the encoder the model was trained with (the path
    its metadata records, else the packaged MiniLM), loaded on first use and cached beside the artifacts."""
    from ranker.text import TextEmbedder, item_texts

    recorded = artifact.meta.get("timings", {}).get("embedding_model")
    cache = artifact.path.parent / "cache" / "embeddings"

    @functools.cache
    def embedder() -> TextEmbedder:
        return TextEmbedder(recorded if recorded and Path(recorded).exists() else None, cache_dir=cache)

    return lambda items: embedder().encode(item_texts(items.fillna("")))


def enrich_arrivals(backend: Backend, root: Path, items: pd.DataFrame, threads: int) -> list[enrichment.Enriched]:
    """The catalog enrichment for items added or changed while serving, stored with the rest (the model
    writes; the checks of `narrator.enrichment` decide what is kept). Runs as background model work."""
    with _enrichment_lock:
        done = enrichment.read(root)
        written: list[enrichment.Enriched] = []
        enrichment.enrich(backend, _multilingual(threads), items, done, written.extend)
        done = {**enrichment.read(root), **{r.item_id: r for r in written}}
        enrichment.write(root, done)
    return written


@functools.cache
def _multilingual(threads: int) -> kinds.Encoder:
    return kinds.multilingual_encoder(threads)


_enrichment_lock = threading.Lock()
