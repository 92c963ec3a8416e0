"""Symbol-stream Monte Carlo: agreement with closed forms, reproducibility, bursts, bad input."""
import tracemalloc

import numpy as np
import pytest

import photolink as pl
from photolink._util.stats import clopper_pearson
from photolink.symbols.stream import CHUNK_SYMBOLS

# Several MC-vs-closed-form comparisons run in one test: each uses a 99.9 % interval so the
# family stays near 99 % (fixed seeds make each outcome deterministic).
CONF = 0.999


@pytest.mark.parametrize("M,snrs", [(2, [7.0, 9.0, 11.0]), (4, [12.0, 15.0, 17.5]),
                                    (8, [20.0, 23.0, 25.0])])
def test_monte_carlo_within_ci_of_closed_form(M, snrs):
    fmt = pl.PAM(M)
    for k, snr in enumerate(snrs):
        r = pl.simulate_ber(fmt, snr, 2_000_000, seed=100 + k)
        r = r.__class__(**{**r.__dict__, "confidence": CONF})
        assert r.bit_errors > 100
        lo, hi = r.ci
        assert lo <= fmt.ber_awgn(snr) <= hi, (M, snr, r.ber, r.ci)
        lo, hi = r.ser_ci
        assert lo <= fmt.ser_awgn(snr) <= hi


def test_general_path_with_ideal_channel_matches_closed_form():
    r = pl.simulate_ber(pl.PAM4, 15.0, 1_000_000, seed=5, channel=pl.Channel((1.0,)))
    lo, hi = r.ci
    assert lo <= pl.PAM4.ber_awgn(15.0) <= hi


def test_zero_errors_report_an_upper_bound():
    r = pl.simulate_ber(pl.PAM4, 30.0, 100_000, seed=1)
    assert r.bit_errors == 0 and r.ci[0] == 0.0
    assert r.ci[1] == pytest.approx(3.69 / r.bits, rel=0.01)


CH = pl.Channel.from_cursors(pre=(0.1,), main=1.0, post=(0.55, 0.25))
EQ = pl.Equalizer.zero_forcing(CH, n_ffe=4, n_dfe=2)


@pytest.mark.parametrize("kwargs", [{}, {"channel": CH, "equalizer": EQ, "precode": True}])
def test_same_seed_same_counts_for_any_threads_and_any_split(kwargs):
    n = 2 * CHUNK_SYMBOLS + 12345
    whole = pl.simulate_ber(pl.PAM4, 16.0, n, seed=42, return_errors=True, **kwargs)
    threaded = pl.simulate_ber(pl.PAM4, 16.0, n, seed=42, n_threads=2, return_errors=True, **kwargs)
    stream = pl.SymbolStream(pl.PAM4, 16.0, seed=42, **kwargs)
    cuts = [1, 777_777, CHUNK_SYMBOLS - 1_000, 1_500_000, n]
    parts = [stream.run(b - a, return_errors=True) for a, b in zip([0] + cuts, cuts)]
    split = parts[0]
    for p in parts[1:]:
        split = split + p
    for other in (threaded, split):
        assert (other.symbols, other.symbol_errors, other.bit_errors) == \
               (whole.symbols, whole.symbol_errors, whole.bit_errors)
        np.testing.assert_array_equal(other.burst_hist, whole.burst_hist)
        np.testing.assert_array_equal(other.error_index, whole.error_index)
        np.testing.assert_array_equal(other.error_bits, whole.error_bits)
    assert whole.symbol_errors > 1000
    other_seed = pl.simulate_ber(pl.PAM4, 16.0, n, seed=43, **kwargs)
    assert other_seed.bit_errors != whole.bit_errors


def runs_from_positions(index):
    """Independent run-length count of consecutive error positions."""
    if index.size == 0:
        return np.zeros(0, int)
    breaks = np.flatnonzero(np.diff(index) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks + 1, [index.size]])
    return ends - starts


