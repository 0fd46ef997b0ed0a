"""Request and response bodies of search and promotions (the rest of the API's bodies: `service.schemas`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.schemas import ExplainMode, ItemOut, Lang, Strict, Style


class SearchRequest(Strict):
    query: str = Field(min_length=1, max_length=200, description="What the shopper typed, in Chinese or English.")
    user_id: str | None = Field(None, min_length=1, max_length=200,
                                description="The shopper, to re-rank the matches for them; leave out for an "
                                "anonymous search (the match alone orders the results and is the only reason).")
    k: int = Field(10, ge=1, le=50)
    lang: Lang = "en"
    explain: ExplainMode = "template"
    style: Style = "short"


class SearchResponse(BaseModel):
    query: str
    user_id: str | None
    personalised: bool
    model_version: str
    items: list[ItemOut]


class PromotionIn(BaseModel):
    """One item on offer. `label` states the offer as the merchant writes it ("20% off", "8折", "Winter Sale"):
    a percentage or a 折 figure becomes the discount a reason may say; `end` is exclusive, a date alone means the
    whole of that day (UTC)."""

    item_id: str = Field(min_length=1, max_length=200)
    label: str = Field(min_length=1, max_length=40)
    start: str | float
    end: str | float
    campaign: str = Field("", max_length=100)


class PromotionsIn(Strict):
    promotions: list[PromotionIn] = Field(min_length=1, max_length=10_000)


class PromotionOut(BaseModel):
    item_id: str
    label: str
    start: float
    end: float
    campaign: str
    percent_off: float | None
    active: bool


class PromotionsOut(BaseModel):
    stored: int
    active: int
    promotions: list[PromotionOut]


class CampaignRequest(Strict):
    user_id: str = Field(min_length=1, max_length=200)
    k: int = Field(10, ge=1, le=100)
    lang: Lang = "en"
    explain: ExplainMode = "template"
    style: Style = "short"
