"""What routes share, handed in through `Depends`: the engine once it is ready, the list cache, and the
token check for routes that change state.

The dependencies are `async` on purpose: a plain `def` dependency runs in the thread pool, a
noticeable share of a cached response's cost.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from service.engine import Engine, NotReady
from service.errors import ApiError
from service.responses import Lists
from service.settings import Settings


async def settings(request: Request) -> Settings:
    return request.app.state.settings


async def any_engine(request: Request) -> Engine:
    """The engine whether or not it has loaded (health and readiness)."""
    return request.app.state.engine


def ready_engine(request: Request) -> Engine:
    """The engine, or a 503 naming why it is not ready (called directly on the hottest route)."""
    loaded: Engine = request.app.state.engine
    if not loaded.status.ready:
        raise NotReady(loaded.status.error or "models are still loading; retry shortly")
    return loaded


async def engine(request: Request) -> Engine:
    """The engine, or a 503 naming why it is not ready."""
    return ready_engine(request)


def lists(request: Request) -> Lists:
    """The list cache, once the engine is ready. Called in the route's body rather than through `Depends`:
    for a cached list, FastAPI's dependency resolution cost ~12% of the throughput (measured with wrk)."""
    ready_engine(request)
    return request.app.state.lists


def _token(authorization: str | None, x_admin_token: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return x_admin_token


def _matches(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(str(given).encode(), str(expected).encode())


async def admin(request: Request, authorization: Annotated[str | None, Header()] = None,
                x_admin_token: Annotated[str | None, Header()] = None) -> None:
    """Admin routes (items, promotions, prompts, models) need the admin token (`Authorization: Bearer …`, or
    the older `x-admin-token`), compared in constant time; without a configured token they are off."""
    expected = request.app.state.settings.admin_token
    if not expected:
        raise ApiError(403, "forbidden", "admin routes are disabled: set WHYREC_ADMIN_TOKEN")
    given = _token(authorization, x_admin_token)
    if given is None:
        raise ApiError(401, "unauthorized", "this route needs the admin token: Authorization: Bearer <token>")
    if _matches(given, expected):
        return
    if _matches(given, request.app.state.settings.events_token):
        raise ApiError(403, "forbidden", "the events token may post events only; this route needs the admin token")
    raise ApiError(401, "unauthorized", "wrong token")


async def events_scope(request: Request, authorization: Annotated[str | None, Header()] = None,
                       x_admin_token: Annotated[str | None, Header()] = None) -> None:
    """Event and feedback routes need the events token (the shop's backend holds it) or the admin token;
    with neither configured they are off."""
    config = request.app.state.settings
    if not (config.events_token or config.admin_token):
        raise ApiError(403, "forbidden", "event routes are disabled: set WHYREC_EVENTS_TOKEN")
    _one_of(_token(authorization, x_admin_token), "events", config.events_token, config.admin_token)


async def reader(request: Request, authorization: Annotated[str | None, Header()] = None,
                 x_admin_token: Annotated[str | None, Header()] = None) -> None:
    """With `WHYREC_READ_TOKEN` set, a shopper's lists and reasons (their history shows through them) are read
    with that token, or with the events or admin token the shop's backend already holds."""
    config = request.app.state.settings
    if config.read_token:
        _one_of(_token(authorization, x_admin_token), "read", config.read_token, config.events_token,
                config.admin_token)


def _one_of(given: str | None, scope: str, *tokens: str | None) -> None:
    """401 unless `given` is one of `tokens` (compared in constant time)."""
    if given is None:
        raise ApiError(401, "unauthorized", f"this route needs the {scope} token: Authorization: Bearer <token>")
    if not any(_matches(given, t) for t in tokens):
        raise ApiError(401, "unauthorized", "wrong token")


Ready = Annotated[Engine, Depends(engine)]
Reader = Depends(reader)
Admin = Depends(admin)
EventsScope = Depends(events_scope)
