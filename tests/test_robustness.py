"""Bad input gets a clear ValueError/TypeError naming the parameter, before any C code runs;
the C core never crashes, hangs or returns nonsense (NaN, negative counts, absurd sizes).

Two parts: property tests (hypothesis, derandomized, few examples: deterministic and fast) that
put one bad value at a time into each public entry point, and regression tests for every defect
the audit found (see the commit log of tests/test_robustness.py).
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import photolink as pl
from photolink import fec
from photolink._util import rng as _rng
from photolink.fec import _rs
from photolink.net import _path
from photolink.links import preset
from photolink.links.model import LinkModel
from photolink.net import traffic
from photolink.symbols import carrier
from photolink.symbols import coherent as co

FAST = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

#: Values no numeric, boolean or structured argument should take silently.
NASTY = [math.nan, math.inf, -math.inf, -1, -1e300, 1e300, 2**64, -(2**63), 10**15, None, "1",
         b"x", [1], [], {}, object(), np.float32("nan"), np.array([1.0, 2.0]), 1 + 1j]
nasty = st.sampled_from(NASTY)


def _numbers(x):
    """Every number in a result's to_dict(), with its key."""
    if isinstance(x, dict):
        for k, v in x.items():
            for key, n in _numbers(v):
                yield f"{k}.{key}" if key else k, n
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _numbers(v)
    elif isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        yield "", x


def _refused_or_sane(call, name, *, finite=(), nonneg=()):
    """``call()`` raises ValueError/TypeError naming ``name`` (or one of a tuple of names), or
    returns a result whose listed figures are finite and whose counts are >= 0."""
    try:
        result = call()
    except (ValueError, TypeError) as exc:
        names = (name,) if isinstance(name, str) else name
        assert any(n in str(exc) for n in names), f"the message does not name {name!r}: {exc}"
        return None
    d = result.to_dict() if hasattr(result, "to_dict") else {"value": result}
    for key, value in _numbers(d):
        if key in finite:
            assert math.isfinite(value), (key, value)
        if key in nonneg:
            assert value >= 0, (key, value)
    return result


# ---- property tests: one bad value at a time --------------------------------------------------

BER_FIGURES = dict(finite=("ber", "ser", "ber_ci_low", "ber_ci_high", "symbols", "bits"),
                   nonneg=("symbols", "bits", "symbol_errors", "bit_errors", "bursts", "ber", "ser"))


@FAST
@given(name=st.sampled_from(["fmt", "snr_db", "n_symbols", "seed", "n_threads", "return_errors",
                             "channel", "equalizer", "precode", "ideal_feedback"]), bad=nasty)
def test_simulate_ber_pam_refuses_bad_arguments(name, bad):
    kw = dict(fmt=pl.PAM4, snr_db=15.0, n_symbols=2000, seed=1)
    kw[name] = bad
    _refused_or_sane(lambda: pl.simulate_ber(**kw), name, **BER_FIGURES)


@FAST
@given(name=st.sampled_from(["snr_db", "n_symbols", "linewidth_symbol_period", "carrier_recovery",
                             "differential", "n_threads"]), bad=nasty)
def test_simulate_ber_qam_refuses_bad_arguments(name, bad):
    kw = dict(fmt=pl.DP_16QAM, snr_db=14.0, n_symbols=2000, seed=1, linewidth_symbol_period=1e-4)
    kw[name] = bad
    _refused_or_sane(lambda: pl.simulate_ber(**kw), name, **BER_FIGURES)


@FAST
@given(name=st.sampled_from(["snr_db", "method", "rel_ci", "confidence", "max_samples", "channel",
                             "equalizer", "linewidth_symbol_period", "differential"]), bad=nasty,
       fmt=st.sampled_from([pl.PAM4, pl.DP_QPSK]))
def test_estimate_ber_refuses_bad_arguments(name, bad, fmt):
    kw = dict(snr_db=12.0, seed=1, method="importance", rel_ci=0.5, max_samples=10**4)
    kw[name] = bad
    _refused_or_sane(lambda: pl.estimate_ber(fmt, **kw), name,
                     finite=("ber", "ber_ci_low", "ber_ci_high"), nonneg=("ber", "samples"))


