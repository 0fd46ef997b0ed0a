"""What every text model backend is: one generation call and one streaming call over chat messages."""

from __future__ import annotations

from collections.abc import Iterator
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
