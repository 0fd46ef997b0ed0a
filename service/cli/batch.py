"""`whyrec batch`: reasons written ahead on Ray into the reason store the service serves from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import Backend, Llm, ModelDir, console, fail, settings, user_errors


def batch(
    model: ModelDir = None,
    out: Annotated[Path | None, typer.Option(help="Reason store folder [default: reasons/ in the artifacts root, "
                                                  "where the service looks].")] = None,
    shoppers: Annotated[str, typer.Option(help="all, a number N (the N most active), or a file of shopper ids.")]
    = "100",
    langs: Annotated[str, typer.Option(help="Languages, comma-separated.")] = "zh,en",
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Reasons for each shopper's top k.")] = 10,
    narrators: Annotated[int, typer.Option(min=1, help="Narrator actors (each loads the text model).")] = 1,
    threads: Annotated[int, typer.Option(min=1, help="Threads per narrator actor.")] = 1,
    attempts: Annotated[int, typer.Option(min=1, max=5, help="Model tries per reason before the template (each "
                                                            "retry names what the verifier refused).")] = 3,
    retry_refused: Annotated[bool, typer.Option(help="Also write again reasons stored as template fallbacks.")]
    = False,
    events: Annotated[Path | None, typer.Option(help="The service's event store, replayed so the facts match "
                                                     "what it serves [default: WHYREC_EVENTS, else events.db in "
                                                     "the artifacts root, when there].")] = None,
    address: Annotated[str | None, typer.Option(help="A Ray cluster (ray://… or auto) instead of local Ray.")]
    = None,
    cpus: Annotated[int | None, typer.Option(min=1, help="CPUs for local Ray [default: all].")] = None,
    backend: Backend = None,
    llm: Llm = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Write the model's reasons for many shoppers ahead of their requests, on Ray: stage 1 computes facts
    with the ranker, stage 2 writes and verifies sentences with narrator actors; a rerun skips reasons
    already stored for the same facts, prompt version and model. Prints throughput per stage."""
    from service.jobs.batch import BatchJob, choose_shoppers, run
    from service.stack import root_of

    config = settings(artifacts=model, backend=backend, llm=llm, events=events)
    chosen = tuple(x.strip() for x in langs.split(",") if x.strip())
    if not chosen or set(chosen) - {"zh", "en"}:
        fail(f"--langs must list zh and/or en; got {langs!r}")
    with user_errors():
        root = root_of(config.artifacts)
        job = BatchJob(config, out or config.reasons or root / "reasons", choose_shoppers(config, shoppers), chosen,
                       k, threads=threads, narrator_actors=narrators, address=address, num_cpus=cpus,
                       attempts=attempts, retry_refused=retry_refused)
        report = run(job, log=(lambda *a: None) if as_json else console.print)
    if as_json:
        print(json.dumps(report.to_dict()))
        return
    console.print(f"run {report.run}: {report.stored} reasons stored ({report.verified} verified model sentences), "
                  f"{report.skipped} already stored, {report.failures} shoppers failed → {job.out}")
    for s in report.stages:
        console.print(f"  {s.name:8s} {s.rows_in:6d} in → {s.rows_out:6d} out in {s.seconds:7.1f} s = "
                      f"{s.rate:7.2f}/s; actors busy {s.busy_s:.1f} s, loading {s.load_s:.1f} s")