@FAST
@given(name=st.sampled_from(["taps", "cursor"]), bad=nasty)
def test_channel_refuses_bad_taps(name, bad):
    kw = dict(taps=(0.1, 1.0, 0.3), cursor=1)
    kw[name] = bad
    _refused_or_sane(lambda: pl.Channel(**kw), (name, "cursor"))    # one tap: cursor 1 is out


@FAST
@given(name=st.sampled_from(["ffe", "ffe_cursor", "dfe"]), bad=nasty)
def test_equalizer_refuses_bad_taps(name, bad):
    kw = dict(ffe=(1.0, -0.2), ffe_cursor=0, dfe=(0.3,))
    kw[name] = bad
    _refused_or_sane(lambda: pl.Equalizer(**kw), name)


@FAST
@given(name=st.sampled_from(["channel", "n_ffe", "n_dfe", "snr_db"]), bad=nasty)
def test_equalizer_design_refuses_bad_arguments(name, bad):
    kw = dict(channel=pl.Channel((0.2, 1.0, 0.4)), n_ffe=3, n_dfe=1, snr_db=20.0)
    kw[name] = bad
    _refused_or_sane(lambda: pl.Equalizer.mmse(**kw), name)


@FAST
@given(name=st.sampled_from(["n", "k", "symbol_bits", "decode_ns"]), bad=nasty)
def test_rs_construction_refuses_bad_arguments(name, bad):
    kw = dict(n=544, k=514, symbol_bits=10, decode_ns=1.0)
    kw[name] = bad
    _refused_or_sane(lambda: fec.RS(**kw), name)


DTYPES = [np.uint8, np.uint16, np.int16, np.int32, np.int64, np.uint64, np.float64, np.bool_,
          np.complex128, "m8[ns]", object]


@FAST
@given(dtype=st.sampled_from(DTYPES), batch=st.integers(0, 3), width=st.sampled_from([0, 13, 14, 15]),
       ndim=st.sampled_from([1, 2, 3]), high=st.sampled_from([1, 1024, 1025, 2**16]),
       stride=st.sampled_from([1, 2]), seed=st.integers(0, 2**16))
def test_rs_encode_decode_any_array(dtype, batch, width, ndim, high, stride, seed):
    """Symbols must be integers in [0, 1023] of shape (k,) or (batch, k); views of any stride
    work; everything else is refused by name; what is accepted decodes back."""
    code = fec.RS(15, 11)
    rng = np.random.default_rng(seed)
    shape = {1: (width * stride,), 2: (batch, width * stride), 3: (1, batch, width * stride)}[ndim]
    base = rng.integers(0, high, shape).astype(dtype)
    msgs = base[..., ::stride]
    try:
        words = code.encode(msgs)
    except (ValueError, TypeError) as exc:
        assert "messages" in str(exc)
        return
    m = np.asarray(msgs)
    assert m.dtype.kind in "iu" and m.shape[-1] == 11 and (m.size == 0 or m.max() <= 1023)
    assert words.shape == m.shape[:-1] + (15,) and words.dtype == np.uint16
    noisy = words.copy()
    if noisy.size:
        noisy[..., 3] ^= 77
    out = code.decode(noisy, sent=words)
    np.testing.assert_array_equal(out.codewords, words)
    assert out.n_failed == 0 and out.n_miscorrected == 0


def test_rs_refuses_huge_and_ragged_batches_up_front():
    huge = np.broadcast_to(np.zeros(514, np.uint16), (10**12, 514))     # scanning it would hang
    with pytest.raises(ValueError, match="messages must hold at most"):
        fec.KP4.encode(huge)
    with pytest.raises(ValueError, match="words must hold at most"):
        fec.KP4.decode(np.broadcast_to(np.zeros(544, np.uint16), (10**7, 544)))
    with pytest.raises(TypeError, match="messages"):
        fec.KP4.encode([[1, 2], [3]])
    with pytest.raises(TypeError, match="messages"):
        fec.KP4.encode(np.zeros((1, 514), "m8[ns]"))
    with pytest.raises(ValueError, match="n_codewords"):          # 10 GB of flags
        fec.codeword_failures(fec.KP4, pl.PAM4, 16.0, 10**10, seed=1)


@FAST
@given(name=st.sampled_from(["snr_db", "n_codewords", "seed", "interleave", "mode", "n_threads",
                             "precode", "code", "fmt"]), bad=nasty)
