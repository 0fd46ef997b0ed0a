"""The layering the design card fixes, checked on the source: service → narrator → (facts) ← ranker,
no import cycle (imports inside functions included: they hide cycles, they do not remove them), the live shop
below the service that uses it, one composition root, one settings object, modules small enough to find one's
way in, and a README whose layout names every module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ranker", "narrator", "service")
# What the ranker may take from the narrator: the neutral facts contract and the atomic-write helper.
RANKER_MAY_IMPORT = {"narrator", "narrator.facts", "narrator.atomic"}
MAX_LINES = 300


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Project modules `path` imports anywhere in its body (`from a import b` counts a.b when b is a module)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known}
    return {m for m in out if m.split(".")[0] in PACKAGES or m.split(".")[0] in ("tensorflow", "keras", "llama_cpp")}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) for name, path in known.items()}


def test_no_import_cycle():
    full = graph()
    edges = {m: {d for d in deps if d in full and d != m} for m, deps in full.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(edges[m]):
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " → ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_dependencies_point_one_way():
    for module, deps in graph().items():
        top = module.split(".")[0]
        if top == "narrator":
            bad = {d for d in deps if d.split(".")[0] in ("ranker", "service", "tensorflow", "keras")}
            assert not bad, f"{module} imports {bad}: the narrator never imports the ranker, service or TensorFlow"
        if top == "ranker":
            bad = {d for d in deps if d.split(".")[0] in ("service", "llama_cpp")
                   or (d.split(".")[0] == "narrator" and d not in RANKER_MAY_IMPORT)}
            assert not bad, f"{module} imports {bad}: the ranker takes only the facts contract from the narrator"


def test_the_shop_package_stands_below_the_service():
    """`service.shop` (the event store, promotions, the live overlay) uses the ranker and narrator and its own
    modules, never the engine, routes, CLI or stack that use it."""
    for module, deps in graph().items():
        if module.startswith("service.shop"):
            bad = {d for d in deps if d.split(".")[0] == "service" and not d.startswith("service.shop")}
            assert not bad, f"{module} imports {bad}: the shop package is used by the service, not the other way"


BUILT_IN_THE_STACK = {"Explainer", "from_artifact", "PromptRouter", "PromotionBook"}


def test_one_composition_root():
    """Rankers (with their enrichment and promotions), explainers and prompt routers are built in `service.stack`
    only: the engine, batch, CLI, report and playground take them from a `Stack`, so they cannot disagree."""
    for name, path in modules().items():
        if name.split(".")[0] != "service" or name in ("service.stack", "service.shop.promotions"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                assert called not in BUILT_IN_THE_STACK, f"{name}:{node.lineno} builds {called}; use service.stack"


def test_modules_stay_small():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_readme_layout_names_every_module():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text[text.index("## Layout"):text.index("\n## ", text.index("## Layout") + 1)]
    missing = [str(path.relative_to(ROOT)) for name, path in modules().items()
               if path.name != "__main__.py" and str(path.relative_to(ROOT)) not in layout]
    assert not missing, f"README's Layout does not name {missing}"


def _whyrec_variables_read(path: Path) -> set[str]:
    """`WHYREC_*` names read through `os.environ[...]`, `os.environ.get(...)` or `os.getenv(...)`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {t.id: n.value.value for n in tree.body
                 if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
                 for t in n.targets if isinstance(t, ast.Name)}
    found = set()
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
            key = node.slice
        elif isinstance(node, ast.Call) and node.args and ast.unparse(node.func).endswith(("environ.get", "getenv")):
            key = node.args[0]
        value = None
        if isinstance(key, ast.Constant):
            value = key.value
        elif isinstance(key, ast.Name):
            value = constants.get(key.id)
        if str(value).startswith("WHYREC_"):
            found.add(str(value))
    return found


def test_only_the_settings_read_whyrec_variables():
    readers = {name: found for name, path in modules().items()
               if name != "service.settings" and (found := _whyrec_variables_read(path))}
    assert not readers, f"{readers} read WHYREC_* from the environment; add a field to service.settings instead"
    assert _whyrec_variables_read(ROOT / "service" / "settings.py")  # the check sees a real read


def test_the_wheel_lists_every_package():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for package in PACKAGES for p in (ROOT / package).rglob("__init__.py")}
    assert found <= listed, f"pyproject.toml's packages leave out {found - listed}: the wheel would lack them"
