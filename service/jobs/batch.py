"""`whyrec batch`: reasons written ahead of the request, on Ray, into the reason store.

A Ray Data pipeline in two stages, each an actor pool holding its model once:
1. **facts** — shoppers → recommendations, integrated gradients and facts (the service's stack,
   `service.stack.Stack`: enrichment, the event store's items, events and promotions, the new-arrival window,
   so the facts are those the live service computes);
2. **reasons** — each (facts, language) → the sentence of the prompt version the label serves that shopper
   (a llama.cpp model per actor, or an OpenAI-compatible endpoint such as vLLM), verified; reasons already
   stored for the same key are skipped.
Stage 1 is materialised before stage 2 starts, so each stage has the cores to itself and its throughput is
its own. The rows land in the reason store as files of this run (`narrator.reason_store`); shoppers that
fail are written to `failures-<run>.jsonl` and never stop the job. Local Ray by default, `address` for a
cluster (the artifacts, prompts and models must be reachable at the same paths on every node).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from service.settings import Settings


@dataclass(frozen=True)
class BatchJob:
    settings: Settings
    """The service's settings: which model and prompt labels, event store and text model the reasons are for."""
    out: Path
    shoppers: list[str]
    langs: tuple[str, ...] = ("zh", "en")
    k: int = 10
    style: str = "short"
    threads: int = 1
    """Threads of each narrator actor's text model."""
    narrator_actors: int = 1
    ranker_actors: int = 1
    attempts: int = 3
    """Model tries per reason before the template (the service makes two: a shopper waits there)."""
    retry_refused: bool = False
    """Also write again the reasons stored as template fallbacks (the verifier refused the model's)."""
    address: str | None = None
    num_cpus: int | None = None


@dataclass
class StageReport:
    name: str
    rows_in: int
    rows_out: int
    seconds: float
    busy_s: float
    """Seconds the actors spent in their work (model calls), summed over actors."""
    load_s: float = 0.0
    """Seconds the actors spent loading their models, summed."""

    @property
    def rate(self) -> float:
        return self.rows_out / self.seconds if self.seconds else 0.0


@dataclass
class BatchReport:
    run: str
    stages: list[StageReport] = field(default_factory=list)
    stored: int = 0
    verified: int = 0
    skipped: int = 0
    failures: int = 0
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {**asdict(self), "stages": [{**asdict(s), "rate": s.rate} for s in self.stages]}


class FactsStage:
    """A Ray actor: the service's stack without a text model (ranker, shop overlay, explainer)."""

    def __init__(self, settings: Settings, k: int):
        start = time.perf_counter()
        from ranker.runtime import configure
        from service.stack import Stack

        configure(1)
        stack = Stack.load(settings)
        self.explainer, self.k, self.version = stack.explainer, k, stack.version
        self.load_s = time.perf_counter() - start

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        out: dict[str, list] = {c: [] for c in ("user_id", "item_id", "facts", "error", "ranker_version", "busy_s",
                                               "load_s")}
        for user in batch["user_id"].tolist():
            start = time.perf_counter()
            try:
                rows = [(e.item_id, e.facts.to_json(), "") for e in self.explainer.explain(user, k=self.k)
                        if e.facts.facts]
            except Exception as exc:  # recorded as this shopper's failure; the job goes on
                rows = [("", "", f"{type(exc).__name__}: {exc}")]
            busy = (time.perf_counter() - start) / max(len(rows), 1)
            for item, facts, error in rows:
                for column, value in (("user_id", user), ("item_id", item), ("facts", facts), ("error", error),
                                      ("ranker_version", self.version), ("busy_s", busy), ("load_s", self.load_s)):
                    out[column].append(value)
                self.load_s = 0.0
        return out


class ReasonsStage:
    """A Ray actor: the stack's prompt versions (following the label, as the service does) with a text model;
    skips reasons the store already holds."""

    def __init__(self, settings: Settings, brands: list[str], kinds: list[str], stored: np.ndarray,
                 langs: tuple[str, ...], style: str, attempts: int):
        start = time.perf_counter()
        from narrator.backends import load_backend
        from narrator.verification.meaning import NounJudge
        from ranker.text import MultilingualEncoder
        from service.stack import prompt_router

        self.prompts = prompt_router(settings, load_backend(settings.llm_options()), set(brands), cache_size=0,
                                     attempts=attempts,
                                     noun_judge=NounJudge(MultilingualEncoder().encode_fresh, others=tuple(kinds)))
        self.stored, self.langs, self.style = set(stored.tolist()), langs, style
        self.load_s = time.perf_counter() - start

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        from narrator.facts import Facts
        from narrator.reason_store import key_hash

        rows: list[dict[str, Any]] = []
        for facts_json, version in zip(batch["facts"].tolist(), batch["ranker_version"].tolist(), strict=True):
            facts = Facts.from_dict(json.loads(facts_json))
            narrator = self.prompts.narrator(facts.user_id, self.style)
            for lang in self.langs:
                key = narrator.cache_key(facts, lang, self.style)
                if key_hash(*key) in self.stored:
                    rows.append({"skipped": True, "busy_s": 0.0})
                    continue
                start = time.perf_counter()
                e = narrator.explain(facts, lang, self.style, "llm")
                rows.append({"skipped": False, "user_id": facts.user_id, "item_id": facts.item.item_id, "lang": lang,
                             "style": self.style, "prompt_id": e.prompt_id, "prompt_version": e.prompt_version,
                             "model_id": key[0], "facts_hash": key[-1], "text": e.text, "verified": e.verified,
                             "fallback_used": e.fallback_used, "cited": json.dumps(e.cited), "attempts": e.attempts,
                             "seconds": time.perf_counter() - start, "ranker_version": version,
                             "busy_s": time.perf_counter() - start})
        columns = ("skipped", "user_id", "item_id", "lang", "style", "prompt_id", "prompt_version", "model_id",
                   "facts_hash", "text", "verified", "fallback_used", "cited", "attempts", "seconds", "ranker_version",
                   "busy_s")
        defaults = {"prompt_version": 0, "attempts": 0, "seconds": 0.0, "verified": False, "fallback_used": False}
        out = {c: [r.get(c, defaults.get(c, "")) for r in rows] for c in columns}
        out["load_s"] = [self.load_s] + [0.0] * (len(rows) - 1) if rows else []
        self.load_s = 0.0 if rows else self.load_s
        return out


