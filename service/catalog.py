"""A ranker as the service shows it: the trained artifact plus the catalog enrichment stored beside it.

The ranker scores; the enrichment (`narrator.enrichment`, written by `whyrec catalog enrich`, corrected by
editors) says what each item is and what it is called in Chinese. Both the CLI and the engine load rankers
through `load`/`ranker_of`, so a sentence reads the same wherever it is written.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from narrator import enrichment

if TYPE_CHECKING:
    from ranker.artifacts import Artifact
    from ranker.ranking import Ranker


def root_of(artifacts_path: Path) -> Path:
    """The artifacts root (the folder with `LATEST`), where the enrichment lives for every version."""
    from ranker import artifacts

    return artifacts.resolve(artifacts_path).parent


def load(artifacts_path: Path) -> Ranker:
    """The ranker of `artifacts_path` (a root or one version folder), described by its enrichment."""
    from ranker import artifacts

    return ranker_of(artifacts.load(artifacts_path))


def ranker_of(artifact: Artifact) -> Ranker:
    """The artifact's ranker, described by the enrichment in its root. An editor's override file with a
    problem stops the load with file:line."""
    from ranker.ranking import Ranker

    ranker = Ranker.from_artifact(artifact)
    describe(ranker, artifact.path.parent)
    return ranker


def describe(ranker: Ranker, root: Path) -> int:
    rows = enrichment.load(root, known=list(ranker.items.index))
    if not rows:
        return 0
    return ranker.describe(pd.DataFrame([asdict(r) for r in rows.values()]))
