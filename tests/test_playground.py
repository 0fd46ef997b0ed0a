"""The web playground driven in headless Chromium (Debian's /usr/bin/chromium through Playwright):
edit a template, see the new zh and en output, save it as a version, promote it, and the service
serves it. A screenshot is kept in test-artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from narrator.prompts import DEFAULT_DIR
from service.app import create_app
from service.settings import Settings
from tests.test_service import serving

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")]


def test_edit_render_save_promote_in_the_browser(trained, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    _, model = trained
    prompts = tmp_path / "prompts"
    shutil.copytree(DEFAULT_DIR, prompts, ignore=shutil.ignore_patterns("versions", "labels.json"))
    settings = Settings(artifacts=model, backend="none", prompts=prompts, events=tmp_path / "events.db", warm=False,
                        admin_token="t0ken", response_cache=0, playground=True)
    app = create_app(settings, load_in_background=False)
    SCREENSHOTS.mkdir(exist_ok=True)
    with serving(app) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        assert httpx.get(f"{url}/v1/playground/shoppers").status_code == 401  # editors only
        page.goto(f"{url}/playground")
        expect(page.locator("#errors")).to_contain_text("admin token")
        page.fill("#token", "t0ken")
        page.press("#token", "Enter")
        expect(page.locator("#out-en")).to_contain_text("Recommended because", timeout=30_000)
        expect(page.locator("#out-zh")).to_contain_text("推荐理由")
        assert page.locator("#chart .bar").count() >= 5
        assert page.locator("#claims-en li.ok").count() >= 3
        expect(page.locator("#because")).to_contain_text("top 10")  # because of what? (counterfactual)

        edits = (("en", "Recommended because", "Picked for you because"), ("zh", "推荐理由：", "为您推荐："))
        for lang, old, new in edits:
            box = page.locator(f"#tpl-{lang}")
            box.fill(box.input_value().replace(f'fallback = "{old}', f'fallback = "{new}'))
        page.click("#render")
        expect(page.locator("#out-en")).to_contain_text("Picked for you because")
        expect(page.locator("#out-zh")).to_contain_text("为您推荐")
        page.screenshot(path=str(SCREENSHOTS / "playground.png"), full_page=True)

        box = page.locator("#tpl-en")
        box.fill(box.input_value().replace("{{ item_name }}", "{{ item_title }}"))
        page.click("#render")
        expect(page.locator("#errors")).to_contain_text("reason-short.en.toml:")
        expect(page.locator("#errors")).to_contain_text("item_title")
        box.fill(box.input_value().replace("{{ item_title }}", "{{ item_name }}"))

        page.fill("#query", "帐篷")
        page.press("#query", "Enter")
        expect(page.locator("#item option", has_text="Tent").first).to_be_attached(timeout=15_000)
        item = page.locator("#item option", has_text="Tent").first.get_attribute("value")
        page.select_option("#item", item)
        page.click("#render")
        expect(page.locator("#facts")).to_contain_text("query_match")
        expect(page.locator("#facts")).to_contain_text('"query":"帐篷"')
        held: list = []
        page.route("**/v1/playground/render", lambda route: route.continue_() if held else held.append(route))
        page.click("#render")  # its reply is held back until after the next render's
        while not held:
            page.wait_for_timeout(50)
        stale = held[0].fetch()  # rendered now, before the promotion exists
        promo = {"item_id": item, "label": "8折", "start": 0, "end": 4_000_000_000, "campaign": "w"}
        assert httpx.put(f"{url}/v1/promotions", json={"promotions": [promo]},
                         headers={"authorization": "Bearer t0ken"}).status_code == 200
        page.click("#render")
        expect(page.locator("#out-zh")).to_contain_text("8折")
        expect(page.locator("#out-en")).to_contain_text("20% off")
        with page.expect_request_finished(lambda r: r.url.endswith("/v1/playground/render")):
            held[0].fulfill(response=stale)
        page.wait_for_timeout(500)  # time enough to draw it, had it been drawn
        expect(page.locator("#out-zh")).to_contain_text("8折")  # the late, older reply did not overwrite it
        page.screenshot(path=str(SCREENSHOTS / "playground-search.png"), full_page=True)
        page.fill("#query", "")
        page.press("#query", "Enter")
        expect(page.locator("#facts")).not_to_contain_text("query_match")  # the re-render finished

        page.click("#save")
        expect(page.locator("#status")).to_contain_text("saved reason-short@1")
        page.click("#promote")
        expect(page.locator("#status")).to_contain_text("reason-short@production → version 1")
        browser.close()

        engine = app.state.engine
        user = str(engine.ranker.stats.user_ids[0])
        body = httpx.post(f"{url}/v1/recommendations", json={"user_id": user, "k": 3, "lang": "en"}).json()
    served = [i["explanation"] for i in body["items"] if i["explanation"]]
    assert served and all(e["prompt_version"] == 1 and e["text"].startswith("Picked for you because") for e in served)
    assert (SCREENSHOTS / "playground.png").stat().st_size > 10_000
