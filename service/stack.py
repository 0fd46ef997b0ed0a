"""The one composition root: whyrec assembled from the settings, the same way for every path.

A shopper's reason depends on more than the trained model: the catalog enrichment (what an item is called),
the shop as it is now (items added or withdrawn while serving, events since training, promotions), the
new-arrival window, and the prompt version the label picks for that shopper. The HTTP engine, `whyrec batch`
(both stages), the CLI's commands, `whyrec report` and the benches all take their stack from `Stack.load`, so
one (shopper, item, language) has the same facts and the same reason key wherever it is computed.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from narrator import enrichment
from narrator.enrichment import categories
from narrator.prompts.library import DEFAULT_DIR
from narrator.reason_store import ReasonStore
from narrator.verification.meaning import NounJudge, shop_kinds
from service.prompt_router import PromptRouter
from service.settings import Settings

if TYPE_CHECKING:
    from narrator.backends import Backend
    from narrator.narrate import Narrator
    from ranker.artifacts import Artifact
    from ranker.explain import Explainer
    from ranker.ranking import Ranker
    from service.shop.live import LiveShop
    from service.shop.promotions import PromotionBook

log = logging.getLogger("whyrec.stack")


@dataclass(frozen=True)
class Stack:
    """A served model version and everything that turns its scores into a shopper's sentence."""

    settings: Settings
    artifact: Artifact
    ranker: Ranker
    explainer: Explainer
    prompts: PromptRouter
    backend: Backend | None = None
    live: LiveShop | None = None
    """The shop's overlay when this stack serves live (the engine); a replayed copy is closed after loading."""
    promotions: PromotionBook | None = None

    @property
    def version(self) -> str:
        return self.artifact.path.name

    @property
    def root(self) -> Path:
        """The artifacts root: where labels, the enrichment, the event store and the reason store live."""
        return self.artifact.path.parent

    @classmethod
    def load(cls, settings: Settings, text_model: Callable[[], Backend | None] | None = None,
             live: LiveShop | None = None, written_ahead: bool = False, **narrator_options: Any) -> Stack:
        """The stack `settings` name: the version the model label serves, with its enrichment, the event store's
        items, withdrawals, events and promotions, and the prompt versions of the prompt label.

        With `live` (the engine's `LiveShop`), the store is created when missing and followed while serving;
        without it, a store that exists is replayed once (read only) so a command sees what the service shows.
        `text_model` loads the narrator's model only once the ranker and the shop have loaded, so a broken
        artifact or store fails before a model load of several seconds. `written_ahead` serves the reason
        store's sentences (`whyrec batch`); `narrator_options` go to every prompt version's `Narrator`."""
        from ranker import artifacts

        artifact = artifacts.load(settings.artifacts, settings.model_label)
        store = events_path(settings, artifact.path.parent)
        book = _promotions(store, create=live is not None)
        ranker, explainer = served_ranker(artifact, settings, book)
        _overlay(ranker, artifact, store, live, settings)
        reasons = settings.reasons or artifact.path.parent / "reasons"
        ahead = ReasonStore(reasons) if written_ahead and reasons.is_dir() else None
        backend = text_model() if text_model is not None else None
        if written_ahead:
            log.info("reasons written ahead: %s", f"{ahead.servable} servable in {reasons}" if ahead else "none")
        narrator_options.setdefault("noun_judge", noun_judge(ranker.encoder.encode_fresh, ranker.items))
        prompts = prompt_router(settings, backend, ranker.brands(), ahead, **narrator_options)
        return cls(settings, artifact, ranker, explainer, prompts, backend, live, book)

    def with_version(self, version: str) -> Stack:
        """Another model version of the same root, served with this stack's prompts, text model, promotions and
        live shop (which replays the store onto it and swaps it in)."""
        from ranker import artifacts

        artifact = artifacts.load(self.root / version)
        ranker, explainer = served_ranker(artifact, self.settings, self.promotions)
        if self.live is not None:
            self.live.switch(ranker, artifact.shop.events, snapshot_path(self.settings, artifact))
        self.prompts.add_brands(ranker.brands())
        return replace(self, artifact=artifact, ranker=ranker, explainer=explainer)

    def explainer_with(self, tolerance: float) -> Explainer:
        """This stack's explainer, or one with another completeness tolerance (`whyrec explain --tolerance`)."""
        if tolerance == self.explainer.tolerance:
            return self.explainer
        from ranker.explain import Explainer

        return Explainer(self.ranker, tolerance=tolerance, new_arrival_days=self.settings.new_arrival_days)

    def narrator(self, user_id: str, style: str = "short") -> Narrator:
        """The narrator of the prompt version this shopper is served (label, A/B arm, else the working copy)."""
        return self.prompts.narrator(user_id, style)

    def close(self) -> None:
        self.prompts.stop()
        if self.promotions is not None:
            self.promotions.close()


def root_of(artifacts_path: Path) -> Path:
    """The artifacts root (the folder with `LATEST`), where the enrichment lives for every version."""
    from ranker import artifacts

    return artifacts.resolve(artifacts_path).parent


