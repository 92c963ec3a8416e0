"""FEC benchmark: photolink's C Reed-Solomon decoder and counting path against peers, one run.

1. RS(544,514) (KP4) full decoding of received words at a pre-FEC BER of 2.4e-4 (independent
   bit errors; the decoder is not told what was sent), against ``galois.ReedSolomon.decode``
   on the first words of the same set (so the same error counts). Goal: >= 1000x.
2. The counting path (stream errors -> RS symbol errors -> wrong symbols per codeword, in C)
   in Gbit/s of line bits, against the same mapping done with numpy (``np.bincount``); and the
   whole :func:`photolink.fec.simulate` (stream simulation included) for context.

Timings are wall-clock, best of a few repetitions, because the machine is shared; ratios are
what to read. (galois runs numba code, on up to all cores.)

    pytest benchmarks/bench_fec.py --benchmark-only [--check-targets] [--bench-quick]
"""
from __future__ import annotations

import sys

import numpy as np
import pytest
from _bench import best_seconds, peer, photolink_seconds, record

import photolink as pl
from photolink import fec
from photolink.fec import _rs


def received_words(n_words):
    """KP4 codewords with independent bit errors at BER 2.4e-4 (sent, received, wrong symbols)."""
    code = fec.KP4
    rng = np.random.default_rng(2024)
    sent = code.encode(rng.integers(0, 1024, (n_words, code.k)))
    bits = rng.random((n_words, code.n, 10)) < 2.4e-4
    err = (bits * (1 << np.arange(10))).sum(axis=2).astype(np.uint16)
    return sent, sent ^ err, np.count_nonzero(err, axis=1)


def test_kp4_decode_vs_galois(benchmark, request, quick):
    """Full decoding (not told what was sent); galois on the first words of the same set."""
    galois = peer("galois")
    code = fec.KP4
    n_words, n_galois = (4000, 40) if quick else (40000, 200)
    sent, recv, n_err = received_words(n_words)
    t_pl = photolink_seconds(benchmark, lambda: code.decode(recv), 3)
    res = code.decode(recv)
    ok = n_err <= code.t
    assert np.array_equal(res.codewords[ok], sent[ok]) and not res.failed[ok].any()
    gf = galois.GF(2**10, irreducible_poly="x^10+x^3+1")
    grs = galois.ReedSolomon(1023, 993, field=gf, c=0)         # KP4 is its shortened form
    g_recv = gf(recv[:n_galois].astype(np.int64))
    t_g = best_seconds(lambda: grs.decode(g_recv, output="codeword"), 1)   # warm-up = JIT
    assert np.array_equal(np.asarray(grs.decode(g_recv, output="codeword")), res.codewords[:n_galois])
    us_pl, us_g = t_pl / n_words * 1e6, t_g / n_galois * 1e6
    record(request, benchmark, photolink_rate=1 / us_pl, peer_rate=1 / us_g, unit="M codewords/s",
           target=1000.0, peer_name="galois.ReedSolomon.decode", photolink_us_per_codeword=us_pl,
           peer_us_per_codeword=us_g)


def _numpy_count(idx, bits, bps, n, interleave, n_cw):
    j = np.arange(bps)
    rows, cols = np.nonzero((bits.astype(np.int64)[:, None] >> j) & 1)
    line = idx[rows] * bps + cols
    q = np.unique(line // 10)
    span = n * interleave
    cw = (q // span) * interleave + (q % span) % interleave
    return np.bincount(cw[cw < n_cw], minlength=n_cw)


@pytest.mark.parametrize("ber", [2.4e-4, 2e-3])
def test_counting_path_vs_numpy(benchmark, request, quick, ber):
    """Stream error positions -> wrong RS symbols per codeword, 2-way interleave, in Gbit/s of
    line bits; target >= 2 Gbit/s (the ratio to numpy is for scale)."""
    code = fec.KP4
    n_codewords = 20000 if quick else 100000
    n_sym = n_codewords * code.codeword_bits // 2
    r = pl.simulate_ber(pl.PAM4, pl.PAM4.snr_db_for_ber(ber), n_sym, seed=5, return_errors=True)
    idx = np.ascontiguousarray(r.error_index)
    bits = np.ascontiguousarray(r.error_bits)
    line_gbit = n_sym * 2 / 1e9

    def c_path():
        q, val = _rs.symbol_errors(idx, bits, 2)
        wrong = np.zeros(n_codewords, np.uint16)
        msg = np.zeros(n_codewords, np.uint32)
        _rs.count(q, val, code.n, code.k, 2, wrong, msg)
        return wrong

    t_c = photolink_seconds(benchmark, c_path, 3)
    assert np.array_equal(c_path(), _numpy_count(idx, bits, 2, code.n, 2, n_codewords))
    t_np = best_seconds(lambda: _numpy_count(idx, bits, 2, code.n, 2, n_codewords), 2)
    record(request, benchmark, photolink_rate=line_gbit / t_c, peer_rate=line_gbit / t_np,
           unit="Gbit/s of line bits", target=None, peer_name="numpy (np.unique + np.bincount)",
           meets_2_gbit_s=line_gbit / t_c >= 2)
    if request.config.getoption("--check-targets") and line_gbit / t_c < 2:
        pytest.fail(f"counting path {line_gbit / t_c:.2f} Gbit/s < 2 Gbit/s", pytrace=False)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "--benchmark-only", *sys.argv[1:]]))
