"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from service import deps
from service.engine import Engine

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive (the process answers), whether or not the models are loaded."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Still loading"}})
def readyz(engine: Annotated[Engine, Depends(deps.any_engine)]) -> JSONResponse:
    """Ready when the ranker, attributions and narrator are loaded."""
    s = engine.status
    body: dict[str, object] = {"ready": s.ready, "ranker": s.ranker, "attributions": s.attributions,
                               "narrator": s.narrator, "error": s.error, "precomputed": s.precomputed,
                               "precompute_total": s.precompute_total, "written_ahead": s.written_ahead,
                               "write_ahead_total": s.write_ahead_total}
    if s.ready:
        body.update(model_version=engine.version, narrator_model=engine.model_id)
    return JSONResponse(body, status_code=200 if s.ready else 503)


@router.get("/metrics")
def prometheus(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")
