"""`whyrec report`: one self-contained HTML page about a trained model, with plots.

What data scientists ask of a model, measured in the same run: HR@K and NDCG@K curves for whyrec, MostPop and
ItemKNN on the test split; how attributions split over the feature groups of shoppers' top 10s; the completeness
error of integrated gradients; on the demo shop, the driver-recovery confusion matrix; the narrator's acceptance
(model sentences that passed the verifier) by fact kind and language when a text model is given; and latency
histograms (scoring a shopper over the catalog, attributions of a top 10, a reason). Figures are PNGs embedded as
data URIs (matplotlib, Agg), so the file opens offline and can be mailed.
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from service.stack import Stack

Progress = Callable[[str, float, float], None]
CUTOFFS = tuple(range(1, 51))


@dataclass
class ReportData:
    title: str
    ranks: dict[str, np.ndarray]
    group_shares: dict[str, float]
    completeness: np.ndarray
    latency_ms: dict[str, list[float]]
    drivers: pd.DataFrame | None = None
    driver_recovery: float | None = None
    narration: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    experiment: list[str] = field(default_factory=list)
    """What shoppers said of each prompt version (`service.jobs.prompt_experiment`), when the shop has feedback."""


def collect(stack: Stack, data: Path, shoppers: int = 100, narrate_pairs: int = 0,
            progress: Progress = lambda s, d, t: None) -> ReportData:
    """Everything the page shows for the served `stack`; `narrate_pairs` reasons per language are written by its
    text model."""
    from narrator.narrate import Narrator
    from ranker.candidates import CandidateConfig
    from ranker.data import load_shop
    from ranker.drivers import check_drivers
    from ranker.stats.catalog import CatalogIndex
    from ranker.training.pipeline import embed_items, test_ranks

    art, ranker, explainer, backend = stack.artifact, stack.ranker, stack.explainer, stack.backend
    shop = load_shop(data)
    progress("test split: whyrec, MostPop, ItemKNN", 0, 4)
    emb, _ = embed_items(shop, art.meta.get("timings", {}).get("embedding_model"))
    cand = CandidateConfig(**art.meta.get("train_config", {}).get("candidates", {}))
    ranks = test_ranks(shop, CatalogIndex.build(shop.items, emb), art.model, art.spec, cand)
    progress("attributions of top 10s", 1, 4)
    users = np.random.default_rng(0).permutation(ranker.most_active(len(ranker.stats.user_ids)))[:shoppers]
    for user in users:  # untimed: XLA compiles the shapes these top 10s reach (not every shape: ~1 min), so no
        if items := [r.item_id for r in ranker.recommend(str(user), 10)]:  # latency below holds a compile
            explainer.explain(str(user), items)
    shares: dict[str, list[float]] = {}
    errors: list[float] = []
    latency: dict[str, list[float]] = {"score one shopper (catalog)": [], "attributions of a top 10": [],
                                       "template reason": [], "model reason": []}
    facts_seen = []
    served = stack.narrator("", "short")
    narrator = Narrator(served.prompts, backend, brands=stack.prompts.brands, cache_size=0)
    for user in users:
        t = time.perf_counter()
        items = [r.item_id for r in ranker.recommend(str(user), 10)]
        latency["score one shopper (catalog)"].append((time.perf_counter() - t) * 1000)
        if not items:
            continue
        t = time.perf_counter()
        explained = explainer.explain(str(user), items)
        latency["attributions of a top 10"].append((time.perf_counter() - t) * 1000)
        for e in explained:
            errors.append(float(e.facts.completeness_error))
            groups = {g: max(v, 0.0) for g, v in e.attribution.group_table(e.pair).items()}
            total = sum(groups.values()) or 1.0
            for g, v in groups.items():
                shares.setdefault(g, []).append(v / total)
            if e.facts.facts:
                facts_seen.append(e.facts)
                t = time.perf_counter()
                narrator.explain(e.facts, "en", mode="template")
                latency["template reason"].append((time.perf_counter() - t) * 1000)
    progress("driver recovery", 2, 4)
    data_drivers, recovery, notes = None, None, []
    if (data / "drivers.csv").exists():
        check = check_drivers(ranker, art.shop.events, pd.read_csv(data / "drivers.csv"),
                              art.meta.get("target_kind", "purchase"), explainer.ig)
        data_drivers, recovery = check.confusion(), check.recovery
    else:
        notes.append("driver recovery: this shop records no purchase drivers (only the demo shop does)")
    progress("narrator acceptance", 3, 4)
    narration = []
    if backend is not None and narrate_pairs:
        for facts in facts_seen[:narrate_pairs]:
            for lang in ("zh", "en"):
                t = time.perf_counter()
                said = narrator.explain(facts, lang, mode="llm")
                latency["model reason"].append((time.perf_counter() - t) * 1000)
                narration.append({"kind": facts.facts[0].kind, "lang": lang, "accepted": not said.fallback_used})
    else:
        notes.append("narrator acceptance: no text model given (`--llm small --narrate-pairs N`)")
    progress("done", 4, 4)
    return ReportData(f"{art.path.name} on {data}", ranks, {g: float(np.mean(v)) for g, v in shares.items()},
                      np.array(errors), {k: v for k, v in latency.items() if v}, data_drivers, recovery, narration,
                      notes, experiment(stack))


def experiment(stack: Stack) -> list[str]:
    """The prompt experiments' lines when the shop's event store holds feedback that names prompt versions."""
    from service.jobs.prompt_experiment import read, report_lines
    from service.stack import events_path

    path = events_path(stack.settings, stack.artifact.path.parent)
    found = read(path) if path.exists() else []
    return report_lines(found) if found else []


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def figures(d: ReportData) -> list[tuple[str, str]]:
    """(caption, PNG data URI) per figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ranker.metrics import summarise

    out = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for method, ranks in d.ranks.items():
        at = summarise(ranks, CUTOFFS)
        axes[0].plot(CUTOFFS, [at[f"HR@{k}"] for k in CUTOFFS], label=method)
        axes[1].plot(CUTOFFS, [at[f"NDCG@{k}"] for k in CUTOFFS], label=method)
    for ax, name in zip(axes, ("HR@K", "NDCG@K"), strict=True):
        ax.set_xlabel("K")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0].legend()
    out.append(("HR@K and NDCG@K on the test split (full ranking, history excluded)", _png(fig)))

    fig, ax = plt.subplots(figsize=(7, 3.6))
    groups = sorted(d.group_shares, key=d.group_shares.get)  # type: ignore[arg-type]
    ax.barh(groups, [d.group_shares[g] for g in groups], color="#2a9d8f")
    ax.set_xlabel("mean share of the positive attribution")
    out.append(("Attribution share by feature group (shoppers' top 10s)", _png(fig)))

    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(d.completeness * 100, bins=40, color="#264653")
    ax.axvline(1.0, color="#e76f51", linestyle="--", label="tolerance 1%")
    ax.set_xlabel("completeness error, %")
    ax.legend()
    out.append((f"Completeness error of integrated gradients (p99 {np.percentile(d.completeness, 99):.2%}, "
                f"{len(d.completeness)} pairs)", _png(fig)))

    if d.drivers is not None:
        fig, ax = plt.subplots(figsize=(7, 5))
        m = d.drivers.to_numpy()
        ax.imshow(m / np.maximum(m.sum(axis=1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(m.shape[1]), d.drivers.columns, rotation=45, ha="right")
        ax.set_yticks(range(m.shape[0]), d.drivers.index)
        for (r, c), v in np.ndenumerate(m):
            ax.text(c, r, str(v), ha="center", va="center", fontsize=8)
        ax.set_xlabel("top attributed group")
        ax.set_ylabel("true driver")
        out.append((f"Driver recovery (demo shop): {d.driver_recovery:.1%} of held-out purchases", _png(fig)))

    if d.narration:
        table = pd.DataFrame(d.narration).groupby(["kind", "lang"])["accepted"].mean().unstack("lang")
        fig, ax = plt.subplots(figsize=(7, 3.6))
        table.plot.bar(ax=ax, rot=30)
        ax.set_ylim(0, 1)
        ax.set_ylabel("accepted by the verifier")
        out.append(("Narrator acceptance by top fact kind and language (model sentences that passed)", _png(fig)))

    fig, axes = plt.subplots(1, len(d.latency_ms), figsize=(3.4 * len(d.latency_ms), 3))
    for ax, (name, values) in zip(np.atleast_1d(axes), d.latency_ms.items(), strict=True):
        ax.hist(values, bins=30, color="#e9c46a")
        ax.set_title(f"{name}\np50 {np.median(values):.1f} ms, p99 {np.percentile(values, 99):.1f} ms", fontsize=9)
        ax.set_xlabel("ms")
    out.append(("Latency on this machine", _png(fig)))
    return out


def render(d: ReportData) -> str:
    from ranker.metrics import summarise

    rows = "".join(f"<tr><td>{html.escape(m)}</td>" + "".join(
        f"<td>{summarise(r)[k]:.4f}</td>" for k in ("HR@10", "NDCG@10", "HR@50", "NDCG@50")) + "</tr>"
        for m, r in d.ranks.items())
    shown = "".join(f"<figure><img alt='{html.escape(c)}' src='{uri}'><figcaption>{html.escape(c)}</figcaption>"
                    f"</figure>" for c, uri in figures(d))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in d.notes)
    if d.experiment:
        notes += f"<h2>Prompt experiments (shoppers' feedback)</h2><pre>{html.escape(chr(10).join(d.experiment))}</pre>"
    return ("<!doctype html><html lang='en'><meta charset='utf-8'><title>whyrec report</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto}td,th{border:1px solid #ccc;padding:4px 8px}"
            "table{border-collapse:collapse}figure{margin:1.5em 0}img{max-width:100%}</style>"
            f"<h1>whyrec report: {html.escape(d.title)}</h1><h2>Test split</h2><table><tr><th>method</th><th>HR@10"
            f"</th><th>NDCG@10</th><th>HR@50</th><th>NDCG@50</th></tr>{rows}</table>"
            f"<p>{len(next(iter(d.ranks.values())))} shoppers.</p>{shown}<ul>{notes}</ul></html>")