@pytest.mark.parametrize("kwargs", [{}, {"channel": CH, "equalizer": EQ}])
def test_error_positions_and_bursts_are_consistent(kwargs):
    r = pl.simulate_ber(pl.PAM4, 14.0, 500_000, seed=9, return_errors=True, **kwargs)
    assert r.error_index.size == r.symbol_errors
    assert np.all(np.diff(r.error_index) > 0)
    assert sum(bin(int(b)).count("1") for b in r.error_bits) == r.bit_errors
    assert np.all(r.error_bits > 0) and np.all(r.error_bits < 4)
    lengths = runs_from_positions(r.error_index)
    expected = np.bincount(np.minimum(lengths, r.burst_hist.size) - 1, minlength=r.burst_hist.size)
    np.testing.assert_array_equal(r.burst_hist, expected)


def test_dfe_error_propagation_and_precoding():
    snr = 17.0
    ideal = pl.simulate_ber(pl.PAM4, snr, 4_000_000, seed=3, channel=CH, equalizer=EQ,
                            ideal_feedback=True)
    real = pl.simulate_ber(pl.PAM4, snr, 4_000_000, seed=3, channel=CH, equalizer=EQ)
    pre = pl.simulate_ber(pl.PAM4, snr, 4_000_000, seed=3, channel=CH, equalizer=EQ, precode=True)
    # Error propagation: worse than the error-free-feedback bound, intervals apart.
    assert real.ci[0] > ideal.ci[1]
    # The bound itself is what the statistical eye computes.
    eye = pl.estimate_ber(pl.PAM4, snr, channel=CH, equalizer=EQ, method="statistical-eye").ber
    assert ideal.ci[0] <= eye <= ideal.ci[1]
    # Bursts: precoding turns long DFE bursts into (mostly) pairs of errors.
    # Share of runs of 3+ errors, with its Clopper-Pearson interval: precoded clearly below.
    long_runs = lambda r: clopper_pearson(int(r.burst_hist[2:].sum()), r.bursts)  # noqa: E731
    assert real.mean_burst_length > 1.2
    assert pre.mean_burst_length < real.mean_burst_length
    assert long_runs(pre)[1] < long_runs(real)[0]


def test_memory_stays_constant():
    tracemalloc.start()
    pl.simulate_ber(pl.PAM4, 15.0, 3 * CHUNK_SYMBOLS, seed=1, n_threads=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2_000_000


def test_bad_input_is_refused_before_c():
    bad = [
        (dict(snr_db=np.nan), ValueError, "snr_db"),
        (dict(snr_db=np.inf), ValueError, "snr_db"),
        (dict(snr_db="12"), TypeError, "snr_db"),
        (dict(n_symbols=0), ValueError, "n_symbols"),
        (dict(n_symbols=-5), ValueError, "n_symbols"),
        (dict(n_symbols=10**16), ValueError, "n_symbols"),
        (dict(n_symbols=2.5), TypeError, "n_symbols"),
        (dict(n_threads=-1), ValueError, "n_threads"),
        (dict(n_threads=0), ValueError, "n_threads"),
        (dict(seed=-3), ValueError, "seed"),
        (dict(seed="x"), TypeError, "seed"),
        (dict(fmt=4), TypeError, "fmt"),
        (dict(channel=(1.0, 0.2)), TypeError, "channel"),
        (dict(equalizer=(1.0,)), TypeError, "equalizer"),
        (dict(precode=1), TypeError, "precode"),
        (dict(n_symbols=2 * 10**9, return_errors=True), ValueError, "n_symbols"),
    ]
    for override, exc, name in bad:
        args = dict(fmt=pl.PAM4, snr_db=15.0, n_symbols=1000, seed=1)
        args.update(override)
        with pytest.raises(exc, match=name):
            pl.simulate_ber(args.pop("fmt"), args.pop("snr_db"), args.pop("n_symbols"), **args)


def test_equalised_cursor_must_be_positive():
    with pytest.raises(ValueError, match="main cursor"):
        pl.simulate_ber(pl.PAM4, 15.0, 1000, seed=1, channel=CH, equalizer=pl.Equalizer(ffe=(-1.0,)))
