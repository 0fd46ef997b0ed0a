"""The HTTP API's request and response bodies (versioned under /v1; OpenAPI at /docs)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.counterfactual_schemas import CounterfactualOut
from service.settings import MAX_BATCH, MAX_EVENTS

Lang = Literal["zh", "en"]
Style = Literal["short", "detailed"]
ExplainMode = Literal["none", "template", "llm", "auto"]
Id = Field(min_length=1, max_length=200)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecommendationsRequest(Strict):
    user_id: str = Id
    k: int = Field(10, ge=1, le=100)
    lang: Lang = "en"
    explain: ExplainMode = "template"
    style: Style = "short"
    among: Literal["all", "new"] = Field("all", description="`new`: only the new arrivals (items added while "
                                         "serving, within WHYREC_NEW_ARRIVAL_DAYS), ranked for the shopper.")


class RankRequest(Strict):
    user_id: str = Id
    item_ids: list[str] = Field(min_length=1, max_length=200)
    lang: Lang = "en"
    explain: ExplainMode = "template"
    style: Style = "short"


class PairRequest(Strict):
    user_id: str = Id
    item_id: str = Id
    lang: Lang = "en"
    style: Style = "short"
    mode: Literal["template", "llm", "auto"] = "auto"


class ExplanationRequest(PairRequest):
    counterfactual: bool = Field(False, description="Editors and merchants (admin token): also the fewest of the "
                                                    "shopper's actions without which the item leaves their top k.")


class BatchRequest(Strict):
    pairs: list[PairRequest] = Field(min_length=1, max_length=MAX_BATCH,
                                            description="At most WHYREC_BATCH_MAX pairs (413 beyond it).")


class ShopperEvent(Strict):
    """What a shopper did with an item; a rating carries its value."""

    user_id: str = Id
    item_id: str = Id
    event: Literal["view", "cart", "purchase", "rating"]
    value: float | None = Field(None, ge=1, le=5, description="The rating (1-5), for event=rating only.")

    @model_validator(mode="after")
    def rating_has_value(self) -> ShopperEvent:
        if (self.event == "rating") != (self.value is not None):
            raise ValueError("value is required for event 'rating' and only for it")
        return self


class EventIn(ShopperEvent):
    """One shopper event from the shop's backend."""

    timestamp: float | None = Field(None, ge=0, description="Seconds since the epoch [default: when received]; "
                                    "not later than the server clock plus WHYREC_EVENTS_FUTURE_S.")
    event_id: str | None = Field(None, min_length=1, max_length=128, description="The shop's id for the event: "
                                 "a retry with the same id is stored once.")


class EventsRequest(Strict):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS, description="One or more events (at most "
                                  "WHYREC_EVENTS_BATCH_MAX, 413 beyond it), stored and applied together.")


class EventsResponse(BaseModel):
    stored: int = Field(description="Events newly stored.")
    duplicates: int = Field(description="Events whose event_id was already stored (not stored again).")
    applied: bool = Field(description="The shoppers' next recommendations reflect these events.")
    shoppers: list[str]
    model_version: str


class ItemIn(Strict):
    """A catalog item as the shop describes it; a PUT replaces the whole record (omitted fields are empty)."""

    title: str = Field(min_length=1, max_length=500, description="The title shoppers see.")
    brand: str = Field("", max_length=200)
    category: str = Field("", max_length=500, description='Category path, levels joined by " > ".')
    price: float | None = Field(None, ge=0, allow_inf_nan=False)
    currency: str = Field("", pattern=r"^([A-Za-z]{3})?$",
                          description="ISO 4217 code of the price (CNY, USD); prices show its symbol.")
    title_zh: str = Field("", max_length=500, description="The Chinese title, when the shop has one.")
    title_en: str = Field("", max_length=500, description="The English title, when `title` is not English.")
    category_zh: str = Field("", max_length=500, description="The category path in Chinese, same levels.")


