"""Category names translated once per name: kept only when they read back and mean the same, shown in the
sentence's language (a zh reason says "白板类", an en reason on a Chinese catalog "pants")."""

from __future__ import annotations

import numpy as np
import pandas as pd
from narrator_cases import EVIDENCE, fact

from narrator.backends import Generation
from narrator.enrichment import categories, kinds
from narrator.facts import Facts, ItemRef
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from ranker.ranking import Ranker

ZH = {"Office Products": "办公用品", "Boards": "白板", "Adapters": "适配器", "Cables": "东西"}
EN = {"办公用品": "office products", "白板": "boards", "适配器": "adapter", "东西": "thing", "裤子": "pants",
      "女装": "women's clothing"}
MEANING = {"Office Products": 0, "办公用品": 0, "office products": 0, "Boards": 1, "白板": 1, "boards": 1,
           "Adapters": 2, "适配器": 2, "adapter": 2, "裤子": 3, "pants": 3, "女装": 4}


class Translator:
    model_id = "fake"

    def generate(self, messages, max_tokens):
        table = ZH if messages[0]["content"] == kinds.TRANSLATE_INSTRUCTIONS else EN
        asked = [line.split(". ", 1)[1] for line in messages[-1]["content"].splitlines()]
        return Generation("\n".join(f"{n}. {table.get(q, '?')}" for n, q in enumerate(asked, 1)), 5, 0.0)


def encode(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), 16), np.float32)
    for i, t in enumerate(texts):
        out[i, MEANING.get(t, 8 + hash(t) % 8)] = 1.0
    return out


def test_names_are_translated_once_and_kept_only_when_they_check_out(tmp_path):
    names = categories.levels(["Office Products > Boards", "Office Products > Adapters > Cables", "女装 > 裤子",
                               "女装 > 裤子"])
    assert names == ["Adapters", "Boards", "Cables", "Office Products", "女装", "裤子"]
    rows = {r.name: r for r in categories.translate(Translator(), encode, names)}
    assert (rows["Boards"].name_zh, rows["Adapters"].name_zh) == ("白板", "适配器")
    assert rows["Cables"].name_zh == ""  # "东西" reads back "thing": not what a cable is
    assert rows["裤子"].name_en == "pants" and rows["女装"].name_en == ""  # an apostrophe is no plain word
    categories.write(tmp_path, rows)
    back = categories.read(tmp_path)
    assert categories.paths_in("Office Products > Boards", back, "zh") == "办公用品 > 白板"
    assert categories.paths_in("Office Products > Adapters > Cables", back, "zh") == ""  # never half-translated
    assert categories.paths_in("Office Products > Boards", back, "en") == "Office Products > Boards"


def test_a_category_reason_reads_in_the_sentences_language():
    narrator = Narrator(PromptLibrary.load(), brands={"Voltmark"})
    item = ItemRef("P1", "休闲裤", "", "女装 > 裤子", None, category_en="women's clothing > pants")
    evidence = {**EVIDENCE["category"], "category": "裤子", "category_zh": "裤子", "category_en": "pants"}
    facts = Facts("u", item, (fact("category", 1, 0.6, evidence),))
    assert "in the pants category" in narrator.explain(facts, "en", mode="template").text  # not "in pants"
    assert "裤子" not in narrator.explain(facts, "en", mode="template").text
    assert "裤子" in narrator.explain(facts, "zh", mode="template").text


def test_a_category_without_a_name_in_the_sentences_language_is_said_without_one():
    """No "4 items in 裤子" in English, no "Small Parts类" in Chinese: the reason is kept, its name is not."""
    narrator = Narrator(PromptLibrary.load(), brands={"Voltmark"})
    cases = (("女装 > 裤子", {"category": "裤子", "category_zh": "裤子", "category_en": "裤子"}, "en"),
             ("Hardware > Small Parts", {"category": "Small Parts", "category_zh": "Small Parts"}, "zh"))
    for path, names, lang in cases:
        item = ItemRef("P1", "Brisk 钻头套装 B12", "", path, None)
        facts = Facts("u", item, (fact("category", 1, 0.6, {**EVIDENCE["category"], **names, "bought": 4}),))
        e = narrator.explain(facts, lang, mode="template")
        assert e.verified and "4" in e.text, e.text
        assert ("the same category" in e.text and "裤子" not in e.text) if lang == "en" else \
            ("同类商品" in e.text and "Small" not in e.text), e.text


def test_the_ranker_shows_translated_paths_only_where_the_catalog_has_none():
    items = pd.DataFrame({"item_id": ["a", "b"], "title": ["x", "y"], "category": ["Office > Boards"] * 2,
                          "category_zh": ["", "办公 > 板子"]}).set_index("item_id", drop=False)
    ranker = Ranker.__new__(Ranker)
    ranker.items, ranker._titles = items, {}
    ranker.describe(pd.DataFrame({"item_id": ["a", "b"], "category_zh": ["办公用品 > 白板"] * 2}))
    assert ranker.items["category_zh"].tolist() == ["办公用品 > 白板", "办公 > 板子"]
