"""The one error shape of the API (`ErrorBody`): a machine-readable `error`, a `detail` that names the
bad id or field, the request id, and for validation errors the `problems` one by one.

Routes raise `ApiError` (or a domain error mapped here); nothing answers in another shape, whether
FastAPI's validation, Starlette's 404/405 or a refused prompt version.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ranker.errors import UnavailableItemError, UnknownItemError
from ranker.search import SearchUnavailableError
from service.engine import NotReady
from service.schemas import ErrorBody, Problem
from service.shop.promotions import PromotionError


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str, id_: str | None = None,
                 problems: list[Problem] | None = None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.id, self.problems = status, error, detail, id_, problems


def error_response(request: Request, status: int, error: str, detail: str, id_: str | None = None,
                   problems: list[Problem] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=error, detail=detail, id=id_, request_id=getattr(request.state, "request_id", None),
                     problems=problems)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


class DeclaredBodyLimit:
    """A body that declares (Content-Length) more than `max_body` bytes is answered 413 in the one error shape at
    once, before anything reads it, parses it or checks its token. A body that grows past the limit while it is
    read (chunked, or lying about its length) is stopped by Starlette's `RequestBodyLimitMiddleware` inside this
    one, whose 413 the app's handler renders in the same shape."""

    def __init__(self, app: ASGIApp, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body:
                response = error_response(Request(scope), 413, "body_too_large",
                                          f"the body has {declared} bytes; at most {self.max_body} are accepted")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _loc(loc: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def install(app: FastAPI) -> None:
    """Every error the app can raise, answered as an `ErrorBody`."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, exc.error, exc.detail, exc.id, exc.problems)

    @app.exception_handler(UnknownItemError)
    async def unknown_item(request: Request, exc: UnknownItemError) -> JSONResponse:
        if isinstance(exc, UnavailableItemError):
            return error_response(request, 404, "unavailable_item", str(exc), exc.args[0])
        return error_response(request, 404, "unknown_item", f"unknown item {exc.args[0]!r}", exc.args[0])

    @app.exception_handler(SearchUnavailableError)
    async def no_search(request: Request, exc: SearchUnavailableError) -> JSONResponse:
        return error_response(request, 409, "search_unavailable", str(exc))

    @app.exception_handler(PromotionError)
    async def bad_promotion(request: Request, exc: PromotionError) -> JSONResponse:
        problems = [Problem(loc=["body", "promotions", exc.row - 1, exc.field], message=str(exc))]
        return error_response(request, 422, "invalid_promotion", str(exc), problems=problems)

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return error_response(request, 503, "not_ready", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [Problem(loc=_loc(e.get("loc", ())), message=str(e.get("msg", ""))) for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(map(str, p.loc or []))}: {p.message}" for p in problems)
        return error_response(request, 422, "invalid_request", detail or "invalid request", problems=problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        kinds = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        return error_response(request, exc.status_code, kinds.get(exc.status_code, f"http_{exc.status_code}"),
                              str(exc.detail), headers=getattr(exc, "headers", None))


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors a route can answer, all in the one shape."""
    why = {401: "Missing or wrong token", 403: "Token lacks the scope, or the route is disabled",
           404: "Unknown item", 409: "The model version was trained without search", 413: "Request too large",
           422: "Invalid request", 503: "Still loading"}
    return {s: {"model": ErrorBody, "description": why[s]} for s in statuses}
