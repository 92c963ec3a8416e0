"""DP-16QAM over AWGN on one thread: photolink against OptiCommPy, scikit-commpy and numpy.

Every contender does the same job, counted per dual-polarisation symbol (4 noise samples, 8 bits):
generate random symbols, add circular Gaussian noise at the SNR, decide them, count bit errors.
The peers use their own mapper, AWGN channel and demapper (two single-polarisation symbols
per DP symbol); "numpy by hand" is a vectorised rail-by-rail version for scale. Every
contender's BER is checked against the closed form.
The floor is numpy's normal fill: a DP symbol needs 4 normals, so no stream can beat
``fill_rate / 4``; photolink is compared with it for PCG64 (numpy's default) and SFC64 (the
generator photolink's chunks use).

Targets (issue 3): photolink >= 10x OptiCommPy, >= 100x scikit-commpy, >= 0.85 x fill_rate / 4.

    pytest benchmarks/bench_qam.py --benchmark-only [--check-targets] [--bench-quick]
"""
import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"          # one thread for every contender (before numpy/numba load)

import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from _bench import best_seconds, peer, photolink_seconds, record  # noqa: E402

import photolink as pl  # noqa: E402

FMT = pl.DP_16QAM


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


UNIT = "M DP symbols/s"
SNR_DB = FMT.snr_db_for_ber(1.25e-2)          # the 400ZR cFEC threshold


def _rate(job, n, repeats):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return n / best_seconds(job, repeats) / 1e6


def _photolink(benchmark, quick):
    n = 1_000_000 if quick else 4_000_000
    return n / photolink_seconds(benchmark, photolink_job(SNR_DB, n), 3 if quick else 5) / 1e6


def _check_ber(out):
    """The peer did the same job: its BER within 8 standard errors of the closed form."""
    errors, bits = out
    p = FMT.ber_awgn(SNR_DB)
    assert abs(errors / bits - p) < 8 * np.sqrt(p / bits), (errors / bits, p)


@pytest.mark.parametrize("generator", ["PCG64", "SFC64"])
def test_dp16qam_vs_numpy_fill_over_4(benchmark, request, quick, generator):
    mine = _photolink(benchmark, quick)
    n = 1_000_000 if quick else 4_000_000
    fill = _rate(fill_job(getattr(np.random, generator)(1), n), n, 3 if quick else 5)
    record(request, benchmark, photolink_rate=mine, peer_rate=fill, unit=UNIT, target=0.85,
           peer_name=f"numpy normal fill / 4 ({generator})")


def test_dp16qam_vs_handwritten_numpy(benchmark, request, quick):
    mine = _photolink(benchmark, quick)
    n = 250_000 if quick else 1_000_000
    job = numpy_job(SNR_DB, n)
    _check_ber(job())
    record(request, benchmark, photolink_rate=mine, peer_rate=_rate(job, n, 3), unit=UNIT,
           target=None, peer_name="numpy by hand")


def test_dp16qam_vs_opticommpy(benchmark, request, quick):
    peer("optic", "opticommpy")
    mine = _photolink(benchmark, quick)
    n = 100_000 if quick else 300_000
    job = optic_job(SNR_DB, n)
    _check_ber(job())                                # numba compiles on the first call
    record(request, benchmark, photolink_rate=mine, peer_rate=_rate(job, n, 3), unit=UNIT,
           target=10.0, peer_name="OptiCommPy")


def test_dp16qam_vs_scikit_commpy(benchmark, request, quick):
    peer("commpy", "scikit-commpy")
    mine = _photolink(benchmark, quick)
    n = 5_000 if quick else 20_000
    job = commpy_job(SNR_DB, n)
    _check_ber(job())
    record(request, benchmark, photolink_rate=mine, peer_rate=_rate(job, n, 3), unit=UNIT,
           target=100.0, peer_name="scikit-commpy")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "--benchmark-only", *sys.argv[1:]]))
