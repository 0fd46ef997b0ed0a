"""Editors' unsaved templates are rendered in a child with a budget: a template bomb is cut within a second, a
mistake is reported as `file:line`, and the child's model calls are the parent's to run (and to refuse)."""

from __future__ import annotations

import json
import re
import time

import pytest

from narrator.backends.generation import Generation, ModelUnavailable
from narrator.prompts import DEFAULT_DIR
from narrator.prompts.samples import sample_facts
from narrator.prompts.sandbox import SandboxError, render_bounded
from narrator.prompts.templating import PromptError

FACTS = sample_facts()[0].to_dict()
EN = (DEFAULT_DIR / "reason-short.en.toml").read_text(encoding="utf-8")


def with_fallback(jinja: str) -> str:
    """The shipped English template with its `fallback` sentence replaced."""
    return re.sub(r"^fallback = .*$", lambda _: f"fallback = {json.dumps(jinja)}", EN, count=1, flags=re.MULTILINE)


def render(templates: dict[str, str], generate=None, mode: str = "template") -> dict:
    return render_bounded(DEFAULT_DIR, "reason-short", templates, FACTS, ["Voltmark"], "short", mode,
                          ("zh", "en"), generate, "scripted-1")


def test_an_unedited_library_renders_both_languages():
    out = render({})
    assert set(out) == {"zh", "en"} and all(o["text"] and not o["fallback_used"] for o in out.values())


def test_a_mistake_in_the_edit_names_its_line():
    with pytest.raises(PromptError) as e:
        render({"en": with_fallback("{{ reasons[0] ")})
    assert e.value.path.endswith("reason-short.en.toml") and e.value.line > 1


BOMBS = {
    "nested ranges": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "string repeat": "{{ 'x' * 10**10 }}",
    "loop over a long string": "{% for c in 'ab' * 10**6 %}{% for d in 'ab' * 10**6 %}{% endfor %}{% endfor %}",
    "huge width": "{{ 'x'|center(10**10) }}",
    "recursive macro": "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
}


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_template_bombs_are_cut_within_a_second(bomb):
    start = time.perf_counter()
    render({})
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    with pytest.raises((SandboxError, PromptError)) as e:
        render({"en": with_fallback(BOMBS[bomb])})
    assert time.perf_counter() - start < baseline + 1.5, (bomb, baseline)
    assert isinstance(e.value, SandboxError) or "recurs" in str(e.value) or "range" in str(e.value)


def test_model_calls_are_the_parents_and_a_refusal_falls_back():
    calls = []

    def generate(messages, max_tokens):
        calls.append(messages)
        return Generation("You have bought 3 Voltmark items.", 8, 0.01)

    out = render({}, generate, "llm")
    assert calls and all(isinstance(m, list) and m[-1]["role"] == "user" for m in calls)
    assert {o["text"] for o in out.values()} and all(o["model_id"] == "scripted-1" for o in out.values())

    def busy(messages, max_tokens):
        raise ModelUnavailable("queue_full")

    out = render({}, busy, "llm")
    assert all(o["fallback_used"] and "fallback_queue_full" in o["timings"] for o in out.values())


@pytest.mark.slow
def test_the_playground_renders_in_the_sandbox_and_queues_its_model_calls(trained, tmp_path):
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings
    from tests.test_hostile_shop import Parrot

    settings = Settings(artifacts=trained[1], backend="none", events=tmp_path / "events.db", warm=False,
                        admin_token="adm1n", playground=True)
    admin = {"authorization": "Bearer adm1n"}
    with TestClient(create_app(settings, load_in_background=False)) as c:
        user = c.get("/v1/playground/shoppers?n=1", headers=admin).json()[0]
        item = c.get(f"/v1/playground/items?user_id={user}", headers=admin).json()[0]["item_id"]
        pair = {"user_id": user, "item_id": item, "mode": "template"}
        start = time.perf_counter()
        r = c.post("/v1/playground/render", json={**pair, "templates": {"en": with_fallback(BOMBS["nested ranges"])}},
                   headers=admin)
        assert r.status_code == 200 and "longer than 1 s" in r.json()["errors"][0], r.text
        assert time.perf_counter() - start < 5
        parrot = Parrot()
        c.app.state.engine.use_backend(parrot)
        r = c.post("/v1/playground/render", json={**pair, "mode": "llm"}, headers=admin)
        assert r.status_code == 200 and not r.json()["errors"], r.text
        outputs = r.json()["outputs"]
        assert all(o["model_id"] == "parrot" and o["fallback_used"] for o in outputs.values()), outputs
    assert parrot.threads and set(parrot.threads) == {"llm"}


def test_an_edit_is_linted_in_the_sandbox_before_it_is_stored():
    from narrator.prompts.sandbox import lint_bounded

    assert lint_bounded(DEFAULT_DIR, "reason-short", {}) == []
    start = time.perf_counter()
    problems = lint_bounded(DEFAULT_DIR, "reason-short", {"en": with_fallback(BOMBS["loop over a long string"])})
    assert len(problems) == 1 and "longer than" in problems[0] and time.perf_counter() - start < 8
    problems = lint_bounded(DEFAULT_DIR, "reason-short", {"en": with_fallback("{{ reasons[0] | random }}")})
    assert problems and "random" in problems[0]
