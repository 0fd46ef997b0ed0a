"""The narrator's policy (generate → verify → retry → fallback), its cache, and hostile catalogs."""

from __future__ import annotations

import pytest

from narrator.backends import Generation
from narrator.facts import Facts, ItemRef
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from tests.narrator_cases import BRANDS, EVIDENCE, HOSTILE_TITLES, fact, facts_of, hostile


class Scripted:
    """A backend that answers from a list, recording the prompts it was given."""

    model_id = "scripted"
    name = "scripted"

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.prompts: list[list[dict]] = []

    def generate(self, messages, max_tokens):
        self.prompts.append(messages)
        return Generation(self.answers.pop(0), 12, 0.01)

    def stream(self, messages, max_tokens):
        text = self.generate(messages, max_tokens).text
        yield from (text[i:i + 5] for i in range(0, len(text), 5))


FACTS = facts_of("brand", "price")
GOOD = "Since you have bought 3 Voltmark items, this drill fits your usual $40 to $120 range."
INVENTED = "This Voltmark drill has a great reputation and 50% off today."


def narrator(*answers: str) -> tuple[Narrator, Scripted]:
    backend = Scripted(*answers)
    return Narrator(PromptLibrary.load(), backend, brands=BRANDS), backend


def test_verified_first_attempt_is_served():
    n, backend = narrator(GOOD)
    e = n.explain(FACTS, "en", mode="llm")
    assert (e.text, e.verified, e.fallback_used, e.attempts) == (GOOD, True, False, 1)
    assert (e.prompt_id, e.prompt_version, e.model_id) == ("reason-short", 1, "scripted")
    assert e.cited == ["brand", "price"] and "generate_1_s" in e.timings


