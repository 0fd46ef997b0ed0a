"""`whyrec serve`: the HTTP API on one uvicorn process."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import Backend, Llm, ModelDir, console, settings


def serve(
    model: ModelDir = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    backend: Backend = None,
    llm: Llm = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (each loads the models; they "
                                                             "share the event store and sum their metrics).")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs). Other settings come from WHYREC_* variables or the
    TOML file named by WHYREC_SETTINGS (see README). Uvicorn's access log is off (it writes query strings,
    shopper ids among them); whyrec's own line per request names the route, status and time."""
    import uvicorn

    from service.app import create_app

    config = settings(artifacts=model, backend=backend, llm=llm)
    console.print(f"whyrec serving {config.artifacts} on [bold]http://{host}:{port}[/] with {workers} "
                  f"worker{'s' if workers > 1 else ''} (docs: /docs, ready when /readyz says so)")
    if workers == 1:
        uvicorn.run(create_app(config), host=host, port=port, log_level="info", access_log=False)
        return
    metrics_dir = Path(tempfile.mkdtemp(prefix="whyrec-metrics-"))
    os.environ.update({"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "WHYREC_ARTIFACTS": str(config.artifacts),
                       **({"WHYREC_BACKEND": config.backend} if config.backend else {}),
                       "WHYREC_LLM": config.llm})
    try:
        uvicorn.run("service.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
