"""What every text model backend is: one generation call and one streaming call over chat messages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from narrator.prompts.templates import Messages

REPETITION_PENALTY = 1.1


@dataclass(frozen=True)
class Generation:
    text: str
    completion_tokens: int
    seconds: float


class ModelUnavailable(RuntimeError):
    """The model could not take this call now (`why`: `queue_full`, `deadline`): the caller serves the template
    sentence, marked as a fallback with that reason."""

    def __init__(self, why: str):
        super().__init__(f"the text model is unavailable: {why}")
        self.why = why


class Backend(Protocol):
    model_id: str
    name: str

    def generate(self, messages: Messages, max_tokens: int) -> Generation: ...

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]: ...


def generate_all(backend: Backend, chats: Sequence[Messages], max_tokens: int) -> list[Generation]:
    """Independent chats, replies in order: together when the backend can decode several at once
    (`generate_many`, the llama.cpp backend), else one after another."""
    many = getattr(backend, "generate_many", None)
    if many is not None and len(chats) > 1:
        return list(many(chats, max_tokens))
    return [backend.generate(chat, max_tokens) for chat in chats]
