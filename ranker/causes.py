"""Named reasons that are causes: an action a served reason names must matter to the item's place.

"Often bought together with the epoxy you bought" claims that purchase is why the item is here. For every
reason that names one of the shopper's actions (`NAMED`), the explainer asks `ranker.counterfactual` what the
item's score and rank would be without it. The action is *necessary* when the item leaves the top k without it,
or loses at least `min_drop` of the credit the reason's groups carry (their attribution from the shopper's
history). An action that is not necessary is replaced by the most necessary one the reason could name instead
(the evidence finder's next options, checked in the same batch), or the reason is said without a name ("things you
bought"): true of the group, claiming no single cause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from narrator.facts import Fact
from ranker.counterfactual import Action, Counterfactuals, Outcome
from ranker.evidence import EvidenceFinder
from ranker.features import EMBEDDING_GROUP
from ranker.search import Query

NAMED: dict[str, str] = {"bought_together": "with", "similar_text": "like", "recent": "recent"}
"""Kinds whose evidence names one of the shopper's items, and the prefix of its keys (`with_item_id`, `with_title`…)."""
ABOUT_THE_NAMED = ("shoppers_bought_both", "similarity", "purchases_ago", "relation")
"""Evidence that describes the named item: it goes with the name."""
MIN_DROP = 0.5


@dataclass(frozen=True)
class Check:
    """The counterfactual check of one named reason (for analysts, the bench and `counterfactual: true`): the
    action attribution named first, without it; whether it was necessary; the action the served reason names
    (`served`: the first one or its replacement; None when the reason is said without a name)."""

    item_id: str
    kind: str
    first: Outcome
    necessary: bool
    served: Outcome | None


@dataclass(frozen=True)
class Named:
    """One reason of one explained item that names an action: where it is (item position, catalog position, fact
    position), its credit and the actions it could name."""

    pair: int
    item: int
    fact: int
    credit: float
    options: list[tuple[int, str]]


def unnamed(fact: Fact) -> Fact:
    """The reason said of the group, naming no item: the named item's keys emptied, what describes it dropped."""
    prefix = NAMED[fact.kind]
    evidence = {k: v for k, v in fact.evidence.items() if k not in ABOUT_THE_NAMED}
    evidence.update({f"{prefix}_item_id": "", f"{prefix}_title": "", f"{prefix}_title_zh": ""})
    return replace(fact, evidence=evidence)


class CauseCheck:
    """Checks and mends the named reasons of one shopper's explained items, in one batch of "what if" shoppers."""

    def __init__(self, counterfactuals: Counterfactuals, evidence: EvidenceFinder, min_drop: float = MIN_DROP,
                 alternatives: int = 2):
        self.cf, self.evidence, self.min_drop, self.alternatives = counterfactuals, evidence, min_drop, alternatives

    def necessary(self, outcome: Outcome, credit: float) -> bool:
        return outcome.left_top or (credit > 0 and outcome.drop >= self.min_drop * credit)

    def mend(self, user_id: str, row: int, items: Sequence[str], facts: list[tuple[Fact, ...]],
             credit_of: Callable[[int, Fact], float], slot_credit: Callable[[int], np.ndarray],
             leading: Sequence[str], query: Query | None = None) -> tuple[list[tuple[Fact, ...]], list[Check]]:
        """`facts[p]` (the reasons of `items[p]`) with every named action checked: kept when necessary, else
        replaced or unnamed. `credit_of(p, fact)`: the reason's credit from the shopper's history."""
        catalog_ids = self.cf.ranker.catalog.item_ids
        found: list[Named] = []
        targets, removals = [], []
        for p, reasons in enumerate(facts):
            i = int(self.cf.ranker.catalog.index_of([items[p]])[0])
            for f, fact in enumerate(reasons):
                if fact.kind not in NAMED or not fact.evidence.get(f"{NAMED[fact.kind]}_item_id"):
                    continue
                named = str(fact.evidence[f"{NAMED[fact.kind]}_item_id"])
                did = "viewed" if fact.evidence.get("relation") == "viewed" else "bought"
                others = [(h, d) for h, d in self.evidence.options(fact.kind, row, i,
                                                                     slot_credit(p) if fact.kind == "recent" else None)
                          if str(catalog_ids[h]) != named][: self.alternatives]
                options = [(int(self.cf.ranker.catalog.index_of([named])[0]), did), *others]
                found.append(Named(p, i, f, credit_of(p, fact), options))
                for h, d in options:
                    targets.append(items[p])
                    removals.append((Action(str(catalog_ids[h]), d),))
        outcomes = iter(self.cf.outcomes(user_id, targets, removals, leading, query))
        mended = [list(r) for r in facts]
        checks = []
        for n in found:
            tried = [next(outcomes) for _ in n.options]
            fact = mended[n.pair][n.fact]
            first_ok = self.necessary(tried[0], n.credit)
            best = max(range(len(tried)), key=lambda k: (self.necessary(tried[k], n.credit), tried[k].drop))
            if first_ok or not self.necessary(tried[best], n.credit):
                served = tried[0] if first_ok else None
                mended[n.pair][n.fact] = fact if first_ok else unnamed(fact)
            else:
                h = n.options[best][0]
                args = (row, n.item, slot_credit(n.pair), h) if fact.kind == "recent" else (row, n.item, h)
                evidence = getattr(self.evidence, fact.kind)(*args)
                served = tried[best] if evidence else None
                mended[n.pair][n.fact] = replace(fact, evidence=evidence) if evidence else unnamed(fact)
            checks.append(Check(items[n.pair], fact.kind, tried[0], first_ok, served))
        return [tuple(r) for r in mended], checks


def history_credit(groups: dict[str, np.ndarray], pair: int, fact: Fact) -> float:
    """What a reason's groups carry from the shopper's history: the item's own text embedding is not theirs."""
    return float(sum(groups[g][pair] for g in fact.groups if g != EMBEDDING_GROUP))
