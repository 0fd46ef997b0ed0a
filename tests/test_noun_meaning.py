"""A zh sentence may call an English-titled item by a noun no list knows when the noun means what the item is
(its English head), and never by its companion's (ink is not a printer) — judged by the multilingual encoder."""

from __future__ import annotations

import pytest
from narrator_cases import facts_of

from narrator.facts import ItemRef
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from narrator.verification.meaning import NounJudge, phrase_parts
from narrator.verification.verify import verify
from ranker.text import MultilingualEncoder

BOARD = ItemRef("B1", "Quartet Magnetic Whiteboard, 3 x 2 Feet, Aluminum Frame", "Quartet",
                "Office Products > Boards > Dry-Erase Boards", 45.0)
INK = ItemRef("C1", "Canon CLI-221 Ink Value Pack", "Canon", "Office Products > Ink & Toner > Inkjet Printer Ink", 30.0)


@pytest.fixture(scope="module")
def judge() -> NounJudge:
    return NounJudge(MultilingualEncoder(threads=1).encode_fresh)


def noun_claims(narrator: Narrator, item: ItemRef, text: str) -> dict[str, bool]:
    """Each "这款…" run of `text` (up to its first stop) and whether the name rule passed it."""
    facts = facts_of("brand", item=item)
    grounding = narrator.grounding(facts, narrator.prompts.template("zh", "short"))
    return {c.text.removesuffix("来自"): c.ok for c in verify(text, grounding).claims if c.rule == "name"}


def test_a_noun_that_means_the_item_is_accepted_and_its_companion_is_not(judge):
    judged = Narrator(PromptLibrary.load(), brands={"Quartet", "Canon"}, noun_judge=judge)
    plain = Narrator(PromptLibrary.load(), brands={"Quartet", "Canon"})
    assert noun_claims(judged, BOARD, "这款白板来自您买过的Quartet。") == {"白板": True}
    assert noun_claims(plain, BOARD, "这款白板来自您买过的Quartet。") == {"白板": False}  # no list knows 白板
    assert noun_claims(judged, INK, "这款墨水来自您买过的Canon。") == {"墨水": True}
    assert noun_claims(judged, INK, "这款打印机来自您买过的Canon。") == {"打印机": False}
    assert noun_claims(judged, INK, "这款喷墨打印机来自您买过的Canon。") == {"喷墨打印机": False}  # ends on 打印机


def test_the_english_head_and_its_modifiers():
    heads, modifiers = phrase_parts("Canon CLI Ink Value Pack", "Inkjet Printer Ink", "ink")
    assert {"ink", "printer ink", "pack", "value pack"} <= set(heads)
    assert {"canon", "inkjet", "printer"} <= set(modifiers) and "ink" not in modifiers
