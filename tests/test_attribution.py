"""Integrated gradients: exact on a linear model, complete on a nonlinear one."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.attribution import IntegratedGradients, quadrature
from ranker.features import Feature, FeatureSpec


def spec_of(d: int) -> FeatureSpec:
    groups = ["a", "a", "b", "c"][:d]
    return FeatureSpec(tuple(Feature(f"f{k}", groups[k % len(groups)], "") for k in range(d)), 0)


@pytest.mark.parametrize("method", ["gauss-legendre", "trapezoid"])
def test_quadrature_weights_integrate_polynomials(method):
    alphas, weights = quadrature(16, method)
    assert weights.sum() == pytest.approx(1.0, abs=1e-6)
    assert (alphas >= 0).all() and (alphas <= 1).all()
    assert (weights * alphas).sum() == pytest.approx(0.5, abs=1e-6)


def test_linear_model_gets_exact_ig():
    import keras

    w = np.array([[0.5], [-2.0], [1.5], [3.0]], np.float32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, use_bias=True)])
    model.layers[0].set_weights([w, np.array([0.7], np.float32)])
    x = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, -1.0, 0.5, 2.0]], np.float32)
    b = np.array([0.5, 0.5, 0.5, 0.5], np.float32)
    result = IntegratedGradients(model, spec_of(4), baseline=b).run(x, steps=16)
    np.testing.assert_allclose(result.features, w.ravel() * (x - b), rtol=1e-5, atol=1e-6)
    assert result.completeness_error.max() < 1e-5
    np.testing.assert_allclose(result.groups["a"], (w.ravel() * (x - b))[:, :2].sum(axis=1), rtol=1e-5)


def test_nonlinear_model_completeness_and_step_growth():
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(32, activation="tanh"),
                              keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    x = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32) * 3
    ig = IntegratedGradients(model, spec_of(4), baseline=np.zeros(4, np.float32))
    coarse = ig.run(x, steps=2)
    result = ig.explain(x, tolerance=0.01)
    assert result.completeness_error.max() <= 0.01
    assert result.steps >= 16 and coarse.completeness_error.max() > result.completeness_error.max()
    gap = result.scores - result.baseline_scores
    np.testing.assert_allclose(result.features.sum(axis=1), gap, atol=0.01 * np.abs(gap).max() + 1e-3)


def test_auto_rule_follows_the_activations():
    import keras

    from ranker.attribution import rule_for

    relu = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    tanh = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    assert rule_for(relu) == "trapezoid" and rule_for(tanh) == "gauss-legendre"
    assert IntegratedGradients(relu, spec_of(4), baseline=np.zeros(4, np.float32)).method == "trapezoid"


def test_sequence_encoder_ignores_empty_slots_and_keeps_ig_exact():
    """The order-aware encoder: an empty slot ("filled" 0) drops out whatever its other columns hold, a shopper
    without purchases gets the same output as any other empty sequence, and IG adds up from the training-mean
    baseline with either rule."""
    from ranker.features import SEQUENCE_GROUP
    from ranker.model import build_model
    from ranker.sequence import SLOT_FEATURES

    slots, per = 3, len(SLOT_FEATURES)
    feats = [Feature("s", "scalar", "")] + [Feature(f"seq{k + 1}_{n}", SEQUENCE_GROUP, "") for k in range(slots)
                                            for n, _ in SLOT_FEATURES] + [Feature("e0", "emb", "")]
    spec = FeatureSpec(tuple(feats), 1, slots)
    d = len(feats)
    rng = np.random.default_rng(0)
    mean = rng.normal(size=d).astype(np.float32) * 0.3
    mean[1:1 + slots * per:per] = 0.7  # a training mean of "filled" lies in [0, 1], as the softmax needs
    model = build_model(spec, mean, np.ones(d, np.float32), hidden=(8,), text_units=2, dropout=0.0, seed=3)
    x = rng.normal(size=(6, d)).astype(np.float32)
    seq = x[:, 1:1 + slots * per].reshape(6, slots, per)
    seq[:, :, 0] = 1.0
    seq[:, 2, 0] = 0.0  # the third slot is empty in every row
    x[:, 1:1 + slots * per] = seq.reshape(6, -1)
    noisy = x.copy()
    noisy[:, 1 + 2 * per + 1:1 + 3 * per] = rng.normal(size=(6, per - 1))
    np.testing.assert_allclose(model(x).numpy(), model(noisy).numpy(), atol=1e-6)
    for method in ("gauss-legendre", "trapezoid"):
        result = IntegratedGradients(model, spec, method=method).explain(x, tolerance=0.01)
        gap = result.scores - result.baseline_scores
        np.testing.assert_allclose(result.features.sum(axis=1), gap, atol=0.01 * np.abs(gap).max())
        assert np.all(np.abs(result.groups[SEQUENCE_GROUP]) > 0)
