"""The real small narrator model through llama.cpp and an OpenAI-compatible server (`python -m llama_cpp.server` on
127.0.0.1). Same prompts, verified output or a marked fallback (the transformers backend: test_transformers_backend)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from narrator.backends import LlamaCppBackend, OpenAIBackend, llama_cpp_available
from narrator.backends.models import ModelError
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from tests.narrator_cases import BRANDS, HOSTILE_TITLES, check_served, facts_of, hostile

pytestmark = [pytest.mark.model, pytest.mark.slow,
              pytest.mark.skipif(not llama_cpp_available(), reason="needs the fast extra (llama-cpp-python)")]

FACTS = facts_of("brand", "price", "popular")


@pytest.fixture(scope="module")
def llama(small_path):
    return LlamaCppBackend(small_path, "small", slots=2)


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
