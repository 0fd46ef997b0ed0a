"""`whyrec report` writes one self-contained page whose every figure renders offline in a browser, and
`whyrec train --tensorboard` writes TensorBoard logs (loss and validation NDCG@10 per epoch)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.test_playground import CHROMIUM, FLAGS, SCREENSHOTS

pytestmark = pytest.mark.slow


def test_report_page_renders_offline(trained, tmp_path):
    data, model = trained
    out = tmp_path / "report.html"
    r = CliRunner().invoke(app, ["report", "--data", str(data), "--model", str(model), "--out", str(out),
                                 "--shoppers", "20"])
    assert r.exit_code == 0, r.output
    page_text = out.read_text(encoding="utf-8")
    for heading in ("HR@K and NDCG@K", "Attribution share by feature group", "Completeness error",
                    "Driver recovery (demo shop)", "Latency on this machine", "narrator acceptance: no text model"):
        assert heading in page_text
    outside_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page_text)  # base64 can spell "http"
    assert "http" not in outside_images and page_text.count("data:image/png;base64,") == 5
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(out.as_uri())
        widths = page.evaluate("[...document.images].map(i => i.complete ? i.naturalWidth : 0)")
        assert len(widths) == 5 and all(w > 200 for w in widths), widths
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
        browser.close()


def test_training_writes_tensorboard_logs(tmp_path):
    runner = CliRunner()
    data, logs = tmp_path / "demo", tmp_path / "tb"
    assert runner.invoke(app, ["data", "demo", "--out", str(data), "--shoppers", "60", "--items", "60"]).exit_code == 0
    r = runner.invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "art"), "--epochs", "1",
                            "--tensorboard", str(logs)])
    assert r.exit_code == 0, r.output
    for member in ("member_0", "member_1", "member_2"):
        for part in ("train", "validation"):
            assert list((logs / member / part).glob("events.out.tfevents.*")), (member, part)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logs / "member_0" / "validation"))
    events.Reload()
    tags = events.Tags()["tensors"] + events.Tags()["scalars"]
    assert "validation/NDCG@10" in tags, tags


def test_report_names_a_missing_folder(tmp_path):
    r = CliRunner().invoke(app, ["report", "--data", str(tmp_path / "nowhere"), "--model", str(tmp_path / "none"),
                                 "--out", str(tmp_path / "report.html")])
    assert r.exit_code == 2 and "none" in r.output and not (tmp_path / "report.html").exists()
