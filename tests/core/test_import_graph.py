"""No import cycle among the modules of `portal/`, not even one hidden in a function.

The graph is read from the source (`ast`), not from what happens to be imported:
each `import portal.x` / `from portal.x import y` is an edge to a module (`y`
when it is a submodule, else `portal.x`). Imports at module level (class
bodies included) always count. An import inside a function counts too, as if
it ran at import time: a function-level import that would close a cycle only
hides it, and the next person to move it to the top gets an ImportError.
Such an import is allowed only where `ALLOWED_LATE_IMPORTS` lists its function
with a one-line reason (the source keeps the same reason in a comment).
`if TYPE_CHECKING:` blocks never run and do not count.

Today no entry is needed: the cycles this test found (needs -> notify ->
workflow -> notify, and auth.services <-> auth.lockout) were removed by moving
code below both sides and by signals (see docs/architecture.md). The only
function-level imports left are the app factory's (portal/__init__.py: importing
any portal module runs it, so it must not load every area), each group with its
reason; `python tests/core/test_import_graph.py` lists them.
"""

from __future__ import annotations

import ast
import importlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "portal"

#: (module, function) -> why its imports of portal modules must stay inside it,
#: although they close an import cycle. Each entry needs a one-line reason.
ALLOWED_LATE_IMPORTS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    function: str | None  # the enclosing function's qualified name; None at import time
    line: int

    def describe(self) -> str:
        where = f"inside {self.function}()" if self.function else "at module level"
        return f"{self.importer} -> {self.imported} (line {self.line}, {where})"


