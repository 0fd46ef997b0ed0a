"""The end-to-end jobs behind `whyrec train` and `whyrec evaluate`, shared with the benchmarks."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ranker import artifacts
from ranker.baselines import ItemKNN, mostpop_scores
from ranker.candidates import CandidateConfig
from ranker.data import Shop
from ranker.features import FeatureSpec
from ranker.metrics import scorer_ranks, summarise
from ranker.search import SearchIndex
from ranker.split import nth_last_targets, target_kind, truncate
from ranker.stats.behaviour import BehaviourStats
from ranker.stats.catalog import CatalogIndex
from ranker.text import DEFAULT_CACHE, MultilingualEncoder, TextEmbedder, item_texts, search_texts
from ranker.training.examples import Searching
from ranker.training.scoring import score_matrix
from ranker.training.train import Progress, TrainResult, _quiet, train
from ranker.training.train_config import TrainConfig


def embed_items(shop: Shop, model_path: str | Path | None = None, cache_dir: str | Path = DEFAULT_CACHE,
                progress: bool = False) -> tuple[np.ndarray, str]:
    embedder = TextEmbedder(model_path, cache_dir)
    return embedder.encode(item_texts(shop.items), progress=progress), str(embedder.model_path)


def test_ranks(shop: Shop, catalog: CatalogIndex, model, spec: FeatureSpec,
               cand_cfg: CandidateConfig = CandidateConfig()) -> dict[str, np.ndarray]:
    """Each test purchase's 0-based rank (each shopper's last purchase, full ranking, history excluded) for
    whyrec, MostPop and ItemKNN, all fit on the same window: everything before the test purchase."""
    from ranker.model import CompiledScorer

    kind = target_kind(shop.events)
    stats = BehaviourStats(truncate(shop.events, 1, kind), catalog, kind)
    test = nth_last_targets(shop.events, 1, kind)
    rows, targets = stats.rows_of(test["user_id"]), catalog.index_of(test["item_id"])
    exclude = [stats.history_of(r) for r in rows]
    scorer = CompiledScorer(model)
    knn = ItemKNN(stats)
    return {
        "whyrec": scorer_ranks(lambda r: score_matrix(scorer, spec, stats, r, cand_cfg), rows, targets, exclude),
        "mostpop": scorer_ranks(lambda r: mostpop_scores(stats, r), rows, targets, exclude),
        "itemknn": scorer_ranks(knn.scores, rows, targets, exclude),
    }


def evaluate(shop: Shop, catalog: CatalogIndex, model, spec: FeatureSpec,
             cand_cfg: CandidateConfig = CandidateConfig()) -> dict[str, dict[str, float]]:
    """Test metrics (HR and NDCG at 10 and 50) of `test_ranks`."""
    return {method: summarise(ranks) for method, ranks in test_ranks(shop, catalog, model, spec, cand_cfg).items()}


@contextmanager
def _step(progress: Progress, name: str, timings: dict[str, Any], key: str) -> Iterator[None]:
    """A step before the epochs: shown started, then done, with its seconds in `timings`. A step left at 0/1
    keeps its bar's clock running to the end of training, and reads as if it took all that time."""
    t = time.perf_counter()
    progress(name, 0, 1)
    yield
    timings[key] = time.perf_counter() - t
    progress(name, 1, 1)


def fit(shop: Shop, cfg: TrainConfig = TrainConfig(), progress: Progress = _quiet,
        embedding_model: str | Path | None = None, cache_dir: str | Path = DEFAULT_CACHE,
        tensorboard: Path | None = None) -> tuple[TrainResult, CatalogIndex, np.ndarray, dict]:
    """Embeddings, then training; returns what `save` needs plus step timings in seconds."""
    timings: dict[str, Any] = {}
    with _step(progress, "embedding item text", timings, "embeddings_s"):
        emb, model_path = embed_items(shop, embedding_model, cache_dir)
    catalog = CatalogIndex.build(shop.items, emb)
    search = None
    if cfg.query_groups > 0:
        with _step(progress, "multilingual search vectors", timings, "search_vectors_s"):
            encoder = MultilingualEncoder(cache_dir, threads=os.cpu_count() or 1)  # a batch: every core helps
            search = Searching(SearchIndex(encoder.encode(search_texts(shop.items))), encoder.encode)
    t = time.perf_counter()
    result = train(shop, catalog, cfg, progress, search, tensorboard)
    timings["train_s"] = time.perf_counter() - t
    timings["embedding_model"] = model_path
    return result, catalog, emb, timings


def save_result(out: str | Path, shop: Shop, result: TrainResult, emb: np.ndarray, cfg: TrainConfig,
                extra: dict) -> Path:
    meta = {"target_kind": target_kind(shop.events), "train_config": cfg.to_dict(),
            "best_epoch": result.best_epoch, "best_val_NDCG@10": result.best_val_ndcg10,
            "history": result.history, **extra}
    return artifacts.save(out, result.model, result.spec, shop, emb, meta, result.search_emb)
