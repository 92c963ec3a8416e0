"""Coherent QAM: closed forms, the C stream against them and against a numpy re-implementation."""
import math

import numpy as np
import pytest
from scipy import integrate, special

import photolink as pl
from photolink._util import rng as _rng
from photolink._util.stats import clopper_pearson
from photolink.symbols.coherent import CarrierRecovery
from photolink.symbols.formats import QUADRANT_OF_SIGNS, SIGNS_OF_QUADRANT

FORMATS = [pl.DP_QPSK, pl.DP_16QAM, pl.DP_64QAM]


def q(x):
    return 0.5 * special.erfc(x / math.sqrt(2))


# ---------------------------------------------------------------- closed forms


def test_qpsk_ber_is_q_of_sqrt_snr():
    snr_db = np.array([0.0, 4.0, 8.0, 12.0, 14.0])
    expected = q(np.sqrt(10 ** (snr_db / 10)))
    np.testing.assert_allclose(pl.QPSK.ber_awgn(snr_db), expected, rtol=1e-12)
    np.testing.assert_allclose(pl.DP_QPSK.ber_awgn(snr_db), expected, rtol=1e-12)


def _integrated_rates(fmt, snr_db):
    """BER and per-polarisation SER by numerical integration of the Gaussian density over each
    decision interval of each rail (scipy quad), labels read off ``fmt.constellation``."""
    L = fmt.rail.M
    sigma = math.sqrt(fmt.mean_power / 2 / 10 ** (snr_db / 10))
    edges = [-math.inf] + [2.0 * k for k in range(-L // 2 + 1, L // 2)] + [math.inf]
    levels = np.arange(-(L - 1), L, 2)
    pdf = lambda x, mu: math.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))  # noqa: E731
    p = np.array([[integrate.quad(pdf, edges[j], edges[j + 1], args=(mu,), epsabs=1e-15, epsrel=1e-12)[0]
                   for j in range(L)] for mu in levels])
    pts = fmt.constellation
    label_of = {(int(round(z.real)), int(round(z.imag))): lab for lab, z in enumerate(pts)}
    index = {int(lv): i for i, lv in enumerate(levels)}
    bit_err = sym_ok = 0.0
    for (xi, xq), lab in label_of.items():
        for (yi, yq), lab2 in label_of.items():
            pr = p[index[xi], index[yi]] * p[index[xq], index[yq]] / fmt.M
            bit_err += pr * bin(lab ^ lab2).count("1")
            if lab == lab2:
                sym_ok += pr
    return bit_err / math.log2(fmt.M), 1 - sym_ok


@pytest.mark.parametrize("fmt,snr_db", [(pl.QAM(16, 1), 12.0), (pl.QAM(16, 1), 17.0), (pl.QAM(64, 1), 20.0),
                                        (pl.QAM(4, 1), 6.0)])
def test_closed_forms_match_numerical_integration(fmt, snr_db):
    ber, ser = _integrated_rates(fmt, snr_db)
    assert fmt.ber_awgn(snr_db) == pytest.approx(ber, rel=1e-8)
    assert fmt.ser_awgn(snr_db) == pytest.approx(ser, rel=1e-8)
    dp = pl.QAM(fmt.M, 2)
    assert dp.ser_awgn(snr_db, per_polarization=True) == pytest.approx(ser, rel=1e-8)
    assert dp.ser_awgn(snr_db) == pytest.approx(1 - (1 - ser) ** 2, rel=1e-8)


def test_constellation_power_and_gray_neighbours():
    for fmt in (pl.QPSK, pl.QAM(16), pl.QAM(64), pl.QAM(256)):
        pts = fmt.constellation
        assert np.mean(np.abs(pts) ** 2) == pytest.approx(fmt.mean_power)
        # nearest neighbours (distance 2) differ in exactly one bit: Gray in both rails
        d = np.abs(pts[:, None] - pts[None, :])
        ham = np.vectorize(lambda a: bin(int(a)).count("1"))(np.arange(fmt.M)[:, None] ^ np.arange(fmt.M)[None, :])
        assert np.all(ham[np.isclose(d, 2.0)] == 1)
        # the MSB of each rail label is its sign bit
        b = fmt.bits_per_rail
        labels = np.arange(fmt.M)
        assert np.all(((labels >> (2 * b - 1)) & 1) == (pts.real > 0))
        assert np.all(((labels >> (b - 1)) & 1) == (pts.imag > 0))


