"""Each verifier rule, with a sentence that passes and one that fails, in both languages."""

from __future__ import annotations

import pytest

from narrator.facts import Fact, Facts, ItemRef
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from tests.narrator_cases import BRANDS, DRILL, EVIDENCE, fact, facts_of

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


def test_model_codes_touching_chinese_are_read_whole(narrator):
    """In zh a code runs straight into the next character ("A10一起"); it is one code, not its prefix."""
    facts = facts_of("bought_together", "popular")
    backed = "这款商品常与您买过的Brisk 钻头套装 B12一起购买，而且很受欢迎（已售120件）。"
    assert narrator.verify_text(backed, facts, "zh").passed
    invented = narrator.verify_text(backed.replace("B12一起", "B12-X9一起"), facts, "zh")
    assert {c.text for c in invented.failures if c.rule == "name"} == {"B12-X9"}


@pytest.mark.parametrize(("lang", "backed", "invented"), [
    ("zh", "您已购买过3件Voltmark的商品，这款电钻在您常买的$40至$120价位内。",
     "您已购买过3件Voltmark的商品，这款焊枪在您常买的$40至$120价位内。"),
    ("zh", "您已购买过3件Voltmark的商品，这款商品在您常买的$40至$120价位内。",
     "您已购买过3件Voltmark的商品，这款3D打印机在您常买的$40至$120价位内。"),
    ("en", "You have bought 3 Voltmark items, and this drill fits your usual price range.",
     "You have bought 3 Voltmark items, and this welder fits your usual price range."),
    ("en", "You have bought 3 Voltmark items, and this item fits your usual price range.",
     "You have bought 3 Voltmark items, and these earbuds fit your usual price range."),
])
def test_what_the_text_calls_the_item_must_be_in_its_name_or_category(narrator, lang, backed, invented):
    """Given an English-only name, a small model guesses a Chinese noun ("这款焊枪" for an epoxy putty)."""
    assert narrator.verify_text(backed, FACTS, lang).passed
    failed = narrator.verify_text(invented, FACTS, lang).failures
    assert {c.rule for c in failed} == {"name"}
    assert any(c.why.startswith("calls the item") for c in failed), failed


def test_a_glossary_kind_of_an_english_only_item_may_name_it_in_zh(narrator):
    tape = ItemRef("T1", "Scotch Heavy Duty Shipping Packaging Tape, 1.88 Inches", "Scotch",
                   "Industrial & Scientific > Tapes > Packaging Tape", None)
    facts = facts_of("brand", "popular", item=tape)
    said = "您已购买过3件Voltmark的商品，这款{}也很受欢迎（已售120件）。"
    assert narrator.verify_text(said.format("胶带"), facts, "zh").passed
    failed = narrator.verify_text(said.format("胶水"), facts, "zh").failures
    assert [c.text for c in failed] == ["胶水"]


@pytest.mark.parametrize(("lang", "text"), [
    ("zh", "这款电钻常与您买过的Voltmark商品一起购买，而且在您常买的价位内。"),
    ("en", "You have bought 3 Voltmark items, and this drill is similar to what fits your usual price range."),
])
def test_cue_words_of_a_kind_that_is_not_a_reason_are_invented_claims(narrator, lang, text):
    """Seen on Amazon: "您已购买过1件X的商品" rewritten as "常与您买过的X一起购买" — a co-purchase nobody made."""
    failed = narrator.verify_text(text, FACTS, lang).failures
    assert [(c.rule, c.why) for c in failed if c.rule == "claim"] == [
        ("claim", f"says {'bought_together' if lang == 'zh' else 'similar_text'}, which is not a reason here")]


TWO_ITEMS = facts_of("bought_together", "similar_text")


