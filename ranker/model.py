"""The Keras 3 DNN ranker: one input vector in FeatureSpec order, one logit out.

A single flat input keeps attribution simple (integrated gradients over one vector whose columns
are named features). Normalisation lives inside the model, so `model.keras` alone maps raw features
to scores. The text embedding is compressed by its own small dense layer before it meets the scalar
features, which keeps full-catalog scoring cheap.
"""

from __future__ import annotations

import keras
import numpy as np

from ranker.features import FeatureSpec
from ranker.sequence import SLOT_FEATURES


@keras.saving.register_keras_serializable(package="whyrec")
class ColumnSlice(keras.layers.Layer):
    """Columns [start, stop) of a 2-D input; serialisable, unlike a Lambda."""

    def __init__(self, start: int, stop: int, **kwargs):
        super().__init__(**kwargs)
        self.start, self.stop = int(start), int(stop)

    def call(self, x):
        return x[:, self.start:self.stop]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.stop - self.start)

    def get_config(self):
        return {**super().get_config(), "start": self.start, "stop": self.stop}


LOGIT_BOUND = 8.0


@keras.saving.register_keras_serializable(package="whyrec")
class RecentSequenceEncoder(keras.layers.Layer):
    """Attention over the shopper's latest purchases, in order (cf. DIN, Zhou et al. 2018, with positions).

    Input: slots × per-slot features (`ranker.sequence`), slot 0 the latest purchase and feature 0 "slot
    filled" (1/0). Each slot becomes h_k = σ(W [features_k; position_k]) and the output is σ(U Σ_k w_k·h_k),
    σ the model's activation, w_k = filled_k·e^{l_k} / (1 + Σ_j filled_j·e^{l_j}), l_k = v·h_k bounded by tanh:
    a softmax with a null slot (logit 0) that lets the encoder attend to nothing. It is smooth in every input,
    so integrated gradients stay exact, and an empty slot (all 0) simply drops out. (A hard mask, 10⁴·(filled − 1)
    added to the logits, gave each slot's "filled" column attributions of ±80 that cancelled only in the group's
    sum, drowning which purchase mattered.)"""

    def __init__(self, slots: int, per_slot: int, units: int = 16, positions: int = 4, out_units: int = 8,
                 activation: str = "relu", **kwargs):
        super().__init__(**kwargs)
        self.slots, self.per_slot, self.units = int(slots), int(per_slot), int(units)
        self.positions, self.out_units, self.activation = int(positions), int(out_units), activation
        self.slot_dense = keras.layers.Dense(self.units, activation=activation, name="slot_dense")
        self.score = keras.layers.Dense(1, name="attention_score")
        self.out = keras.layers.Dense(self.out_units, activation=activation, name="sequence_out")

    def build(self, input_shape):
        self.position = self.add_weight(name="position", shape=(self.slots, self.positions),
                                        initializer=keras.initializers.RandomNormal(stddev=0.1))
        self.slot_dense.build((None, self.slots, self.per_slot + self.positions))
        self.score.build((None, self.slots, self.units))
        self.out.build((None, self.units))

    def call(self, x):
        ops = keras.ops
        s = ops.reshape(x, (-1, self.slots, self.per_slot))
        filled = s[:, :, 0]
        pos = ops.broadcast_to(self.position[None], (ops.shape(s)[0], self.slots, self.positions))
        h = self.slot_dense(ops.concatenate([s, pos], axis=-1))
        scores = filled * ops.exp(LOGIT_BOUND * ops.tanh(ops.squeeze(self.score(h), -1) / LOGIT_BOUND))
        weights = scores / (1.0 + ops.sum(scores, axis=-1, keepdims=True))
        return self.out(ops.sum(weights[:, :, None] * h, axis=1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.out_units)

    def get_config(self):
        return {**super().get_config(), "slots": self.slots, "per_slot": self.per_slot, "units": self.units,
                "positions": self.positions, "out_units": self.out_units, "activation": self.activation}


def build_model(spec: FeatureSpec, mean: np.ndarray, std: np.ndarray, hidden: tuple[int, ...] = (128, 64),
                text_units: int = 16, dropout: float = 0.1, seed: int = 0, text_dropout: float = 0.0,
                text_l2: float = 0.0, name: str = "whyrec_ranker", sequence_units: int = 8,
                activation: str = "relu") -> keras.Model:
    keras.utils.set_random_seed(seed)
    d = len(spec.features)
    x = keras.Input((d,), name="features")
    z = keras.layers.Normalization(mean=mean.astype("float32"), variance=(std**2).astype("float32"),
                                   name="standardise")(x)
    parts = [ColumnSlice(0, spec.sequence_start, name="scalar_features")(z)]
    if spec.sequence_len:
        recent = ColumnSlice(spec.sequence_start, spec.n_scalar, name="recent_sequence")(x)
        parts.append(RecentSequenceEncoder(spec.sequence_len, len(SLOT_FEATURES), out_units=sequence_units,
                                           activation=activation, name="sequence_encoder")(recent))
    if text_units:
        text = ColumnSlice(spec.n_scalar, d, name="text_embedding")(z)
        if text_dropout:
            text = keras.layers.Dropout(text_dropout, name="text_dropout")(text)
        parts.append(keras.layers.Dense(text_units, activation=activation, name="text_dense",
                                        kernel_regularizer=keras.regularizers.L2(text_l2) if text_l2 else None)(text))
    h = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="joined")(parts)
    for k, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation=activation, name=f"hidden_{k}")(h)
        if dropout:
            h = keras.layers.Dropout(dropout, name=f"dropout_{k}")(h)
    logit = keras.layers.Dense(1, name="logit")(h)
    return keras.Model(x, logit, name=name)


def ensemble_model(members: list[keras.Model], d: int) -> keras.Model:
    """One model whose score is the mean of independently trained members' logits: less variance
    than any single network, and still a single differentiable function for attributions."""
    x = keras.Input((d,), name="features")
    return keras.Model(x, keras.layers.Average(name="mean_logit")([m(x) for m in members]), name="whyrec_ranker")


def feature_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and a floored std, so constant features (no prices in a catalog) stay finite."""
    mean = x.mean(axis=0)
    std = np.maximum(x.std(axis=0), 1e-3)
    return mean.astype(np.float32), std.astype(np.float32)


class CompiledScorer:
    """A traced inference function: avoids `model.predict` overhead on the serving path."""

    def __init__(self, model: keras.Model):
        import tensorflow as tf

        self.model = model
        d = model.input_shape[-1]
        self._fn = tf.function(lambda x: model(x, training=False),
                               input_signature=[tf.TensorSpec([None, d], tf.float32)], reduce_retracing=True)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._fn(np.ascontiguousarray(x, dtype=np.float32)).numpy().reshape(-1)