def test_differential_qpsk_closed_form():
    """Quadrant-differential Gray QPSK: BER = 2p(1 - p), p = Q(sqrt SNR) (Simon & Alouini)."""
    snr_db = np.array([3.0, 7.0, 10.0, 13.0])
    p = q(np.sqrt(10 ** (snr_db / 10)))
    np.testing.assert_allclose(pl.QPSK.ber_awgn(snr_db, differential=True), 2 * p * (1 - p), rtol=1e-10)


def test_snr_for_ber_inverts():
    for fmt in FORMATS:
        for ber in (1e-2, 1e-3, 1e-6):
            assert fmt.ber_awgn(fmt.snr_db_for_ber(ber)) == pytest.approx(ber, rel=1e-8)
            s = fmt.snr_db_for_ber(ber, differential=True)
            assert fmt.ber_awgn(s, differential=True) == pytest.approx(ber, rel=1e-8)
            assert s > fmt.snr_db_for_ber(ber)


# ---------------------------------------------------------------- Monte Carlo vs closed form


@pytest.mark.parametrize("fmt,snrs", [(pl.DP_QPSK, (6.0, 9.0, 11.0)), (pl.DP_16QAM, (13.0, 16.0, 18.0)),
                                      (pl.DP_64QAM, (19.0, 22.0, 24.0))])
def test_awgn_monte_carlo_within_ci(fmt, snrs):
    for i, snr in enumerate(snrs):
        r = pl.simulate_ber(fmt, snr, 400_000, seed=10 + i)
        assert r.symbols == 400_000 and r.bits == 400_000 * fmt.bits_per_symbol
        lo, hi = clopper_pearson(r.bit_errors, r.bits, 0.99)
        assert lo <= fmt.ber_awgn(snr) <= hi, (snr, r.ber, fmt.ber_awgn(snr))
        # ser counts dual-polarisation symbols, as fmt.ser_awgn does
        lo, hi = clopper_pearson(r.symbol_errors, r.symbols, 0.99)
        assert lo <= fmt.ser_awgn(snr) <= hi, (snr, r.ser, fmt.ser_awgn(snr))
        assert r.cycle_slips == 0
        # every errored run is counted once in the burst histogram
        assert np.arange(1, 65) @ r.burst_hist == r.symbol_errors


@pytest.mark.parametrize("fmt,snr", [(pl.DP_QPSK, 8.0), (pl.DP_16QAM, 15.0), (pl.QAM(64, 1), 21.0)])
def test_differential_monte_carlo_within_ci(fmt, snr):
    r = pl.simulate_ber(fmt, snr, 300_000, seed=3, differential=True)
    lo, hi = clopper_pearson(r.bit_errors, r.bits, 0.99)
    assert lo <= fmt.ber_awgn(snr, differential=True) <= hi
    assert not lo <= fmt.ber_awgn(snr) <= hi        # the coding costs something measurable


def test_error_bits_follow_documented_order():
    """Per bit position, errors match the exact rates of a Gray 4-PAM rail: the sign bit (MSB)
    of each rail errs about half as often as its LSB, in every one of the 4 rail fields."""
    fmt, snr = pl.DP_16QAM, 13.0
    r = pl.simulate_ber(fmt, snr, 300_000, seed=5, return_errors=True)
    assert r.error_index.dtype == np.int64 and r.error_bits.dtype == np.uint16
    assert np.all(np.diff(r.error_index) > 0) and r.error_index.size == r.symbol_errors
    assert int(np.unpackbits(r.error_bits.view(np.uint8)).sum()) == r.bit_errors
    rail = fmt.rail
    from photolink.symbols.formats import _pam_transition_probs, gray
    p = _pam_transition_probs(rail.M, np.array(fmt.noise_sigma(snr)))
    g = gray(np.arange(rail.M))
    x = g[:, None] ^ g[None, :]
    for bit in range(8):
        k = bit % 2                                   # position inside the rail label (0 = LSB)
        expected = (p * ((x >> k) & 1)).sum() / rail.M * r.symbols
        observed = int(((r.error_bits >> bit) & 1).sum())
        lo, hi = clopper_pearson(observed, r.symbols, 0.999)       # 8 comparisons
        assert lo * r.symbols <= expected <= hi * r.symbols, (bit, observed, expected)


# ---------------------------------------------------------------- numpy re-implementation


