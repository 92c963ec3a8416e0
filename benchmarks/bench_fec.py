"""FEC benchmark: photolink's C Reed-Solomon decoder and counting path against peers, one run.

1. RS(544,514) (KP4) full decoding of received words at a pre-FEC BER of 2.4e-4 (independent
   bit errors; the decoder is not told what was sent), against ``galois.ReedSolomon.decode``
   on the first words of the same set (so the same error counts). Goal: >= 1000x.
2. The counting path (stream errors -> RS symbol errors -> wrong symbols per codeword, in C)
   in Gbit/s of line bits, against the same mapping done with numpy (``np.bincount``); and the
   whole :func:`photolink.fec.simulate` (stream simulation included) for context.

Timings are wall-clock, best of a few repetitions, alternating the contenders, because the
machine is shared; ratios are what to read. (galois runs numba code, on up to all cores.) Run:  python benchmarks/bench_fec.py [--quick]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import photolink as pl
from photolink import fec
from photolink.fec import _rs


def best_of(fn, reps):
    out, best = None, float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_decode(n_words, n_galois, reps):
    code = fec.KP4
    rng = np.random.default_rng(2024)
    sent = code.encode(rng.integers(0, 1024, (n_words, code.k)))
    bits = rng.random((n_words, code.n, 10)) < 2.4e-4
    err = (bits * (1 << np.arange(10))).sum(axis=2).astype(np.uint16)
    recv = sent ^ err
    n_err = np.count_nonzero(err, axis=1)

    import galois
    gf = galois.GF(2**10, irreducible_poly="x^10+x^3+1")
    grs = galois.ReedSolomon(1023, 993, field=gf, c=0)
    g_recv = gf(recv[:n_galois].astype(np.int64))
    grs.decode(g_recv[:2], output="codeword")            # JIT warm-up

    t_pl = t_g = float("inf")
    for _ in range(reps):                                  # alternate the contenders
        dt, res = best_of(lambda: code.decode(recv), 2)
        t_pl = min(t_pl, dt)
        dt, g_out = best_of(lambda: grs.decode(g_recv, output="codeword"), 1)
        t_g = min(t_g, dt)
    ok = n_err <= code.t
    assert np.array_equal(res.codewords[ok], sent[ok]) and not res.failed[ok].any()
    assert np.array_equal(np.asarray(g_out), res.codewords[:n_galois])
    us_pl = t_pl / n_words * 1e6
    us_g = t_g / n_galois * 1e6
    print(f"RS(544,514) decode at BER 2.4e-4: mean {n_err.mean():.2f} wrong symbols/word, "
          f"{np.mean(n_err == 0):.0%} error-free")
    print(f"  photolink  {us_pl:10.2f} us/codeword  ({n_words} words)")
    print(f"  galois     {us_g:10.1f} us/codeword  ({n_galois} words, same error counts)")
    print(f"  ratio      {us_g / us_pl:10.0f} x   (goal >= 1000x; ~2.6 us/codeword)")
    return us_g / us_pl


def _numpy_count(idx, bits, bps, n, interleave, n_cw):
    j = np.arange(bps)
    rows, cols = np.nonzero((bits.astype(np.int64)[:, None] >> j) & 1)
    line = idx[rows] * bps + cols
    q = np.unique(line // 10)
    span = n * interleave
    cw = (q // span) * interleave + (q % span) % interleave
    return np.bincount(cw[cw < n_cw], minlength=n_cw)


def bench_counting(n_codewords, reps):
    code = fec.KP4
    for ber in (2.4e-4, 2e-3):
        snr = pl.PAM4.snr_db_for_ber(ber)
        n_sym = n_codewords * code.codeword_bits // 2
        r = pl.simulate_ber(pl.PAM4, snr, n_sym, seed=5, return_errors=True)
        idx = np.ascontiguousarray(r.error_index)
        bits = np.ascontiguousarray(r.error_bits)
        line_bits = n_sym * 2

        def c_path():
            q, val = _rs.symbol_errors(idx, bits, 2)
            wrong = np.zeros(n_codewords, np.uint16)
            msg = np.zeros(n_codewords, np.uint32)
            _rs.count(q, val, code.n, code.k, 2, wrong, msg)
            return wrong

        t_c = t_np = float("inf")
        for _ in range(reps):
            dt, wrong = best_of(c_path, 1)
            t_c = min(t_c, dt)
            dt, ref = best_of(lambda: _numpy_count(idx, bits, 2, code.n, 2, n_codewords), 1)
            t_np = min(t_np, dt)
        assert np.array_equal(wrong, ref)
        print(f"counting path, PAM4, BER {ber:g}, 2-way: {r.symbol_errors} symbol errors in "
              f"{line_bits / 1e6:.0f} Mbit")
        print(f"  photolink C  {line_bits / t_c / 1e9:9.1f} Gbit/s of line bits (goal >= 2)")
        print(f"  numpy        {line_bits / t_np / 1e9:9.1f} Gbit/s   ratio {t_np / t_c:.1f} x")

    n_sim = n_codewords // 4
    snr = pl.PAM4.snr_db_for_ber(2.4e-4)
    t_sim, res = best_of(lambda: fec.simulate(code, pl.PAM4, snr, n_sim, seed=6), 1)
    t_str, _ = best_of(lambda: pl.simulate_ber(pl.PAM4, snr, res.line_bits // 2, seed=6,
                                               return_errors=True), 1)
    print(f"fec.simulate end to end (stream included), KP4 at 2.4e-4: "
          f"{res.line_bits / t_sim / 1e9:.2f} Gbit/s; the stream alone {res.line_bits / t_str / 1e9:.2f} Gbit/s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a few seconds)")
    args = ap.parse_args(argv)
    if args.quick:
        bench_decode(4000, 40, 2)
        bench_counting(20000, 2)
    else:
        bench_decode(40000, 200, 3)
        bench_counting(100000, 3)


if __name__ == "__main__":
    main()
