"""`whyrec train --set NAME=VALUE`: training settings read as their field's type, bad ones named."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.training.examples import log_q
from ranker.training.train_config import TrainConfig


def test_settings_are_read_as_their_types():
    cfg = TrainConfig().with_settings(["learning_rate=0.002", "lr_schedule=cosine", "logq=true", "folds=2,3",
                                       "sequence_len=0", "activation=gelu"])
    assert cfg.learning_rate == 0.002 and cfg.lr_schedule == "cosine" and cfg.logq is True
    assert cfg.activation == "gelu"
    assert cfg.folds == (2, 3) and cfg.sequence_len == 0
    assert TrainConfig().with_settings([]) == TrainConfig()


@pytest.mark.parametrize("bad, named", [("learning_rat=0.1", "learning_rat"), ("epochs=many", "epochs takes a int"),
                                        ("logq=maybe", "logq takes a bool"), ("epochs", "NAME=VALUE"),
                                        ("lr_schedule=step", "lr_schedule must be one of"),
                                        ("activation=tanh", "activation must be one of")])
def test_a_bad_setting_is_named(bad, named):
    with pytest.raises(ValueError, match=named):
        TrainConfig().with_settings([bad])


def test_log_q_is_the_smoothed_share_of_each_example():
    q = np.exp(log_q(np.array([0, 0, 0, 1]), 3))
    np.testing.assert_allclose(q, [4 / 7, 4 / 7, 4 / 7, 2 / 7], rtol=1e-6)


def test_every_step_shown_before_the_epochs_is_shown_done(monkeypatch, toy_dir):
    """A step left at 0/1 keeps its bar's clock running to the end of training (the search vectors once read as
    taking minutes). The encoders and the epochs are stood in for: this is about the steps' order and progress."""
    from ranker.data import load_shop
    from ranker.training import pipeline

    class Encoder:
        def __init__(self, *args, **kwargs):
            pass

        def encode(self, texts):
            return np.ones((len(texts), 4), np.float32)

    monkeypatch.setattr(pipeline, "embed_items", lambda shop, *a: (np.eye(len(shop.items), 3, dtype=np.float32), "m"))
    monkeypatch.setattr(pipeline, "MultilingualEncoder", Encoder)
    monkeypatch.setattr(pipeline, "train", lambda *a: "trained")
    shown: dict[str, tuple[float, float]] = {}
    result, _, _, timings = pipeline.fit(load_shop(toy_dir), TrainConfig(query_groups=0.3),
                                         progress=lambda name, done, total: shown.__setitem__(name, (done, total)))
    assert result == "trained"
    assert shown == {"embedding item text": (1, 1), "multilingual search vectors": (1, 1)}
    assert {"embeddings_s", "search_vectors_s", "train_s"} <= set(timings)
