"""Findings of issues 15 and 16 that had no test of their own: benchmark suites time photolink
with the ``benchmark`` fixture (so --benchmark-autosave/--benchmark-compare have data) and
import peers lazily; README documents the exit codes; [links.*] fields are checked at load."""
import ast
import re
from pathlib import Path

import pytest

from photolink.cli import common
from photolink.studies import config
from photolink.studies.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted((ROOT / "benchmarks").glob("bench_*.py"))
PEERS = {"komm", "optical", "optic", "commpy", "galois", "simpy", "skrf", "pychopmarg"}


@pytest.mark.parametrize("path", BENCHES, ids=[p.name for p in BENCHES])
def test_every_benchmark_uses_the_benchmark_fixture_and_imports_peers_lazily(path):
    tree = ast.parse(path.read_text())
    tests = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")]
    assert tests, path.name
    for f in tests:                 # a test without the fixture is skipped by --benchmark-only
        assert "benchmark" in [a.arg for a in f.args.args], f"{path.name}::{f.name}"
    top = {(a.name if isinstance(n, ast.Import) else n.module or "").split(".")[0]
           for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
           for a in (n.names if isinstance(n, ast.Import) else [n])}
    assert not top & PEERS, f"{path.name} imports a peer at module level: {top & PEERS}"


def test_readme_documents_the_exit_codes():
    text = " ".join((ROOT / "README.md").read_text().split())
    for code in (common.EXIT_OK, common.EXIT_WORSE, common.EXIT_USAGE, common.EXIT_INTERRUPTED,
                 common.EXIT_INTERNAL, common.EXIT_SIGINT):
        assert re.search(rf"`{code}`", text), code
    assert "--debug" in text


@pytest.mark.parametrize("body, key", [
    ("propagation_ns = -82", "links.x.propagation_ns"),
    ("propagation_ns = nan", "links.x.propagation_ns"),
    ("dsp_snr_db = -3083.0", "links.x.dsp_snr_db"),
    ("rated_reach_m = -1.0", "links.x.rated_reach_m"),
    ("rated_reach_m = nan", "links.x.rated_reach_m"),
])
def test_link_fields_from_a_config_are_checked_at_load(tmp_path, body, key):
    """Issue 16, item 8 through [links.*]: refused with the key, no OverflowError traceback."""
    p = tmp_path / "c.toml"
    p.write_text(f'[links.x]\npreset = "dr4-800g"\n{body}\n')
    with pytest.raises(ConfigError, match=re.escape(f"{p}: {key}: ")):
        config.load(p)
