"""A text model behind an OpenAI-compatible chat server (vLLM, llama.cpp's server, a hosted API)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from narrator.backends.generation import REPETITION_PENALTY, Generation
from narrator.backends.models import ModelError
from narrator.prompts.templates import Messages


class OpenAIBackend:
    """An OpenAI-compatible chat server, with a timeout and retries on connection errors and 5xx."""

    name = "openai"

    def __init__(self, base_url: str, model_id: str, timeout: float = 30.0, retries: int = 2,
                 api_key: str | None = None):
        import httpx

        self.model_id = model_id
        self.retries = retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers)

    def _body(self, messages: Messages, max_tokens: int, stream: bool = False) -> dict:
        return {"model": self.model_id, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0,
                "stream": stream, "repeat_penalty": REPETITION_PENALTY, "repetition_penalty": REPETITION_PENALTY}

    def _post(self, body: dict):
        import httpx

        for attempt in range(self.retries + 1):
            try:
                response = self.client.post("/v1/chat/completions", json=body)
                if response.status_code < 500:
                    response.raise_for_status()
                    return response.json()
                error: Exception = httpx.HTTPStatusError(f"server error {response.status_code}",
                                                         request=response.request, response=response)
            except httpx.TransportError as e:
                error = e
            if attempt < self.retries:
                time.sleep(0.2 * 2 ** attempt)
        raise ModelError(f"OpenAI-compatible server at {self.client.base_url} failed after "
                         f"{self.retries + 1} attempts: {error}")

    def generate(self, messages: Messages, max_tokens: int) -> Generation:
        start = time.perf_counter()
        out = self._post(self._body(messages, max_tokens))
        usage = out.get("usage") or {}
        return Generation(out["choices"][0]["message"]["content"].strip(), int(usage.get("completion_tokens", 0)),
                          time.perf_counter() - start)

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        with self.client.stream("POST", "/v1/chat/completions", json=self._body(messages, max_tokens, True)) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if not line.startswith("data:") or line.strip() == "data: [DONE]":
                    continue
                piece = json.loads(line[5:])["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