@pytest.mark.parametrize(("lang", "good", "bad"), [
    ("en", "It is similar to the IronPeak 20V Cordless Drill A47 you looked at, and shoppers often buy it together "
           "with the Brisk Drill Bit Set B12 you bought.",
     "It is similar to the IronPeak 20V Cordless Drill A47, and shoppers often buy it together with the Brisk Drill "
     "Bit Set B12 you looked at."),
    ("en", "Shoppers often buy it together with the Brisk Drill Bit Set B12 you bought, and it is similar to the "
           "IronPeak 20V Cordless Drill A47 you looked at.",
     "It is similar to the Brisk Drill Bit Set B12 you bought, and shoppers often buy it together with the IronPeak "
     "20V Cordless Drill A47 you looked at."),
    ("zh", "常与您买过的Brisk 钻头套装 B12一起购买，并且与您浏览过的IronPeak 20V无线电钻 A47相似。",
     "常与您浏览过的Brisk 钻头套装 B12一起购买，并且与您浏览过的IronPeak 20V无线电钻 A47相似。"),
    ("zh", "常与您买过的Brisk 钻头套装 B12一起购买，并且与您浏览过的IronPeak 20V无线电钻 A47相似。",
     "与您买过的Brisk 钻头套装 B12相似，并且常与您浏览过的IronPeak 20V无线电钻 A47一起购买。"),
    ("zh", "常与您买过的Brisk 钻头套装 B12一起购买，并且与您浏览过的IronPeak 20V无线电钻 A47相似。",
     "您已购买过Brisk 钻头套装 B12一起购买，并且与您浏览过的IronPeak 20V无线电钻 A47相似。"),
])
def test_each_named_item_keeps_its_own_relation(narrator, lang, good, bad):
    """Bought vs viewed, bought together vs similar: bound to the item each reason names, in its clause."""
    assert narrator.verify_text(good, TWO_ITEMS, lang).passed, narrator.verify_text(good, TWO_ITEMS, lang).failures
    failed = narrator.verify_text(bad, TWO_ITEMS, lang).failures
    assert {c.rule for c in failed} == {"relation"}, failed


@pytest.mark.parametrize(("lang", "bad"), [
    ("en", "Shoppers often buy this bit set together with the Brisk Drill Bit Set B12 you bought, and it is similar "
           "to the IronPeak 20V Cordless Drill A47 you looked at."),
    ("zh", "这款钻头套装常与您买过的Brisk 钻头套装 B12一起购买，并且与您浏览过的IronPeak 20V无线电钻 A47相似。"),
])
def test_the_item_is_never_called_by_another_items_noun(narrator, lang, bad):
    failed = narrator.verify_text(bad, TWO_ITEMS, lang).failures
    assert {c.rule for c in failed} == {"name"} and any("own name" in c.why for c in failed), failed


@pytest.mark.parametrize(("text", "ok"), [("this 20V drill", True), ("this 20V cordless drill", True),
                                          ("this 20V welder", False), ("this 20V cordless welder kit", False),
                                          ("this Voltmark 20V cordless drill", True),  # a code inside: head is last
                                          ("this drill 20V cordless welder", False)])
def test_a_noun_phrase_led_by_a_code_is_still_judged_by_its_head(narrator, text, ok):
    """A phrase starting with a code ("20V") once escaped the head rule, so "this 20V welder" passed for a drill."""
    report = narrator.verify_text(f"You have bought 3 Voltmark items, and {text} fits your usual price range.",
                                  FACTS, "en")
    assert report.passed == ok and {c.rule for c in report.failures} <= {"name"}, report.failures


@pytest.mark.parametrize("bad", ["您已购买过3件Voltmark的商品，这款 drill在您常买的$40至$120价位内。",
                                 "您已购买过3件Voltmark的商品，这款Protectors在您常买的$40至$120价位内。"])
def test_no_english_word_inside_chinese_text(narrator, bad):
    failed = narrator.verify_text(bad, FACTS, "zh").failures
    assert "language" in {c.rule for c in failed}, failed
    assert narrator.verify_text("您已购买过3件Voltmark的商品，这款Voltmark 20V无线电钻 A10在您常买的$40至$120价位内。",
                                FACTS, "zh").passed


def test_a_set_named_in_the_title_is_a_set_of_what_it_holds(narrator):
    """"This set of titanium-coated burrs" for a "… Set of Titanium-Coated Diamond Burrs" (seen refused from the
    1.5B on Scientific): the set is in the item's own name and the head after "of" is what it holds. A set of
    something else, or a container word the name does not have, is still refused."""
    burrs = facts_of("brand", "popular", item=ItemRef("B1", "Voltmark 30-Piece Set of Titanium-Coated Diamond Burrs",
                                                      "Voltmark", "Cutting Tools > Burs", 30.0))
    good = ("This set of titanium-coated burrs is popular with shoppers (120 purchases), and you have already "
            "bought 3 Voltmark items.")
    assert narrator.verify_text(good, burrs, "en").passed
    for bad in (good.replace("burrs", "drills"), good.replace("set of", "pack of")):
        failed = narrator.verify_text(bad, burrs, "en").failures
        assert any("own name" in c.why for c in failed), (bad, failed)


