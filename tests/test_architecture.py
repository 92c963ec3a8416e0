"""The rooms and the one-way direction between them (README "Layout").

``_util <- symbols <- fec <- links <- net <- studies <- plot, testing <- cli``, checked by
import-linter's contracts in pyproject.toml; no import cycle anywhere in the package; no
photolink module imported inside a function (the way cycles are dodged).
"""
import ast
import pathlib
import subprocess
import sys

import grimp
import pytest

import photolink as pl

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "photolink"


def test_import_linter_contracts_are_kept():
    run = subprocess.run([sys.executable, "-c",
                          "import sys; from importlinter.cli import lint_imports; "
                          "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 kept, 0 broken" in run.stdout


def _imports(graph, module) -> list:
    """What ``module`` imports, less its own ancestor packages: ``from . import _rs`` (a compiled
    bridge, which grimp cannot see as a module) reads as an import of the package itself."""
    return sorted(m for m in graph.find_modules_directly_imported_by(module)
                  if not module.startswith(m + "."))


def _cycle(graph) -> list | None:
    """One import cycle among photolink's modules, or None (iterative depth-first search)."""
    modules = sorted(graph.modules)
    state = dict.fromkeys(modules, 0)          # 0 new, 1 on the stack, 2 done
    for start in modules:
        if state[start]:
            continue
        stack = [(start, iter(_imports(graph, start)))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                names = [n for n, _ in stack]
                return names[names.index(child):] + [child]
            elif state.get(child) == 0:
                state[child] = 1
                stack.append((child, iter(_imports(graph, child))))
    return None


def test_no_import_cycle():
    graph = grimp.build_graph("photolink", cache_dir=None)
    assert _cycle(graph) is None


def test_cycle_finder_finds_a_cycle():
    class Graph:
        modules = {"a", "b", "c"}
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}}

        def find_modules_directly_imported_by(self, m):
            return self.edges[m]

    assert _cycle(Graph()) == ["a", "b", "c", "a"]


def _function_level_imports(path: pathlib.Path) -> list[str]:
    """photolink imports inside functions (relative ones, or of the package by name)."""
    found = []
    for fn in ast.walk(ast.parse(path.read_text())):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("photolink")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.Import) and any(a.name.startswith("photolink") for a in node.names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_photolink_import_inside_a_function():
    found = [hit for p in sorted(PACKAGE.rglob("*.py")) for hit in _function_level_imports(p)]
    assert found == []


def test_function_level_import_finder_finds_one(tmp_path):
    f = ROOT / "tests" / "_probe_module.py"
    tmp = tmp_path / "probe.py"
    tmp.write_text("def f():\n    from .links import Link\n    return Link\n")
    # relative_to(ROOT) needs a path under the repository: check the AST walk on a copy there
    try:
        f.write_text(tmp.read_text())
        assert _function_level_imports(f) == ["tests/_probe_module.py:2"]
    finally:
        f.unlink()


@pytest.mark.parametrize("expr", [
    "pl.simulate_ber", "pl.PAM4", "pl.Path", "pl.Switch", "pl.traffic.Poisson", "pl.estimate_ber",
    "pl.snr_from_osnr", "pl.DP_16QAM", "pl.sweep", "pl.testing.assert_not_worse",
    "pl.fec.KP4", "pl.links.preset('dac-800g')", "pl.links.LinkModel", "pl.net.Path",
])
def test_public_names_stay_where_users_find_them(expr):
    assert eval(expr, {"pl": pl}) is not None


@pytest.mark.slow
def test_python_dash_m_photolink_runs():
    run = subprocess.run([sys.executable, "-m", "photolink", "--help"], capture_output=True, text=True)
    assert run.returncode == 0 and "demo" in run.stdout
