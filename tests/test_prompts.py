"""Editor-owned prompt files: strict rendering, documented variables, file:line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from narrator.facts import FACT_KINDS
from narrator.prompts import DEFAULT_DIR, LANGUAGES, STYLES, PromptError, PromptLibrary, item_name
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
    assert item_name(DRILL, "en") == "Voltmark 20V Cordless Drill A10"
    assert item_name(DRILL, "zh") == "Voltmark 20V无线电钻 A10"
    for title in HOSTILE_TITLES:
        for lang in LANGUAGES:
            name = item_name(hostile(title), lang)
            assert name == ("Voltmark 无线电钻" if lang == "zh" else "Voltmark Cordless Drill"), (title, name)