@pytest.mark.parametrize(("lang", "bad", "good"), [
    ("en", "This brand is popular with shoppers (120 purchases), and you have already bought 3 Voltmark items.",
     "This tape is popular with shoppers (120 purchases), and you have already bought 3 Voltmark items."),
    ("zh", "这款品牌很受欢迎（已售120件），而且您已购买过3件Voltmark的商品。",
     "这款胶带很受欢迎（已售120件），而且您已购买过3件Voltmark的商品。"),
])
def test_the_item_is_never_called_its_maker_even_when_its_name_ends_on_the_word(narrator, lang, bad, good):
    """Seen on Scientific for "VELCRO Brand …": "this brand is popular (35 purchases)" says the brand sold 35."""
    tape = facts_of("popular", "brand", item=ItemRef("T1", "Voltmark Brand", "Voltmark", "Tape > Hook & Loop Tape",
                                                     9.0, kind_zh="胶带", kind_en="tape"))
    failed = narrator.verify_text(bad, tape, lang).failures
    assert any("makes or sells" in c.why or "maker or seller" in c.why for c in failed), failed
    assert narrator.verify_text(good, tape, lang).passed


def test_the_item_is_never_called_by_a_run_of_its_title_words(narrator):
    """Seen on a marketplace shop: an item not yet enriched is named by its title's lead, and the model copied it
    as the noun ("这款化妆工具安全2把装迷你进口修眉刀日本细致刮美容"); a product type has at most 8 characters."""
    title = "化妆工具安全迷你进口修眉刀日本细致刮美容"
    brow = facts_of("popular", "brand", item=ItemRef("Z1", title, "Voltmark", "美容 > 修眉刀", 9.0, title_zh=title))
    said = "很受欢迎（已售120件），而且您已购买过3件Voltmark的商品。"
    failed = narrator.verify_text(f"这款{title}{said}", brow, "zh").failures
    assert any("run of title words" in c.why for c in failed), failed
    assert narrator.verify_text(f"这款修眉刀{said}", brow, "zh").passed


@pytest.mark.parametrize(("lang", "bad"), [
    ("en", "You have bought 3 Voltmark items, and this drill fits your usual price range &amp; budget."),
    ("zh", "您已购买过3件Voltmark的商品&reg;，这款电钻在您常买的价位内。"),
])
def test_html_entities_are_markup(narrator, lang, bad):
    assert "echo" in failed_rules(narrator, bad, lang)


@pytest.mark.parametrize(("good", "bad"), [
    ("You have bought 3 Voltmark items, and this drill fits your usual price range.",
     "You have bought 3 Voltmark items, and these drill fits your usual price range."),
    ("You have bought 3 Voltmark items, and this item is in your usual price range.",
     "You have bought 3 Voltmark items, and this drills are in your usual price range."),
])
def test_this_and_these_agree_with_their_noun(narrator, good, bad):
    assert narrator.verify_text(good, FACTS, "en").passed
    failed = narrator.verify_text(bad, FACTS, "en").failures
    assert any("does not agree" in c.why for c in failed), failed


def test_these_only_for_an_item_whose_own_name_is_plural(narrator):
    """One power bank is "this power bank" (seen: "You viewed these power banks 2 times"); a product named as a
    plural ("… Coffee Beans") may be "these"."""
    one = narrator.verify_text("You have bought 3 Voltmark items, and these drills fit your usual price range.",
                               FACTS, "en")
    assert any("calls one item" in c.why for c in one.failures), one.failures
    beans = facts_of("brand", "price", "popular", item=ItemRef("C1", "Voltmark Decaf Coffee Beans B19", "Voltmark",
                                                                "Coffee > Coffee Beans", 12.0))
    assert narrator.verify_text("You have bought 3 Voltmark items, and these coffee beans fit your usual price range.",
                                beans, "en").passed


