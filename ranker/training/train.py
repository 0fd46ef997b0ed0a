"""Training: sampled-negative log loss over leave-last-out folds, early stopping on full-ranking NDCG@10.

Fold n pairs each shopper's n-th last purchase with features from the window before it
(`split.truncate(events, n)`), so no example ever sees its own target. Folds 2.. come from the
train+valid part only; the last purchase (fold 1) stays untouched for `evaluate`. Validation is the
same fold-2 target for a held-out set of shoppers, ranked against the whole catalog every epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ranker.data import Shop
from ranker.features import FeatureSpec
from ranker.metrics import evaluate_scorer
from ranker.split import target_kind, truncate
from ranker.stats.behaviour import BehaviourStats
from ranker.stats.catalog import CatalogIndex
from ranker.training.examples import Searching, fold_examples, log_q
from ranker.training.scoring import CandidateBatch
from ranker.training.train_config import TrainConfig, validation_targets

Progress = Callable[[str, float, float], None]


def _quiet(stage: str, done: float, total: float) -> None:
    return None


@dataclass
class TrainResult:
    model: object
    spec: FeatureSpec
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_val_ndcg10: float = 0.0
    search_emb: np.ndarray | None = None
    """The catalog's multilingual vectors the query features were learned with (None: no search)."""


def listwise_trainer(model, group: int, logq: bool = False):
    """Wraps the ranker to score a positive and its negatives together and train with a sampled
    softmax log loss (the positive's log-probability within its group). Groups are flattened into
    one batch for the ranker (TimeDistributed would call it once per group member). `logq`: the groups' last
    column is log Q(item), subtracted from the logits (training only; the ranker never sees it)."""
    import keras

    class Listwise(keras.Model):
        def __init__(self, ranker):
            super().__init__(name="listwise_trainer")
            self.ranker = ranker

        def call(self, groups, training=False):
            d = groups.shape[-1]
            if logq:
                correction, groups = groups[:, :, -1], groups[:, :, :-1]
                d -= 1
            scores = keras.ops.reshape(self.ranker(keras.ops.reshape(groups, (-1, d)), training=training), (-1, group))
            return scores - correction if logq else scores

    return Listwise(model)


