"""What shoppers said of each prompt version: helpful and wrong rates with confidence intervals, per A/B arm.

Every served reason's id starts with the prompt version that wrote it (`reason-short@3.…`, `service.responses`),
and feedback names the reason it is about, so the shop's event store already holds the experiment: "helpful"
votes (`helpful` true/false) and "this reason is wrong" reactions, per version. Rates come with Wilson 95%
intervals (scipy's `binomtest`), and when a template id has two or more arms, Fisher's exact test (two arms) or
a chi-square test (more) of their helpful rates says whether the split can be ended on evidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from scipy import stats

WRONG = "critique:wrong_reason"


@dataclass(frozen=True)
class Rate:
    hits: int
    n: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.hits / self.n if self.n else float("nan")

    def __str__(self) -> str:
        if not self.n:
            return "—"
        return f"{self.value:.1%} [{self.low:.1%}, {self.high:.1%}] of {self.n}"


@dataclass(frozen=True)
class Arm:
    """One prompt version's feedback: reasons with any feedback, helpful votes, "wrong" reactions."""

    prompt: str
    version: int
    reasons: int
    helpful: Rate
    wrong: Rate


def rate(hits: int, n: int) -> Rate:
    if not n:
        return Rate(0, 0, float("nan"), float("nan"))
    ci = stats.binomtest(hits, n).proportion_ci(confidence_level=0.95, method="wilson")
    return Rate(hits, n, float(ci.low), float(ci.high))


def arms(feedback: list[dict]) -> list[Arm]:
    """Feedback events (`EventStore.feedback(-1)` rows) summed per prompt version; events whose explanation id does
    not name a version (written before ids did) are left out."""
    votes: dict[tuple[str, int], list[int]] = defaultdict(list)
    wrong: dict[tuple[str, int], set[str]] = defaultdict(set)
    shown: dict[tuple[str, int], set[str]] = defaultdict(set)
    for row in feedback:
        ref, _, _ = str(row.get("explanation_id") or "").partition(".")
        prompt, at, version = ref.partition("@")
        if not at or not version.isdigit():
            continue
        key = (prompt, int(version))
        shown[key].add(str(row["explanation_id"]))
        if row.get("helpful") is not None:
            votes[key].append(int(row["helpful"]))
        if str(row.get("event", "")).startswith(WRONG):
            wrong[key].add(str(row["explanation_id"]))
    return [Arm(p, v, len(shown[(p, v)]), rate(sum(votes[(p, v)]), len(votes[(p, v)])),
                rate(len(wrong[(p, v)]), len(shown[(p, v)]))) for p, v in sorted(shown)]


def read(path: Path) -> list[Arm]:
    """The arms of every prompt experiment in the shop's event store at `path`."""
    from service.shop.store import EventStore

    if not path.exists():
        raise FileNotFoundError(f"{path}: no event store there (a service writes events.db in its artifacts root)")
    store = EventStore(path)
    try:
        return arms(store.feedback(-1))
    finally:
        store.close()


def difference(group: list[Arm]) -> float | None:
    """p-value that the arms' helpful rates are equal (None with fewer than two arms with votes)."""
    table = [[a.helpful.hits, a.helpful.n - a.helpful.hits] for a in group if a.helpful.n]
    if len(table) < 2:
        return None
    if len(table) == 2:
        return float(stats.fisher_exact(table).pvalue)
    return float(stats.chi2_contingency(table).pvalue)


def report_lines(found: list[Arm]) -> list[str]:
    """The experiment as lines: one per arm, then each template's test of its arms."""
    lines = [f"{'prompt@version':24s}{'reasons':>8s}  {'helpful (95% CI)':34s}{'wrong (95% CI)':34s}"]
    lines += [f"{a.prompt + '@' + str(a.version):24s}{a.reasons:>8d}  {str(a.helpful):34s}{str(a.wrong):34s}"
              for a in found]
    for prompt in dict.fromkeys(a.prompt for a in found):
        p = difference([a for a in found if a.prompt == prompt])
        if p is not None:
            verdict = "the arms differ" if p < 0.05 else "no difference shown yet: keep the split running"
            lines.append(f"{prompt}: helpful rates compared, p = {p:.3g} ({verdict})")
    return lines