def test_fec_simulate_refuses_bad_arguments(name, bad):
    kw = dict(code=fec.KR4, fmt=pl.PAM4, snr_db=16.5, n_codewords=50, seed=1)
    kw[name] = bad
    _refused_or_sane(lambda: fec.simulate(**kw), name,
                     finite=("cwer", "cwer_ci_low", "cwer_ci_high", "pre_fec_ber"),
                     nonneg=("codewords", "failed", "uncorrectable", "miscorrected", "line_bits"))


def _hop(cwer=1e-3, rate=100.0, codeword_bits=5140, failures=None):
    return LinkModel("h", rate, {"propagation": 10.0}, codeword_bits, cwer, 5.0, failures)


@FAST
@given(name=st.sampled_from(["name", "rate_gbps", "latency_ns", "codeword_bits", "cwer",
                             "fec_hold_ns", "codeword_failures"]), bad=nasty)
def test_link_model_refuses_bad_arguments(name, bad):
    kw = dict(name="h", rate_gbps=100.0, latency_ns={"p": 1.0}, codeword_bits=5140, cwer=1e-3,
              fec_hold_ns=1.0)
    kw[name] = bad
    if name == "name":
        return                                  # any label will do
    _refused_or_sane(lambda: LinkModel(**kw), name)


@FAST
@given(which=st.sampled_from(["switch", "llr", "e2e", "path"]), pick=st.integers(0, 2), bad=nasty)
def test_path_parts_refuse_bad_arguments(which, pick, bad):
    make, base = {
        "switch": (pl.Switch, dict(latency_ns=100.0, mode="cut-through", buffer_bytes=1e5)),
        "llr": (pl.LLR, dict(max_retries=3, replay_ns=10.0)),
        "e2e": (pl.E2E, dict(timeout_ns=1e4, max_retries=3)),
        "path": (pl.Path, dict(hops=[_hop(), pl.Switch(100), _hop()], source_buffer_bytes=1e6)),
    }[which]
    name = list(base)[pick % len(base)]
    kw = dict(base, **{name: bad})
    _refused_or_sane(lambda: make(**kw), name)


@FAST
@given(cls=st.sampled_from([traffic.Poisson, traffic.ConstantRate, traffic.OnOff]),
       name=st.sampled_from(["load", "packet_bytes", "size_distribution"]), bad=nasty)
def test_traffic_refuses_bad_arguments(cls, name, bad):
    kw = dict(load=0.5, packet_bytes=1500, size_distribution="fixed")
    kw[name] = bad
    _refused_or_sane(lambda: cls(**kw), name)


@FAST
@given(times=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=0, max_size=6),
       sizes=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                       st.lists(st.floats(-10, 1e8), min_size=0, max_size=6)))
def test_trace_accepts_only_sorted_finite_times_and_real_sizes(times, sizes):
    try:
        tr = traffic.Trace(times, sizes)
    except (ValueError, TypeError) as exc:
        assert "times_ns" in str(exc) or "sizes_bytes" in str(exc)
        return
    t, s = tr.times_ns, tr.sizes_bytes
    assert t.size and np.all(np.isfinite(t)) and np.all(np.diff(t) >= 0) and t.min() >= 0
    assert s.shape == t.shape and s.min() >= 1
    r = pl.Path([_hop(cwer=0.01)]).run(tr, len(tr), seed=1)
    assert r.delivered + r.lost == len(tr)


@FAST
@given(name=st.sampled_from(["n_packets", "seed", "mode", "recovery", "n_threads", "return_latencies",
                             "confidence", "traffic"]), bad=nasty)
def test_path_run_refuses_bad_arguments(name, bad):
    path = pl.Path([_hop(), pl.Switch(100, buffer_bytes=1e5), _hop()])
    kw = dict(traffic=traffic.Poisson(0.5, 1500), n_packets=500, seed=1)
    kw[name] = bad
    r = _refused_or_sane(lambda: path.run(**kw), name,
                         nonneg=("n_packets", "delivered", "lost", "retries", "mean_latency_ns",
                                 "min_latency_ns", "duration_ns"))
    if r is not None:
        assert r.delivered + r.lost == r.n_packets


@FAST
@given(load=st.sampled_from([1e-300, 1e-30, 1e-12, 1e-6, 0.01, 0.5, 0.99]),
       n=st.sampled_from([1, 10, 1000]),
       kind=st.sampled_from([traffic.Poisson, traffic.ConstantRate, traffic.OnOff]))
