"""Fixtures shared by the test tree (tests mirror the package: tests/symbols, tests/fec, ...)."""
import numpy as np
import pytest


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
