"""Training: sampled-negative log loss over leave-last-out folds, early stopping on full-ranking NDCG@10.

Fold n pairs each shopper's n-th last purchase with features from the window before it
(`split.truncate(events, n)`), so no example ever sees its own target. Folds 2.. come from the
train+valid part only; the last purchase (fold 1) stays untouched for `evaluate`. Validation is the
same fold-2 target for a held-out set of shoppers, ranked against the whole catalog every epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from ranker.behaviour import BehaviourStats, CatalogIndex
from ranker.candidates import CandidateConfig, candidates
from ranker.data import Shop
from ranker.features import FeatureSpec
from ranker.metrics import evaluate_scorer
from ranker.split import nth_last_targets, target_kind, truncate

Progress = Callable[[str, float, float], None]
NOT_A_CANDIDATE = -1e9


def _quiet(stage: str, done: float, total: float) -> None:
    return None


@dataclass(frozen=True)
class TrainConfig:
    folds: tuple[int, ...] = (2, 3, 4)
    negatives: int = 24
    epochs: int = 20
    patience: int = 3
    batch_size: int = 512
    learning_rate: float = 1e-3
    hidden: tuple[int, ...] = (128, 64)
    text_units: int = 16
    dropout: float = 0.1
    val_users: int = 800
    loss: str = "softmax"
    candidates: CandidateConfig = field(default_factory=CandidateConfig)
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    model: object
    spec: FeatureSpec
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_val_ndcg10: float = 0.0


def sample_negatives(cands: list[np.ndarray], positives: np.ndarray, n_hard: int, n_uniform: int,
                     n_items: int, rng: np.random.Generator) -> np.ndarray:
    """Mostly candidates the target has to beat at ranking time, plus a few uniform items."""
    hard = np.empty((len(cands), n_hard), np.int64)
    for r, c in enumerate(cands):
        pool = c[c != positives[r]]
        hard[r] = rng.choice(pool, n_hard, replace=len(pool) < n_hard) if len(pool) else rng.integers(0, n_items,
                                                                                                         n_hard)
    uniform = rng.integers(0, n_items, (len(cands), n_uniform))
    neg = np.concatenate([hard, uniform], axis=1)
    clash = neg == positives[:, None]
    neg[clash] = (neg[clash] + 1 + rng.integers(0, n_items - 1, clash.sum())) % n_items
    return neg


def fold_examples(shop: Shop, catalog: CatalogIndex, spec: FeatureSpec, n: int, cfg: TrainConfig,
                  rng: np.random.Generator, skip_users: set[str] = frozenset()):
    kind = target_kind(shop.events)
    stats = BehaviourStats(truncate(shop.events, n, kind), catalog, kind)
    targets = nth_last_targets(shop.events, n, kind)
    targets = targets[~targets["user_id"].isin(skip_users)]
    rows = stats.rows_of(targets["user_id"])
    pos = catalog.index_of(targets["item_id"])
    n_uniform = cfg.negatives // 6
    neg = sample_negatives(candidates(stats, rows, cfg.candidates), pos, cfg.negatives - n_uniform, n_uniform,
                           catalog.n, rng)
    items = np.concatenate([pos[:, None], neg], axis=1).ravel()
    users = np.repeat(rows, 1 + cfg.negatives)
    x = spec.compute(stats, users, items)
    y = np.tile(np.r_[1.0, np.zeros(cfg.negatives)], len(rows)).astype(np.float32)
    return x, y


def listwise_trainer(model, group: int):
    """Wraps the ranker to score a positive and its negatives together and train with a sampled
    softmax log loss (the positive's log-probability within its group)."""
    import keras

    d = model.input_shape[-1]
    groups = keras.Input((group, d), name="groups")
    logits = keras.layers.TimeDistributed(model, name="ranker")(groups)
    return keras.Model(groups, keras.layers.Reshape((group,), name="group_logits")(logits))


def score_matrix(scorer, spec: FeatureSpec, stats: BehaviourStats, rows: np.ndarray,
                 cand_cfg: CandidateConfig = CandidateConfig()) -> np.ndarray:
    """Scores of every catalog item for each shopper row; items outside the candidates rank last."""
    cands = candidates(stats, rows, cand_cfg)
    users = np.repeat(rows, [len(c) for c in cands])
    items = np.concatenate(cands)
    scores = scorer(spec.compute(stats, users, items))
    out = np.full((len(rows), stats.catalog.n), NOT_A_CANDIDATE, np.float32)
    out[np.repeat(np.arange(len(rows)), [len(c) for c in cands]), items] = scores
    return out


def train(shop: Shop, catalog: CatalogIndex, cfg: TrainConfig = TrainConfig(),
          progress: Progress = _quiet) -> TrainResult:
    import keras

    from ranker.model import CompiledScorer, build_model, feature_moments

    rng = np.random.default_rng(cfg.seed)
    spec = FeatureSpec.default(catalog.emb.shape[1])
    kind = target_kind(shop.events)

    val_targets = nth_last_targets(shop.events, cfg.folds[0], kind)
    val_targets = val_targets.sample(n=min(cfg.val_users, len(val_targets) // 5), random_state=cfg.seed)
    held_out = set(val_targets["user_id"])

    xs, ys = [], []
    for k, n in enumerate(cfg.folds):
        progress(f"features: fold {n}", k, len(cfg.folds))
        x, y = fold_examples(shop, catalog, spec, n, cfg, rng,
                             held_out if n == cfg.folds[0] else frozenset())
        xs.append(x)
        ys.append(y)
    progress("features", len(cfg.folds), len(cfg.folds))
    x, y = np.concatenate(xs), np.concatenate(ys)
    del xs, ys
    if not y.sum():
        raise ValueError("no training examples: every shopper needs at least 3 purchases")

    mean, std = feature_moments(x)
    model = build_model(spec, mean, std, cfg.hidden, cfg.text_units, cfg.dropout, cfg.seed)
    group = 1 + cfg.negatives
    if cfg.loss == "softmax":
        trainer = listwise_trainer(model, group)
        x = x.reshape(-1, group, x.shape[1])
        y = np.zeros(len(x), np.int64)
        trainer.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    elif cfg.loss == "bce":
        trainer = model
        trainer.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                        loss=keras.losses.BinaryCrossentropy(from_logits=True))
    else:
        raise ValueError(f"loss must be 'softmax' or 'bce', not {cfg.loss!r}")

    val_stats = BehaviourStats(truncate(shop.events, cfg.folds[0], kind), catalog, kind)
    val_rows = val_stats.rows_of(val_targets["user_id"])
    val_items = catalog.index_of(val_targets["item_id"])
    val_exclude = [val_stats.history_of(r) for r in val_rows]
    scorer = CompiledScorer(model)

    result = TrainResult(model, spec)
    best_weights, waited = model.get_weights(), 0
    order = np.arange(len(y))
    batch = max(1, cfg.batch_size // group) if cfg.loss == "softmax" else cfg.batch_size
    for epoch in range(1, cfg.epochs + 1):
        rng.shuffle(order)
        fit = trainer.fit(x[order], y[order], batch_size=batch, epochs=1, verbose=0, shuffle=False)
        val = evaluate_scorer(lambda rows: score_matrix(scorer, spec, val_stats, rows, cfg.candidates),
                              val_rows, val_items,
                              val_exclude, seed=cfg.seed)
        record = {"epoch": epoch, "loss": float(fit.history["loss"][-1]), "val_NDCG@10": val["NDCG@10"],
                  "val_HR@10": val["HR@10"]}
        result.history.append(record)
        progress(f"epoch {epoch}: loss {record['loss']:.4f}, val NDCG@10 {val['NDCG@10']:.4f}", epoch,
                 cfg.epochs)
        if val["NDCG@10"] > result.best_val_ndcg10:
            result.best_val_ndcg10, result.best_epoch = val["NDCG@10"], epoch
            best_weights, waited = model.get_weights(), 0
        else:
            waited += 1
            if waited >= cfg.patience:
                break
    model.set_weights(best_weights)
    return result
