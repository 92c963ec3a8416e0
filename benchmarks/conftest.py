"""pytest-benchmark suites: photolink against a peer doing the same job, in the same run.

    pytest benchmarks/ --benchmark-only                      # measure, report ratios
    pytest benchmarks/ --benchmark-only --check-targets      # also fail (exit 1) below a target
    pytest benchmarks/ --benchmark-only --benchmark-autosave # keep the run; later --benchmark-compare
    pytest benchmarks/ --benchmark-only --bench-quick        # smaller sizes (a smoke test)

Each benchmark times photolink with the ``benchmark`` fixture (so autosave and compare track
photolink's own timings) and its peer with the same best-of timer right after, and records in
``extra_info``: ``photolink_rate``, ``peer_rate`` (with ``unit``), ``ratio`` and ``target``. A
peer that is not installed skips that comparison with the command that installs it
(``pip install -e ".[bench]"`` installs them all). The default ``pytest`` run (``testpaths``)
does not collect this directory.
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))       # simpy_path and friends

import _bench  # noqa: E402


def pytest_addoption(parser):
    g = parser.getgroup("photolink benchmarks")
    g.addoption("--check-targets", action="store_true",
                help="fail a benchmark whose ratio is below its target (CI gate)")
    g.addoption("--bench-quick", action="store_true", help="smaller sizes: a smoke test of the suite")
    g.addoption("--bench-memory", action="store_true",
                help="also run the 1e9-symbol peak-memory check (about 20 s)")


@pytest.fixture
def quick(request) -> bool:
    return request.config.getoption("--bench-quick")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _bench.REPORT:
        return
    terminalreporter.section("photolink against its peers (same run)")
    for line in _bench.REPORT:
        terminalreporter.write_line(line)
    if _bench.BELOW and not config.getoption("--check-targets"):
        terminalreporter.write_line(f"{len(_bench.BELOW)} ratio(s) below target; --check-targets makes "
                                    f"that a failure")
