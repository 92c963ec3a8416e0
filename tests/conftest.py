"""Fixtures shared by the test tree (tests mirror the package: tests/symbols, tests/fec, ...).

Hypothesis profiles (the fuzz suite in tests/fuzz and the property tests): ``ci``, the default,
is derandomised (the same examples on every run, no example database) and short; ``local``
explores: ``HYPOTHESIS_PROFILE=local python -m pytest tests/fuzz`` (about 50x the examples).
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, database=None, max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("local", derandomize=False, max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _assert_same_ber(a, b):
    """Two BerResults hold the same counts, bursts and error records."""
    assert (a.symbols, a.symbol_errors, a.bit_errors, a.cycle_slips) == \
        (b.symbols, b.symbol_errors, b.bit_errors, b.cycle_slips)
    np.testing.assert_array_equal(a.burst_hist, b.burst_hist)
    np.testing.assert_array_equal(a.error_index, b.error_index)
    np.testing.assert_array_equal(a.error_bits, b.error_bits)


@pytest.fixture
def assert_same_ber():
    """``assert_same_ber(a, b)``: two BerResults hold the same counts, bursts and error records."""
    return _assert_same_ber