@pytest.mark.parametrize(("lang", "bad"), [
    ("en", "It is similar to the IronPeak 20V Cordless Drill A47 you looked at, and shoppers often buy it together "
           "with this drill."),
    ("zh", "与您浏览过的IronPeak 20V无线电钻 A47相似，并且常与这款电钻一起购买。"),
])
def test_a_relation_needs_the_item_it_is_with(narrator, lang, bad):
    """Seen on Scientific: "shoppers often buy it together with this scale" — the bought item dropped."""
    failed = narrator.verify_text(bad, TWO_ITEMS, lang).failures
    assert any("without the item" in c.why for c in failed), failed


@pytest.mark.parametrize(("lang", "bad"), [
    ("en", "You often buy this drill together with the Brisk Drill Bit Set B12 you bought, and it is similar to the "
           "IronPeak 20V Cordless Drill A47 you looked at."),
    ("zh", "您经常把这款电钻与您买过的Brisk 钻头套装 B12一起购买，并且与您浏览过的IronPeak 20V无线电钻 A47相似。"),
])
def test_the_shopper_never_bought_the_recommended_item(narrator, lang, bad):
    """Seen in `make demo`: "You often buy this power bank together with the … you bought"."""
    failed = narrator.verify_text(bad, TWO_ITEMS, lang).failures
    assert any("says you bought" in c.why for c in failed), failed


def test_picked_for_you_is_not_the_shopper_buying_the_item(narrator):
    """An editor's "Picked for you because shoppers often buy it together with …": the buyers are the shoppers."""
    text = "Picked for you because shoppers often buy it together with things you bought."
    facts = Facts("U1", TWO_ITEMS.item, (Fact("bought_together", ("bought_together",), 0.6, 0.6, 1,
                                              {"with_item_id": "", "with_title": "", "with_title_zh": "",
                                               "basis": "item"}),))
    assert not [c for c in narrator.verify_text(text, facts, "en").failures if "says you bought" in c.why]
    assert [c for c in narrator.verify_text("Picked for you because you have already bought it.", facts,
                                            "en").failures if "says you bought" in c.why]


@pytest.mark.parametrize("lang,text", [
    ("en", "You have bought 3 Voltmark items, and this new drill is popular with shoppers (120 purchases)."),
    ("en", "You have bought 3 Voltmark items, and this drill just arrived and is popular (120 purchases)."),
    ("zh", "您已购买过3件Voltmark的商品，而且这款新品电钻很受欢迎（已售120件）。"),
    ("zh", "您已购买过3件Voltmark的商品，这款电钻是新上架的，很受欢迎（已售120件）。"),
])
def test_new_is_an_invented_claim_without_the_new_arrival_fact(narrator, lang, text):
    assert "claim" in failed_rules(narrator, text, lang)


@pytest.mark.parametrize("lang,text", [
    ("en", "You have bought 3 Voltmark items, and this drill is new in the shop."),
    ("en", "This new drill just arrived, and you have bought 3 Voltmark items."),
    ("zh", "您已购买过3件Voltmark的商品，而且这款电钻是新上架的商品。"),
    ("zh", "这款新品电钻刚刚上新，您已购买过3件Voltmark的商品。"),
])
def test_new_passes_with_the_new_arrival_fact(narrator, lang, text):
    report = narrator.verify_text(text, facts_of("brand", "new_arrival"), lang)
    assert report.passed, report.failures


RECENT = facts_of("recent", "brand")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_recent_purchase_reason_verifies_and_is_bound_to_its_item(narrator, lang):
    """The order-aware reason names the purchase it credits: its template sentence verifies, the model's
    rephrasing may say "latest"/"最近", and calling that purchase something the shopper only looked at, or
    naming another item, is refused."""
    template = narrator.fallback(RECENT, lang, "short", "test")
    assert template.verified, template.text
    good = {"en": "It is a likely next purchase after the Auralis Wireless Headphones B20 you recently bought, and "
                  "you have bought 3 Voltmark items.",
            "zh": "适合接着您最近一次购买的Auralis 无线耳机 B20入手，而且您已购买过3件Voltmark的商品。"}[lang]
    assert narrator.verify_text(good, RECENT, lang).passed
    viewed = {"en": "It is a likely next buy after the Auralis Wireless Headphones B20 you looked at, and you have "
                    "bought 3 Voltmark items.",
              "zh": "适合接着您浏览过的Auralis 无线耳机 B20入手，而且您已购买过3件Voltmark的商品。"}[lang]
    assert "relation" in {c.rule for c in narrator.verify_text(viewed, RECENT, lang).failures}
    other = {"en": "It is a likely next buy after the IronPeak 20V Cordless Drill A47 you recently bought, and "
                   "you have bought 3 Voltmark items.",
             "zh": "适合接着您最近一次购买的IronPeak 20V无线电钻 A47入手，而且您已购买过3件Voltmark的商品。"}[lang]
    assert not narrator.verify_text(other, RECENT, lang).passed


