"""Prometheus metrics of one app instance (its own registry, so tests can run several apps); with several
worker processes, prometheus_client's multiprocess mode sums them."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("whyrec_requests_total", "HTTP requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram("whyrec_request_seconds", "HTTP request latency", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.explanations = Counter("whyrec_explanations_total", "Served reasons by outcome and prompt version",
                                    ["outcome", "prompt"], registry=self.registry)
        self.cache_hits = Counter("whyrec_cache_hits_total", "Cache hits", ["cache"], registry=self.registry)
        self.model_switches = Counter("whyrec_model_switches_total", "Model versions swapped in while serving",
                                      registry=self.registry)
        self.queue_depth = Gauge("whyrec_llm_queue_depth", "Reasons waiting for or being written by the model",
                                 registry=self.registry, multiprocess_mode="livesum")

    def count_explanation(self, e) -> None:
        """accepted (first try), retried (accepted on the retry), fallback (verifier refused twice),
        deadline / queue_full (template served without waiting), template (asked for)."""
        if e.fallback_used:
            outcome = next((k.removeprefix("fallback_") for k in e.timings if k.startswith("fallback_")), "fallback")
        elif e.attempts == 0:
            outcome = "template"
        else:
            outcome = "accepted" if e.attempts == 1 else "retried"
        self.explanations.labels(outcome, f"{e.prompt_id}@{e.prompt_version}").inc()

    def render(self) -> bytes:
        """This process's metrics; with several workers (PROMETHEUS_MULTIPROC_DIR set by `whyrec serve
        --workers`), every worker's, summed from the files they write there."""
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        return generate_latest(merged)
