"""The bilingual dictionary's check: a Chinese noun translates an English kind when a sense of it ends on the
kind's head and says only the item's words; a compound the dictionary lacks is read as its dictionary words."""

from __future__ import annotations

from narrator.enrichment import kinds
from narrator.verification.dictionary import Dictionary, cedict, sense

ENTRIES = [("白板", ["whiteboard", "tabula rasa"]), ("磁性", ["magnetic", "magnetism"]), ("打印机", ["printer"]),
           ("墨水", ["ink", "CL:瓶[ping2]"]), ("笔", ["pen", "to write"]), ("灯丝", ["filament (in a light bulb)"]),
           ("套装", ["set of coordinated items", "outfit or suit (clothes)"]), ("钻头", ["drill bit"]),
           ("高度计", ["altimeter"]), ("高度", ["height"]), ("计", ["meter", "gauge", "to calculate"])]


def test_a_noun_means_a_kind_by_its_head_and_the_items_own_words():
    d = Dictionary(ENTRIES)
    assert d.means("白板", "whiteboard") and d.means("白板", "Whiteboards")
    assert d.means("磁性白板", "magnetic whiteboard")  # read as 磁性 + 白板
    assert not d.means("磁性白板", "whiteboard")  # says "magnetic": the item's text does not
    assert d.means("磁性白板", "whiteboard", context=["quartet", "magnetic", "board"])
    assert not d.means("打印机", "printer ink")  # ink's companion, not ink
    assert d.means("墨水", "printer ink") and not d.means("白板笔", "whiteboard")  # a pen for a whiteboard
    assert d.means("钻头套装", "drill bit set")  # "set of …" is a set


def test_a_known_word_is_judged_by_its_own_senses_and_restrictions_need_the_items_words():
    d = Dictionary(ENTRIES)
    assert d.words("高度计") == ["高度计"] and not d.means("高度计", "height gauge")  # an altimeter, not 高度 + 计
    assert not d.means("灯丝", "filament", context=["3d", "printer"])
    assert d.means("灯丝", "filament", context=["led", "light", "bulb"])
    assert d.words("白板x笔") == ["白板", "x", "笔"]
    assert sense("to write") is None and sense("CL:瓶[ping2]") is None and not d.means("", "pen")


def test_a_proposal_whose_modifier_the_dictionary_does_not_confirm_keeps_its_head():
    """Chinese nouns end on their head: "精密镊子" (the dictionary's 精密 is "precise", the title's "precision")
    still says 镊子; an ending that is not the kind's head, or one character, is no kind."""
    d = Dictionary([*ENTRIES, ("精密", ["precise", "accurate"]), ("镊子", ["tweezers"])])
    assert not d.means("精密镊子", "tweezers", context=["precision"]) and d.head("精密镊子", "tweezers") == "镊子"
    assert d.head("磁性白板", "whiteboard") == "白板" and d.head("白板笔", "whiteboard") == ""
    assert d.head("高度计", "gauge") == "" and d.head("镊子", "tweezers") == ""  # one word: `means` judges it whole
    title = "Marrywindix ESD Precision Tweezers"
    assert kinds.confirmed(["精密镊子", "调节器"], "tweezers", title) == ""  # neither whole
    assert kinds.confirmed_head(["精密镊子", "调节器"], "tweezers", title) == "镊子"


def test_the_packaged_dictionary_loads_and_confirms_a_kinds_proposal():
    assert cedict().means("听诊器", "stethoscope") and not cedict().means("声控仪", "stethoscope")
    title = "Prestige Medical Clinical Lite Stethoscope, Navy"
    assert kinds.confirmed(["声控仪", "听诊器"], "stethoscope", title) == "听诊器"
    assert kinds.confirmed(["Stetho听诊器"], "stethoscope", title) == ""  # not the shape of a zh kind


def test_a_chinese_kind_is_called_in_english_what_the_dictionary_says_when_the_model_reads_it_otherwise():
    d = Dictionary([("毛衣", ["(wool) sweater", "CL:件[jian4]"]), ("玩具", ["plaything", "toy"]),
                    ("奶嘴", ["nipple (on a baby's bottle)", "pacifier"]), ("迪士尼", ["Disney (company name)"])])
    assert d.english("毛衣", "shirt") == "sweater"
    assert d.english("毛衣", "") == "sweater"
    assert d.english("玩具", "toys") == "toys"  # the reading agrees with a sense: the model's words stay
    assert d.english("奶嘴", "") == "pacifier"  # a sense without a restriction first
    assert d.english("迪士尼", "disney") == "disney"  # known only as a name: no sense to offer
    assert d.english("锁水润", "lock water") == "lock water"  # unknown to the dictionary: the reading


def test_the_packaged_dictionary_names_marketplace_kinds():
    assert cedict().english("卫衣", "t-shirt") == "sweatshirt"
    assert cedict().english("奶粉", "powder") == "powdered milk"


def test_a_definition_is_not_offered_as_an_english_kind():
    d = Dictionary([("肚兜", ["undergarment covering the chest and abdomen"])])
    assert d.english("肚兜", "") == ""