def events_path(settings: Settings, root: Path) -> Path:
    """The shop's event store: `settings.events`, else `events.db` in the artifacts root."""
    return settings.events or root / "events.db"


def served_ranker(artifact: Artifact, settings: Settings,
                  promotions: PromotionBook | None = None) -> tuple[Ranker, Explainer]:
    """The artifact's ranker described by its enrichment and showing `promotions`, and its explainer with the
    settings' new-arrival window."""
    from ranker.explain import Explainer

    ranker = ranker_of(artifact)
    if promotions is not None:
        ranker.show_promotions(promotions)
    return ranker, Explainer(ranker, new_arrival_days=settings.new_arrival_days)


def ranker_of(artifact: Artifact) -> Ranker:
    """The artifact's ranker, described by the enrichment in its root. An editor's override file with a
    problem stops the load with file:line."""
    from ranker.ranking import Ranker

    ranker = Ranker.from_artifact(artifact)
    describe(ranker, artifact.path.parent)
    return ranker


def describe(ranker: Ranker, root: Path) -> int:
    """Show the enrichment stored in `root` (with the editors' overrides, and the category names translated
    once) in the ranker's facts."""
    rows = enrichment.load(root, known=list(ranker.items.index))
    frame = pd.DataFrame([asdict(r) for r in rows.values()] or {"item_id": []}).set_index("item_id", drop=False)
    names = categories.read(root)
    if names:
        paths = ranker.items["category"].astype(str)
        frame = frame.reindex(paths.index.union(frame.index))
        frame["item_id"] = frame.index
        for lang in ("zh", "en"):
            frame[f"category_{lang}"] = paths.map(lambda c, lang=lang: categories.paths_in(c, names, lang))
    if frame.empty:
        return 0
    return ranker.describe(frame.reset_index(drop=True))


def noun_judge(encode: Callable[[list[str]], np.ndarray], items: pd.DataFrame) -> NounJudge:
    """The verifier's judge of zh nouns by meaning, against what the shop's items are."""
    return NounJudge(encode, others=kinds_of(items))


def kinds_of(items: pd.DataFrame) -> tuple[str, ...]:
    """What the shop's items are (`meaning.shop_kinds`): their category leaves and English kinds."""
    return shop_kinds(items["category"].astype(str), items.get("kind_en", ()))


def prompt_router(settings: Settings, backend: Backend | None, brands: set[str],
                  written_ahead: ReasonStore | None = None, **narrator_options: Any) -> PromptRouter:
    """The prompt versions the settings' label serves (the batch's reasons stage builds only this part)."""
    return PromptRouter(settings.prompts or DEFAULT_DIR, settings.prompt_label, backend, brands, written_ahead,
                        **narrator_options)


def shop_brands(settings: Settings) -> set[str]:
    """Every brand a served reason may name: the trained catalog's and those of items stored while serving,
    read without loading the model (what the verifier of a process that has no ranker needs)."""
    from ranker import artifacts
    from ranker.data import load_shop
    from service.shop.store import EventStore

    version = artifacts.resolve(settings.artifacts, settings.model_label)
    brands = set(load_shop(version / "shop").items["brand"].dropna().astype(str))
    path = events_path(settings, version.parent)
    if path.is_file():
        store = EventStore(path)
        try:
            brands |= {str(record.get("brand") or "") for record, _, _ in store.items()}
        finally:
            store.close()
    return brands - {""}


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


def promotion_book(settings: Settings) -> PromotionBook:
    """The promotions of the shop `settings` name, for commands that change them (the file is created when
    missing), without loading a model."""
    book = _promotions(events_path(settings, root_of(settings.artifacts)), create=True)
    assert book is not None
    return book


def _promotions(store: Path, create: bool) -> PromotionBook | None:
    if not (create or store.is_file()):
        return None
    from service.shop.promotions import PromotionBook

    return PromotionBook(store)


def snapshot_path(settings: Settings, artifact: Artifact) -> Path | None:
    """Where the served shoppers' rows of this version are saved (`service.shop.snapshot`); None when off."""
    from service.shop import snapshot

    return snapshot.path_for(events_path(settings, artifact.path.parent), artifact.path.name) \
        if settings.snapshots else None


def _overlay(ranker: Ranker, artifact: Artifact, store: Path, live: LiveShop | None, settings: Settings) -> None:
    """The shop as it is now on the ranker: stored items, withdrawals and events since training (those after
    the snapshot of the shoppers' rows, when one is usable)."""
    from service.shop.store import EventStore

    if live is not None:
        live.snapshots.every = settings.snapshot_every
        replayed = live.attach(ranker, artifact.shop.events, EventStore(store), embedder_for(artifact),
                               snapshot_path(settings, artifact))
        live.follow()
        log.info("replayed %d stored events onto the served shoppers", replayed)
    elif store.is_file():
        from service.shop.live import LiveShop

        once = LiveShop()
        once.snapshots.every = sys.maxsize  # a command reads the service's snapshot, never writes one
        once.attach(ranker, artifact.shop.events, EventStore(store), embedder_for(artifact),
                    snapshot_path(settings, artifact))
        once.close()
