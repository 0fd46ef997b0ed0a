"""The narrator's text models, behind one interface (`Backend`: chat messages in, text or a token stream out).

- `generation` — the `Backend` protocol, one generation's result, and `generate_all` for many independent chats;
- `llama_batch` — several chats decoded together in one llama.cpp context (enrichment's throughput);
- `local` — llama.cpp (the fast CPU path) and transformers, the options that choose one (`LlmOptions`) and
  `load_backend`;
- `openai_backend`, `llm_pool` — OpenAI-compatible servers (vLLM, TGI, llama.cpp's server), one or a pool;
- `models` — the pinned model files, assembled from PyPI chunk packages and sha256-checked.
"""

from narrator.backends.generation import REPETITION_PENALTY, Backend, Generation, ModelUnavailable, generate_all
from narrator.backends.llm_pool import EndpointPool
from narrator.backends.local import (
    BACKENDS,
    LlamaCppBackend,
    LlmOptions,
    TransformersBackend,
    converted_folder,
    default_threads,
    llama_cpp_available,
    load_backend,
)
from narrator.backends.models import DEFAULT_CACHE, MODELS, ModelError
from narrator.backends.openai_backend import OpenAIBackend

__all__ = ["BACKENDS", "DEFAULT_CACHE", "MODELS", "REPETITION_PENALTY", "Backend", "EndpointPool", "Generation",
           "LlamaCppBackend", "LlmOptions", "ModelError", "ModelUnavailable", "OpenAIBackend", "TransformersBackend",
           "converted_folder",
           "default_threads", "generate_all", "llama_cpp_available", "load_backend"]
