"""The package's shape: layers only import downwards, no import cycles, no module over ~600 lines,
back-ends use only the public names of the engine.

core (errors, canonical, periods, catalog, export, testing) < sources < engine < scenarios < review < demo < report < cli.
review (workspace, journal, the app, close) sits above the scenarios whose checks it reviews and below the
report, which applies its decisions.
Every import counts, also one inside a function: a lazy import that points upwards is still a cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "recon_helpers"
LAYERS = ["core", "sources", "engine", "scenarios", "review", "demo", "report", "cli"]
MAX_LINES = 650


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "core"  # recon_helpers/__init__: the lazy public surface, imports nothing at import time
    top = parts[1]
    return top if top in LAYERS else "core"


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("recon_helpers"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("recon_helpers"))
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


GRAPH = {m: {r for r in map(resolve, imports_of(p)) if r and r != m} for m, p in MODULES.items()}


def test_layers_only_import_downwards():
    upward = [f"{m} ({layer_of(m)}) imports {d} ({layer_of(d)})"
              for m, deps in GRAPH.items() if m != "recon_helpers" for d in deps
              if d != "recon_helpers" and LAYERS.index(layer_of(d)) > LAYERS.index(layer_of(m))]
    assert upward == []


def test_there_is_no_import_cycle():
    def parents(module: str) -> list[str]:  # importing a.b.c runs a.b/__init__ and a/__init__ first
        parts = module.split(".")
        return [".".join(parts[:i]) for i in range(2, len(parts))]

    seen: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for dep in GRAPH[node]:
            if dep in parents(node) or dep == "recon_helpers":
                continue
            if seen.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep] if dep in stack else [node, dep])
            elif dep not in seen:
                visit(dep, stack + [dep])
        seen[node] = 2

    for module in GRAPH:
        if module not in seen:
            visit(module, [module])
    assert cycles == []


def test_no_module_is_too_long_to_read():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_a_verb_never_shares_its_name_with_a_module():
    import recon_helpers

    for verb in ("load", "match"):
        assert f"recon_helpers.{verb}" not in MODULES
        assert callable(getattr(recon_helpers, verb))


def test_no_module_imports_a_private_name_of_another():
    """A module uses only the public names of the others. Why: a private name may change without
    notice; a back-end decides blocks in its own tasks with the engine's functions (Spark calls
    one_to_one's pieces there), and a private name used across modules would silently split the
    two engines, or the loader from the mapping it reads."""
    private = [f"{m} imports {node.module}.{a.name}"
               for m, p in MODULES.items()
               for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
               if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("recon_helpers"))
               for a in node.names if a.name.startswith("_") and a.name != "__version__"]
    assert private == []