def _reference_awgn(fmt, snr_db, n, bitgen):
    """The fast path's draws: per block of 1024 rail samples, the normals, then 64-bit words
    cut into b-bit level indices; per symbol the XOR of sent and decided labels."""
    L, b, rails = fmt.rail.M, fmt.bits_per_rail, 2 * fmt.polarizations
    gen = np.random.Generator(bitgen)
    sigma = fmt.noise_sigma(snr_db)
    per_block, per_word = 1024 // rails, 64 // b
    g = np.arange(L) ^ (np.arange(L) >> 1)
    out = []
    for k0 in range(0, n, per_block):
        ns = per_block                      # blocks are whole: the chunk is much longer than n
        noise = gen.standard_normal(ns * rails)
        words = [int(w) for w in bitgen.random_raw((ns * rails + per_word - 1) // per_word, output=True)]
        sym = np.array([(words[i // per_word] >> (b * (i % per_word))) & (L - 1) for i in range(ns * rails)])
        # (2 sym - top + sigma n + L) / 2 = sym + 1/2 + sigma n / 2, rounded as the kernel does
        dec = np.clip((sym + 0.5) + (0.5 * sigma) * noise, 0, L - 1).astype(int)
        xr = (g[dec] ^ g[sym]).reshape(ns, rails)
        out.append(sum(xr[:, r] << (b * (rails - 1 - r)) for r in range(rails)))
    return np.concatenate(out)[:n]


def _rotate(i, qd, k, top):
    for _ in range(k % 4):
        i, qd = top - qd, i
    return i, qd


def _reference_general(fmt, snr_db, n, bitgen, lw, cr, differential, lookahead):
    """The general path, symbol by symbol in Python: returns per-symbol XOR labels and slips."""
    L, b, pol = fmt.rail.M, fmt.bits_per_rail, fmt.polarizations
    top = L - 1
    gen = np.random.Generator(bitgen)
    sigma, step = fmt.noise_sigma(snr_db), math.sqrt(2 * math.pi * lw)
    g = [i ^ (i >> 1) for i in range(L)]
    ginv = {v: i for i, v in enumerate(g)}
    normals, pool = [], [0, 0]

    def normal():
        if not normals:
            normals.extend(gen.standard_normal(1024)[::-1])
        return normals.pop()

    def bits(k):
        if pool[1] < k:
            pool[0], pool[1] = int(bitgen.random_raw()), 64
        v = pool[0] & ((1 << k) - 1)
        pool[0] >>= k
        pool[1] -= k
        return v

    total = n + lookahead
    theta = math.pi * (2 * gen.random() - 1) if cr else 0.0
    thetas, rx, lab = np.zeros(total), np.zeros((pol, total), complex), np.zeros((pol, total), int)
    txq = [0] * pol
    inner = (L // 2) - 1
    for k in range(total):
        if k > 0 and step > 0:
            theta += step * normal()
        thetas[k] = theta
        for p in range(pol):
            ui, uq = bits(b), bits(b)
            if differential:
                txq[p] = (txq[p] + QUADRANT_OF_SIGNS[2 * (ui >> (b - 1)) + (uq >> (b - 1))]) % 4
                i, qd = _rotate(ginv[(1 << (b - 1)) | (ui & inner)], ginv[(1 << (b - 1)) | (uq & inner)], txq[p], top)
            else:
                i, qd = ginv[ui], ginv[uq]
            s = complex(2 * i - top, 2 * qd - top) * complex(math.cos(theta), math.sin(theta))
            re = s.real + sigma * normal()
            im = s.imag + sigma * normal()
            rx[p, k] = complex(re, im)
            lab[p, k] = (ui << b) | uq
    half = cr.window // 2 if cr else 0
    xor = np.zeros(n, int)
    slips = 0
    if cr and cr.method == "blind-phase-search":
        B = cr.test_phases
        phis = (np.arange(B) / B - 0.5) * (math.pi / 2)
    for p in range(pol):
        r = rx[p]
        if cr and cr.method == "blind-phase-search":
            y = r[:, None] * np.exp(-1j * phis)[None, :]
            d = lambda v: 2 * np.clip(np.floor((v + L) / 2), 0, top) - top  # noqa: E731
            metric = (y.real - d(y.real)) ** 2 + (y.imag - d(y.imag)) ** 2
        elif cr:
            metric = r ** 4
        u = math.floor(0.5 + thetas[0] / (math.pi / 2))      # the genie start: the true phase
        raw_prev = thetas[0] - (math.pi / 2) * u
        slip_q, rxq = 0, 0
        for k in range(n):
            z = r[k]
            if cr:
                w = metric[max(0, k - half):k + half + 1].sum(axis=0)
                raw = float(np.angle(-w)) / 4 if cr.method == "viterbi-viterbi" else float(phis[int(np.argmin(w))])
                u += math.floor(0.5 + (raw_prev - raw) / (math.pi / 2))
                raw_prev = raw
                z = z * complex(math.cos(raw), -math.sin(raw))
                quad = math.floor(0.5 + (raw + u * math.pi / 2 - thetas[k]) / (math.pi / 2))
                if quad != slip_q:
                    slips += 1
                    slip_q = quad
            di = int(min(max((z.real + L) // 2, 0), top))
            dq = int(min(max((z.imag + L) // 2, 0), top))
            if cr:
                di, dq = _rotate(di, dq, -u, top)
            if differential:
                quad = QUADRANT_OF_SIGNS[2 * (g[di] >> (b - 1)) + (g[dq] >> (b - 1))]
                fi, fq = _rotate(di, dq, -quad, top)
                signs = SIGNS_OF_QUADRANT[(quad - rxq) % 4]
                rxq = quad
                label = ((((signs >> 1) << (b - 1)) | (g[fi] & inner)) << b) | (((signs & 1) << (b - 1)) | (g[fq] & inner))
            else:
                label = (g[di] << b) | g[dq]
            xor[k] = (xor[k] << (2 * b)) | (label ^ int(lab[p, k]))
    return xor, slips


def _errors_as_array(r, n):
    out = np.zeros(n, int)
    out[r.error_index] = r.error_bits
    return out


@pytest.mark.parametrize("fmt,snr", [(pl.DP_QPSK, 7.0), (pl.QAM(16, 1), 12.0), (pl.DP_64QAM, 18.0)])
def test_fast_path_matches_numpy_reimplementation(fmt, snr):
    n = 3000
    r = pl.simulate_ber(fmt, snr, n, seed=21, return_errors=True)
    ref = _reference_awgn(fmt, snr, n, _rng.chunk_bit_generator(_rng.seed_sequence(21), 0))
    assert np.count_nonzero(ref) > 50
    np.testing.assert_array_equal(_errors_as_array(r, n), ref)


@pytest.mark.parametrize("fmt,snr,lw,cr,diff", [
    (pl.DP_16QAM, 15.0, 0.0, None, True),
    (pl.DP_QPSK, 8.0, 3e-4, CarrierRecovery("viterbi-viterbi", 11), False),
    (pl.DP_QPSK, 8.0, 3e-4, CarrierRecovery("viterbi-viterbi", 11), True),
    (pl.DP_16QAM, 13.0, 4e-4, CarrierRecovery("blind-phase-search", 9, 16), False),
    (pl.QAM(16, 1), 14.0, 4e-4, CarrierRecovery("blind-phase-search", 7, 16), True),
    (pl.QAM(64, 1), 21.0, 1e-4, CarrierRecovery("blind-phase-search", 11, 32), True),
])
def test_general_path_matches_numpy_reimplementation(fmt, snr, lw, cr, diff):
    n = 2500
    r = pl.simulate_ber(fmt, snr, n, seed=8, linewidth_symbol_period=lw, carrier_recovery=cr,
                        differential=diff, return_errors=True)
    ref, slips = _reference_general(fmt, snr, n, _rng.chunk_bit_generator(_rng.seed_sequence(8), 0),
                                    lw, cr, diff, cr.window // 2 if cr else 0)
    assert np.count_nonzero(ref) > 20
    np.testing.assert_array_equal(_errors_as_array(r, n), ref)
    assert r.cycle_slips == slips


# ---------------------------------------------------------------- streams, seeds, slips


@pytest.mark.parametrize("options", [
    {}, {"differential": True},
    {"linewidth_symbol_period": 2e-4, "carrier_recovery": CarrierRecovery("blind-phase-search", 15, 16)},
    {"linewidth_symbol_period": 2e-4, "differential": True},
])
def test_reproducible_across_threads_and_splits(options, assert_same_ber):
    options = dict(options, _chunk_symbols=5000)                # many chunks, small run
    n = 23_456
    whole = pl.simulate_ber(pl.DP_16QAM, 14.0, n, seed=99, return_errors=True, **options)
    threaded = pl.simulate_ber(pl.DP_16QAM, 14.0, n, seed=99, return_errors=True, n_threads=3, **options)
    assert_same_ber(whole, threaded)
    s = pl.SymbolStream(pl.DP_16QAM, 14.0, seed=99, **options)
    parts = s.run(1, return_errors=True)
    for k in (700, 4299, 9000, n - 1 - 700 - 4299 - 9000):   # splits inside blocks and chunks
        parts = parts + s.run(k, return_errors=True)
    assert_same_ber(whole, parts)
    assert whole.symbol_errors > 100
    other = pl.simulate_ber(pl.DP_16QAM, 14.0, n, seed=100, **options)
    assert other.bit_errors != whole.bit_errors


def test_differential_coding_limits_cycle_slip_damage():
    kw = dict(linewidth_symbol_period=1e-3, carrier_recovery=CarrierRecovery("blind-phase-search", 15, 32))
    plain = pl.simulate_ber(pl.DP_16QAM, 20.0, 200_000, seed=4, **kw)
    diff = pl.simulate_ber(pl.DP_16QAM, 20.0, 200_000, seed=4, differential=True, **kw)
    assert plain.cycle_slips > 0 and diff.cycle_slips > 0
    assert plain.ber > 0.05                 # a slip rotates everything up to the next one
    assert diff.ber < plain.ber / 10
    assert diff.mean_burst_length < 3


def test_zero_linewidth_default_recovery_and_no_slips():
    r = pl.simulate_ber(pl.DP_16QAM, 18.0, 100_000, seed=2, carrier_recovery=CarrierRecovery())
    assert r.cycle_slips == 0
    assert r.ber < 3 * pl.DP_16QAM.ber_awgn(18.0)
    s = pl.SymbolStream(pl.DP_QPSK, 10.0, seed=1, linewidth_symbol_period=1e-4)
    assert s.carrier_recovery == CarrierRecovery.for_format(pl.DP_QPSK)


def test_estimate_ber_accepts_qam():
    fmt, snr = pl.DP_16QAM, 18.0
    exact = fmt.ber_awgn(snr)
    eye = pl.estimate_ber(fmt, snr, method="statistical-eye")
    assert isinstance(eye, pl.BerEstimate) and eye.format == "DP-16QAM"
    assert eye.ber == pytest.approx(exact, rel=1e-9)
    imp = pl.estimate_ber(fmt, snr, seed=1, method="importance", rel_ci=0.05)
    assert imp.ci[0] <= exact <= imp.ci[1]
    mc = pl.estimate_ber(fmt, 16.0, seed=1, method="montecarlo", rel_ci=0.1, max_samples=10**6)
    assert mc.ci[0] <= fmt.ber_awgn(16.0) <= mc.ci[1]
    d = pl.estimate_ber(pl.DP_QPSK, 8.0, seed=1, method="montecarlo", differential=True, rel_ci=0.1)
    assert d.ci[0] <= pl.DP_QPSK.ber_awgn(8.0, differential=True) <= d.ci[1]


def test_result_dict_and_merge():
    a = pl.SymbolStream(pl.DP_QPSK, 7.0, seed=1)
    r = a.run(1000) + a.run(1000)
    d = r.to_dict()
    assert d["format"] == "DP-QPSK" and d["symbols"] == 2000 and d["cycle_slips"] == 0
    assert d["bits"] == 8000
    assert pl.simulate_ber(pl.PAM4, 17.0, 1000, seed=1).cycle_slips is None


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("m", [2, 8, 32, 128, 512])
def test_non_square_m_rejected(m):
    with pytest.raises(ValueError, match="M must be"):
        pl.QAM(m)


@pytest.mark.parametrize("pol,exc", [(0, ValueError), (3, ValueError), (1.5, TypeError), (True, TypeError)])
def test_polarizations_rejected(pol, exc):
    with pytest.raises(exc, match="polarizations"):
        pl.QAM(16, polarizations=pol)


def test_bad_stream_options_rejected():
    with pytest.raises(ValueError, match="linewidth_symbol_period.*-1e-05"):
        pl.simulate_ber(pl.DP_16QAM, 15.0, 100, seed=1, linewidth_symbol_period=-1e-5)
    with pytest.raises(ValueError, match="linewidth_symbol_period"):
        pl.simulate_ber(pl.DP_16QAM, 15.0, 100, seed=1, linewidth_symbol_period=float("nan"))
    with pytest.raises(ValueError, match="viterbi-viterbi"):
        pl.simulate_ber(pl.DP_16QAM, 15.0, 100, seed=1, carrier_recovery=CarrierRecovery("viterbi-viterbi"))
    with pytest.raises(ValueError, match="channel applies to PAM"):
        pl.simulate_ber(pl.DP_16QAM, 15.0, 100, seed=1, channel=pl.Channel((0.1, 1.0)))
    with pytest.raises(ValueError, match="QAM formats only"):
        pl.simulate_ber(pl.PAM4, 15.0, 100, seed=1, differential=True)
    with pytest.raises(TypeError, match="carrier_recovery"):
        pl.simulate_ber(pl.DP_16QAM, 15.0, 100, seed=1, carrier_recovery="bps")
    with pytest.raises(ValueError, match="montecarlo"):
        pl.estimate_ber(pl.DP_16QAM, 15.0, linewidth_symbol_period=1e-4)
    with pytest.raises(ValueError, match="snr_db"):
        pl.simulate_ber(pl.DP_16QAM, float("nan"), 100, seed=1)
