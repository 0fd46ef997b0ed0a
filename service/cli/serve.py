"""`whyrec serve`: the HTTP API on one uvicorn process."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import Backend, Llm, ModelDir, console, settings


def serve(
    model: ModelDir = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    backend: Backend = None,
    llm: Llm = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs). Other settings come from WHYREC_* variables or the
    TOML file named by WHYREC_SETTINGS (see README)."""
    import uvicorn

    from service.app import create_app

    config = settings(artifacts=model, backend=backend, llm=llm)
    console.print(f"whyrec serving {config.artifacts} on [bold]http://{host}:{port}[/] (docs: /docs, "
                  f"ready when /readyz says so)")
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")
