"""Benchmark of the PAM stream engine (issue 2): ratios against peers measured in the same run.

Run:  python benchmarks/bench_stream.py [--quick] [--memory]

Targets: PAM4 over AWGN on one thread >= 90 % of numpy's Generator.standard_normal fill
rate, >= 2x komm, >= 4x OptiCommPy; two threads >= 1.7x one; importance sampling of a BER
~1e-12 to +-10 % (95 %) in < 2 s; a 1e9-symbol run under 100 MB peak (--memory).
Each peer does the same job: random bits -> Gray PAM4 symbols -> AWGN -> hard decision ->
bit errors counted.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np

import photolink as pl

SNR_DB = 17.0          # BER ~6e-4: a pre-FEC operating point
BLOCK = 1 << 20


def best_rate(job, n_items, repeats):
    """Items per second of the fastest of ``repeats`` runs of ``job()`` (after one warm-up)."""
    job()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        job()
        best = min(best, time.perf_counter() - t0)
    return n_items / best


def numpy_fill(bit_generator):
    gen = np.random.Generator(bit_generator(1))
    out = np.empty(BLOCK)
    return lambda: gen.standard_normal(out=out)


def numpy_pam4(n):
    """Hand-written numpy: the same job vectorised."""
    rng = np.random.default_rng(1)
    sigma = pl.PAM4.noise_sigma(SNR_DB)

    def job():
        sym = rng.integers(0, 4, n, dtype=np.int8)
        x = 2.0 * sym - 3 + sigma * rng.standard_normal(n)
        dec = np.clip(np.floor((x + 4) / 2), 0, 3).astype(np.int8)
        g = (sym ^ (sym >> 1)) ^ (dec ^ (dec >> 1))
        return int(np.count_nonzero(g & 1) + np.count_nonzero(g & 2))
    return job


def komm_pam4(n):
    import komm
    const = komm.PAMConstellation(4)
    labeling = komm.ReflectedLabeling(2)
    channel = komm.GaussianChannel(noise_power=pl.PAM4.noise_sigma(SNR_DB) ** 2,
                                   rng=np.random.default_rng(1))
    rng = np.random.default_rng(2)

    def job():
        bits = rng.integers(0, 2, 2 * n)
        x = const.indices_to_symbols(labeling.bits_to_indices(bits))
        y = channel.transmit(x)
        bits_hat = labeling.indices_to_bits(const.closest_indices(y))
        return int(np.count_nonzero(bits != bits_hat))
    return job


def opticommpy_pam4(n):
    from optic.comm.modulation import demodulateGray, modulateGray
    from optic.models.channels import awgn
    from optic.utils import parameters
    param = parameters()
    param.snr, param.Fs, param.B, param.complexNoise, param.seed = SNR_DB, 1, 1, False, 1
    rng = np.random.default_rng(2)

    def job():
        bits = rng.integers(0, 2, 2 * n)
        x = modulateGray(bits, 4, "pam")
        y = awgn(x, param).real
        bits_hat = demodulateGray(y, 4, "pam")
        return int(np.count_nonzero(bits != bits_hat))
    return job


def photolink_pam4(n, threads=1):
    stream = pl.SymbolStream(pl.PAM4, SNR_DB, seed=1)
    return lambda: stream.run(n, n_threads=threads)


def importance_seconds():
    snr = pl.PAM4.snr_db_for_ber(1e-12)
    t0 = time.perf_counter()
    est = pl.estimate_ber(pl.PAM4, snr, seed=1, rel_ci=0.1)
    return time.perf_counter() - t0, est


def memory_run():
    """Peak RSS (MB) of a child process running 1e9 PAM4 symbols on two threads."""
    code = ("import resource, photolink as pl;"
            "pl.simulate_ber(pl.PAM4, 17.0, 10**9, seed=1, n_threads=2);"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    base = ("import resource, photolink;"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    run = lambda c: float(subprocess.check_output([sys.executable, "-c", c], env=os.environ))  # noqa: E731
    return run(code), run(base)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--memory", action="store_true", help="also run the 1e9-symbol memory check")
    args = ap.parse_args(argv)
    reps = 3 if args.quick else 7
    n_pl = 8 * BLOCK
    n_peer = 1 << 18

    rates = {
        "numpy normal fill (PCG64, default_rng)": best_rate(numpy_fill(np.random.PCG64), BLOCK, reps * 4),
        "numpy normal fill (SFC64)": best_rate(numpy_fill(np.random.SFC64), BLOCK, reps * 4),
        "photolink PAM4, 1 thread": best_rate(photolink_pam4(n_pl), n_pl, reps),
        "photolink PAM4, 2 threads": best_rate(photolink_pam4(n_pl, 2), n_pl, reps),
        "hand-written numpy PAM4": best_rate(numpy_pam4(BLOCK), BLOCK, reps),
        "komm PAM4": best_rate(komm_pam4(n_peer), n_peer, reps),
        "OptiCommPy PAM4": best_rate(opticommpy_pam4(n_peer), n_peer, reps),
    }
    print(f"{'job':45s} {'M symbols/s':>12s}")
    for name, rate in rates.items():
        print(f"{name:45s} {rate / 1e6:12.1f}")
    one = rates["photolink PAM4, 1 thread"]
    ratios = [
        ("vs numpy fill PCG64 (>= 0.90)", one / rates["numpy normal fill (PCG64, default_rng)"], 0.90),
        ("vs numpy fill SFC64 (same generator)", one / rates["numpy normal fill (SFC64)"], None),
        ("vs komm (>= 2)", one / rates["komm PAM4"], 2.0),
        ("vs OptiCommPy (>= 4)", one / rates["OptiCommPy PAM4"], 4.0),
        ("vs hand-written numpy", one / rates["hand-written numpy PAM4"], None),
        ("2 threads vs 1 (>= 1.7)", rates["photolink PAM4, 2 threads"] / one, 1.7),
    ]
    print()
    for name, ratio, target in ratios:
        flag = "" if target is None else ("  ok" if ratio >= target else "  BELOW TARGET")
        print(f"ratio {name:40s} {ratio:8.2f}{flag}")
    secs, est = importance_seconds()
    half = (est.ci[1] - est.ci[0]) / 2 / est.ber
    print(f"\nimportance sampling, PAM4 BER {est.ber:.3e}: +-{100 * half:.1f} % (95 %) "
          f"from {est.samples} samples in {secs:.3f} s (target < 2 s)")
    if args.memory:
        peak, base = memory_run()
        print(f"1e9-symbol run (2 threads): peak RSS {peak:.0f} MB, interpreter+numpy+photolink "
              f"alone {base:.0f} MB (target < 100 MB)")


if __name__ == "__main__":
    main()
