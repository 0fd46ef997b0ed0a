"""Merchants' promotions: which item is on offer, how much off, from when to when, in which campaign.

Promotions are trusted data (they come from the shop's admins), but they are the only thing that may make
a reason say "20% off" or "8折": the verifier accepts a discount only when an active promotion fact backs
it. A label states the discount in either convention: "20% off" (share taken off) or "8折" / "八折" (tenths
paid); both are read into `percent` off, so each language can say it its own way.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

OFF = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*(?:off)?", re.IGNORECASE)
ZHE = re.compile(r"(\d(?:\.\d)?|[一二两三四五六七八九](?:[.点][一二三四五六七八九五])?)\s*折")
ZH_DIGITS = dict(zip("一二两三四五六七八九", "1223456789", strict=True))


def percent_off(label: str) -> float | None:
    """The discount a label states, in percent off ("20% off" → 20, "8折" → 20, "8.5折" → 15), else None."""
    if m := OFF.search(label):
        value = float(m.group(1))
        return value if 0 < value < 100 else None
    if m := ZHE.search(label):
        paid = "".join(ZH_DIGITS.get(c, "." if c in ".点" else c) for c in m.group(1))
        value = round(100 - float(paid) * 10, 1)
        return value if 0 < value < 100 else None
    return None


def _paid_tenths(percent: float) -> str:
    """20 → "8", 15 → "8.5": the zh way to say a discount."""
    return f"{(100 - percent) / 10:g}"


@dataclass(frozen=True)
class Promotion:
    """One item on offer between `start` and `end` (epoch seconds, end exclusive)."""

    item_id: str
    label: str
    start: float
    end: float
    campaign: str = ""

    @property
    def percent(self) -> float | None:
        return percent_off(self.label)

    def active(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.start <= now < self.end

    def evidence(self) -> dict[str, str | int | float]:
        """What the fact says: percent off (0 when the label states none), its zh form, the label, the last day."""
        percent = self.percent
        shown = (int(percent) if float(percent).is_integer() else percent) if percent else 0
        return {"percent": shown, "zhe": _paid_tenths(percent) if percent else "", "label": self.label,
                "ends": time.strftime("%Y-%m-%d", time.gmtime(self.end - 1)), "campaign": self.campaign}


def active_promotion(promotions: tuple[Promotion, ...], now: float | None = None) -> Promotion | None:
    """Of an item's promotions, the active one with the largest discount (None when none is active)."""
    active = [p for p in promotions if p.active(now)]
    return max(active, key=lambda p: p.percent or 0.0) if active else None
