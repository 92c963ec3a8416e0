"""Issue 15, bullets 1 and 2 ("the first run", benchmarks): what a fresh clone meets first."""
import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_main_job_depends_on_matplotlib_and_tqdm():
    """`photolink demo` draws its plots and shows progress on a fresh install: no exit 2."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~ \[]", d)[0].lower() for d in deps}
    assert {"matplotlib", "tqdm"} <= names


def test_no_hint_installs_the_unrelated_pypi_project():
    """`pip install photolink` from the index is another project: hints name what works."""
    bad = re.compile(r"pip install\s+['\"]?photolink\b")
    files = [*(ROOT / "photolink").rglob("*.py"), *(ROOT / "photolink").rglob("*.pyx"),
             ROOT / "README.md"]
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in files
                 for i, line in enumerate(p.read_text().splitlines(), 1) if bad.search(line)]
    assert offenders == []


@pytest.mark.slow
def test_the_build_says_what_it_is_doing():
    r = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "photolink: build done in" in r.stderr and "photolink: " in r.stderr.splitlines()[0]


def _root_conftest():
    spec = importlib.util.spec_from_file_location("_root_conftest", ROOT / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_only_over_the_tests_is_refused_not_green():
    hook = _root_conftest().pytest_collection_modifyitems
    config = SimpleNamespace(getoption=lambda name, default=None: name == "benchmark_only")
    tests = [SimpleNamespace(fixturenames=["tmp_path"])]
    with pytest.raises(pytest.UsageError, match=r"pytest benchmarks/ --benchmark-only"):
        hook(None, config, tests)
    hook(None, config, [*tests, SimpleNamespace(fixturenames=["benchmark"])])   # a benchmark: fine
    off = SimpleNamespace(getoption=lambda name, default=None: False)
    hook(None, off, tests)                                                     # plain runs: fine
