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


async def admin(request: Request, x_admin_token: Annotated[str | None, Header()] = None) -> None:
    """Admin routes (prompts, later items, promotions and models) need the admin token, compared in
    constant time; without a configured token they are off."""
    expected = request.app.state.settings.admin_token
    if not expected:
        raise ApiError(403, "forbidden", "admin routes are disabled: set WHYREC_ADMIN_TOKEN")
    if x_admin_token is None or not hmac.compare_digest(x_admin_token.encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "wrong or missing x-admin-token")


Ready = Annotated[Engine, Depends(engine)]
Admin = Depends(admin)
