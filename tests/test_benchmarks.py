"""The benchmark suites' machinery (benchmarks/_bench.py, benchmarks/conftest.py): extra_info
holds both rates and their ratio, --check-targets fails below target, a missing peer skips with
the install command; the default test run does not collect benchmarks/."""
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import _bench  # noqa: E402


def fake(check: bool):
    bench = SimpleNamespace(extra_info={})
    request = SimpleNamespace(node=SimpleNamespace(name="test_x"),
                              config=SimpleNamespace(getoption=lambda name: check))
    return request, bench


def test_extra_info_has_both_rates_and_the_ratio():
    request, bench = fake(check=False)
    ratio = _bench.record(request, bench, photolink_rate=120.0, peer_rate=20.0, unit="M/s",
                          target=2.0, peer_name="komm")
    assert ratio == 6.0
    assert bench.extra_info == {"photolink_rate": 120.0, "peer": "komm", "peer_rate": 20.0,
                                "unit": "M/s", "ratio": 6.0, "target": 2.0}
    _bench.record(request, bench, photolink_rate=1.0, peer_rate=20.0, unit="M/s", target=2.0,
                  peer_name="komm")                     # below target: reported, not failed
    assert "BELOW TARGET" in _bench.BELOW[-1]


def test_check_targets_fails_below_target():
    request, bench = fake(check=True)
    with pytest.raises(pytest.fail.Exception, match="below target: test_x"):
        _bench.record(request, bench, photolink_rate=1.0, peer_rate=20.0, unit="M/s", target=2.0,
                      peer_name="komm")
    _bench.record(request, bench, photolink_rate=100.0, peer_rate=20.0, unit="M/s", target=2.0,
                  peer_name="komm")


def test_missing_peer_skips_with_the_install_command():
    with pytest.raises(pytest.skip.Exception, match=r"pip install no-such-peer.*\.\[bench\]"):
        _bench.peer("no_such_peer_module", "no-such-peer")


def test_default_run_excludes_benchmarks():
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert ini["testpaths"] == ["tests"] and "bench_*.py" in ini["python_files"]
    assert {"bench_fec.py", "bench_path.py", "bench_qam.py", "bench_stream.py"} <= \
        {p.name for p in (ROOT / "benchmarks").glob("bench_*.py")}
