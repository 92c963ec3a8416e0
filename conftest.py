"""Session-wide pytest hooks (the tests' fixtures are in tests/conftest.py, the benchmarks' in
benchmarks/conftest.py)."""
import pytest


def pytest_collection_modifyitems(session, config, items):
    """``pytest --benchmark-only`` over the tests would skip everything and pass, measuring
    nothing: refuse it and name the command that measures."""
    only = config.getoption("benchmark_only", default=False)
    if only and not any("benchmark" in getattr(item, "fixturenames", ()) for item in items):
        raise pytest.UsageError(
            "--benchmark-only found no benchmark here: the benchmarks are in benchmarks/; run "
            "`python -m pytest benchmarks/ --benchmark-only` (add --check-targets to fail below "
            "a target)")
