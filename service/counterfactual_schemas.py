"""The API's "because of what?" bodies: the shopper's actions behind an item and the check of each named reason
(`POST /v1/explanations` with `counterfactual: true`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ActionOut(BaseModel):
    item_id: str
    did: Literal["bought", "viewed"]
    title: str


class CheckOut(BaseModel):
    """The counterfactual check of a reason that names one of the shopper's actions."""

    kind: str
    named: ActionOut
    necessary: bool = Field(description="Without it the item leaves the top k, or loses half its reason's credit.")
    drop: float
    served: ActionOut | None = Field(description="What the served reason names: the same action, a necessary one in "
                                                 "its place, or null (said without a name).")


class CounterfactualOut(BaseModel):
    """Because of what? The fewest of the shopper's actions (most effective first) whose removal takes the item out
    of their top `k`, and the item that would take its place."""

    k: int
    found: bool
    actions: list[ActionOut]
    rank_without: int
    score_without: float
    replaced_by: str
    actions_considered: int
    seconds: float
    checks: list[CheckOut]
