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