def similar_to(relation: str | None) -> Facts:
    """A similar-text reason whose item the shopper bought, viewed, or (older facts) did not say."""
    evidence = {k: v for k, v in EVIDENCE["similar_text"].items() if k != "relation"}
    if relation:
        evidence["relation"] = relation
    return Facts("U1", DRILL, (fact("similar_text", 1, 0.6, evidence), fact("brand", 2, 0.4, EVIDENCE["brand"])))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_similar_item_is_called_what_the_shopper_did_with_it(narrator, lang):
    """The most similar engaged item may be a purchase: its phrase says "you bought"/"买过", and "the X you
    looked at" for it is refused, as is "you bought" for an item only viewed. Facts written before the
    relation existed keep the viewed wording."""
    said = {"en": ("you bought", "you looked at"), "zh": ("买过的IronPeak", "浏览过的IronPeak")}[lang]
    for relation, own, other in (("bought", *said), ("viewed", *said[::-1]), (None, *said[::-1])):
        facts = similar_to(relation)
        template = narrator.fallback(facts, lang, "short", "test")
        assert template.verified and own in template.text and other not in template.text, template.text
        swapped = template.text.replace(own, other)
        failed = narrator.verify_text(swapped, facts, lang).failures
        assert "relation" in {c.rule for c in failed}, (swapped, failed)


@pytest.mark.parametrize(("text", "dropped"), [
    ("这款电钻很受欢迎（已售120件），而且在无线电钻类已购买2件商品。", True),
    ("这款电钻很受欢迎（已售120件），并且浏览过它2次。", True),
    ("这款电钻很受欢迎（已售120件），而且您在无线电钻类已购买2件商品。", False),
    ("您已购买过3件Voltmark的商品，而且在无线电钻类已购买2件商品。", False),  # the shopper carries over
    ("这款电钻很受欢迎（已售120件），买家评分4.5。", False),
    ("您已购买过3件Voltmark的商品，这款电钻也浏览过它2次。", True),  # the drill did not look at itself
    ("您已购买过3件Voltmark的商品，这款电钻常与您买过的商品一起购买。", False),
    ("这款电钻是您浏览过的商品。", False),
])
def test_a_clause_about_what_the_shopper_did_keeps_its_subject(narrator, text, dropped):
    facts = facts_of("popular", "category", "brand", "rating")
    failures = [c for c in narrator.verify_text(text, facts, "zh").failures if c.rule == "language"]
    assert bool(failures) == dropped, failures


@pytest.mark.parametrize(("text", "ok"), [
    ("It goes well with the gloves you bought.", False),  # the marketplace shop: the item's own kind, misplaced
    ("It goes well with the window robot you bought.", False),  # a noun of the model's, even a true one
    ("It goes well with the cordless drill you bought.", False),  # the recommended drill's own words
    ("It goes well with the item you bought.", True),
    ("Shoppers often buy it together with things you bought.", True),
    ("Shoppers often buy this together with things you bought.", True),  # "this" alone: no noun, nothing to judge
    ("Shoppers often buy this drill together with things you bought.", True),
])
def test_an_item_the_shopper_bought_is_called_only_what_the_facts_call_it(narrator, text, ok):
    """The bought item has only a Chinese title, so the English phrase names no item ("the item you bought")."""
    evidence = {**EVIDENCE["bought_together"], "with_title": "窗宝 W850 擦窗机器人", "with_title_zh": "窗宝 W850",
                "basis": "category"}
    facts = Facts("U1", DRILL, (fact("bought_together", 1, 1.0, evidence),))
    report = narrator.verify_text(text, facts, "en")
    assert report.passed == ok, report.claims