def train(shop: Shop, catalog: CatalogIndex, cfg: TrainConfig = TrainConfig(),
          progress: Progress = _quiet, search: Searching | None = None, tensorboard: Path | None = None) -> TrainResult:
    """`tensorboard`: a folder for TensorBoard logs (per ensemble member: loss per epoch, validation NDCG@10 and
    HR@10, weight histograms)."""
    from ranker.model import CompiledScorer, build_model, ensemble_model, feature_moments

    rng = np.random.default_rng(cfg.seed)
    search = search if cfg.query_groups > 0 else None
    spec = FeatureSpec.default(catalog.emb.shape[1], search=search is not None, sequence_len=cfg.sequence_len)
    kind = target_kind(shop.events)

    val_targets = validation_targets(shop.events, cfg)
    held_out = set(val_targets["user_id"])

    xs, ys, items_seen = [], [], []
    for k, n in enumerate(cfg.folds):
        progress(f"features: fold {n}", k, len(cfg.folds))
        x, y, items = fold_examples(shop, catalog, spec, n, cfg, rng,
                                    held_out if n == cfg.folds[0] else frozenset(), search)
        xs.append(x)
        ys.append(y)
        items_seen.append(items)
    progress("features", len(cfg.folds), len(cfg.folds))
    x, y = np.concatenate(xs), np.concatenate(ys)
    del xs, ys
    if not y.sum():
        raise ValueError("no training examples: every shopper needs at least 3 purchases")

    mean, std = feature_moments(x)
    group = 1 + cfg.negatives
    if cfg.loss == "softmax":
        x, y = x.reshape(-1, group, x.shape[1]), np.zeros(len(x) // group, np.int64)
        if cfg.logq:
            x = np.concatenate([x, log_q(np.concatenate(items_seen), catalog.n).reshape(len(y), group, 1)], axis=2)

    val_stats = BehaviourStats(truncate(shop.events, cfg.folds[0], kind), catalog, kind)
    val_rows = val_stats.rows_of(val_targets["user_id"])
    val_items = catalog.index_of(val_targets["item_id"])
    val_exclude = [val_stats.history_of(r) for r in val_rows]

    val_batch = CandidateBatch.build(spec, val_stats, val_rows, cfg.candidates)
    position = {row: k for k, row in enumerate(val_rows)}

    def validate(scorer) -> dict[str, float]:
        matrix = val_batch.scores(scorer)
        return evaluate_scorer(lambda rows: matrix[[position[r] for r in rows]], val_rows, val_items,
                               val_exclude, seed=cfg.seed)

    members, history = [], []
    for m in range(cfg.ensemble):
        model = build_model(spec, mean, std, cfg.hidden, cfg.text_units, cfg.dropout, cfg.seed + m,
                            cfg.text_dropout, cfg.text_l2, name=f"member_{m}", sequence_units=cfg.sequence_units,
                            activation=cfg.activation)
        history += _fit_member(model, x, y, cfg, validate, progress, f"member {m + 1}/{cfg.ensemble}",
                               None if tensorboard is None else tensorboard / f"member_{m}")
        members.append(model)
    model = members[0] if len(members) == 1 else ensemble_model(members, len(spec.features))
    final = validate(CompiledScorer(model))
    progress(f"validation NDCG@10 {final['NDCG@10']:.4f}", 1, 1)
    best = max(history, key=lambda r: r["val_NDCG@10"])
    return TrainResult(model, spec, history, best["epoch"], final["NDCG@10"],
                       None if search is None else search.index.vectors)


def _fit_member(model, x: np.ndarray, y: np.ndarray, cfg: TrainConfig, validate, progress: Progress,
                label: str, log_dir: Path | None = None) -> list[dict]:
    """Train one network with early stopping on validation NDCG@10; keeps its best weights.

    One `fit` call for all epochs (a call per epoch would copy the training arrays every time), with
    validation in a callback; patience only counts once `min_steps` optimiser steps have been taken,
    so a small shop is not stopped by validation noise before it has learned anything."""
    import keras

    from ranker.model import CompiledScorer

    if cfg.loss == "softmax":
        trainer = listwise_trainer(model, x.shape[1], cfg.logq)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        batch = cfg.groups_per_batch
    else:
        trainer, loss, batch = model, keras.losses.BinaryCrossentropy(from_logits=True), cfg.batch_size
    steps_per_epoch = -(-len(y) // batch)
    rate = cfg.learning_rate
    if cfg.lr_schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, cfg.epochs * steps_per_epoch)
    trainer.compile(optimizer=keras.optimizers.Adam(rate), loss=loss)
    scorer = CompiledScorer(model)
    history: list[dict] = []
    state = {"best": -1.0, "weights": model.get_weights(), "waited": 0}

    class EarlyStopOnNDCG(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            val = validate(scorer)
            history.append({"member": label, "epoch": epoch + 1, "loss": float((logs or {}).get("loss", np.nan)),
                            "val_NDCG@10": val["NDCG@10"], "val_HR@10": val["HR@10"]})
            if writer is not None:
                import tensorflow as tf

                with writer.as_default():
                    for name in ("NDCG@10", "HR@10"):
                        tf.summary.scalar(f"validation/{name}", val[name], step=epoch + 1)
                writer.flush()
            progress(f"{label} epoch {epoch + 1}: loss {history[-1]['loss']:.4f}, "
                     f"val NDCG@10 {val['NDCG@10']:.4f}", epoch + 1, cfg.epochs)
            if val["NDCG@10"] > state["best"]:
                state.update(best=val["NDCG@10"], weights=model.get_weights(), waited=0)
            elif (epoch + 1) * steps_per_epoch >= cfg.min_steps:
                state["waited"] += 1
                if state["waited"] >= cfg.patience:
                    trainer.stop_training = True

    callbacks: list = [EarlyStopOnNDCG()]
    writer = None
    if log_dir is not None:
        import tensorflow as tf

        writer = tf.summary.create_file_writer(str(log_dir / "validation"))
        callbacks.append(keras.callbacks.TensorBoard(str(log_dir), histogram_freq=1, write_graph=False))
    trainer.fit(x, y, batch_size=batch, epochs=cfg.epochs, verbose=0, shuffle=True, callbacks=callbacks)
    model.set_weights(state["weights"])
    return history
