"""The catalog enrichment of items added while serving: what each new item is and what it is called in
Chinese (`narrator.enrichment`), written by the text model as background work and stored with the rest, so
the service (`service.stack.describe`) shows it once it is written.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from narrator import enrichment
from narrator.enrichment import kinds

if TYPE_CHECKING:
    import pandas as pd

    from narrator.backends import Backend


def enrich_arrivals(backend: Backend, root: Path, items: pd.DataFrame, threads: int,
                    catalog: pd.DataFrame | None = None) -> list[enrichment.Enriched]:
    """The catalog enrichment for items added or changed while serving, stored with the rest (the model
    writes; the checks of `narrator.enrichment` decide what is kept; Chinese titles are read against the
    whole `catalog`). Runs as background model work."""
    with _enrichment_lock:
        done = enrichment.read(root)
        written: list[enrichment.Enriched] = []
        enrichment.enrich(backend, _multilingual(threads), items, done, written.extend, catalog=catalog)
        done = {**enrichment.read(root), **{r.item_id: r for r in written}}
        enrichment.write(root, done)
    return written


@functools.cache
def _multilingual(threads: int) -> kinds.Encoder:
    return kinds.multilingual_encoder(threads)


_enrichment_lock = threading.Lock()
