"""The `whyrec` command line, one module per command group, named after it; this module only assembles them.

    whyrec data demo|import                  shop data (`data`)
    whyrec train|evaluate|report|recommend   the ranker (`ranker`)
    whyrec model list|promote|rollback       which ranker version is served (`model`)
    whyrec explain|preview                   attributions, facts and sentences (`explain`)
    whyrec search                            search by meaning in zh or en, with reasons (`search`)
    whyrec promotions import|list|end        merchants' offers that reasons may mention (`promotions`)
    whyrec catalog enrich|show|lint          item kinds and names in zh and en (`catalog`)
    whyrec prompts …                         the editors' prompt versions (`prompts`)
    whyrec models prepare|list               the narrator's text models (`text_models`)
    whyrec serve                             the HTTP API (`serve`)
    whyrec batch                             reasons written ahead on Ray (`batch`, the job in `service.jobs.batch`)

Every command that scores or explains loads what the service serves through `common.load_stack`.
"""

from __future__ import annotations

import typer

from service.cli import (
    batch,
    catalog,
    data,
    explain,
    model,
    promotions,
    prompts,
    ranker,
    search,
    serve,
    text_models,
)
from service.cli.common import console

app = typer.Typer(help="whyrec: recommendations that explain themselves, in Chinese and English.",
                  epilog="Typical run: whyrec data demo --out data/demo; whyrec train --data data/demo --out "
                         "artifacts/demo; whyrec evaluate --data data/demo --model artifacts/demo; "
                         "whyrec explain --model artifacts/demo --user U00002",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(data.app, name="data")
app.add_typer(text_models.app, name="models")
app.add_typer(prompts.app, name="prompts")
app.add_typer(catalog.app, name="catalog")
app.add_typer(model.app, name="model")
app.add_typer(promotions.app, name="promotions")
for command in (ranker.train, ranker.evaluate, ranker.report, ranker.recommend, explain.explain, explain.preview,
                search.search, serve.serve, batch.batch):
    app.command()(command)

__all__ = ["app", "console"]
