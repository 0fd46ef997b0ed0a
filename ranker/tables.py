"""Reading a shop table and saying what happened to its rows: the file, line and field of a bad value
(`DataError`), and the counts of rows skipped or repaired with a few examples (`LoadReport`). `ranker.data`
decides what a valid shop is; this is how it reads and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

OnError = Literal["raise", "skip"]


class DataError(ValueError):
    """A file that cannot be read as a shop table; names the file, line and field."""

    def __init__(self, path: str | Path, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field = str(path), line, field
        where = self.path + (f":{line}" if line is not None else "")
        what = f" field '{field}'" if field else ""
        super().__init__(f"{where}:{what} {message}")


@dataclass
class LoadReport:
    """What a loader read, kept and skipped (with why and a few example lines)."""

    source: str
    rows_read: int = 0
    rows_kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, count: int, examples: list[str] | None = None) -> None:
        self._count(self.skipped, reason, count, examples)

    def repair(self, reason: str, count: int, examples: list[str] | None = None) -> None:
        """Rows kept with a value filled in or cleaned (say what, so nothing changes silently)."""
        self._count(self.repaired, reason, count, examples)

    def _count(self, counts: dict[str, int], reason: str, count: int, examples: list[str] | None) -> None:
        if count <= 0:
            return
        counts[reason] = counts.get(reason, 0) + int(count)
        self.examples.setdefault(reason, []).extend((examples or [])[: 3 - len(self.examples.get(reason, []))])

    def lines(self) -> list[str]:
        out = [f"{self.source}: read {self.rows_read:,} rows, kept {self.rows_kept:,}"]
        for verb, counts in (("skipped", self.skipped), ("repaired", self.repaired)):
            for reason, n in counts.items():
                ex = "; ".join(self.examples.get(reason, []))
                out.append(f"  {verb} {n:,} ({reason})" + (f", e.g. {ex}" if ex else ""))
        return out


def read_table(path: Path) -> pd.DataFrame:
    """Read CSV or Parquet as strings, so validation sees exactly what the file holds."""
    if not path.exists():
        raise DataError(path, "file not found")
    try:
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
            return df.astype(object).where(df.notna(), "").astype(str)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, OSError, ValueError) as exc:
        raise DataError(path, f"cannot be parsed: {exc}") from exc


def line_of(path: Path, index: int) -> int:
    """Human line number of a 0-based data row (CSV has a header on line 1)."""
    return index + (1 if path.suffix == ".parquet" else 2)


def examples_of(path: Path, values: pd.Series) -> list[str]:
    """Up to three `line N: value` examples for a report."""
    return [f"line {line_of(path, int(i))}: {v!r}" for i, v in values.head(3).items()]


def reject(
    path: Path, df: pd.DataFrame, bad: pd.Series, fld: str, why: str, on_error: OnError, report: LoadReport
) -> pd.DataFrame:
    """Raise on the first bad row, or skip all bad rows and count them."""
    if not bad.any():
        return df
    positions = np.flatnonzero(bad.to_numpy())
    first = positions[0]
    value = df.iloc[first][fld] if fld in df.columns else ""
    if on_error == "raise":
        raise DataError(path, f"{why} (value {value!r})", line=line_of(path, int(df.index[first])), field=fld)
    examples = [f"line {line_of(path, int(df.index[p]))}: {df.iloc[p][fld]!r}" for p in positions[:3]]
    report.skip(f"{fld}: {why}", len(positions), examples)
    return df[~bad.to_numpy()]


def require_columns(path: Path, df: pd.DataFrame, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(path, f"missing required column(s) {missing}; found {list(df.columns)}", line=1,
                        field=missing[0])
