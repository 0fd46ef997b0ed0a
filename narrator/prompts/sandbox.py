"""Editors' unsaved templates rendered in a child process with a time and memory budget.

Jinja's sandbox stops a template from running code, but not from running long: nested `range` loops, a
loop over a long string, `'x' * 10**9` or `wordwrap` of a huge width all stay inside it. Counting loop steps
cannot see the string operations, so the edited library is loaded and rendered in a child that has an
address-space limit and a CPU limit, and that the parent kills when its rendering time (model calls excluded)
passes the budget. The child asks the parent for each model call (one JSON line each way), so the text model
stays in the parent, behind its queue.

Run as `python -m narrator.prompts.sandbox` by `render_bounded`; never by hand.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from narrator.backends.generation import Generation, ModelUnavailable
from narrator.prompts.templates import Messages
from narrator.prompts.templating import PromptError

Generate = Callable[[Messages, int], Generation]
MAX_TEMPLATE_CHARS = 20_000
"""The shipped templates are about 3,000 characters; an edit is never ten times that."""
STARTUP_S = 20.0
"""The child's imports (numpy, pyarrow, jinja2) take about half a second; a loaded machine may take longer."""


class SandboxError(Exception):
    """The render went past its budget or the child died; the message says which, for the editor."""


@dataclass(frozen=True)
class Limits:
    seconds: float = 1.0
    """Rendering time of both languages, model calls not counted."""
    memory_bytes: int = 512 << 20
    """Address space the child may add to what its imports took."""
    line_bytes: int = 1 << 20
    """Largest message the child may send (a reply holds a few sentences and their checks)."""


def lint_bounded(root: Path, prompt_id: str, templates: Mapping[Any, str],
                 limits: Limits = Limits(seconds=3.0)) -> list[str]:
    """The problems (`file:line: message`) of the library of `root` with `templates` replacing `prompt_id`'s
    working copy, every template and phrase tried on the sample facts (`library.lint`) in the child; a template
    that spends the budget is one problem. Run before an edit is stored, so no saved version can hang a server
(the whole shipped library lints in about 0.15 s, hence the roomier budget than a playground render's)."""
    request = {"lint": True, "root": str(root), "prompt_id": prompt_id, "templates": dict(templates)}
    try:
        return _run(request, None, limits)["problems"]
    except PromptError as e:
        return [str(e)]
    except SandboxError as e:
        return [f"{prompt_id}: {e}"]


def render_bounded(root: Path, prompt_id: str, templates: Mapping[Any, str], facts: dict[str, Any], brands: list[str],
                   style: str, mode: str, languages: tuple[str, ...], generate: Generate | None,
                   model_id: str = "", limits: Limits = Limits()) -> dict[str, dict[str, Any]]:
    """Each language's explanation (`Explanation.to_dict`) of `facts` through the library of `root` with
    `templates` (TOML per language) replacing `prompt_id`'s working copy. Raises `PromptError` for a mistake in
    the editor's file and `SandboxError` when the budget is spent. `generate` runs the child's model calls
(`model_id` names that model in the explanations); without it the child narrates with templates only."""
    request = {"root": str(root), "prompt_id": prompt_id, "templates": dict(templates), "facts": facts,
               "brands": brands, "style": style, "mode": mode, "languages": languages,
               "model": (model_id or "text-model") if generate is not None else None}
    return _run(request, generate, limits)["outputs"]


def _run(request: dict[str, Any], generate: Generate | None, limits: Limits) -> dict[str, Any]:
    """The child's final answer to `request`, its model calls run by `generate` meanwhile."""
    request = {**request, "memory_bytes": limits.memory_bytes, "cpu_s": int(limits.seconds) + 2}
    with _child() as (child, lines):
        _expect(lines, STARTUP_S, limits, "ready")
        _send(child.stdin, request)
        budget = limits.seconds
        while True:
            start = time.perf_counter()
            message = _expect(lines, budget, limits)
            budget -= time.perf_counter() - start
            if "generate" in message and generate is not None:
                _send(child.stdin, _model_call(generate, message["generate"]))
            elif "prompt_error" in message:
                e = message["prompt_error"]
                raise PromptError(e["path"], e["line"], e["message"])
            elif "outputs" in message or "problems" in message:
                return message
            else:
                raise SandboxError(message.get("error") or "the renderer answered something unexpected")


