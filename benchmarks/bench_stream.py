"""PAM stream engine against peers doing the same job, measured in the same run.

Targets: PAM4 over AWGN on one thread >= 0.90 x numpy's ``Generator.standard_normal`` fill rate
(PCG64), >= 2x komm, >= 4x OptiCommPy; two threads >= 1.7x one; importance sampling of a BER
~1e-12 to +-10 % (95 %) in < 2 s; a 1e9-symbol run under 100 MB peak (``--bench-memory``).
Each peer does the same job: random bits -> Gray PAM4 symbols -> AWGN -> hard decision -> bit
errors counted.

    pytest benchmarks/bench_stream.py --benchmark-only [--check-targets] [--bench-quick]
    python benchmarks/bench_stream.py [pytest options]          # the same
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from _bench import best_seconds, peer, photolink_seconds, record

import photolink as pl

SNR_DB = 17.0          # BER ~6e-4: a pre-FEC operating point
BLOCK = 1 << 20
UNIT = "M symbols/s"


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


def komm_pam4(komm, n):
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


def _photolink_rate(benchmark, quick, threads=1):
    n = (2 if quick else 8) * BLOCK
    return n / photolink_seconds(benchmark, photolink_pam4(n, threads), 3 if quick else 7) / 1e6


@pytest.mark.parametrize("generator, target", [("PCG64", 0.90), ("SFC64", None)])
def test_pam4_vs_numpy_normal_fill(benchmark, request, quick, generator, target):
    """The floor: an exact stream cannot outrun its own noise generator (SFC64 is photolink's)."""
    mine = _photolink_rate(benchmark, quick)
    fill = BLOCK / best_seconds(numpy_fill(getattr(np.random, generator)), 12 if quick else 28) / 1e6
    record(request, benchmark, photolink_rate=mine, peer_rate=fill, unit=UNIT, target=target,
           peer_name=f"numpy standard_normal fill ({generator})")


def test_pam4_vs_handwritten_numpy(benchmark, request, quick):
    mine = _photolink_rate(benchmark, quick)
    theirs = BLOCK / best_seconds(numpy_pam4(BLOCK), 3 if quick else 7) / 1e6
    record(request, benchmark, photolink_rate=mine, peer_rate=theirs, unit=UNIT, target=None,
           peer_name="hand-written numpy")


def test_pam4_vs_komm(benchmark, request, quick):
    komm = peer("komm")
    mine = _photolink_rate(benchmark, quick)
    n = 1 << 18
    theirs = n / best_seconds(komm_pam4(komm, n), 3 if quick else 7) / 1e6
    record(request, benchmark, photolink_rate=mine, peer_rate=theirs, unit=UNIT, target=2.0,
           peer_name="komm")


def test_pam4_vs_opticommpy(benchmark, request, quick):
    peer("optic", "opticommpy")
    mine = _photolink_rate(benchmark, quick)
    n = 1 << 18
    theirs = n / best_seconds(opticommpy_pam4(n), 3 if quick else 7) / 1e6
    record(request, benchmark, photolink_rate=mine, peer_rate=theirs, unit=UNIT, target=4.0,
           peer_name="OptiCommPy")


def test_pam4_two_threads_vs_one(benchmark, request, quick):
    """Thread scaling (the peer is photolink on one thread); needs 2 idle cores to reach 1.7."""
    two = _photolink_rate(benchmark, quick, threads=2)
    n = (2 if quick else 8) * BLOCK
    one = n / best_seconds(photolink_pam4(n), 3 if quick else 7) / 1e6
    record(request, benchmark, photolink_rate=two, peer_rate=one, unit=UNIT, target=1.7,
           peer_name="photolink on one thread", cpus=os.cpu_count())


def test_importance_sampling_at_1e_12(benchmark, request):
    """BER ~1e-12 to +-10 % (95 %): seconds against the 2 s budget (ratio = budget / seconds)."""
    snr = pl.PAM4.snr_db_for_ber(1e-12)
    est = benchmark.pedantic(lambda: pl.estimate_ber(pl.PAM4, snr, seed=1, rel_ci=0.1),
                             rounds=3, iterations=1)
    seconds = best_seconds(lambda: pl.estimate_ber(pl.PAM4, snr, seed=1, rel_ci=0.1), 2)
    half = (est.ci[1] - est.ci[0]) / 2 / est.ber
    assert half <= 0.1 and est.ci[0] <= pl.PAM4.ber_awgn(snr) <= est.ci[1]
    record(request, benchmark, photolink_rate=seconds, peer_rate=2.0, unit="s", target=1.0,
           ratio=2.0 / seconds, peer_name="budget", half_width=half)


def test_peak_memory_of_1e9_symbols(benchmark, request):
    """Peak RSS of a child running 1e9 PAM4 symbols on two threads, against 100 MB."""
    if not request.config.getoption("--bench-memory"):
        pytest.skip("the 1e9-symbol memory check runs with --bench-memory (about 20 s)")
    code = ("import resource, photolink as pl;"
            "pl.simulate_ber(pl.PAM4, 17.0, 10**9, seed=1, n_threads=2);"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    peak = benchmark.pedantic(
        lambda: float(subprocess.check_output([sys.executable, "-c", code], env=os.environ)),
        rounds=1, iterations=1)
    record(request, benchmark, photolink_rate=peak, peer_rate=100.0, unit="MB", target=1.0,
           ratio=100.0 / peak, peer_name="the 100 MB budget")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "--benchmark-only", *sys.argv[1:]]))
