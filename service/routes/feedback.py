"""What shoppers did with a recommendation: stored durably before the answer."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import Ready
from service.errors import documented
from service.schemas import FeedbackRequest, FeedbackResponse

router = APIRouter(prefix="/v1", tags=["feedback"], responses=documented(404, 422, 503))


@router.post("/feedback", response_model=FeedbackResponse)
def feedback(body: FeedbackRequest, engine: Ready) -> FeedbackResponse:
    """Appends the event to the feedback store (durable before the response)."""
    engine.ranker.item_indices([body.item_id])
    count = engine.feedback.append(body.user_id, body.item_id, body.event, body.value, body.explanation_id,
                                   body.helpful)
    return FeedbackResponse(stored=True, events=count)
