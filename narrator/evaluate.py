"""Explanation metrics (names as in DESIGN.md), shared by `bench/narrator.py` and `whyrec prompts eval`.

- acceptance: share served from the model (verifier passed, no fallback);
- claim precision: kinds of reason the served text claims (cited facts, or static cue words of any
  kind) that are among the item's facts;
- unsupported-token rate: numbers/brands/names/claims the verifier cannot back, per word (en) or
  character (zh) of served text;
- top-2 coverage, zh/en parity (same kinds cited in both), distinct-sentence ratio per list of 10,
  length (characters), latency.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from narrator.facts import Facts
from narrator.narrate import Explanation, Mode, Narrator
from narrator.verification.text_match import contains

WORD = re.compile(r"[A-Za-z0-9$.]+|[\u4e00-\u9fff]")
UNSUPPORTED_RULES = ("number", "brand", "name", "claim")


@dataclass
class Row:
    facts: Facts
    explanation: Explanation
    seconds: float


def run(narrator: Narrator, facts_list: list[Facts], lang: str, style: str = "short", mode: Mode = "auto",
        prompt_id: str | None = None) -> list[Row]:
    rows = []
    for facts in facts_list:
        start = time.perf_counter()
        e = narrator.explain(facts, lang, style, mode, prompt_id)
        rows.append(Row(facts, e, time.perf_counter() - start))
    return rows


def claimed_kinds(text: str, e: Explanation, cues: dict[str, tuple[str, ...]]) -> set[str]:
    return set(e.cited) | {kind for kind, words in cues.items() if any(contains(text, w) for w in words)}


def static_cues(narrator: Narrator, lang: str) -> dict[str, tuple[str, ...]]:
    return narrator.prompts.phrases[lang].static_cues


def metrics(narrator: Narrator, rows: list[Row], lang: str) -> dict:
    cues = static_cues(narrator, lang)
    n = max(len(rows), 1)
    claims = [(claimed_kinds(r.explanation.text, r.explanation, cues), {f.kind for f in r.facts.facts}) for r in rows]
    tokens = sum(len(WORD.findall(r.explanation.text)) for r in rows)
    unsupported = sum(1 for r in rows for c in r.explanation.report["claims"]
                      if not c["ok"] and c["rule"] in UNSUPPORTED_RULES)
    top2 = [set(r.explanation.report["cited"]) >= {f.kind for f in r.facts.facts[:2]} for r in rows]
    lists = [rows[i:i + 10] for i in range(0, len(rows), 10)]
    gen_tokens = sum(v for r in rows for k, v in r.explanation.timings.items() if k.startswith("tokens_"))
    gen_seconds = sum(v for r in rows for k, v in r.explanation.timings.items() if k.startswith("generate_"))
    latency = [r.seconds for r in rows] or [0.0]
    return {
        "pairs": len(rows),
        "acceptance": sum(not r.explanation.fallback_used and r.explanation.attempts > 0 for r in rows) / n,
        "retried_then_accepted": sum(r.explanation.attempts == 2 and not r.explanation.fallback_used
                                     for r in rows) / n,
        "noun_neutralised": sum("noun_neutralised" in r.explanation.timings and not r.explanation.fallback_used
                                for r in rows) / n,
        "claim_precision": sum(len(c & f) for c, f in claims) / max(sum(len(c) for c, _ in claims), 1),
        "unsupported_token_rate": unsupported / max(tokens, 1),
        "served_verified": sum(r.explanation.verified for r in rows) / n,
        "top2_coverage": float(np.mean(top2)) if top2 else 0.0,
        "distinct_ratio": float(np.mean([len({r.explanation.text for r in chunk}) / len(chunk) for chunk in lists]))
        if lists else 0.0,
        "length_median": float(np.median([len(r.explanation.text) for r in rows])) if rows else 0.0,
        "latency_median_s": float(np.median(latency)), "latency_p90_s": float(np.percentile(latency, 90)),
        "served_tokens_per_s": gen_tokens / gen_seconds if gen_seconds else 0.0,
    }


def first_refusals(narrator: Narrator, rows: list[Row], lang: str, style: str = "short") -> dict[str, list[str]]:
    """Why first attempts were refused: each failing rule with the refused sentences it caught (a sentence
    counts once per rule). Re-verified over the facts the narrator said, so the rules are the ones it applied."""
    template = narrator.prompts.template(lang, style)
    caught: dict[str, list[str]] = {}
    for r in rows:
        if not r.explanation.rejected:
            continue
        text = r.explanation.rejected[0]
        report = narrator.verify_text(text, narrator.sayable(r.facts, template), lang, style)
        for rule in dict.fromkeys(c.rule for c in report.failures):
            caught.setdefault(rule, []).append(text)
    return dict(sorted(caught.items(), key=lambda kv: -len(kv[1])))


def parity(zh: list[Row], en: list[Row]) -> float:
    return float(np.mean([set(a.explanation.cited) == set(b.explanation.cited) for a, b in zip(zh, en, strict=True)]))


def parity_gaps(zh: list[Row], en: list[Row]) -> dict[str, int]:
    """Where parity breaks: how often each kind is cited in one language only ("zh-only brand": 3)."""
    gaps: Counter[str] = Counter()
    for a, b in zip(zh, en, strict=True):
        cited_zh, cited_en = set(a.explanation.cited), set(b.explanation.cited)
        gaps.update(f"zh-only {k}" for k in cited_zh - cited_en)
        gaps.update(f"en-only {k}" for k in cited_en - cited_zh)
    return dict(gaps.most_common())


ROWS = [("acceptance", "LLM acceptance", "{:.1%}"), ("retried_then_accepted", "  of which after retry", "{:.1%}"),
        ("noun_neutralised", "  of which noun made plain", "{:.1%}"),
        ("claim_precision", "claim precision (served)", "{:.1%}"),
        ("unsupported_token_rate", "unsupported-token rate", "{:.4f}"),
        ("served_verified", "served text verified", "{:.1%}"), ("top2_coverage", "top-2 coverage", "{:.1%}"),
        ("distinct_ratio", "distinct sentences/top-10", "{:.2f}"), ("length_median", "length median (chars)", "{:.0f}"),
        ("latency_median_s", "latency median (s)", "{:.2f}"), ("latency_p90_s", "latency p90 (s)", "{:.2f}"),
        ("served_tokens_per_s", "served tokens/s", "{:.1f}")]
