"""What a training run is asked to do (`TrainConfig`, set from `whyrec train --set NAME=VALUE`) and the
validation purchases every choice between settings is made on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ranker.candidates import CandidateConfig
from ranker.split import nth_last_targets, target_kind


@dataclass(frozen=True)
class TrainConfig:
    """Defaults chosen on Amazon Scientific's validation fold (see the ranker issue's closing note)."""

    folds: tuple[int, ...] = (2, 3, 4)
    negatives: int = 24
    loss: str = "softmax"
    epochs: int = 20
    patience: int = 2
    min_steps: int = 400
    batch_size: int = 512
    groups_per_batch: int = 128
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    """`constant`, or `cosine`: decay to 0 over `epochs` worth of optimiser steps (so the same setting fits a
    shop of any size: the schedule counts steps, not epochs)."""
    logq: bool = False
    """Subtract log Q(item) from every logit in training, Q the item's share of the sampled negatives (sampled-
    softmax correction, Yi et al. 2019): candidates over-sample popular items as negatives."""
    hidden: tuple[int, ...] = (128, 64)
    activation: str = "gelu"
    """Of the hidden, text and sequence layers: `gelu` (smooth) or `relu`, `silu`, `softplus`. Along the
    integrated-gradients path a ReLU network's gradient jumps, so its quadrature error falls only like 1/steps
    (measured: ×2 per doubling) and pairs near the baseline needed up to 4096 steps; a smooth network's
    Gauss-Legendre sum is exact to 1e-5 at 32 steps. Same accuracy on validation (3 seeds, NDCG@10: Amazon
    Scientific 0.0993 gelu vs 0.0982 relu, demo 0.1352 vs 0.1375, both inside seed noise); on Scientific
    top-10s completeness p99 4.5e-6 vs 0.99%, IG median 3.5 vs 12.2 ms, p90 4.3 vs 78 ms; search k=10 p99 33-37
    vs 85-107 ms. Models trained with `relu` keep it (the trapezoid rule is picked for them)."""
    text_units: int = 4
    text_dropout: float = 0.5
    text_l2: float = 1e-3
    dropout: float = 0.1
    cold_groups: float = 0.25
    """Share of training groups shown as new arrivals (`features.as_new_items`): the positive and negatives
    drawn from the whole catalog, all without behaviour, so the model also learns to rank items nobody has
    bought yet by brand, category, price and text (cf. DropoutNet, Volkovs et al. 2017)."""
    query_groups: float = 0.3
    """Share of training groups that answer a search query (the positive's category name, see
    `search.query_texts`), with negatives drawn from the items the query retrieves: the query relevance group
    is learned where it matters, re-ranking search results for the shopper. 0 trains a model without search."""
    search_candidates: int = 100
    """How many items a query retrieves for the ranker to re-rank (training and serving)."""
    sequence_len: int = 0
    """Latest purchases the order-aware group reads (`ranker.sequence`, up to SEQUENCE_LEN = 8); 0, the default,
    trains without it. Off because it did not beat the model without it on validation, in any of three
    comparisons (3 seeds each, validation NDCG@10): Amazon Scientific 0.0958 vs 0.0982 with the lift features,
    0.0979 vs 0.0989 before them; demo shop 0.1342 vs 0.1387; with GELU layers Scientific 0.0982 vs 0.0993, demo
    0.1349 vs 0.1352 (its demo driver recovery was higher, 0.672 vs 0.654). `--set sequence_len=8` turns it on; its
    reasons then name the recent purchase they credit ("recent" facts)."""
    sequence_units: int = 8
    val_users: int = 800
    ensemble: int = 3
    seed: int = 0
    candidates: CandidateConfig = field(default_factory=CandidateConfig)

    def __post_init__(self) -> None:
        """Refuse a bad choice at once, not after minutes of feature computation."""
        for name, allowed in (("loss", ("softmax", "bce")), ("lr_schedule", ("constant", "cosine")),
                              ("activation", ("relu", "gelu", "silu", "softplus"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def with_settings(self, pairs: list[str]) -> TrainConfig:
        """This config with `name=value` settings applied (`whyrec train --set lr_schedule=cosine`); values are
        read as the field's type, and a bad name or value is an error that names it."""
        from dataclasses import fields, replace

        kinds = {f.name: type(getattr(self, f.name)) for f in fields(self) if f.name != "candidates"}
        changes: dict = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            name = name.strip()
            if not sep or name not in kinds:
                raise ValueError(f"--set {pair!r}: expected NAME=VALUE with NAME one of {sorted(kinds)}")
            kind = kinds[name]
            try:
                if kind is tuple:
                    changes[name] = tuple(int(v) for v in value.split(",") if v.strip())
                elif kind is bool:
                    changes[name] = {"true": True, "false": False}[value.strip().lower()]
                else:
                    changes[name] = kind(value)
            except (ValueError, KeyError):
                raise ValueError(f"--set {pair!r}: {name} takes a {kind.__name__}") from None
        return replace(self, **changes)


def validation_targets(events, cfg: TrainConfig):
    """The held-out shoppers' validation purchases (fold `cfg.folds[0]`), drawn with the training seed: early
    stopping and every choice between settings are made on these, never on the test purchases."""
    targets = nth_last_targets(events, cfg.folds[0], target_kind(events))
    return targets.sample(n=min(cfg.val_users, len(targets) // 5), random_state=cfg.seed)
