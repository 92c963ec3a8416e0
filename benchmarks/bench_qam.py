"""DP-16QAM over AWGN on one thread: photolink against OptiCommPy, scikit-commpy and numpy.

Every contender does the same job, counted per dual-polarisation symbol (4 noise samples, 8 bits):
generate random symbols, add circular Gaussian noise at the SNR, decide them, count bit errors.
The peers use their own mapper, AWGN channel and demapper (two single-polarisation symbols
per DP symbol); "numpy by hand" is a vectorised rail-by-rail version for scale. The printed BER
of every contender should match the closed form.
The floor is numpy's normal fill: a DP symbol needs 4 normals, so no stream can beat
``fill_rate / 4``; photolink is compared with it for PCG64 (numpy's default) and SFC64 (the
generator photolink's chunks use).

Rates come from CPU time of the process (``time.process_time``; the peers are held to one
thread), so that other load on a shared machine disturbs the ratios less; wall-clock ratios are
printed too. The contenders run round-robin and each rate is the median over the rounds.

    python benchmarks/bench_qam.py [--rounds 5] [--snr-db 13.55] [--scale 1.0]

Targets (issue 3): photolink >= 10x OptiCommPy, >= 100x scikit-commpy, >= 0.85 x fill_rate / 4.
"""
import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"          # one thread for every contender (before numpy/numba load)

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import photolink as pl  # noqa: E402

FMT = pl.DP_16QAM


def timed(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - c0, time.perf_counter() - w0, out


def photolink_job(snr_db, n):
    def run():
        r = pl.simulate_ber(FMT, snr_db, n, seed=1)
        return r.bit_errors, r.bits
    return run


def fill_job(bit_generator, n):
    gen = np.random.Generator(bit_generator)
    buf = np.empty(1 << 16)
    samples = 4 * n

    def run():
        for _ in range(samples // buf.size):
            gen.standard_normal(out=buf)
        return None
    return run


def optic_job(snr_db, n):
    """OptiCommPy's own blocks: Gray QAM mapper, its AWGN channel (SNR = signal power over
    noise power, as photolink's), minimum-distance demapper (numba, held to one thread)."""
    from types import SimpleNamespace

    from optic.comm.modulation import demodulateGray, modulateGray
    from optic.models.channels import awgn
    rng = np.random.default_rng(1)
    sp = 2 * n                                             # single-polarisation symbols
    param = SimpleNamespace(snr=snr_db, Fs=1, B=1, complexNoise=True)

    def run():
        bits = rng.integers(0, 2, size=4 * sp)
        sym = modulateGray(bits, 16, "qam")
        rx = awgn(sym, param)
        decided = demodulateGray(rx, 16, "qam")
        return int(np.count_nonzero(decided != bits)), bits.size
    return run


def commpy_job(snr_db, n):
    """scikit-commpy's own blocks: QAMModem, commpy.channels.awgn (Es/N0 = photolink's SNR),
    hard demodulation."""
    from commpy.channels import awgn
    from commpy.modulation import QAMModem
    modem = QAMModem(16)
    rng = np.random.default_rng(1)
    sp = 2 * n

    def run():
        bits = rng.integers(0, 2, size=4 * sp)
        sym = modem.modulate(bits)
        rx = awgn(sym, snr_db)
        decided = modem.demodulate(rx, "hard")
        return int(np.count_nonzero(decided != bits)), bits.size
    return run


def numpy_job(snr_db, n):
    """Hand-written numpy: each of the 4 rails a Gray 4-PAM, decided with a clipped floor."""
    rng = np.random.Generator(np.random.SFC64(1))
    sigma = FMT.noise_sigma(snr_db)
    gray = np.array([0, 1, 3, 2], dtype=np.uint8)

    def run():
        sym = rng.integers(0, 4, size=4 * n, dtype=np.uint8)
        x = (2.0 * sym - 3.0) + sigma * rng.standard_normal(4 * n)
        dec = np.clip(np.floor((x + 4.0) * 0.5), 0, 3).astype(np.uint8)
        xr = gray[dec] ^ gray[sym]
        return int(np.unpackbits(xr).sum()), 8 * n
    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--snr-db", type=float, default=None,
                    help="SNR per polarisation (default: BER 1.25e-2, the 400ZR cFEC threshold)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every job's size")
    args = ap.parse_args(argv)
    snr = args.snr_db if args.snr_db is not None else FMT.snr_db_for_ber(1.25e-2)
    s = args.scale
    jobs = {   # name: (DP symbols per call, job)
        "photolink": (int(4_000_000 * s), None),
        "fill PCG64 / 4": (int(4_000_000 * s), None),
        "fill SFC64 / 4": (int(4_000_000 * s), None),
        "numpy by hand": (int(1_000_000 * s), None),
        "OptiCommPy": (int(300_000 * s), None),
        "scikit-commpy": (int(20_000 * s), None),
    }
    makers = {
        "photolink": lambda n: photolink_job(snr, n),
        "fill PCG64 / 4": lambda n: fill_job(np.random.PCG64(1), n),
        "fill SFC64 / 4": lambda n: fill_job(np.random.SFC64(1), n),
        "numpy by hand": lambda n: numpy_job(snr, n),
        "OptiCommPy": lambda n: optic_job(snr, n),
        "scikit-commpy": lambda n: commpy_job(snr, n),
    }
    runs = {}
    for name, (n, _) in jobs.items():
        job = makers[name](n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            job() if name in ("OptiCommPy",) else None            # numba compiles on first call
        runs[name] = (n, job)
    cpu = {k: [] for k in runs}
    wall = {k: [] for k in runs}
    errors = {k: [0, 0] for k in runs}
    for _ in range(args.rounds):
        for name, (n, job) in runs.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                c, w, out = timed(job)
            cpu[name].append(n / c)
            wall[name].append(n / w)
            if out is not None:
                errors[name][0] += out[0]
                errors[name][1] += out[1]
    rate = {k: statistics.median(v) for k, v in cpu.items()}
    wrate = {k: statistics.median(v) for k, v in wall.items()}

    print(f"DP-16QAM over AWGN, SNR {snr:.2f} dB per polarisation (closed-form BER "
          f"{FMT.ber_awgn(snr):.3e}), one thread, {args.rounds} rounds; rates in M DP symbols/s")
    print(f"{'contender':16s} {'cpu rate':>9s} {'wall rate':>9s} {'BER':>10s}")
    for k in runs:
        be, bits = errors[k]
        ber = f"{be / bits:.3e}" if bits else "-"
        print(f"{k:16s} {rate[k] / 1e6:9.2f} {wrate[k] / 1e6:9.2f} {ber:>10s}")
    p, pw = rate["photolink"], wrate["photolink"]
    checks = [("vs OptiCommPy", "OptiCommPy", 10.0), ("vs scikit-commpy", "scikit-commpy", 100.0),
              ("vs fill PCG64 / 4", "fill PCG64 / 4", 0.85), ("vs fill SFC64 / 4", "fill SFC64 / 4", 0.85),
              ("vs numpy by hand", "numpy by hand", None)]
    print(f"{'photolink':16s} {'cpu ratio':>9s} {'wall ratio':>10s}  target")
    ok = True
    for label, k, target in checks:
        r, rw = p / rate[k], pw / wrate[k]
        verdict = "" if target is None else (f">= {target:g}: " + ("met" if r >= target else "NOT MET"))
        ok &= target is None or r >= target
        print(f"{label:16s} {r:9.2f} {rw:10.2f}  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
