"""The verifier on the labelled audit set (bench/audit/demo.jsonl): the issue's bars, per language, and
corruptions that really change a true sentence."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from narrator.verification.audit import ERRORS, GOOD, AuditRow, corruptions, run
from tests.narrator_cases import BRANDS, facts_of

AUDIT = Path(__file__).resolve().parents[1] / "bench" / "audit" / "demo.jsonl"


@pytest.fixture(scope="module")
def rows() -> list[AuditRow]:
    return [AuditRow.from_dict(json.loads(line)) for line in AUDIT.read_text(encoding="utf-8").splitlines()]


def test_the_audit_set_is_labelled_and_large_enough(rows):
    assert len(rows) >= 400
    assert {r.label for r in rows} <= {GOOD, *ERRORS}
    for lang in ("zh", "en"):
        mine = [r for r in rows if r.lang == lang]
        assert sum(r.label == GOOD for r in mine) >= 50 and sum(r.label != GOOD for r in mine) >= 150
        assert any(r.source.startswith("model") and r.label != GOOD for r in mine)  # real outputs, read


def test_verifier_meets_the_bars_on_the_audit_set(rows):
    brands = {r.facts.item.brand for r in rows} | {str(f.evidence["brand"]) for r in rows for f in r.facts.facts
                                                   if f.evidence.get("brand")}
    results = run(Narrator(PromptLibrary.load(), brands=brands), rows)
    for lang in ("zh", "en"):
        assert results[lang]["recall"]["rate"] >= 0.98, results[lang]
        assert results[lang]["false_rejection"]["rate"] <= 0.05, results[lang]


@pytest.mark.parametrize("relation", ["viewed", "bought"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_corruption_changes_the_sentence_and_is_caught(lang, relation):
    """With the similar item viewed or bought: a bought one's relation swap says "looked at", never the
    co-purchase reason's own "you bought"."""
    n = Narrator(PromptLibrary.load(), brands=BRANDS)
    facts = facts_of("bought_together", "similar_text", "brand")
    similar = facts.facts[1]
    facts = replace(facts, facts=(facts.facts[0], replace(similar, evidence={**similar.evidence, "relation": relation}),
                                  facts.facts[2]))
    true = n.explain(facts, lang, mode="template").text
    made = dict(corruptions(true, facts, n.prompts.phrases[lang], random.Random(0)))
    assert {"relation_swap", "invented_claim", "entity"} <= set(made)
    for error, bad in made.items():
        assert bad != true
        assert not n.verify_text(bad, facts, lang).passed, (error, bad)
