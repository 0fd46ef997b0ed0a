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
from service.settings import Settings
from tests.narrator_cases import BRANDS, HOSTILE_TITLES, check_served, facts_of, hostile

pytestmark = [pytest.mark.model, pytest.mark.slow,
              pytest.mark.skipif(not llama_cpp_available(), reason="needs the fast extra (llama-cpp-python)")]

FACTS = facts_of("brand", "price", "popular")


@pytest.fixture(scope="module")
def llama(small_path):
    return LlamaCppBackend(small_path, "small", threads=Settings().llm_options().threads, slots=2)


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


def test_chats_decoded_together_each_get_their_own_reply(llama):
    """Enrichment's path: several chats in one context (`generate_many`), sharing their prompt's prefix cells.
    Each reply answers its own chat (as many numbered lines as it asked, the same reply for the same chat), and
    a later round on the cached prefix answers its chats, not the earlier round's. (Replies are not compared
    with `generate`'s: batched products round differently, and greedy decoding can follow a rounding.)"""
    from narrator.enrichment import kinds

    asked = [["胶水", "钻头套装", "磁性白板"], ["磁性白板"], ["胶水", "钻头套装"]]
    chats = [kinds.back_prompt(asked[0]), kinds.translate_prompt(["glue"]), kinds.back_prompt(asked[2]),
             kinds.back_prompt(asked[0])]
    together = llama.generate_many(chats, 40)
    assert len(together) == 4 and all(0 < g.completion_tokens <= 40 for g in together)
    for reply, n in zip(together, (3, 1, 2, 3), strict=True):
        lines = reply.text.splitlines()
        assert len(lines) == n and all(kinds.parse_lines(reply.text, n)), reply.text
    assert together[0].text == together[3].text
    later = llama.generate_many([kinds.back_prompt(["钻头套装"]), kinds.translate_prompt(["glue", "hose"])], 40)
    assert [len(g.text.splitlines()) for g in later] == [1, 2], [g.text for g in later]
    capped = llama.generate_many([kinds.back_prompt(asked[0])] * 2, 3)
    assert [g.completion_tokens for g in capped] == [3, 3]


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