def test_path_run_refuses_runs_past_the_time_range(load, n, kind):
    """Tiny loads used to give infinite arrival times (then a hang in the kernel)."""
    tr = kind(load, 1500)
    path = pl.Path([_hop(cwer=0.01)])
    span = n * 8 * 1500 / (load * 100.0)
    if span > traffic.MAX_TIME_NS:
        with pytest.raises(ValueError, match="load"):
            path.run(tr, n, seed=1)
    else:
        r = path.run(tr, n, seed=1)
        assert r.delivered + r.lost == n and r.min_latency_ns > 0


@FAST
@given(name=st.sampled_from(["metres"]), bad=nasty)
def test_link_length_refused_by_name(name, bad):
    _refused_or_sane(lambda: preset("dac-800g").with_length(bad), "length_m")


@FAST
@given(bad=nasty)
def test_link_preset_and_report_options_refused(bad):
    with pytest.raises(ValueError, match="preset"):
        preset(bad)
    link = preset("dac-800g")
    _refused_or_sane(lambda: link.evaluate(frame_bytes=bad, reach=False), "frame_bytes")
    _refused_or_sane(lambda: link.evaluate(reach=bad), "reach")


@FAST
@given(func=st.sampled_from(["snr_from_osnr", "osnr_from_snr", "linewidth_symbol_period",
                             "phase_step_sigma", "required_osnr_db"]), pick=st.integers(0, 2), bad=nasty)
def test_coherent_helpers_refuse_bad_arguments(func, pick, bad):
    base = {
        "snr_from_osnr": dict(osnr_db=20.0, symbol_rate_gbd=60.0, ref_bw_ghz=12.5),
        "osnr_from_snr": dict(snr_db=20.0, symbol_rate_gbd=60.0, ref_bw_ghz=12.5),
        "linewidth_symbol_period": dict(combined_linewidth_khz=200.0, symbol_rate_gbd=60.0),
        "phase_step_sigma": dict(linewidth_symbol_period=1e-5),
        "required_osnr_db": dict(fmt=pl.DP_16QAM, symbol_rate_gbd=60.0, pre_fec_ber=1e-3),
    }[func]
    name = list(base)[pick % len(base)]
    kw = dict(base, **{name: bad})
    module = carrier if hasattr(carrier, func) else co
    r = _refused_or_sane(lambda: getattr(module, func)(**kw), name)
    if r is not None:
        assert np.all(np.isfinite(r))


# ---- regression tests of defects the audit found ----------------------------------------------

def test_long_idle_gaps_at_high_cwer_do_not_hang_the_path_kernel():
    """The statistical mode walked every failed codeword of an idle gap: 2e10 steps here."""
    r = pl.Path([_hop(cwer=1e-3)]).run(traffic.Trace([0.0, 1e15], 1500.0), 2, seed=1)
    assert r.delivered + r.lost == 2
    every = pl.Path([_hop(cwer=1.0, rate=1e3, codeword_bits=8), pl.Switch(1e9), _hop(cwer=0.5)])
    r = every.run(traffic.Trace(np.arange(50) * 1e6, 100.0), 50, seed=1, recovery=pl.LLR(100, 1e9))
    assert r.lost == 50 and r.llr_retries >= 50 * 100       # 100 resends each on the first link


def test_codeword_index_past_the_kernel_range_is_an_error_not_a_wrap():
    path = pl.Path([_hop(), pl.Switch(1e9), _hop(cwer=1.0, rate=1e6, codeword_bits=1)])
    with pytest.raises(ValueError, match="codeword index"):
        path.run(traffic.Poisson(0.5, 64), 50, seed=2, recovery=pl.E2E(1e15, 1000))


