"""The real small narrator model through the transformers backend: the GGUF converted once into a bf16 folder
(then loaded as bf16 or int8). Same prompts as llama.cpp, verified output or a marked fallback."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from narrator.backends import TransformersBackend
from narrator.backends.models import ModelError
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from service.settings import Settings
from tests.narrator_cases import BRANDS, check_served, facts_of

pytestmark = [pytest.mark.model, pytest.mark.slow]

FACTS = facts_of("brand", "price", "popular")


def test_transformers_backend_from_the_gguf(small_path):
    """Converted once into a bf16 folder; same prompts, greedy with a repetition penalty."""
    backend = TransformersBackend(small_path, "small", Settings().llm_options().threads, cache=small_path.parent)
    narrator = Narrator(PromptLibrary.load(), backend, brands=BRANDS)
    e = narrator.explain(FACTS, "zh")
    check_served(e, "zh")
    streamed = "".join(backend.stream(narrator.messages(FACTS, narrator.prompts.template("zh")), 8))
    assert streamed.strip()


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
