"""Ids the ranker does not know or no longer serves: errors whose message names the id (the API's 404s, the CLI's
exit code 2)."""

from __future__ import annotations


class UnknownIdError(KeyError):
    """A shopper or item id the model does not know; its message names the id."""

    what = "id"

    def __init__(self, value: str):
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return f"unknown {self.what} id {self.value!r}"


class UnknownItemError(UnknownIdError):
    what = "item"


class UnknownUserError(UnknownIdError):
    what = "shopper"


class UnavailableItemError(UnknownItemError):
    """An item withdrawn from the catalog: known, but never recommended again."""

    def __str__(self) -> str:
        return f"item {self.value!r} is no longer available (withdrawn from the catalog)"
