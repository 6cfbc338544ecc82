"""The layers point one way (docs/ARCHITECTURE.md): every import of the project's own modules goes to the
same layer or one it may use, and no modules import each other in a cycle. Read from the source (AST), so a
new upward import fails here whatever the tests exercise."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Layer of every module, by the first matching prefix (most specific first). Bottom to top.
LAYERS: tuple[tuple[str, str], ...] = (
    ("trygghetskarta.store.migrations", "store"),
    ("trygghetskarta.errors", "base"),
    ("trygghetskarta.settings", "base"),
    ("trygghetskarta.csvsafe", "base"),
    ("trygghetskarta.scrub", "base"),
    ("trygghetskarta.gdalsafe", "base"),
    ("trygghetskarta.progress", "base"),
    ("trygghetskarta.timeutil", "base"),
    ("trygghetskarta.accessibility", "base"),
    ("trygghetskarta.i18n", "base"),
    ("trygghetskarta.schema", "domain"),
    ("trygghetskarta.records", "domain"),
    ("trygghetskarta.access", "domain"),
    ("trygghetskarta.areas", "domain"),
    ("trygghetskarta.lifecycle", "domain"),
    ("trygghetskarta.routing", "domain"),
    ("trygghetskarta.geography", "domain"),
    ("trygghetskarta.places", "domain"),
    ("trygghetskarta.privacy", "domain"),
    ("trygghetskarta.lagesbild.periods", "domain"),
    ("trygghetskarta.store", "store"),
    ("trygghetskarta.analysis", "analysis"),
    ("trygghetskarta.actions", "services"),
    ("trygghetskarta.workflow", "services"),
    ("trygghetskarta.capture", "services"),
    ("trygghetskarta.est_reports", "services"),
    ("trygghetskarta.area_import", "services"),
    ("trygghetskarta.demo", "services"),
    ("trygghetskarta.auth", "services"),
    ("trygghetskarta.sessions", "services"),
    ("trygghetskarta.photos", "services"),
    ("trygghetskarta.ingest", "services"),
    ("trygghetskarta.public_texts", "domain"),
    ("trygghetskarta.effect_service", "services"),
    ("trygghetskarta.hotspot_service", "services"),
    ("trygghetskarta.perceived", "services"),
    ("trygghetskarta.effect_export", "presentation"),
    ("trygghetskarta.public", "services"),
    ("trygghetskarta.helpinfo", "services"),
    ("trygghetskarta.outbox", "services"),
    ("trygghetskarta.open311", "presentation"),
    ("trygghetskarta.api", "interface"),
    ("trygghetskarta.maps", "presentation"),
    ("trygghetskarta.mapview", "presentation"),
    ("trygghetskarta.lagesbild", "presentation"),
    ("trygghetskarta.protocol", "presentation"),
    ("trygghetskarta.export", "presentation"),
    ("trygghetskarta.cli", "interface"),
    ("trygghetskarta.__main__", "interface"),
    ("=trygghetskarta", "base"),  # the package itself (its __init__ imports nothing); "=": this name only
    ("app_pages", "interface"),
    ("app", "interface"),
)

# What each layer may import (besides itself). Analysis is arrays in, arrays out: no store, no services.
MAY_USE: dict[str, frozenset[str]] = {
    "base": frozenset(),
    "domain": frozenset({"base"}),
    "store": frozenset({"base", "domain"}),
    "analysis": frozenset({"base", "domain"}),
    "services": frozenset({"base", "domain", "store", "analysis"}),
    "presentation": frozenset({"base", "domain", "store", "analysis", "services"}),
    "interface": frozenset({"base", "domain", "store", "analysis", "services", "presentation"}),
}


def layer_of(module: str) -> str:
    for prefix, layer in LAYERS:
        if prefix.startswith("="):
            if module == prefix[1:]:
                return layer
        elif module == prefix or module.startswith(prefix + "."):
            return layer
    msg = f"{module} has no layer: add it to LAYERS in tests/test_layers.py and to docs/ARCHITECTURE.md"
    raise AssertionError(msg)


def _modules() -> dict[str, Path]:
    found = {}
    for path in [*(ROOT / "trygghetskarta").rglob("*.py"), *(ROOT / "app_pages").glob("*.py"), ROOT / "app.py"]:
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts)
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _own(name: str) -> str | None:
    """The project module ``name`` refers to (the longest known prefix), else None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, only under TYPE_CHECKING) for every import in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_pkg else 0)]
                stem = ".".join([*base, *([node.module] if node.module else [])])
            else:
                stem = node.module or ""
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in MODULES else stem for a in node.names]
        for target in targets:
            own = _own(target)
            if own is not None and own != module:
                out.append((own, node.lineno, id(node) in typing_only))
    return out


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_no_import_points_up() -> None:
    wrong = []
    for module in sorted(MODULES):
        mine = layer_of(module)
        for target, line, _typing in imports_of(module):
            theirs = layer_of(target)
            if theirs != mine and theirs not in MAY_USE[mine]:
                wrong.append(f"{MODULES[module].name} ({module}):{line}: {mine} imports {theirs} ({target})")
    assert wrong == [], "imports that point up:\n" + "\n".join(wrong)


def test_no_import_cycle() -> None:
    graph = {m: sorted({t for t, _line, typing in imports_of(m) if not typing}) for m in MODULES}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # a package's __init__ re-exporting its own submodules is not a cycle of meaning
    real = [c for c in cycles if not all(x == c[0] or x.startswith(c[0] + ".") or c[0].startswith(x + ".")
                                         for x in c)]
    assert real == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in real)


@pytest.mark.parametrize("bad", ["trygghetskarta.store", "trygghetskarta.actions", "app_pages._ui"])
def test_the_check_sees_an_upward_import(bad: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A domain module that imported a higher layer would be reported (the check is not vacuous)."""
    fake = tmp_path / "access.py"
    fake.write_text(f"import {bad}\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "trygghetskarta.access", fake)
    with pytest.raises(AssertionError, match="domain imports"):
        test_no_import_points_up()
