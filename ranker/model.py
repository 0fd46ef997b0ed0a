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


def build_model(spec: FeatureSpec, mean: np.ndarray, std: np.ndarray, hidden: tuple[int, ...] = (128, 64),
                text_units: int = 16, dropout: float = 0.1, seed: int = 0, text_dropout: float = 0.0,
                text_l2: float = 0.0, name: str = "whyrec_ranker") -> keras.Model:
    keras.utils.set_random_seed(seed)
    d = len(spec.features)
    x = keras.Input((d,), name="features")
    z = keras.layers.Normalization(mean=mean.astype("float32"), variance=(std**2).astype("float32"),
                                   name="standardise")(x)
    scalars = ColumnSlice(0, spec.n_scalar, name="scalar_features")(z)
    h = scalars
    if text_units:
        text = ColumnSlice(spec.n_scalar, d, name="text_embedding")(z)
        if text_dropout:
            text = keras.layers.Dropout(text_dropout, name="text_dropout")(text)
        text = keras.layers.Dense(text_units, activation="relu", name="text_dense",
                                  kernel_regularizer=keras.regularizers.L2(text_l2) if text_l2 else None)(text)
        h = keras.layers.Concatenate(name="joined")([scalars, text])
    for k, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation="relu", name=f"hidden_{k}")(h)
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
