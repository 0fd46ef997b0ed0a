"""The `whyrec` command line, one module per command group; this module only assembles them.

    whyrec data demo|import      shop data (`shop`)
    whyrec train|evaluate|report|recommend   the ranker (`model`)
    whyrec model list|promote|rollback   which ranker version is served (`versions`)
    whyrec explain|preview       attributions, facts and sentences (`explain`)
    whyrec search                search by meaning in zh or en, with reasons (`offers`)
    whyrec promotions …          merchants' offers that reasons may mention (`offers`)
    whyrec catalog enrich|show|lint   item kinds and names in zh and en (`catalog`)
    whyrec prompts …             the editors' prompt versions (`prompts`)
    whyrec models prepare|list   the narrator's text models (`text_models`)
    whyrec serve                 the HTTP API (`serve`)
    whyrec batch                 reasons written ahead on Ray (`batch`)
"""

from __future__ import annotations

import typer

from service.cli import batch, catalog, explain, model, offers, prompts, serve, shop, text_models, versions
from service.cli.common import console

app = typer.Typer(help="whyrec: recommendations that explain themselves, in Chinese and English.",
                  epilog="Typical run: whyrec data demo --out data/demo; whyrec train --data data/demo --out "
                         "artifacts/demo; whyrec evaluate --data data/demo --model artifacts/demo; "
                         "whyrec explain --model artifacts/demo --user U00002",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(shop.app, name="data")
app.add_typer(text_models.app, name="models")
app.add_typer(prompts.app, name="prompts")
app.add_typer(catalog.app, name="catalog")
app.add_typer(versions.app, name="model")
app.add_typer(offers.app, name="promotions")
for command in (model.train, model.evaluate, model.report, model.recommend, explain.explain, explain.preview,
                offers.search, serve.serve, batch.batch):
    app.command()(command)

__all__ = ["app", "console"]
