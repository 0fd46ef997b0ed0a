"""Writing a file or folder so that a reader sees the old one or the whole new one, never half.

Dependency-free on purpose: the ranker (artifacts, embedding cache, tables) and the narrator (model
files, prompt versions, labels) both write this way, and this is the one place that knows how.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """A temporary sibling of `target` to write (as a file or a folder); when the block ends without an
    error it takes `target`'s place in one rename, otherwise it is removed. A folder can only take the
    place of a missing or empty one."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    _remove(tmp)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def write_text(path: Path | str, text: str) -> None:
    """`path` now holds `text` (UTF-8), flushed to disk before it replaces the old content."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
