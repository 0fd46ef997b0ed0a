"""A label never moves to a version this whyrec cannot serve (trained on another feature set)."""

from __future__ import annotations

import json

import pytest

from ranker import versions
from ranker.features import FeatureSpec


def _version(root, name: str, spec: dict) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "model.keras").write_bytes(b"")
    (root / name / "spec.json").write_text(json.dumps(spec))


def test_promote_refuses_an_older_feature_set_and_keeps_the_label(tmp_path):
    spec = FeatureSpec.default(3).to_dict()
    _version(tmp_path, "v1", spec)
    _version(tmp_path, "v0", {k: v for k, v in spec.items() if k != "feature_set"})
    versions.promote(tmp_path, "v1", "production")
    with pytest.raises(versions.UnservableVersionError, match="v0.*cannot be served.*feature set 1.*whyrec train"):
        versions.promote(tmp_path, "v0", "production")
    assert versions.labels(tmp_path)["labels"]["production"] == "v1"
    with pytest.raises(versions.VersionError, match="no version 'v9'"):
        versions.promote(tmp_path, "v9", "production")
