"""What a verified sentence may draw on (`Grounding`) and what the verifier found (`VerificationReport`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from narrator.verification.meaning import NounJudge


@dataclass(frozen=True)
class Claim:
    """One checked element of the text: the rule, the text span, pass/fail and why."""

    rule: str
    text: str
    ok: bool
    why: str


@dataclass
class VerificationReport:
    claims: list[Claim] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.claims)

    @property
    def failures(self) -> list[Claim]:
        return [c for c in self.claims if not c.ok]

    def add(self, rule: str, text: str, ok: bool, why: str) -> None:
        self.claims.append(Claim(rule, text, ok, why))

    def to_dict(self) -> dict:
        return {"passed": self.passed, "cited": self.cited, "claims": [asdict(c) for c in self.claims]}


@dataclass(frozen=True)
class Grounding:
    """What the text may draw on: the rendered reasons (with their kinds and cue words), the item name,
    and the catalog's brand names (any other brand in the text is invented)."""

    lang: str
    reasons: tuple[tuple[str, str, tuple[str, ...]], ...]  # (kind, phrase, cue words), strongest first
    item_name: str
    brands: frozenset[str] = frozenset()
    item_category: str = ""
    item_kinds: tuple[str, ...] = ()  # the glossary's words for what the item is (zh: "胶带")
    item_kind: str = ""  # the one the prompt offers
    other_cues: tuple[tuple[str, str], ...] = ()  # (kind, cue word) of kinds that are not reasons: "一起", "similar"
    max_chars: int = 180
    max_sentences: int = 1
    objects: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (kind, names shown) of the other items reasons name
    relations: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()  # (kind, relation cues, owner words)
    labels: tuple[str, ...] = ()  # brands and categories the reasons show
    item_heads: tuple[str, ...] = ()  # the English head phrases and modifiers of an item without a zh title
    item_modifiers: tuple[str, ...] = ()
    noun_judge: NounJudge | None = field(default=None, compare=False)  # zh nouns by meaning (`meaning`)

    @property
    def source_text(self) -> str:
        return " ".join([self.item_name, self.item_category, *(p for _, p, _ in self.reasons)])

    @property
    def kinds(self) -> set[str]:
        return {k for k, _, _ in self.reasons}

    @property
    def own_text(self) -> str:
        """What the recommended item itself is called: its name, category and kind words (what "这款…"
        and "this …" may say), never another item's name from the reasons."""
        return " ".join([self.item_name, self.item_category, *self.item_kinds])

    @property
    def names(self) -> list[str]:
        """Every name the text may show verbatim: the item's and those of the items the reasons name."""
        return [self.item_name, self.item_category, *(n for _, names in self.objects for n in names), *self.labels]
