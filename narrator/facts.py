"""Language-neutral facts: the only thing the narrator knows about why an item was recommended.

The ranker's converter fills these from attributions and the shopper's real history; the narrator
renders and verifies text against them. They are plain frozen dataclasses with JSON round-trips,
so the narrator never needs TensorFlow and a fact set can be cached, logged and pasted by editors.

Evidence values are what a shopper can check ("bought 3 Voltmark items"), never model internals.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

FACT_KINDS: tuple[str, ...] = ("brand", "category", "price", "bought_together", "similar_text", "popular",
                               "rating", "activity", "new_arrival", "query_match", "promotion", "recent", "feedback")
"""`recent`: the order-aware group, naming the latest purchase it credits most (evidence: that item, how many
purchases back it was). `query_match`: the item answers the shopper's search (evidence: the query, the
similarity). `promotion`: a merchant's active promotion (evidence: percent off when the label says one, the
label, the last day); the only fact that may back a discount claim. `feedback`: what the shopper told us that
changed this item's place (evidence: `reaction`, and the brand, category or reason kind it was about)."""

Evidence = dict[str, str | int | float]


@dataclass(frozen=True)
class ItemRef:
    """The recommended item as a shopper sees it (titles are untrusted catalog text). `kind_zh`/`kind_en`
    say what the item is, from the catalog enrichment (grounded against its own title; "" when unknown);
    `category_zh`/`category_en` its category path in zh and en where the catalog or its enrichment names it."""

    item_id: str
    title: str
    brand: str = ""
    category: str = ""
    price: float | None = None
    title_zh: str = ""
    title_en: str = ""
    category_zh: str = ""
    kind_zh: str = ""
    kind_en: str = ""
    category_en: str = ""


@dataclass(frozen=True)
class Fact:
    """One reason: its kind, the attribution groups behind it, its share of the positive
    attribution, its rank among reasons (1 = strongest) and the evidence a shopper can check."""

    kind: str
    groups: tuple[str, ...]
    attribution: float
    share: float
    rank: int
    evidence: Evidence = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in FACT_KINDS:
            raise ValueError(f"unknown fact kind {self.kind!r}; expected one of {FACT_KINDS}")


@dataclass(frozen=True)
class Facts:
    """Everything the narrator may say about one (shopper, item) pair.

    `facts` are positive reasons, strongest first; `against` are negative groups for analysts,
    never shown as reasons. `cold_start` means the shopper has no history, so only popularity facts
    are honest.
    """

    user_id: str
    item: ItemRef
    facts: tuple[Fact, ...]
    against: tuple[Fact, ...] = ()
    cold_start: bool = False
    score: float = 0.0
    completeness_error: float = 0.0
    steps: int = 0

    def top(self, n: int = 2) -> tuple[Fact, ...]:
        return self.facts[:n]

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> Facts:
        def fact(d: dict) -> Fact:
            return Fact(d["kind"], tuple(d["groups"]), float(d["attribution"]), float(d["share"]), int(d["rank"]),
                        dict(d.get("evidence", {})))

        return cls(data["user_id"], ItemRef(**data["item"]), tuple(fact(f) for f in data["facts"]),
                   tuple(fact(f) for f in data.get("against", ())), bool(data.get("cold_start", False)),
                   float(data.get("score", 0.0)), float(data.get("completeness_error", 0.0)),
                   int(data.get("steps", 0)))

    def content_hash(self) -> str:
        """Stable hash of what a sentence may depend on (for caching generated text)."""
        payload = {"item": asdict(self.item), "facts": [(f.kind, f.rank, sorted(f.evidence.items()))
                                                        for f in self.facts], "cold_start": self.cold_start}
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                         default=str).encode()).hexdigest()[:16]
