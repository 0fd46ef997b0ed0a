"""One settings object: names that cannot be confused, the old `WHYREC_MODEL` still read (with a warning),
and the narrator's part handed over as `LlmOptions`."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("WHYREC_MODEL", "WHYREC_ARTIFACTS", "WHYREC_LLM", "WHYREC_SETTINGS", "WHYREC_BACKEND",
                 "WHYREC_LLM_THREADS"):
        monkeypatch.delenv(name, raising=False)


def test_new_names(monkeypatch):
    monkeypatch.setenv("WHYREC_ARTIFACTS", "/srv/artifacts")
    monkeypatch.setenv("WHYREC_LLM", "small")
    monkeypatch.setenv("WHYREC_THREADS", "3")
    s = Settings()
    assert s.artifacts == Path("/srv/artifacts") and s.llm == "small"
    options = s.llm_options()
    assert options.model == "small" and options.threads == 3 and options.model_cache == s.model_cache
    monkeypatch.setenv("WHYREC_LLM_THREADS", "1")  # the text model's own share; TensorFlow keeps `threads`
    s = Settings()
    assert s.threads == 3 and s.llm_options().threads == 1


@pytest.mark.parametrize(("value", "field"),
                         [("small", "llm"), ("/m/qwen.gguf", "llm"), ("artifacts/demo", "artifacts")])
def test_the_old_model_variable_is_read_by_its_value_with_a_warning(monkeypatch, value, field):
    monkeypatch.setenv("WHYREC_MODEL", value)
    with pytest.warns(DeprecationWarning, match="WHYREC_ARTIFACTS.*WHYREC_LLM"):
        s = Settings()
    assert str(getattr(s, field)) == value


def test_the_new_name_wins_over_the_old(monkeypatch):
    monkeypatch.setenv("WHYREC_MODEL", "artifacts/old")
    monkeypatch.setenv("WHYREC_ARTIFACTS", "artifacts/new")
    with pytest.warns(DeprecationWarning):
        assert Settings().artifacts == Path("artifacts/new")
    with pytest.warns(DeprecationWarning):
        assert Settings(artifacts=Path("x")).artifacts == Path("x")


def test_settings_file_and_backend_none(monkeypatch, tmp_path):
    path = tmp_path / "whyrec.toml"
    path.write_text('backend = "none"\nbatch_max = 7\n')
    monkeypatch.setenv("WHYREC_SETTINGS", str(path))
    s = Settings()
    assert s.batch_max == 7 and not s.narrates_with_model
    monkeypatch.setenv("WHYREC_SETTINGS", str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError, match="missing.toml"):
        Settings()