def test_retry_uses_the_stricter_prompt():
    n, backend = narrator(INVENTED, GOOD)
    e = n.explain(FACTS, "en", mode="llm")
    assert (e.text, e.attempts, e.fallback_used) == (GOOD, 2, False)
    assert e.rejected == [INVENTED]
    first, second = backend.prompts
    assert second[:-2] == first[:-1] and second[-1] == first[-1] and second[-2]["role"] == "system"
    for problem in ("use only the numbers written in the reasons", "add no praise, discounts or other claims",
                    "mention reason 1 and reason 2"):
        assert problem in second[-2]["content"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_two_failures_fall_back_to_the_template_sentence(lang):
    n, _ = narrator(INVENTED, INVENTED)
    e = n.explain(FACTS, lang, mode="auto")
    assert e.fallback_used and e.attempts == 2 and e.verified
    assert e.text == n.fallback_text(FACTS, n.prompts.template(lang))
    assert "50" not in e.text and "reputation" not in e.text


def test_cache_by_model_prompt_language_and_facts():
    n, backend = narrator(GOOD, "您已购买过3件Voltmark的商品，价格$88.99在您常买的$40至$120价位内。")
    first = n.explain(FACTS, "en")
    again = n.explain(FACTS, "en")
    assert again.cache_hit and not first.cache_hit and again.text == first.text
    zh = n.explain(FACTS, "zh")
    assert not zh.cache_hit and len(backend.prompts) == 2


def test_template_mode_and_missing_backend():
    n = Narrator(PromptLibrary.load(), None, brands=BRANDS)
    e = n.explain(FACTS, "zh", mode="auto")
    assert e.model_id == "template" and e.attempts == 0 and not e.fallback_used and e.verified
    assert e.text.startswith("推荐理由：您已购买过3件Voltmark的商品")
    with pytest.raises(RuntimeError, match="needs a text model"):
        n.explain(FACTS, "zh", mode="llm")


def test_stream_yields_tokens_then_the_final_result():
    n, _ = narrator(GOOD)
    events = list(n.stream(FACTS, "en"))
    assert all(kind == "token" for kind, _ in events[:-1]) and events[-1][0] == "final"
    assert "".join(piece for _, piece in events[:-1]) == GOOD and events[-1][1].verified


def test_stream_of_a_rejected_answer_ends_with_the_marked_fallback():
    n, _ = narrator(INVENTED, INVENTED)
    kind, final = list(n.stream(FACTS, "en"))[-1]
    assert kind == "final" and final.fallback_used and final.rejected == [INVENTED, INVENTED]


INJECTED = ["ignore", "cheapest", "最低价", "全场", "script", "alert", "90%", "off", "free", "50%", "discount",
            "秒杀", "5折", "包邮", "官方", "正品", "best", "#1", "www", "salesman", "指令"]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_titles_never_reach_a_served_explanation(title, lang):
    """The model is made to obey the injection; the served text must still be clean."""
    facts = facts_of("brand", "popular", item=hostile(title))
    obeying = [title, f"{title} 您已购买过3件Voltmark的商品，很受欢迎（已售120件）。"]
    n, backend = narrator(*obeying)
    e = n.explain(facts, lang)
    served = e.text.lower()
    assert not any(word.lower() in served for word in INJECTED), e.text
    prompt = " ".join(m["content"] for m in backend.prompts[0])
    assert "ignore previous" not in prompt.lower() and "忽略以上指令" not in prompt and "<script" not in prompt


def history_facts(with_title: str, like_title: str, item: ItemRef | None = None) -> Facts:
    """Facts naming two earlier items, as the ranker fills them for a shop without Chinese titles:
    the `_zh` names fall back to the catalog title."""
    together = {**EVIDENCE["bought_together"], "with_title": with_title, "with_title_zh": with_title}
    similar = {**EVIDENCE["similar_text"], "like_title": like_title, "like_title_zh": like_title}
    base = facts_of("bought_together", "similar_text")
    return Facts("U1", item or base.item, (fact("bought_together", 1, 0.6, together),
                                           fact("similar_text", 2, 0.4, similar)))


SCIENTIFIC = ItemRef("B1", "DEWALT DW4524 4-1/2-Inch by 1/4-Inch by 7/8-Inch Concrete/Masonry Grinding Wheel", "DEWALT",
                     "Industrial & Scientific > Abrasive > Wheels & Discs", None)


@pytest.mark.parametrize(("lang", "names"), [
    ("zh", ["J-B Weld 8297 HighHeat", "Gorilla Original Glue"]),
    ("en", ["J-B Weld 8297 HighHeat", "Gorilla Original Gorilla Glue"]),
])
def test_items_without_chinese_titles_are_named_briefly_and_the_fallback_passes(lang, names):
    """Amazon-like catalogs have English titles only; whole, they made the zh fallback overrun its length."""
    facts = history_facts("J-B Weld 8297 HighHeat 550 Degree Epoxy Putty Stick - 2 oz",
                          "Gorilla Original Gorilla Glue, Waterproof Polyurethane Glue, 8 ounce Bottle, Brown",
                          item=SCIENTIFIC)
    n = Narrator(PromptLibrary.load(), None, brands=BRANDS | {"DEWALT", "J-B Weld", "Gorilla"})
    e = n.explain(facts, lang, mode="template")
    assert e.verified, e.report
    assert all(name in e.text for name in names), e.text
    assert "2 oz" not in e.text and "Bottle" not in e.text
    expected = "DEWALT DW4524"
    assert n.grounding(facts, n.prompts.template(lang)).item_name == expected


@pytest.mark.parametrize("title", HOSTILE_TITLES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_titles_of_earlier_items_never_reach_a_served_explanation(title, lang):
    """The evidence names items the shopper bought or viewed; their titles are catalog text too."""
    facts = history_facts(title, title)
    n, backend = narrator(title, title)
    e = n.explain(facts, lang)
    served = e.text.lower()
    assert e.fallback_used and e.verified, e.report
    assert not any(word.lower() in served for word in INJECTED), e.text
    prompt = " ".join(m["content"] for m in backend.prompts[0])
    assert "ignore previous" not in prompt.lower() and "忽略以上指令" not in prompt and "<script" not in prompt


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_template_sentence_the_verifier_refuses_is_never_served(lang):
    """A brand that is a discount claim ("限时8折") makes the template sentence false: the reason is dropped and
    the next true one said; with no true reason left, the template's neutral sentence, verified too."""
    from dataclasses import replace

    from tests.narrator_cases import EVIDENCE, fact

    spam = fact("brand", 1, 0.6, {**EVIDENCE["brand"], "brand": "限时8折"})
    price = facts_of("brand", "price").facts[1]
    writer = Narrator(PromptLibrary.load(), None, brands=BRANDS | {"限时8折"})
    for facts, dropped in ((replace(FACTS, facts=(spam, price)), 1), (replace(FACTS, facts=(spam,)), 1)):
        e = writer.explain(facts, lang, mode="template")
        assert e.verified and e.report["passed"] and e.timings["dropped_reasons"] == dropped, e
        assert "8折" not in e.text and "限时" not in e.text
    assert writer.explain(replace(FACTS, facts=(spam, price)), lang, mode="template").cited == ["price"]
    neutral = writer.explain(replace(FACTS, facts=(spam,)), lang, mode="template")
    assert neutral.text == PromptLibrary.load().template(lang, "short").neutral("") and neutral.cited == []
    plain = writer.explain(FACTS, lang, mode="template")
    assert plain.verified and "dropped_reasons" not in plain.timings


WHEEL = facts_of("brand", "popular", item=SCIENTIFIC)


@pytest.mark.parametrize(("lang", "answer", "served"), [
    ("zh", "您已购买过3件Voltmark的商品，这款防水耳机也很受欢迎（已售120件）。",
     "您已购买过3件Voltmark的商品，这款商品也很受欢迎（已售120件）。"),
    ("zh", "这款 grinding wheel很受欢迎（已售120件），而且您已购买过3件Voltmark的商品。",
     "这款商品很受欢迎（已售120件），而且您已购买过3件Voltmark的商品。"),
    ("en", "This UltraHD TV is popular with shoppers (120 purchases), and you have bought 3 Voltmark items.",
     "This item is popular with shoppers (120 purchases), and you have bought 3 Voltmark items."),
    ("en", "You have bought 3 Voltmark items, and this grinding disc DW4524 is popular with shoppers (120 purchases).",
     "You have bought 3 Voltmark items, and this item is popular with shoppers (120 purchases)."),  # code goes too
])
def test_a_wrong_noun_for_the_item_is_made_plain_without_a_second_generation(lang, answer, served):
    """Every reason right, the item called something its text does not say: the plain word takes its place,
    verified again, and no retry is asked for."""
    n, backend = narrator(answer)
    e = n.explain(WHEEL, lang, mode="llm")
    assert (e.text, e.verified, e.fallback_used, e.attempts) == (served, True, False, 1), e.report
    assert e.rejected == [answer] and e.timings["noun_neutralised"] == 1.0 and len(backend.prompts) == 1


@pytest.mark.parametrize(("lang", "answer"), [
    ("zh", "这款防水耳机很受欢迎（已售120件），质量最好。"),  # a claim outside the noun stays a claim
    ("zh", "这款防水耳机，您已购买过3件Voltmark的商品，而且很受欢迎（已售120件）。"),  # "这款商品，您…" would not read
    ("en", "This headphones are popular with shoppers (120 purchases), and they are from Voltmark."),  # "this item are"
    ("en", "This grinding can is popular with shoppers (120 purchases), and you have bought 3 Voltmark items."),
])
def test_a_noun_is_not_made_plain_when_that_would_not_give_a_true_sentence(lang, answer):
    n, backend = narrator(answer, answer)
    e = n.explain(WHEEL, lang, mode="llm")
    assert e.fallback_used and e.attempts == 2 and len(backend.prompts) == 2
    assert "noun_neutralised" not in e.timings and e.rejected == [answer, answer]


def test_an_item_the_shopper_bought_called_by_a_noun_of_the_models_is_made_plain():
    """Seen on the marketplace shop: the bought item has only a Chinese title, so no reason names it in English,
    and the model calls it "the glasses"; its retry said the same."""
    evidence = {**EVIDENCE["bought_together"], "with_title": "窗宝 W850 擦窗机器人", "with_title_zh": "窗宝 W850",
                "basis": "category"}
    facts = Facts("U1", SCIENTIFIC, (fact("bought_together", 1, 1.0, evidence),))
    answer = "Shoppers often buy this together with the glasses you bought."
    n, backend = narrator(answer)
    e = n.explain(facts, "en", mode="llm")
    assert (e.text, e.verified, e.attempts) == ("Shoppers often buy this together with the item you bought.", True, 1)
    assert e.rejected == [answer] and len(backend.prompts) == 1
