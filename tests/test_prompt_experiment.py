"""Editors learn from feedback: helpful and wrong rates per prompt version and A/B arm, with intervals and a test."""

from __future__ import annotations

import json
import time

from typer.testing import CliRunner

from service.cli import app
from service.jobs.prompt_experiment import arms, difference, rate, report_lines
from service.shop.store import Event, EventStore


def votes(version: int, helpful: int, unhelpful: int, wrong: int = 0) -> list[dict]:
    rows = [{"explanation_id": f"reason-short@{version}.{n:020x}", "helpful": 1, "event": "view"}
            for n in range(helpful)]
    rows += [{"explanation_id": f"reason-short@{version}.{n:020x}", "helpful": 0, "event": "view"}
             for n in range(helpful, helpful + unhelpful)]
    rows += [{"explanation_id": f"reason-short@{version}.{n:020x}", "helpful": None,
              "event": "critique:wrong_reason:brand"} for n in range(wrong)]
    return rows


def test_rates_per_arm_with_intervals_and_a_test():
    found = arms(votes(1, 80, 20, wrong=5) + votes(2, 40, 60) + [{"explanation_id": "e1", "helpful": 1}])
    assert [(a.prompt, a.version) for a in found] == [("reason-short", 1), ("reason-short", 2)]
    first, second = found
    assert first.helpful.hits == 80 and first.helpful.n == 100 and first.helpful.low < 0.8 < first.helpful.high
    assert first.wrong.hits == 5 and first.reasons == 100  # the wrong ones are among the reasons voted on
    assert second.helpful.value == 0.4
    assert difference(found) < 1e-6
    assert difference(arms(votes(1, 5, 5) + votes(2, 5, 5))) == 1.0
    assert rate(0, 0).n == 0 and str(rate(0, 0)) == "—"
    lines = report_lines(found)
    assert "the arms differ" in lines[-1] and "reason-short@1" in lines[1]


def test_the_cli_reads_the_shops_event_store(tmp_path):
    store = EventStore(tmp_path / "events.db")
    now = time.time()
    store.append([Event("u", "i", "view", now, explanation_id=f"reason-short@{v}.{n:020x}", helpful=bool(n % 2))
                  for v in (1, 2) for n in range(6)]).result()
    store.close()
    result = CliRunner().invoke(app, ["prompts", "experiment", "--events", str(tmp_path / "events.db"), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [(a["version"], a["helpful"]["hits"], a["helpful"]["n"]) for a in found] == [(1, 3, 6), (2, 3, 6)]
    missing = CliRunner().invoke(app, ["prompts", "experiment", "--events", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "no event store" in missing.output
