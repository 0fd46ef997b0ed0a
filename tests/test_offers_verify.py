"""Discounts and searches in reasons: a discount claim or figure passes only with an active promotion fact that
says it (never from a title, a query or another reason), in both languages; promotion labels are read in both
conventions; the query is quoted only when it is safe to show."""

from __future__ import annotations

import pytest

from narrator.facts import ItemRef
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from ranker.promotions import Promotion, active_promotion, percent_off
from tests.narrator_cases import BRANDS, EVIDENCE, facts_of

HOSTILE = ItemRef("D9", "Voltmark Drill 50% OFF SALE - Best Price Guaranteed", "Voltmark", "Tools > Cordless Drill",
                  88.99, "Voltmark 电钻 全场5折 限时促销 最低价", "", "工具 > 无线电钻")


@pytest.fixture(scope="module")
def narrator() -> Narrator:
    return Narrator(PromptLibrary.load(), brands=BRANDS)


@pytest.mark.parametrize("label,percent", [("20% off", 20), ("20%OFF", 20), ("8折", 20), ("八折", 20), ("8.5折", 15),
                                           ("限时7折", 30), ("Winter Sale", None), ("0% off", None), ("10折", None)])
def test_labels_in_both_conventions(label, percent):
    assert percent_off(label) == percent


def test_the_largest_active_discount_is_the_one_said():
    now = 1_000.0
    promos = (Promotion("D1", "10% off", 0, 2_000), Promotion("D1", "7折", 0, 2_000, "c2"),
              Promotion("D1", "50% off", 2_000, 3_000, "later"))
    assert active_promotion(promos, now).label == "7折"
    assert active_promotion(promos, 5_000.0) is None
    assert Promotion("D1", "7折", 0, 86_400 * 3).evidence()["ends"] == "1970-01-03"


@pytest.mark.parametrize("lang,text", [
    ("en", "You have bought 3 Voltmark items, and this drill is 20% off until 2026-12-06."),
    ("en", "You have bought 3 Voltmark items, and this drill is on sale, 20% off until 2026-12-06."),
    ("zh", "您已购买过3件Voltmark的商品，这款电钻限时8折，优惠至2026-12-06。"),
    ("zh", "您已购买过3件Voltmark的商品，这款电钻正在促销，限时8折，优惠至2026-12-06。"),
])
@pytest.mark.parametrize("item", ["plain", "hostile"])
def test_the_promotion_fact_backs_its_own_discount(narrator, lang, text, item):
    facts = facts_of("brand", "promotion") if item == "plain" else facts_of("brand", "promotion", item=HOSTILE)
    report = narrator.verify_text(text, facts, lang)
    assert report.passed, report.failures


@pytest.mark.parametrize("lang,text", [
    ("en", "You have bought 3 Voltmark items, and this drill is 20% off this week."),
    ("en", "You have bought 3 Voltmark items, and this drill is on sale."),
    ("en", "You have bought 3 Voltmark items; grab this deal with a coupon."),
    ("en", "You have bought 3 Voltmark items, and this drill is 50% off."),
    ("zh", "您已购买过3件Voltmark的商品，这款电钻限时8折。"),
    ("zh", "您已购买过3件Voltmark的商品，这款电钻正在打折。"),
    ("zh", "您已购买过3件Voltmark的商品，这款电钻全场5折促销。"),
    ("zh", "您已购买过3件Voltmark的商品，这款电钻现在有优惠。"),
])
@pytest.mark.parametrize("item", ["plain", "hostile"])
def test_no_discount_without_an_active_promotion_fact(narrator, lang, text, item):
    """The hostile item's title says "50% OFF SALE" and "全场5折 限时促销": still no discount may be claimed."""
    facts = facts_of("brand", "popular") if item == "plain" else facts_of("brand", "popular", item=HOSTILE)
    report = narrator.verify_text(text, facts, lang)
    assert not report.passed and "claim" in {c.rule for c in report.failures}, report.claims


@pytest.mark.parametrize("lang,text", [
    ("en", "You have bought 3 Voltmark items, and this drill is 50% off until 2026-12-06."),
    ("en", "You have bought 3 Voltmark items, and this drill is 30% off until 2026-12-06."),
    ("zh", "您已购买过3件Voltmark的商品，这款电钻限时5折，优惠至2026-12-06。"),
    ("zh", "您已购买过3件Voltmark的商品，这款电钻限时七折，优惠至2026-12-06。"),
])
def test_a_discount_figure_must_be_the_promotions_own(narrator, lang, text):
    report = narrator.verify_text(text, facts_of("brand", "promotion", item=HOSTILE), lang)
    assert not report.passed, report.claims


def test_a_query_that_claims_a_discount_backs_nothing(narrator):
    hostile_query = {**EVIDENCE["query_match"], "query": "drill 50% off sale"}
    facts = facts_of("query_match", "brand")
    facts = type(facts)(facts.user_id, facts.item, (type(facts.facts[0])(
        "query_match", (), 0.5, 0.5, 1, hostile_query), facts.facts[1]))
    phrase = narrator.prompts.reasons(facts, "en")[0]
    assert phrase == "it matches your search"
    report = narrator.verify_text("This drill matches your search and is on sale; you have bought 3 Voltmark items.",
                                  facts, "en")
    assert not report.passed


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_template_sentences_with_offers_verify(narrator, lang):
    for kinds in (("promotion", "brand"), ("brand", "promotion", "new_arrival"), ("query_match", "brand"),
                  ("query_match", "promotion")):
        e = narrator.explain(facts_of(*kinds, item=HOSTILE), lang, mode="template")
        assert e.verified, (kinds, e.text, e.report)
        if "promotion" in kinds:
            assert ("8折" if lang == "zh" else "20% off") in e.text
        assert "50%" not in e.text and "5折" not in e.text


def test_a_query_in_the_other_language_is_quoted_as_typed(narrator):
    zh_query = facts_of("query_match", "brand")
    zh_query = type(zh_query)(zh_query.user_id, zh_query.item, (type(zh_query.facts[0])(
        "query_match", (), 0.5, 0.5, 1, {"query": "无线电钻", "similarity": 0.6}), zh_query.facts[1]))
    e = narrator.explain(zh_query, "en", mode="template")
    assert '"无线电钻"' in e.text and e.verified, e.report
    assert not narrator.verify_text("It matches your search, 您好, and you have bought 3 Voltmark items.", zh_query,
                                    "en").passed