class ItemChange(BaseModel):
    item_id: str
    created: bool = Field(description="The item was new to the catalog (it is a new arrival).")
    available: bool
    model_version: str


class FeedbackRequest(Strict):
    """What a shopper did with a recommended item (`event`), or what they said of its reason (`reaction`; `undo: true`
    takes a reaction back), with the shown reason's id and whether it helped."""

    user_id: str = Id
    item_id: str = Id
    event: Literal["view", "cart", "purchase", "rating"] | None = None
    value: float | None = Field(None, ge=1, le=5, description="The rating (1-5), for event=rating only.")
    reaction: Literal["not_interested_brand", "not_interested_category", "already_have", "wrong_reason"] | None = \
        Field(None, description="Not interested in this item's brand or category (they count less in the shopper's "
                                "lists), already has one (its category is held back for 30 days), or the reason "
                                "`reason` is wrong for this item. The item leaves the shopper's lists meanwhile, "
                                "except for wrong_reason.")
    reason: str | None = Field(None, max_length=40, description="The kind of the reason a wrong_reason is about "
                                                                "(a fact kind: brand, category, bought_together …).")
    undo: bool = Field(False, description="Take back the same reaction on the same item.")
    explanation_id: str | None = Field(None, max_length=200)
    helpful: bool | None = None

    @model_validator(mode="after")
    def one_thing_said(self) -> FeedbackRequest:
        from narrator.facts import FACT_KINDS

        if (self.event is None) == (self.reaction is None):
            raise ValueError("give either event or reaction")
        if (self.event == "rating") != (self.value is not None):
            raise ValueError("value is required for event 'rating' and only for it")
        if (self.reaction == "wrong_reason") != (self.reason is not None):
            raise ValueError("reason is required for reaction 'wrong_reason' and only for it")
        if self.reason is not None and self.reason not in FACT_KINDS:
            raise ValueError(f"reason must be one of {', '.join(FACT_KINDS)}")
        if self.undo and self.reaction is None:
            raise ValueError("undo takes back a reaction; give the reaction")
        return self


class FactOut(BaseModel):
    kind: str
    share: float
    rank: int
    evidence: dict[str, str | int | float]


class ExplanationOut(BaseModel):
    id: str
    text: str
    lang: Lang
    style: Style
    cited: list[str]
    verified: bool
    fallback_used: bool
    attempts: int
    prompt_id: str
    prompt_version: int
    model_id: str
    timings: dict[str, float]


class ItemOut(BaseModel):
    item_id: str
    rank: int
    score: float
    title: str
    brand: str
    attribution: dict[str, float] | None = None
    facts: list[FactOut] | None = None
    explanation: ExplanationOut | None = None


class RecommendationsResponse(BaseModel):
    user_id: str
    cold_start: bool
    model_version: str
    items: list[ItemOut]


class ExplanationResponse(BaseModel):
    user_id: str
    item_id: str
    cold_start: bool
    score: float
    completeness_error: float
    steps: int
    attribution: dict[str, float]
    facts: list[FactOut]
    against: list[FactOut]
    explanation: ExplanationOut | None
    counterfactual: CounterfactualOut | None = None


class BatchResponse(BaseModel):
    results: list[ExplanationResponse]


class FeedbackResponse(BaseModel):
    stored: bool
    events: int


class Problem(BaseModel):
    """One thing wrong with a request: where (`loc`, e.g. ["body", "k"]) when it has a place, and what."""

    loc: list[str | int] | None = None
    message: str


class ErrorBody(BaseModel):
    """Every error the API answers, whatever its status."""

    error: str
    detail: str
    id: str | None = None
    request_id: str | None = None
    problems: list[Problem] | None = None


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
    start: Annotated[str, Field(max_length=64)] | float = Field(description="ISO date or time, or epoch seconds.")
    end: Annotated[str, Field(max_length=64)] | float = Field(description="ISO date or time, or epoch seconds.")
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