def run(job: BatchJob, log=print) -> BatchReport:
    """Both stages on Ray, then the reasons into the store (one file set per run)."""
    import ray
    from ray.data import ActorPoolStrategy

    from narrator.reason_store import ReasonStore
    from ranker import artifacts as ranker_artifacts
    from ranker.data import load_shop
    from service.stack import kinds_of, shop_brands

    version = ranker_artifacts.resolve(job.settings.artifacts, job.settings.model_label)
    settings = job.settings.model_copy(update={"artifacts": version, "threads": job.threads,
                                                "llm_threads": job.threads})
    brands = sorted(shop_brands(settings))
    kinds = list(kinds_of(load_shop(version / "shop").items))
    existing = ReasonStore(job.out)
    report = BatchReport(run=time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6])
    ray.init(address=job.address, num_cpus=job.num_cpus if job.address is None else None,
             include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = True
        start = time.perf_counter()
        shoppers = ray.data.from_items([{"user_id": u} for u in job.shoppers])
        facts = shoppers.map_batches(
            FactsStage, fn_constructor_kwargs={"settings": settings, "k": job.k},
            compute=ActorPoolStrategy(size=job.ranker_actors), batch_size=4, num_cpus=1).materialize()
        facts_rows = facts.count()
        failed = facts.filter(lambda r: r["error"] != "").take_all()
        ok = facts.filter(lambda r: r["error"] == "")
        # Blocks are what actors take turns on: enough small ones that every narrator stays busy; materialised
        # before the narrator actors hold every CPU (a filter task waiting for a CPU would wait forever).
        ok = ok.repartition(max(1, min(facts_rows, job.narrator_actors * 16))).materialize()
        stage1 = facts.select_columns(["busy_s", "load_s"]).to_pandas()
        report.stages.append(StageReport("facts", len(job.shoppers), facts_rows - len(failed),
                                         time.perf_counter() - start, float(stage1["busy_s"].sum()),
                                         float(stage1["load_s"].sum())))
        log(f"facts: {len(job.shoppers)} shoppers → {facts_rows - len(failed)} items with reasons "
            f"in {report.stages[-1].seconds:.1f} s ({len(failed)} shoppers failed)")

        start = time.perf_counter()
        skip = existing.servable_keys if job.retry_refused else existing.keys
        reasons = ok.map_batches(
            ReasonsStage, fn_constructor_kwargs={"settings": settings, "brands": brands, "kinds": kinds, "stored": skip,
                                                 "langs": job.langs, "style": job.style, "attempts": job.attempts},
            compute=ActorPoolStrategy(size=job.narrator_actors), batch_size=1, num_cpus=1).materialize()
        table = reasons.to_pandas()
        written = table[~table["skipped"].astype(bool)]
        report.stages.append(StageReport("reasons", (facts_rows - len(failed)) * len(job.langs), len(written),
                                         time.perf_counter() - start, float(table["busy_s"].sum()),
                                         float(table["load_s"].sum())))
        report.skipped = int(table["skipped"].astype(bool).sum())
    finally:
        ray.shutdown()
    rows = written.drop(columns=["skipped", "busy_s", "load_s"]).to_dict("records")
    from narrator.reason_store import write_run

    path = write_run(job.out, rows)
    report.files = [str(path)] if path else []
    report.stored, report.verified = len(rows), int(sum(bool(r["verified"]) and not r["fallback_used"] for r in rows))
    if failed:
        report.failures = len(failed)
        failures = job.out / f"failures-{report.run}.jsonl"
        job.out.mkdir(parents=True, exist_ok=True)
        failures.write_text("".join(json.dumps({"user_id": r["user_id"], "error": r["error"]}) + "\n" for r in failed))
    return report


def choose_shoppers(settings: Settings, which: str) -> list[str]:
    """`all` shoppers of the model's window, the `N` most active (by purchases), or the ids in a file (one per
    line)."""
    from ranker import artifacts as ranker_artifacts
    from ranker.data import load_shop
    from ranker.split import target_kind

    if which != "all" and not which.isdigit():
        path = Path(which)
        if not path.is_file():
            raise FileNotFoundError(f"--shoppers {which!r}: not 'all', a number, or a file of shopper ids")
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    events = load_shop(ranker_artifacts.resolve(settings.artifacts, settings.model_label) / "shop").events
    if which == "all":
        return [str(u) for u in events["user_id"].unique()]
    bought = events[events["event"] == target_kind(events)]["user_id"].value_counts(sort=True)
    return [str(u) for u in bought.index[: int(which)]]