def test_kernel_refuses_packets_it_cannot_place():
    """Direct calls into the bridge: the C checks behind the Python ones."""
    links = pl.Path([_hop()])._kernel_links("statistical", None)
    bg = [_rng.chunk_bit_generator(np.random.SeedSequence(1), 0)]
    for times, sizes in [([0.0, math.nan], None), ([0.0, -1.0], None), ([5.0, 1.0], None),
                         ([0.0, math.inf], None), ([0.0, 1.0], [100.0, 0.0]), ([0.0, 1.0], [100.0, math.nan])]:
        k = _path.PathKernel(links, recovery="drop", max_retries=0, timeout_ns=0.0, batch_len=1,
                             batch_cap=2, raw_cap=0, bit_generators=bg)
        with pytest.raises(ValueError, match="rejected"):
            k.run(np.array(times), False, None if sizes is None else np.array(sizes), 100.0, bg, True)
    k = _path.PathKernel(links, recovery="drop", max_retries=0, timeout_ns=0.0, batch_len=1,
                         batch_cap=2, raw_cap=0, bit_generators=bg)
    with pytest.raises(IndexError):
        k.exact_state(1)                      # read past the link array (a segfault) before
    bad = dict(links[0], fixed_ns=math.nan)
    with pytest.raises(ValueError, match="rejected its configuration"):
        _path.PathKernel([bad], recovery="drop", max_retries=0, timeout_ns=0.0, batch_len=1,
                         batch_cap=2, raw_cap=0, bit_generators=bg)


def test_e2e_exact_mode_with_variable_sizes_drains_after_a_refill():
    """A refill during the final drain left the next kernel call without sizes (EINVAL)."""
    r = pl.Path([_hop(cwer=0.05)]).run(traffic.Poisson(0.5, 1500, "exponential"), 4766, seed=1,
                                       recovery="e2e", mode="exact")
    assert r.delivered + r.lost == 4766 and r.e2e_retransmissions > 0


def test_exact_mode_refuses_packets_needing_absurd_outcome_counts():
    path = pl.Path([_hop(cwer=0.01, rate=1e6, codeword_bits=1)])
    with pytest.raises(ValueError, match="exact mode"):
        path.run(traffic.Poisson(0.5, 1e6), 3, seed=1, mode="exact", recovery=pl.LLR(1000, 1.0))


def test_extreme_taps_are_refused_not_simulated_into_nan():
    """A cursor of 1e-320 made 1/gain infinite: BER 0.25 where the truth is 3e-6."""
    with pytest.raises(ValueError, match="taps"):
        pl.Channel((1e300, 0.1))
    with pytest.raises(ValueError, match="main cursor"):
        pl.simulate_ber(pl.PAM4, 20.0, 1000, seed=1, channel=pl.Channel((1e-160,)),
                        equalizer=pl.Equalizer(ffe=(1e-160,)))
    tiny = pl.simulate_ber(pl.PAM4, 17.0, 10**5, seed=1, channel=pl.Channel((1e-90,)),
                           equalizer=pl.Equalizer(ffe=(1e-90,)))
    ref = pl.simulate_ber(pl.PAM4, 17.0, 10**5, seed=1, channel=pl.Channel((1.0,)),
                          equalizer=pl.Equalizer(ffe=(1.0,)))
    assert tiny.ci[0] <= pl.PAM4.ber_awgn(17.0) <= tiny.ci[1]
    assert abs(tiny.bit_errors - ref.bit_errors) < 5 * math.sqrt(ref.bit_errors)


def test_symbol_error_mapping_refuses_what_it_cannot_place():
    ok = _rs.symbol_errors(np.array([1, 2], np.int64), np.array([3, 1], np.uint16), 2)
    assert ok[0].tolist() == [0] and ok[1].tolist() == [0b11100]
    for idx, bits in [([2**62], [1]), ([1], [0b100]), ([-1], [1]), ([5, 3], [1, 1])]:
        with pytest.raises(ValueError, match="rejected"):
            _rs.symbol_errors(np.array(idx, np.int64), np.array(bits, np.uint16), 2)


def test_phase_noise_penalty_uses_one_seed_for_every_snr():
    """seed=None or a Generator gave every SNR fresh entropy (intervals down to -60 dB)."""
    kw = dict(n_symbols=20_000)
    a = co.phase_noise_penalty(pl.DP_QPSK, 1e-4, 1e-2, seed=np.random.default_rng(5), **kw)
    b = co.phase_noise_penalty(pl.DP_QPSK, 1e-4, 1e-2,
                               seed=_rng.seed_sequence(np.random.default_rng(5)), **kw)
    assert a.to_dict() == b.to_dict()
    lo, hi = a.penalty_ci_db
    assert -0.5 < lo <= a.penalty_db <= hi < 2.0


