"""Editor-owned prompt files: strict rendering, documented variables, file:line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from narrator.facts import FACT_KINDS, ItemRef
from narrator.prompts import DEFAULT_DIR, LANGUAGES, STYLES, PromptError, PromptLibrary, display_name, short_name
from tests.narrator_cases import DRILL, HOSTILE_TITLES, facts_of, hostile


@pytest.fixture()
def prompts_copy(tmp_path: Path) -> Path:
    target = tmp_path / "prompts"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def test_every_language_and_style_has_a_template():
    lib = PromptLibrary.load()
    for lang in LANGUAGES:
        for style in STYLES:
            t = lib.template(lang, style)
            assert t.language == lang and t.style == style and t.max_chars > 0 and t.version >= 1


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_fact_kind_has_a_phrase_with_its_evidence(lang):
    lib = PromptLibrary.load()
    facts = facts_of(*FACT_KINDS)
    phrases = lib.reasons(facts, lang)
    assert len(phrases) == len(FACT_KINDS)
    joined = " ".join(phrases)
    for value in ("Voltmark", "88.99", "120", "4.5", "B12", "A47"):
        assert value in joined
    assert ("无线电钻" if lang == "zh" else "Cordless Drill") in joined


def test_messages_hold_system_examples_and_request():
    lib = PromptLibrary.load()
    t = lib.template("zh")
    messages = t.messages("Voltmark 电钻", ["您已购买过3件Voltmark的商品"], retry=["只用简体中文"])
    roles = [m["role"] for m in messages]
    assert roles == ["system"] + ["user", "assistant"] * len(t.examples) + ["system", "user"]
    assert "您已购买过3件Voltmark的商品" in messages[-1]["content"]
    assert messages[-2]["content"] == t.render("retry", "x", ["a"], ["只用简体中文"])
    assert "只用简体中文" in messages[-2]["content"]


def test_undefined_variable_is_an_error_with_file_and_line(prompts_copy: Path):
    path = prompts_copy / "reason-short.en.toml"
    path.write_text(path.read_text().replace("Item: {{ item_name }}", "Item: {{ item_title }}"))
    with pytest.raises(PromptError) as e:
        PromptLibrary.load(prompts_copy)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "{{ item_title }}" in text)
    assert e.value.path == str(path) and e.value.line == line
    assert "item_title" in str(e.value)


def test_undefined_evidence_in_a_phrase_fails_at_render(prompts_copy: Path):
    path = prompts_copy / "phrases.en.toml"
    path.write_text(path.read_text().replace("{{ brand }} {{ 'item'", "{{ brand_name }} {{ 'item'", 1))
    lib = PromptLibrary.load(prompts_copy)
    with pytest.raises(PromptError, match=r"phrases\.en\.toml:\d+: brand: .*brand_name.* is undefined"):
        lib.reasons(facts_of("brand"), "en")


def test_malformed_file_and_missing_limit(prompts_copy: Path):
    path = prompts_copy / "reason-short.zh.toml"
    original = path.read_text()
    path.write_text(original.replace('style = "short"', 'style = "short'))
    with pytest.raises(PromptError, match=r"reason-short\.zh\.toml:\d+: not valid TOML"):
        PromptLibrary.load(prompts_copy)
    path.write_text(original.replace("max_chars = 80\n", ""))
    with pytest.raises(PromptError, match="missing 'max_chars'"):
        PromptLibrary.load(prompts_copy)


def test_templates_run_sandboxed(prompts_copy: Path):
    path = prompts_copy / "reason-short.en.toml"
    path.write_text(path.read_text().replace("Item: {{ item_name }}", "Item: {{ item_name.__class__.__mro__ }}"))
    lib = PromptLibrary.load(prompts_copy)
    with pytest.raises(PromptError):
        lib.template("en").render("user", "x", ["a"])


def test_item_names_are_cleaned_and_hostile_titles_replaced():
    books = PromptLibrary.load().phrases
    assert books["en"].item_name(DRILL) == "Voltmark 20V Cordless Drill A10"
    assert books["zh"].item_name(DRILL) == "Voltmark 20V无线电钻 A10"
    neutral = {"zh": "Voltmark 无线电钻", "en": "Voltmark Cordless Drill"}
    for title in HOSTILE_TITLES:
        for lang in LANGUAGES:
            name = books[lang].item_name(hostile(title))
            assert name == neutral[lang] or (title.startswith(name) and display_name(name, 99) == name), (title, name)


LONG = "PORTER-CABLE 740000801 4 1/2-Inch x 10yd 80 Grit Adhesive-Backed Sanding Roll"


@pytest.mark.parametrize(("title", "limit", "name"), [
    (LONG, 24, "PORTER-CABLE 740000801"),
    ("Dico 541-786-21/2 Nyalox Cup Brush 21/2-Inch 80 Grit", 24, "Dico Nyalox Cup Brush"),
    ("HATCHBOX PLA 3D Printer Filament, Dimensional Accuracy", 24, "HATCHBOX PLA Filament"),
    ("Gorilla Original Gorilla Glue, Waterproof Glue, 8 ounce Bottle", 42, "Gorilla Original Gorilla Glue"),
    ("J-B Weld 8297 HighHeat 550 Degree Epoxy Putty Stick - 2 oz", 24, "J-B Weld 8297 HighHeat"),
    ("Forney 72391 Replacement Cutters for Bench Grinding Wheel Dresser", 42, "Forney 72391 Replacement Cutters"),
    ("Powerful Neodymium Bar Magnets Grade N45 3x 1/2x 1/8 2 Pieces Stamping Magnets", 42,
     "Powerful Neodymium Bar Magnets Grade N45"),
    ("Voltmark 20V Brushless Cordless Drill A10", 42, "Voltmark 20V Brushless Cordless Drill A10"),
    ("Brisk 钻头套装 B12", 24, "Brisk 钻头套装 B12"),
    ("中文商品名称没有空格一直写到超过了限制的长标题", 16, "中文商品名称没有空格一直写到超过"),
    ("(2-Pack) Nitrile Gloves, Large", 24, "Nitrile Gloves"),
    ("3M 8210 Plus N95 Particulate Respirator, Pack of 10", 24, "3M 8210 Plus Respirator"),
    ("2-PACK Heavy Duty Extension Cord Storage Reel", 24, "Heavy Duty Reel"),
])
def test_long_titles_keep_their_opening_words_and_head_noun_without_sizes(title, limit, name):
    assert short_name(title, limit) == name


def test_only_the_shown_words_of_a_title_are_judged_hostile():
    assert display_name("Dynarex Safe-Touch Vinyl Exam Gloves, Powder Free, Large", 24) == "Dynarex Gloves"
    assert display_name("Augbunny 100% Cotton Muslin Bags", 24) == ""
    assert display_name("Drill <b>bit</b> set", 48) == ""
    assert display_name("4 x 6 4 Mil (Heavy Duty) Plymor Brand Zipper Reclosable Storage Bags, Pack of 100", 24) == ""


def test_phrase_books_reject_a_bad_name_length(prompts_copy: Path):
    path = prompts_copy / "phrases.zh.toml"
    path.write_text(path.read_text().replace("name_chars = 24", "name_chars = 3"))
    with pytest.raises(PromptError, match="phrases.zh.toml:6: name_chars"):
        PromptLibrary.load(prompts_copy)




FILAMENT = ItemRef("F1", "HATCHBOX PLA 3D Printer Filament, Dimensional Accuracy", "HATCHBOX",
                   "Industrial & Scientific > 3D Printing > 3D Printing Filament", None)


def test_the_glossary_names_the_head_noun_and_the_prompt_offers_it_only_without_a_chinese_title():
    books = PromptLibrary.load().phrases
    assert books["zh"].item_kinds(FILAMENT)[0] == "耗材" and "打印机" not in books["zh"].item_kinds(FILAMENT)
    assert books["zh"].item_kind(FILAMENT, books["zh"].item_kinds(FILAMENT)) == "耗材"
    assert books["zh"].item_kind(DRILL, books["zh"].item_kinds(DRILL)) == "" and "电钻" in books["zh"].item_kinds(DRILL)
    assert books["en"].item_kinds(FILAMENT) == ()
    user = PromptLibrary.load().template("zh").messages("HATCHBOX PLA Filament", ["很受欢迎（已售9件）"],
                                                        item_kind="耗材")[-1]["content"]
    assert "商品：HATCHBOX PLA Filament（耗材）" in user


def test_a_bad_glossary_entry_is_an_error_with_its_line(prompts_copy: Path):
    path = prompts_copy / "phrases.zh.toml"
    text = path.read_text().replace('tape = ["胶带"]', "tape = []")
    path.write_text(text)
    line = text[: text.index("tape = []")].count("\n") + 1
    with pytest.raises(PromptError, match=f"phrases.zh.toml:{line}: glossary: 'tape'"):
        PromptLibrary.load(prompts_copy)
