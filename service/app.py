"""The FastAPI app: `/v1` recommendations, reranking, explanations (single, batch, SSE stream),
feedback; `/healthz`, `/readyz`, `/metrics`. Started by `whyrec serve`.

Errors are JSON with a machine-readable `error`, a `detail` that names the bad id or field, and the
request id; a shopper-facing failure never becomes a 5xx when a template reason can be served.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ranker.ranking import UnknownItemError
from service import playground
from service.engine import Engine
from service.metrics import Metrics
from service.request_log import RequestLog
from service.schemas import (
    BatchRequest,
    BatchResponse,
    ErrorBody,
    ExplanationRequest,
    ExplanationResponse,
    FeedbackRequest,
    FeedbackResponse,
    RankRequest,
    RecommendationsRequest,
    RecommendationsResponse,
)
from service.settings import Settings

log = logging.getLogger("whyrec.service")
ERRORS = {404: {"model": ErrorBody, "description": "Unknown item"},
          503: {"model": ErrorBody, "description": "Still loading"}}


def error(status: int, kind: str, detail: str, request: Request, id_: str | None = None) -> JSONResponse:
    body = ErrorBody(error=kind, detail=detail, id=id_, request_id=getattr(request.state, "request_id", None))
    return JSONResponse(body.model_dump(), status_code=status)


class NotReady(Exception):
    pass


class BatchTooLarge(Exception):
    def __init__(self, size: int, limit: int):
        self.size, self.limit = size, limit


def create_app(settings: Settings | None = None, load_in_background: bool = True) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()
    engine = Engine(settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if load_in_background:
            threading.Thread(target=_load_quietly, args=(engine,), daemon=True, name="load").start()
        else:
            await run_in_threadpool(engine.load)
        yield

    app = FastAPI(title="whyrec", version="1", lifespan=lifespan,
                  description="Recommendations with faithful reasons in Chinese and English.")
    app.state.engine, app.state.metrics = engine, metrics

    app.add_middleware(RequestLog, metrics=metrics)

    @app.exception_handler(UnknownItemError)
    async def unknown_item(request: Request, exc: UnknownItemError):
        return error(404, "unknown_item", f"unknown item {exc.args[0]!r}", request, exc.args[0])

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, exc: NotReady):
        return error(503, "not_ready", engine.status.error or "models are still loading; retry shortly", request)

    @app.exception_handler(BatchTooLarge)
    async def too_large(request: Request, exc: BatchTooLarge):
        return error(413, "batch_too_large", f"{exc.size} pairs; at most {exc.limit} per request", request)

    def ready() -> Engine:
        if not engine.status.ready:
            raise NotReady()
        return engine

    @app.get("/healthz")
    def healthz() -> dict:
        """Alive (the process answers), whether or not the models are loaded."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"description": "Still loading"}})
    def readyz() -> JSONResponse:
        """Ready when the ranker, attributions and narrator are loaded."""
        s = engine.status
        body = {"ready": s.ready, "ranker": s.ranker, "attributions": s.attributions, "narrator": s.narrator,
                "error": s.error, "precomputed": s.precomputed, "precompute_total": s.precompute_total}
        if s.ready:
            body.update(model_version=engine.version, narrator_model=engine.model_id)
        return JSONResponse(body, status_code=200 if s.ready else 503)

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.post("/v1/recommendations", response_model=RecommendationsResponse, responses=ERRORS)
    async def recommendations(body: RecommendationsRequest) -> Response:
        """Top k for a shopper (new shoppers get popular items with an honest "popular now" reason)."""
        eng = ready()
        args = (body.user_id, body.k, body.lang, body.explain, body.style)
        content = eng.cached_response(args) or await run_in_threadpool(eng.recommend, *args)
        return Response(content, media_type="application/json")

    @app.post("/v1/rank", response_model=RecommendationsResponse, responses=ERRORS)
    def rank(body: RankRequest) -> RecommendationsResponse:
        """The given items (search results, a promotion) reranked for the shopper, with reasons."""
        return ready().rank(body.user_id, body.item_ids, body.lang, body.explain, body.style)

    @app.post("/v1/explanations", response_model=ExplanationResponse, responses=ERRORS)
    def explanation(body: ExplanationRequest) -> ExplanationResponse:
        """Why this item for this shopper: attribution, facts and the reason sentence."""
        return ready().explain_one(body.user_id, body.item_id, body.lang, body.style, body.mode)

    @app.post("/v1/explanations/batch", response_model=BatchResponse,
              responses={**ERRORS, 413: {"model": ErrorBody, "description": "Too many pairs"}})
    def batch(body: BatchRequest) -> BatchResponse:
        """Up to `batch_max` (user, item) pairs in one call."""
        if len(body.pairs) > settings.batch_max:
            raise BatchTooLarge(len(body.pairs), settings.batch_max)
        eng = ready()
        for p in body.pairs:
            eng.ranker.item_indices([p.item_id])
        return BatchResponse(results=[eng.explain_one(p.user_id, p.item_id, p.lang, p.style, p.mode)
                                      for p in body.pairs])

    @app.post("/v1/explanations/stream", responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}})
    def stream(body: ExplanationRequest) -> StreamingResponse:
        """Server-Sent Events: `facts`, then `token` events as the model writes, then `final` (the verified
        text, or the template fallback with `fallback_used: true`)."""
        eng = ready()
        eng.ranker.item_indices([body.item_id])

        def events():
            for kind, data in eng.stream(body.user_id, body.item_id, body.lang, body.style):
                yield f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"cache-control": "no-cache", "x-accel-buffering": "no"})

    @app.post("/v1/feedback", response_model=FeedbackResponse, responses=ERRORS)
    def feedback(body: FeedbackRequest) -> FeedbackResponse:
        """Appends the event to the feedback store (durable before the response)."""
        eng = ready()
        eng.ranker.item_indices([body.item_id])
        count = eng.feedback.append(body.user_id, body.item_id, body.event, body.value, body.explanation_id,
                                    body.helpful)
        return FeedbackResponse(stored=True, events=count)

    app.include_router(playground.router(ready, settings))
    return app


def _load_quietly(engine: Engine) -> None:
    try:
        engine.load()
    except Exception:
        log.exception("loading failed; /readyz reports it")