def test_unhashable_and_array_choices_are_named():
    with pytest.raises(ValueError, match="mode"):
        pl.Switch(mode=["cut-through"])
    with pytest.raises(ValueError, match="method"):
        pl.estimate_ber(pl.PAM4, 10.0, method=np.array(["importance"]))
    with pytest.raises(ValueError, match="linewidth_symbol_period"):
        pl.simulate_ber(pl.PAM4, 10.0, 100, seed=1, linewidth_symbol_period=np.array([1e-4, 2e-4]))
    with pytest.raises(TypeError, match="ber"):
        fec.KP4.cwer_from_ber("1e-4")


# -- issue 16, item 11: memory inside documented limits ----------------------------------------
def test_result_sizes_are_checked_before_work_starts():
    import time
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"could need 9\.31 GiB .* the cap is 2 GiB") as exc:
        pl.simulate_ber(pl.QAM(256, 2), -30.0, 10**9, seed=1, return_errors=True)
    assert "SymbolStream.run" in str(exc.value)
    with pytest.raises(ValueError, match=r"needs 7\.45 GiB .* the cap is 2 GiB"):
        pl.Path([LinkModel.ideal(100)]).run(traffic.Poisson(0.5, 1500), 10**9, seed=1,
                                            return_latencies=True)
    assert time.perf_counter() - t0 < 1.0                     # refused, not attempted
    # the same sizes without the options are fine (memory stays constant)
    pl.Path([LinkModel.ideal(100)]).run(traffic.Poisson(0.5, 1500), 1000, seed=1)


def test_error_records_are_not_doubled_by_a_final_copy():
    """1e8 PAM4 symbols at -30 dB peaked at 1.5 GB: twice the records (the final concatenate).
    numpy reports its buffers to tracemalloc, so the peak is measured exactly."""
    import tracemalloc
    st = pl.SymbolStream(pl.PAM4, -30.0, seed=1)
    st.run(1 << 20, return_errors=True)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        r = st.run(10_000_000, return_errors=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    ratio = (peak - before) / (r.error_index.nbytes + r.error_bits.nbytes)
    assert ratio < 1.4, f"peak memory {ratio:.2f}x the error records"


def test_error_records_grown_in_place_are_the_same():
    a = pl.simulate_ber(pl.PAM4, 0.0, 3 * 2**20 + 17, seed=4, return_errors=True)
    st = pl.SymbolStream(pl.PAM4, 0.0, seed=4)
    parts = [st.run(n, return_errors=True) for n in (1000, 2**21, 2**20 + 17 - 1000)]
    assert sum(p.symbols for p in parts) == a.symbols
    np.testing.assert_array_equal(np.concatenate([p.error_index for p in parts]), a.error_index)
    np.testing.assert_array_equal(np.concatenate([p.error_bits for p in parts]), a.error_bits)


def test_raw_percentiles_are_exact_without_a_copy():
    from photolink.net.path import _nearest_rank, _raw_percentiles
    rng = np.random.default_rng(3)
    for raw in (rng.exponential(100.0, 10_001), np.repeat([5.0, 7.0, 9.0], 333), np.array([3.0])):
        qs = [0, 1, 50, 99, 99.9, 100]
        exact = [float(np.sort(raw)[_nearest_rank(q, raw.size) - 1]) for q in qs]
        good = [float(np.sort(raw)[_nearest_rank(q, raw.size) - 1]) * (1 + 1e-4) for q in qs]
        bad = [1e9, -1.0, np.nan, 0.0, 1.0, 2.0]
        assert _raw_percentiles(raw, qs) == exact
        assert _raw_percentiles(raw, qs, good) == exact
        assert _raw_percentiles(raw, qs, bad) == exact
    r = pl.Path([LinkModel.ideal(100), pl.Switch(100), LinkModel.ideal(100)]).run(
        traffic.Poisson(0.8, 1500), 20_000, seed=2, return_latencies=True)
    lat = np.sort(r.latencies_ns)
    for q, key in ((50, "p50"), (99, "p99"), (99.9, "p99.9")):
        assert r.latency_percentiles_ns[key] == lat[_nearest_rank(q, lat.size) - 1]
        assert r.percentile(q) == lat[_nearest_rank(q, lat.size) - 1]


def test_trace_leaves_the_callers_arrays_writable():
    t, s = np.arange(10.0), np.full(10, 1500.0)
    tr = traffic.Trace(t, s)
    assert t.flags.writeable and s.flags.writeable
    t[0] = 99.0                                               # the trace kept its own copy
    assert tr.times_ns[0] == 0.0 and not tr.times_ns.flags.writeable
