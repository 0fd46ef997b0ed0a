"""The narrator's fact types: typed, JSON round-trippable, and free of TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import pytest

from narrator.facts import FACT_KINDS, Fact, Facts, ItemRef
from ranker.features import GROUP_KIND, GROUPS


def sample() -> Facts:
    return Facts("u1", ItemRef("i9", "Voltmark 20V Drill", "Voltmark", "Tools > Drill", 99.0, "Voltmark 20V电钻"),
                 (Fact("brand", ("brand_affinity",), 0.8, 0.6, 1, {"brand": "Voltmark", "bought": 3, "viewed": 1}),
                  Fact("popular", ("popularity",), 0.5, 0.4, 2, {"purchases": 120})),
                 (Fact("price", ("price_fit",), -0.2, 0.0, 1, {}),))


def test_round_trip_and_hash_is_stable():
    facts = sample()
    again = Facts.from_dict(facts.to_dict())
    assert again == facts
    assert again.content_hash() == facts.content_hash()
    assert "Voltmark" in facts.to_json()


def test_every_ranker_group_has_a_fact_kind():
    assert set(GROUPS) == set(GROUP_KIND)
    assert set(GROUP_KIND.values()) <= set(FACT_KINDS)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown fact kind 'vibes'"):
        Fact("vibes", ("x",), 1.0, 1.0, 1)


def test_narrator_never_imports_tensorflow():
    code = ("import sys, narrator.facts, narrator.prompts, narrator.verification, narrator.narrate, narrator.backends, "
            "narrator.enrichment; sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
