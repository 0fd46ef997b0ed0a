"""A wheel works: built from the checkout, installed into a fresh virtual environment (its heavy dependencies
borrowed from this one, so the test stays fast), and run from another directory — the prompts and the
playground's static files come with it as package data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_the_wheel_serves_help_and_a_preview_from_another_directory(trained, tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("whyrec-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # not the editable finder
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True)
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WHYREC_BACKEND": "none"}
    whyrec = str(venv / "bin" / "whyrec")
    where = subprocess.run([str(python), "-c", "import narrator, service; from narrator.prompts import DEFAULT_DIR; "
                            "from service.routes.playground import STATIC; "
                            "print(narrator.__file__, service.__file__, DEFAULT_DIR, STATIC)"],
                           capture_output=True, text=True, check=True, cwd=away, env=env).stdout.split()
    assert all(str(site) in p for p in where), where  # the installed copy, not the checkout
    assert (Path(where[2]) / "reason-short.en.toml").is_file() and (Path(where[3]) / "index.html").is_file()

    served = subprocess.run([whyrec, "serve", "--help"], capture_output=True, text=True, cwd=away, env=env)
    assert served.returncode == 0 and "--port" in served.stdout, served.stderr
    user = "U00001"
    preview = subprocess.run([whyrec, "preview", "--model", str(trained[1]), "--user", user, "--lang", "both",
                              "--json"], capture_output=True, text=True, cwd=away, env=env)
    assert preview.returncode == 0, preview.stderr[-2000:]
    body = json.loads(preview.stdout.strip().splitlines()[-1])
    assert set(body["explanations"]) == {"zh", "en"} and all(e["verified"] for e in body["explanations"].values())
