"""Text generation backends behind one interface: chat messages in, text (or a token stream) out.

- `llama.cpp` (llama-cpp-python, the optional `fast` extra): the fast CPU path for GGUF files.
- `transformers`: any local HF folder, or a GGUF file converted once into a cached bf16 folder
  (loading a GGUF directly takes ~40 s; the converted folder loads in seconds).
- `openai`: an OpenAI-compatible `/v1/chat/completions` server (vLLM, TGI, llama.cpp server).

All decode greedily with a repetition penalty (the 0.5B model loops without one), so the same facts
give the same sentence, which is what makes caching honest. Nothing here reads the environment: the
caller's settings arrive as one `LlmOptions`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from narrator import atomic
from narrator.backends.generation import REPETITION_PENALTY, Backend, Generation
from narrator.backends.llama_batch import ParallelDecoder
from narrator.backends.llm_pool import EndpointPool
from narrator.backends.models import DEFAULT_CACHE, ModelError, resolve
from narrator.backends.openai_backend import OpenAIBackend
from narrator.prompts.templates import Messages

BACKENDS = ("llama.cpp", "transformers", "openai")
WEIGHTS = ("bf16", "int8")
PARALLEL_CHATS = 4
"""Chats `LlamaCppBackend.generate_many` decodes together; on 2 cores 4 beat 8 (1.8x vs 1.5x one at a time)."""


def default_threads() -> int:
    """The process's thread budget when no setting names one: every core it may run on (a container's cpuset or
    `taskset` can allow fewer than the machine has; threads beyond them only wait on each other)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass(frozen=True)
class LlmOptions:
    """Which text model narrates and how it runs. The service's settings build one (`WHYREC_LLM`,
    `WHYREC_BACKEND`, …); a library caller passes its own."""

    backend: str | None = None
    """llama.cpp, transformers or openai; None picks llama.cpp when installed, else transformers."""
    model: str = "default"
    """default, small, or a path to a GGUF file or HF folder (for openai: the served model's name)."""
    threads: int | None = None
    llama_slots: int = 4
    transformers_weights: str = "bf16"
    openai_url: str | None = None
    openai_model: str | None = None
    """The model name sent to the OpenAI-compatible server (default: `model`)."""
    openai_key: str | None = None
    model_cache: Path = DEFAULT_CACHE


class LlamaCppBackend:
    """GGUF through llama-cpp-python, using the chat template stored in the GGUF file.

    Prompt evaluation, not decoding, dominates a one-sentence reason on a CPU (~350 prompt tokens at
    ~55 tok/s vs ~35 new tokens at ~25 tok/s for the 1.5B on 2 cores). llama.cpp reuses the longest
    prefix of the previous prompt in a context, so each fixed prefix (system text + few-shot turns, i.e.
    one template in one language) gets its own context ("slot") and only the request is evaluated.
    Slots are created on demand and the least recently used is dropped beyond `slots`. `generate_many` decodes
    independent chats together (`ParallelDecoder`), for enrichment's hundreds of short chats.
    """

    name = "llama.cpp"

    def __init__(self, model_path: Path, model_id: str, n_ctx: int = 1024, threads: int | None = None,
                 slots: int = 4):
        self.model_id, self.model_path = model_id, model_path
        self.n_ctx, self.threads = n_ctx, threads or default_threads()
        self._slots: LRUCache[str, Any] = LRUCache(max(1, slots))
        self._lock = threading.Lock()
        self._parallel: LRUCache[str, ParallelDecoder] = LRUCache(max(1, slots))
        self._slot("")

    def _slot(self, key: str) -> Any:
        """Called under `_lock`."""
        llm = self._slots.get(key)
        if llm is None:
            from llama_cpp import Llama

            llm = Llama(model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.threads,
                        n_threads_batch=self.threads, n_batch=512,
                        verbose=False)
            self._slots[key] = llm
        return llm

    @staticmethod
    def prefix_key(messages: Messages) -> str:
        """The fixed part of a prompt: every message up to the last assistant (few-shot) turn."""
        last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=0)
        return hashlib.sha256(json.dumps(messages[: last + 1], ensure_ascii=False).encode()).hexdigest()

    def _params(self, max_tokens: int) -> dict[str, Any]:
        return {"max_tokens": max_tokens, "temperature": 0.0, "top_k": 1, "repeat_penalty": REPETITION_PENALTY}

    def generate(self, messages: Messages, max_tokens: int) -> Generation:
        start = time.perf_counter()
        with self._lock:
            out = self._slot(self.prefix_key(messages)).create_chat_completion(messages=messages,
                                                                               **self._params(max_tokens))
        return Generation(out["choices"][0]["message"]["content"].strip(), out["usage"]["completion_tokens"],
                          time.perf_counter() - start)

    def generate_many(self, chats: Sequence[Messages], max_tokens: int) -> list[Generation]:
        """Independent chats, `PARALLEL_CHATS` decoded together, in a context per fixed prefix like the slots (so
        the system text and few-shot turns are evaluated once, not once per call): about 1.8x the throughput of
        one at a time for enrichment's chats on 2 cores. Replies can differ from `generate`'s in rare tokens
        (batched products round differently)."""
        keys = [self.prefix_key(chat) for chat in chats]
        out: dict[int, Generation] = {}
        with self._lock:
            for key in dict.fromkeys(keys):
                decoder = self._parallel.get(key)
                if decoder is None:
                    decoder = self._parallel[key] = ParallelDecoder(self._slot(""), sequences=PARALLEL_CHATS,
                                                                    seq_ctx=self.n_ctx, threads=self.threads)
                at = [i for i, k in enumerate(keys) if k == key]
                out.update(zip(at, decoder.generate([chats[i] for i in at], max_tokens), strict=True))
        return [out[i] for i in range(len(chats))]

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        with self._lock:
            llm = self._slot(self.prefix_key(messages))
            for chunk in llm.create_chat_completion(messages=messages, stream=True, **self._params(max_tokens)):
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece


@contextmanager
def _gguf_parsed_once() -> Iterator[None]:
    """transformers opens the GGUF file three times (config, tokenizer, weights), and each open parses the whole
    vocabulary string by string (about 13 s for Qwen's 151k tokens on 2 cores). A reader is read-only, so the
    conversion shares one per path."""
    import gguf

    reader = gguf.GGUFReader
    setattr(gguf, "GGUFReader", functools.cache(reader))  # noqa: B010 (a class attribute mypy will not let us swap)
    try:
        yield
    finally:
        setattr(gguf, "GGUFReader", reader)  # noqa: B010


def converted_folder(gguf: Path, model_id: str, cache: Path = DEFAULT_CACHE) -> Path:
    """Convert a GGUF file once into a bf16 safetensors folder in the model cache."""
    folder = Path(cache) / f"{model_id}-bf16"
    if (folder / "config.json").is_file():
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    with _gguf_parsed_once():
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # Unpacked to plain bf16 weights: transformers' packed-GGUF matmuls have no CPU kernel and
        # would dequantize on every call; the dense folder is what loads in seconds afterwards.
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16,
                                                     quantization_config=GgufConfig(dequantize=True))
    with atomic.atomic_path(folder) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return folder


class TransformersBackend:
    """A Hugging Face causal LM on the CPU, greedy with a repetition penalty.

    Weights: `bf16` as converted, or `int8`: torch's dynamic
    quantization of every Linear (fp32 activations), 2.6x bf16 decoding for the 1.5B on 2 cores — an AVX2
    CPU emulates bf16, and decoding is bound by weight bytes (bench/transformers_speed.py)."""

    name = "transformers"

    def __init__(self, model_path: Path, model_id: str, threads: int | None = None, weights: str = "bf16",
                 cache: Path = DEFAULT_CACHE):
        if weights not in WEIGHTS:
            raise ModelError(f"transformers weights {weights!r}: expected one of {', '.join(WEIGHTS)}")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads or default_threads())
        folder = converted_folder(model_path, model_id, cache) if model_path.is_file() else model_path
        self.model_id, self.weights = model_id, weights
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        dtype = torch.bfloat16 if weights == "bf16" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).eval()
        if weights == "int8":
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model
        self._lock = threading.Lock()

    def _inputs(self, messages: Messages):
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                  return_dict=True)

    def _kwargs(self, max_tokens: int) -> dict:
        return {"max_new_tokens": max_tokens, "do_sample": False, "repetition_penalty": REPETITION_PENALTY,
                "pad_token_id": self.tokenizer.eos_token_id}

    def generate(self, messages: Messages, max_tokens: int) -> Generation:
        import torch

        start = time.perf_counter()
        inputs = self._inputs(messages)
        with self._lock, torch.inference_mode():
            out = self.model.generate(**inputs, **self._kwargs(max_tokens))
        new = out[0, inputs["input_ids"].shape[1]:]
        return Generation(str(self.tokenizer.decode(new, skip_special_tokens=True)).strip(), int(new.shape[0]),
                          time.perf_counter() - start)

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        import torch
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        inputs = self._inputs(messages)

        def run() -> None:
            with self._lock, torch.inference_mode():
                self.model.generate(**inputs, **self._kwargs(max_tokens), streamer=streamer)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        yield from streamer
        worker.join()


def llama_cpp_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def load_backend(options: LlmOptions) -> Backend:
    """The text model `options` name; the default backend is llama.cpp when installed, else transformers."""
    backend = options.backend or ("llama.cpp" if llama_cpp_available() else "transformers")
    if backend == "openai":
        urls = [u.strip() for u in (options.openai_url or "").split(",") if u.strip()]
        if not urls:
            raise ModelError("backend 'openai' needs WHYREC_OPENAI_URL (e.g. http://127.0.0.1:8080; several, "
                             "comma-separated, make a pool)")
        if len(urls) > 1:
            return EndpointPool(urls, options.openai_model or options.model, api_key=options.openai_key)
        return OpenAIBackend(urls[0], options.openai_model or options.model, api_key=options.openai_key)
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    path, model_id = resolve(options.model, options.model_cache)
    if backend == "llama.cpp":
        if not llama_cpp_available():
            raise ModelError("backend 'llama.cpp' needs llama-cpp-python: pip install '.[fast]'")
        return LlamaCppBackend(path, model_id, threads=options.threads, slots=options.llama_slots)
    return TransformersBackend(path, model_id, threads=options.threads, weights=options.transformers_weights,
                               cache=options.model_cache)
