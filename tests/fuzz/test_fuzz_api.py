"""Fuzz the public API: any argument either is refused with ValueError/TypeError (before C runs)
or gives a result whose figures are consistent (counts within their totals, intervals that hold
their estimates, no NaN). Profiles: see tests/conftest.py (``ci`` derandomised, ``local`` long)."""
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import photolink as pl
from photolink.links.model import LinkModel
from photolink.net import traffic

ODD = st.sampled_from([math.nan, math.inf, -math.inf, -1, 0, 1e-320, 1e300, 2**63, None, "3",
                       [1.0], True])
SNR = st.one_of(st.floats(-40, 90, allow_nan=False), ODD)
TAPS = st.lists(st.one_of(st.floats(-2, 2, allow_nan=False), ODD), min_size=0, max_size=6)
SCALE = st.sampled_from([1e-170, 1e-30, 1.0, 1e30, 1e100])


def _channel(taps):
    try:
        return pl.Channel(tuple(taps))
    except (ValueError, TypeError):
        return None


@given(m=st.sampled_from([2, 4, 8, 16]), snr=SNR, n=st.one_of(st.integers(-5, 5000), ODD),
       taps=TAPS, ffe=TAPS, dfe=TAPS, precode=st.booleans(), threads=st.sampled_from([1, 2, 0, 300]))
def test_simulate_ber(m, snr, n, taps, ffe, dfe, precode, threads):
    kw = {"channel": _channel(taps), "precode": precode, "n_threads": threads}
    try:
        kw["equalizer"] = pl.Equalizer(ffe=tuple(ffe) or (1.0,), dfe=tuple(dfe))
    except (ValueError, TypeError):
        pass
    try:
        r = pl.simulate_ber(pl.PAM(m), snr, n, seed=1, **kw)
    except (ValueError, TypeError):
        return
    assert r.symbols == n and r.bits == n * pl.PAM(m).bits_per_symbol
    assert 0 <= r.symbol_errors <= r.bit_errors <= r.bits
    assert r.symbol_errors <= r.symbols
    lo, hi = r.ci
    assert 0 <= lo <= r.ber <= hi <= 1
    assert int(r.burst_hist.sum()) <= r.symbol_errors


@given(m=st.sampled_from([2, 4, 8]), snr=st.floats(5, 45), scale=SCALE,
       post=st.floats(0, 0.6), method=st.sampled_from(["importance", "statistical-eye"]))
def test_estimate_ber_at_any_tap_scale(m, snr, scale, post, method):
    ch = pl.Channel.from_cursors(main=1.0, post=(post,))
    eq = pl.Equalizer(ffe=(scale,), dfe=(scale * post,))
    est = pl.estimate_ber(pl.PAM(m), snr, channel=ch, equalizer=eq, method=method, seed=2,
                          max_samples=2**17)
    truth = pl.PAM(m).ber_awgn(snr)
    assert math.isfinite(est.ber) and all(math.isfinite(c) for c in est.ci)
    assert 0 <= est.ci[0] <= est.ber <= est.ci[1] <= 1
    if method == "statistical-eye" and truth > 1e-290:       # DFE cancels the ISI exactly
        assert est.ber == pytest_approx(truth)


def pytest_approx(x):
    import pytest
    return pytest.approx(x, rel=1e-6, abs=1e-300)


@given(load=st.one_of(st.floats(0, 2), ODD), size=st.one_of(st.integers(-1, 20000), ODD),
       n=st.one_of(st.integers(0, 3000), ODD), cwer=st.floats(0, 1),
       switch_ns=st.one_of(st.floats(0, 1e4), ODD), recovery=st.sampled_from(["drop", "llr", "e2e", "x"]),
       latencies=st.booleans())
def test_path_run(load, size, n, cwer, switch_ns, recovery, latencies):
    try:
        hops = [LinkModel.ideal(100), pl.Switch(switch_ns), LinkModel.ideal(100)]
        src = traffic.Poisson(load, size)
        r = pl.Path(hops).run(src, n, seed=3, recovery=recovery, return_latencies=latencies)
    except (ValueError, TypeError):
        return
    assert r.delivered + r.lost == n
    assert 0 <= r.ci[0] <= r.loss_ratio <= r.ci[1] <= 1
    if latencies:
        assert r.latencies_ns.size == r.delivered and np.all(r.latencies_ns > 0)


@given(times=st.lists(st.one_of(st.floats(0, 1e9), ODD), min_size=0, max_size=20),
       size=st.one_of(st.floats(1, 9000), ODD))
def test_trace(times, size):
    arr = np.array(times, dtype=object)
    try:
        t = np.array(times, dtype=float)
    except (ValueError, TypeError):
        t = arr
    try:
        tr = traffic.Trace(t, size)
    except (ValueError, TypeError):
        return
    assert len(tr) == len(times) and np.all(np.diff(tr.times_ns) >= 0)
    if isinstance(t, np.ndarray) and t.dtype == float:
        assert t.flags.writeable