def find_modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file, for every module and package under root/package."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module that `import name` runs last: the longest known prefix."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def read_imports(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import of a module under the package, with the function it sits in."""
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def add(target: str | None, function: str | None, line: int) -> None:
        if target is not None and target != module:
            found.append(Import(module, target, function, line))

    def visit(node: ast.AST, scope: list[str], function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit(other, scope, function)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(_resolve(alias.name, modules), function, child.lineno)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = module.split(".") if is_package else module.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in child.names:
                    submodule = f"{base}.{alias.name}"
                    target = submodule if submodule in modules else base
                    add(_resolve(target, modules), function, child.lineno)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = [*scope, child.name]
                is_function = not isinstance(child, ast.ClassDef)
                visit(child, inner, ".".join(inner) if is_function or function else None)
            elif isinstance(child, ast.Lambda):
                visit(child, scope, ".".join([*scope, "<lambda>"]))
            else:
                visit(child, scope, function)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), [], None)
    return found


def all_imports(root: Path = ROOT, package: str = PACKAGE) -> list[Import]:
    modules = find_modules(root, package)
    return [imp for name, path in modules.items() for imp in read_imports(name, path, modules)]


def _allowed(imp: Import, allowed: dict[tuple[str, str], str]) -> bool:
    if imp.function is None:
        return False
    # A function nested in an allowed function is covered by its entry.
    parts = imp.function.split(".")
    return any((imp.importer, ".".join(parts[:n])) in allowed for n in range(1, len(parts) + 1))


def find_cycles(
    imports: list[Import], allowed: dict[tuple[str, str], str] | None = None
) -> list[list[Import]]:
    """One shortest cycle per strongly connected group of modules, as the imports
    that make it; empty when the graph has no cycle."""
    allowed = allowed or {}
    edges: dict[str, dict[str, Import]] = {}
    for imp in imports:
        if not _allowed(imp, allowed):
            # Prefer showing a module-level import when both kinds exist.
            known = edges.setdefault(imp.importer, {}).get(imp.imported)
            if known is None or (known.function and not imp.function):
                edges[imp.importer][imp.imported] = imp
    cycles = []
    for group in _strongly_connected(edges):
        start = min(group)
        cycles.append(_shortest_cycle(start, group, edges))
    return cycles


def _strongly_connected(edges: dict[str, dict[str, Import]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative; groups of two or more modules only."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    nodes = sorted(set(edges) | {t for targets in edges.values() for t in targets})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, {}))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(edges.get(succ, {})))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(group)
    return groups


def _shortest_cycle(start: str, group: set[str], edges: dict[str, dict[str, Import]]):
    came_from: dict[str, Import] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ, imp in sorted(edges.get(node, {}).items()):
            if succ not in group or succ in came_from:
                continue
            came_from[succ] = imp
            if succ == start:
                path = [imp]
                while path[0].importer != start:
                    path.insert(0, came_from[path[0].importer])
                return path
            queue.append(succ)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def _explain(cycles: list[list[Import]]) -> str:
    lines = []
    for cycle in cycles:
        lines.append("cycle: " + " -> ".join([cycle[0].importer, *(i.imported for i in cycle)]))
        lines.extend(f"    {imp.describe()}" for imp in cycle)
    lines.append(
        "Move the shared code below both modules, or announce a signal instead of calling "
        "up; an import inside a function only hides the cycle (allowed only when listed "
        "in ALLOWED_LATE_IMPORTS with a reason)."
    )
    return "\n".join(lines)


# --- the tests ------------------------------------------------------------------


def test_every_module_of_the_package_imports():
    for name in find_modules(ROOT, PACKAGE):
        importlib.import_module(name)


def test_no_import_cycle_among_portal_modules():
    imports = all_imports()
    assert len({imp.importer for imp in imports}) > 50, "the parser found too few modules"
    cycles = find_cycles(imports, ALLOWED_LATE_IMPORTS)
    assert not cycles, _explain(cycles)


def test_each_allowed_late_import_exists_and_is_needed():
    imports = all_imports()
    for (module, function), reason in ALLOWED_LATE_IMPORTS.items():
        assert reason.strip(), f"{module}.{function}: give the reason"
        entry = {(module, function): reason}
        inside = [i for i in imports if i.importer == module and _allowed(i, entry)]
        assert inside, f"{module}.{function} imports no portal module any more: drop its entry"
        without = {k: v for k, v in ALLOWED_LATE_IMPORTS.items() if k != (module, function)}
        assert find_cycles(imports, without), (
            f"{module}.{function}: its imports close no cycle; move them to the top "
            "and drop the entry"
        )


def _write_package(root: Path, files: dict[str, str]) -> None:
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text('"""A package made for the test."""\n')
    for name, source in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def test_the_check_finds_cycles_at_module_level_and_hidden_in_functions(tmp_path):
    _write_package(
        tmp_path,
        {
            "low.py": "VALUE = 1\n",
            "a.py": "from pkg import b\nfrom pkg.low import VALUE\n",
            "b.py": "import pkg.low\n\ndef later():\n    from pkg.a import thing\n",
            "c.py": "from pkg.d import thing\n",
            "d.py": "from . import c\n",
            "e.py": (
                "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                "    from pkg.f import Thing\n"
            ),
            "f.py": "from pkg import e\n",
            "sub/__init__.py": "",
            "sub/g.py": "from .. import low\nfrom pkg.sub import h\n",
            "sub/h.py": "class Lazy:\n    def load(self):\n        from pkg.sub.g import x\n",
        },
    )
    imports = all_imports(tmp_path, "pkg")
    found = {frozenset(i.importer for i in cycle) for cycle in find_cycles(imports)}
    assert found == {
        frozenset({"pkg.a", "pkg.b"}),  # hidden inside b.later()
        frozenset({"pkg.c", "pkg.d"}),  # at module level, one import relative
        frozenset({"pkg.sub.g", "pkg.sub.h"}),  # hidden in a method
    }  # e -> f under TYPE_CHECKING never runs: no cycle

    allowed = {("pkg.b", "later"): "a reason", ("pkg.sub.h", "Lazy.load"): "another"}
    found = {frozenset(i.importer for i in cycle) for cycle in find_cycles(imports, allowed)}
    assert found == {frozenset({"pkg.c", "pkg.d"})}  # listing never hides a top-level cycle


def test_a_cycle_in_portal_would_be_reported_with_its_lines():
    """What a maintainer sees if a model reached up into its area's services."""
    imports = all_imports()
    planted = Import("portal.needs.models", "portal.needs.services", "Need.tracking_url", 300)
    message = _explain(find_cycles([*imports, planted]))
    assert "cycle: portal.needs.models -> portal.needs.services -> " in message
    line = "portal.needs.models -> portal.needs.services (line 300, inside Need.tracking_url())"
    assert line in message


if __name__ == "__main__":
    # The function-level imports of portal modules and whether the graph keeps
    # its shape without them being late: those not listed could move to the top.
    late = {
        imp.describe()
        for imp in all_imports()
        if imp.function and not _allowed(imp, ALLOWED_LATE_IMPORTS)
    }
    print("\n".join(sorted(late)))
