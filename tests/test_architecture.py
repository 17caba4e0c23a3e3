"""The layers of docs/ARCHITECTURE.md, held: dependencies point one way, no cycles, no private
names imported across modules.

    interfaces   simulation.cli, simulation.teaching, run     (command line, teaching page)
    analysis     analysis                                       (reads results; statistics, report)
    experiments  simulation.experiments                         (runs the model many times)
    model        simulation.model                               (schema, scenarios, rules, engines)
    common       simulation.common                              (errors, atomic output, intervals)

A module may import its own layer and the layers below it. Every import counts, also those
inside functions; only imports under `if TYPE_CHECKING:` are ignored for cycles (they do not
run), though they too must respect the layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = (
    ("common", ("simulation.common",)),
    ("model", ("simulation.model",)),
    ("experiments", ("simulation.experiments",)),
    ("analysis", ("analysis",)),
    ("interfaces", ("simulation.cli", "simulation.teaching", "simulation.api", "run")),
)
PACKAGES = ("simulation", "analysis", "run")


def layer_of(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    files = [ROOT / "run.py", *(ROOT / "simulation").rglob("*.py"),
             *(ROOT / "analysis").rglob("*.py")]
    return {module_name(f): f for f in files}


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def imports(module: str, path: Path) -> Iterator[tuple[str, list[str], bool, int]]:
    """(imported module, names, type-checking only, line) of every project import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_lines(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield alias.name, [], node.lineno in typing_only, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if base.split(".")[0] in PACKAGES:
                yield base, [a.name for a in node.names], node.lineno in typing_only, node.lineno


def resolve(target: str, names: list[str], modules: dict[str, Path]) -> list[str]:
    """Project modules an import refers to (`from pkg import mod` names a module)."""
    found = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
    return found or ([target] if target in modules else [])


def test_every_module_is_in_a_layer() -> None:
    unplaced = [m for m in project_modules() if m not in ("simulation", "analysis")
                and layer_of(m) is None]
    assert not unplaced, f"modules outside every layer: {unplaced}"


def test_dependencies_point_down() -> None:
    modules = project_modules()
    broken = []
    for module, path in modules.items():
        own = layer_of(module)
        if own is None:
            continue
        for target, names, _, line in imports(module, path):
            for dep in resolve(target, names, modules):
                rank = layer_of(dep)
                if rank is not None and rank > own:
                    broken.append(f"{path.relative_to(ROOT)}:{line} ({LAYERS[own][0]}) imports "
                                  f"{dep} ({LAYERS[rank][0]})")
    assert not broken, "imports against the layer order:\n" + "\n".join(broken)


def test_no_private_names_across_modules() -> None:
    modules = project_modules()
    broken = []
    for module, path in modules.items():
        for target, names, _, line in imports(module, path):
            if target == module:
                continue
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    broken.append(f"{path.relative_to(ROOT)}:{line} imports {target}.{name}")
    assert not broken, "private names imported from another module:\n" + "\n".join(broken)


def test_no_import_cycles() -> None:
    modules = project_modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for target, names, typing_only, _ in imports(module, path):
            if not typing_only:
                graph[module].update(d for d in resolve(target, names, modules) if d != module)
    # a package's __init__ importing its own modules is how packages work, not a cycle
    for module in graph:
        graph[module] = {d for d in graph[module] if not module.startswith(d + ".")}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The checks above can fail: a model module importing the analysis layer is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from analysis.report import write_report\n", encoding="utf-8")
    found = list(imports("simulation.model.bad", bad))
    assert found and layer_of(found[0][0]) == 3 > layer_of("simulation.model.bad")  # type: ignore[operator]


def test_the_compiled_code_cache_is_stamped_with_every_source_it_depends_on() -> None:
    """The array engine's loops inline the rules and freeze constants: numba's disk cache
    must be invalidated by an edit to any model file they import (compiled.COMPILED_SOURCES);
    params.py only gives the knobs' types, which are part of the compiled signature."""
    from simulation.model.compiled import COMPILED_SOURCES

    model = ROOT / "simulation" / "model"
    for name in ("kernels.py", "rules.py", "compiled.py"):
        tree = ast.parse((model / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "simulation.model":
                used = [f"{a.name}.py" for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "simulation.model."):
                used = [f"{node.module.rsplit('.', 1)[1]}.py"]  # type: ignore[union-attr]
            else:
                continue
            for module in used:
                assert module in COMPILED_SOURCES or module == "params.py", (name, module)


def test_every_cache_location_numba_may_choose_carries_the_model_stamp() -> None:
    """NUMBA_CACHE_DIR, the package folder or (read-only install) the user's cache: wherever
    numba puts the loops, the stamp is the model's sources, not the defining file alone."""
    from numba.core import caching

    from simulation.model import compiled, kernels

    fn = kernels.households_live.py_func
    stamped = [cls for cls in caching.CacheImpl._locator_classes
               if cls.__name__.startswith("_ModelSource")]
    assert [cls.__bases__[0] for cls in stamped] == [
        caching.UserProvidedCacheLocator, caching.InTreeCacheLocator,
        caching.UserWideCacheLocator]
    first_own = min(caching.CacheImpl._locator_classes.index(cls) for cls in stamped)
    assert first_own == 0
    for cls in (caching.InTreeCacheLocator, caching.UserWideCacheLocator):
        own = next(c for c in stamped if issubclass(c, cls))
        locator = own.from_function(fn, fn.__code__.co_filename)
        assert locator.get_source_stamp() == compiled._model_stamp()
    assert stamped[0].from_function(len, "/elsewhere/other.py") is None
