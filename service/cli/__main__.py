"""`python -m service.cli …` runs the `whyrec` command line."""

from service.cli import app

app()
