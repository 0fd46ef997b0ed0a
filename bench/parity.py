"""Facts and template sentences of many (shopper, item) pairs, dumped to compare two versions of the code.

    python bench/parity.py dump --model ARTIFACTS --out after.jsonl [--pairs 400] [--seed 0]
    python bench/parity.py compare before.jsonl after.jsonl

`dump` explains the top 10 of random known shoppers until `--pairs` pairs, and writes for each its facts and the
template sentence in zh and en (the label's prompt version). It assembles the stack with `service.stack` where
the code has it, and the way the code before the composition root did otherwise (`service.catalog.load`, an
`Explainer`, the prompts' working copy), so a refactor can be run against its parent commit
(`git worktree add /tmp/before <commit>; PYTHONPATH=/tmp/before python bench/parity.py dump …`).
`compare` prints how many pairs are byte-identical and the first differences.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

import numpy as np


def _stack(model: Path):
    """(explainer, a function user → narrator) of whichever code is on the path."""
    try:
        from service.settings import Settings
        from service.stack import Stack
    except ImportError:  # the code before the composition root: modules that no longer exist
        from narrator.narrate import Narrator
        from ranker.explain import Explainer

        ranker = importlib.import_module("service.catalog").load(model)
        library = importlib.import_module("narrator.library").PromptLibrary.load()
        narrator = Narrator(library, None, brands=ranker.brands())
        return Explainer(ranker), lambda user: narrator
    stack = Stack.load(Settings(artifacts=model, backend="none"))
    return stack.explainer, stack.narrator


def dump(model: Path, out: Path, pairs: int, seed: int) -> None:
    explainer, narrator_for = _stack(model)
    stats = explainer.ranker.stats
    users = np.random.default_rng(seed).permutation([str(u) for u in stats.user_ids[: stats.cold_row]])
    written = 0
    with out.open("w", encoding="utf-8") as f:
        for user in users:
            narrator = narrator_for(user)
            for e in explainer.explain(user, k=10):
                said = {lang: narrator.explain(e.facts, lang, "short", "template").text if e.facts.facts else ""
                        for lang in ("zh", "en")}
                f.write(json.dumps({"user_id": user, "item_id": e.item_id, "facts": e.facts.to_dict(), **said},
                                   ensure_ascii=False, sort_keys=True) + "\n")
                written += 1
            if written >= pairs:
                break
    print(f"{written} pairs written to {out}")


def compare(before: Path, after: Path, show: int = 5) -> None:
    a = [json.loads(line) for line in before.read_text(encoding="utf-8").splitlines()]
    b = [json.loads(line) for line in after.read_text(encoding="utf-8").splitlines()]
    same = sum(x == y for x, y in zip(a, b, strict=False))
    print(f"{same} of {len(a)} pairs byte-identical ({len(b)} after)")
    for x, y in [(x, y) for x, y in zip(a, b, strict=False) if x != y][:show]:
        keys = [k for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
        print(f"  {x['user_id']} {x['item_id']}: differs in {keys}")
        for k in keys:
            print(f"    before {k}: {json.dumps(x.get(k), ensure_ascii=False)[:300]}")
            print(f"    after  {k}: {json.dumps(y.get(k), ensure_ascii=False)[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--model", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--pairs", type=int, default=400)
    d.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        from ranker.runtime import configure

        configure()
        dump(args.model, args.out, args.pairs, args.seed)
    else:
        compare(args.before, args.after)


if __name__ == "__main__":
    if sys.path[0] == str(Path(__file__).resolve().parent):
        sys.path.pop(0)  # bench/ranker.py would shadow the package; the code comes from PYTHONPATH or the install
    main()
