"""The FastAPI app: `/v1` recommendations, reranking, explanations (single, batch, SSE stream),
events and feedback, the prompt admin routes and the editors' playground; `/healthz`, `/readyz`, `/metrics`.
Started by `whyrec serve`.

This module only assembles: the routes live in `service.routes`, one router per resource, and share
the engine through `service.deps`. Errors are one shape (`service.errors`); a shopper-facing failure
never becomes a 5xx when a template reason can be served.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from service import errors
from service.engine import Engine, start_loading
from service.metrics import Metrics
from service.request_log import RequestLog
from service.responses import Lists
from service.routes import (
    events,
    explanations,
    health,
    items,
    models,
    playground,
    promotions,
    prompts,
    recommendations,
    search,
)
from service.settings import Settings


def create_app(settings: Settings | None = None, load_in_background: bool = True) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()
    engine = Engine(settings, metrics)
    lists = Lists(engine)
    engine.live.listeners.append(lists.forget)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if load_in_background:
            start_loading(engine, lists.start_precompute)
        else:
            await run_in_threadpool(engine.load, lists.start_precompute)
        yield
        engine.close()

    app = FastAPI(title="whyrec", version="1", lifespan=lifespan,
                  description="Recommendations with faithful reasons in Chinese and English.")
    app.state.settings, app.state.engine, app.state.metrics, app.state.lists = settings, engine, metrics, lists
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body_bytes)
    app.add_middleware(errors.DeclaredBodyLimit, max_body=settings.max_body_bytes)
    app.add_middleware(RequestLog, metrics=metrics)
    errors.install(app)
    for module in (health, recommendations, search, promotions, explanations, events, items, models, prompts,
                   playground):
        app.include_router(module.router)
    if settings.playground:
        app.mount("/playground", StaticFiles(directory=playground.STATIC, html=True), name="playground")
    return app
