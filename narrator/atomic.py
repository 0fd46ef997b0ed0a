"""Writing a file or folder so that a reader sees the old one or the whole new one, never half, and changing
one under a lock shared by threads and processes.

The ranker (artifacts, embedding cache, tables, model labels) and the narrator (model files, prompt versions,
prompt labels) both write this way, and this is the one place that knows how: each write has its own temporary
sibling (two threads writing one target never share one), the new content is flushed to disk, renamed in, and
the folder's entry flushed too, so a crash leaves the old file or the new one. `locked` serialises a
read-change-write of one file across threads and processes (`filelock`, the lock the Python ecosystem uses).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

LOCK_TIMEOUT_S = 30.0


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
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.partial")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (its entry, not only the file's content)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def locked(path: Path | str, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the lock of `path` (a `.<name>.lock` sibling) for a read-change-write of it: threads of this process
    and other processes wait their turn (a `filelock.Timeout` after `timeout` seconds)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.with_name(f".{path.name}.lock"), timeout=timeout):
        yield


def write_text(path: Path | str, text: str) -> None:
    """`path` now holds `text` (UTF-8), flushed to disk before it replaces the old content."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