def _model_call(generate: Generate, call: dict[str, Any]) -> dict[str, Any]:
    try:
        g = generate(call["messages"], int(call["max_tokens"]))
    except ModelUnavailable as e:
        return {"unavailable": e.why}
    return {"text": g.text, "completion_tokens": g.completion_tokens, "seconds": g.seconds}


@contextlib.contextmanager
def _child() -> Iterator[tuple[subprocess.Popen, queue.Queue]]:
    """The child process and a queue of its decoded lines (None once it has stopped); killed on leaving."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                       os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-m", "narrator.prompts.sandbox"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    lines: queue.Queue[dict | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(child.stdout, lines), daemon=True, name="sandbox-reader").start()
    try:
        yield child, lines
    finally:
        child.kill()
        child.wait()


def _read_lines(stream: IO[bytes], lines: queue.Queue) -> None:
    too_large = {"error": "the renderer's answer was too large"}
    for raw in iter(lambda: stream.readline(Limits.line_bytes + 1), b""):
        try:
            lines.put(json.loads(raw) if len(raw) <= Limits.line_bytes else too_large)
        except ValueError:
            lines.put({"error": "the renderer answered something unreadable"})
    lines.put(None)


def _expect(lines: queue.Queue, seconds: float, limits: Limits, key: str | None = None) -> dict[str, Any]:
    try:
        message = lines.get(timeout=max(seconds, 0.0))
    except queue.Empty:
        raise SandboxError(f"rendering took longer than {limits.seconds:g} s: a loop or repeat in the template is "
                           "too large") from None
    if message is None:
        raise SandboxError(f"the renderer stopped: the template needed more than {limits.memory_bytes >> 20} MiB "
                           "or too much CPU")
    if key is not None and key not in message:
        raise SandboxError(message.get("error") or f"the renderer did not say {key!r}")
    return message


def _send(stream: IO[bytes] | None, message: dict[str, Any]) -> None:
    assert stream is not None
    stream.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
    stream.flush()


class _ParentModel:
    """The child's backend: each call is one line to the parent, which runs it through its model queue."""

    name = "parent"

    def __init__(self, out: IO[bytes], model_id: str):
        self.out, self.model_id = out, model_id

    def generate(self, messages: Messages, max_tokens: int) -> Generation:
        _send(self.out, {"generate": {"messages": messages, "max_tokens": max_tokens}})
        reply = json.loads(sys.stdin.buffer.readline())
        if "unavailable" in reply:
            raise ModelUnavailable(reply["unavailable"])
        return Generation(reply["text"], int(reply["completion_tokens"]), float(reply["seconds"]))

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        yield self.generate(messages, max_tokens).text


def _limit_self(memory_bytes: int, cpu_s: int) -> None:
    import resource

    pages = int(Path("/proc/self/statm").read_text().split()[0])
    address_space = pages * os.sysconf("SC_PAGE_SIZE") + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    used = int(time.process_time()) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (used + cpu_s, used + cpu_s))


def _main() -> None:
    from narrator.facts import Facts
    from narrator.narrate import Narrator
    from narrator.prompts.library import copy_with, lint

    out = os.fdopen(os.dup(1), "wb")
    sys.stdout = sys.stderr
    _send(out, {"ready": True})
    request = json.loads(sys.stdin.buffer.readline())
    _limit_self(int(request["memory_bytes"]), int(request["cpu_s"]))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            library = copy_with(Path(request["root"]), request["prompt_id"], request["templates"], Path(tmp))
            if request.get("lint"):
                _send(out, {"problems": [str(p) for p in lint(tmp)]})
                return
            narrator = Narrator(library, _ParentModel(out, request["model"]) if request["model"] else None,
                                brands=set(request["brands"]), cache_size=0)
            facts, style = Facts.from_dict(request["facts"]), request["style"]
            outputs = {}
            for lang in request["languages"]:
                try:
                    outputs[lang] = narrator.explain(facts, lang, style, request["mode"]).to_dict()
                except ModelUnavailable as e:
                    outputs[lang] = narrator.fallback(facts, lang, style, e.why).to_dict()
        _send(out, {"outputs": outputs})
    except PromptError as e:
        _send(out, {"prompt_error": {"path": e.path, "line": e.line, "message": e.message}})
    except MemoryError:
        _send(out, {"error": f"the template needed more than {int(request['memory_bytes']) >> 20} MiB"})
    except RecursionError:
        _send(out, {"error": "the template recursed too deeply"})
    except Exception as e:  # reported to the editor, never a 500
        _send(out, {"error": f"{type(e).__name__}: {e}"[:500]})


if __name__ == "__main__":
    _main()
