"""Each verifier rule, with a sentence that passes and one that fails, in both languages."""

from __future__ import annotations

import pytest

from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from tests.narrator_cases import BRANDS, facts_of

FACTS = facts_of("brand", "price", "popular")


@pytest.fixture(scope="module")
def narrator() -> Narrator:
    return Narrator(PromptLibrary.load(), brands=BRANDS)


def failed_rules(narrator: Narrator, text: str, lang: str) -> set[str]:
    return {c.rule for c in narrator.verify_text(text, FACTS, lang).failures}


GOOD = {
    "en": "Since you have bought 3 Voltmark items, this drill at $88.99 fits your usual $40 to $120 range.",
    "zh": "您已购买过3件Voltmark的商品，这款电钻$88.99，在您常买的$40至$120价位内。",
}

# rule → {lang: a sentence that breaks exactly that rule (and cites the top two reasons)}
BAD = {
    "number": {"en": "You have bought 5 Voltmark items, and this drill fits your usual price range.",
               "zh": "您已购买过5件Voltmark的商品，这款电钻也在您常买的价位内。"},
    "brand": {"en": "You have bought 3 Voltmark items, and like your IronPeak drill it fits your usual price range.",
              "zh": "您已购买过3件Voltmark的商品，和IronPeak一样在您常买的价位内。"},
    "name": {"en": "You have bought 3 Voltmark items, and the Voltmark X200 fits your usual price range.",
             "zh": "您已购买过3件Voltmark的商品，这款Pro电钻在您常买的价位内。"},
    "claim": {"en": "You have bought 3 Voltmark items, and this drill fits your usual price range with a great "
                    "reputation.",
              "zh": "您已购买过3件Voltmark的商品，这款电钻口碑很好，在您常买的价位内。"},
    "citation": {"en": "You have bought 3 Voltmark items, so you may like this drill.",
                 "zh": "您已购买过3件Voltmark的商品，您可能会喜欢这款电钻。"},
    "language": {"en": "您已购买过3件Voltmark的商品，这款电钻在您常买的price range内。",
                 "zh": "You have bought 3 Voltmark items, and this drill fits your usual price range."},
    "length": {"en": "You have bought 3 Voltmark items. This drill fits your usual price range.",
               "zh": "您已购买过3件Voltmark的商品。这款电钻在您常买的价位内。"},
    "echo": {"en": "Reasons, strongest first: you have bought 3 Voltmark items and it fits your usual price range.",
             "zh": "理由1：您已购买过3件Voltmark的商品，理由2：这款电钻在您常买的价位内。"},
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_faithful_sentence_passes(narrator, lang):
    report = narrator.verify_text(GOOD[lang], FACTS, lang)
    assert report.passed, report.failures
    assert report.cited[:2] == ["brand", "price"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_rule_catches_its_failure(narrator, rule, lang):
    failed = failed_rules(narrator, BAD[rule][lang], lang)
    assert rule in failed, (rule, lang, failed)


def test_claims_backed_by_a_fact_pass_and_unbacked_fail(narrator):
    assert failed_rules(narrator, "You have bought 3 Voltmark items, and this popular drill fits your usual price "
                        "range.", "en") == set()
    no_popular = facts_of("brand", "price")
    report = narrator.verify_text("You have bought 3 Voltmark items, and this popular drill fits your usual price "
                                  "range.", no_popular, "en")
    assert [c.text for c in report.failures] == ["popular"]


def test_number_words_and_chinese_numerals_are_numbers(narrator):
    assert "number" in failed_rules(narrator, "You have bought five Voltmark items; it fits your price range.", "en")
    assert "number" not in failed_rules(narrator, "You have bought three Voltmark items; it fits your price range.",
                                        "en")
    assert "number" in failed_rules(narrator, "您已购买过五件Voltmark的商品，在您常买的价位内。", "zh")
    assert "number" not in failed_rules(narrator, "您已购买过三件Voltmark的商品，在您常买的价位内。", "zh")


def test_report_explains_each_claim(narrator):
    report = narrator.verify_text(BAD["number"]["en"], FACTS, "en").to_dict()
    assert report["passed"] is False
    bad = [c for c in report["claims"] if not c["ok"]]
    assert bad == [{"rule": "number", "text": "5", "ok": False,
                    "why": "no fact or the item name says this number"}]
