"""Same seed, same numbers, whatever the thread count or the way a run is cut.

Complements the reproducibility tests next to each feature (test_stream, test_qam,
test_fec_sim, test_path, test_ops_sweep) with what they leave out: three threads for PAM and two
for QAM, the FEC pipeline's pieces and threads, the path's exact mode (multi-block refills,
threads, call splits) and path sweeps on an executor. Chunk sizes are set small (the private
``_chunk_symbols``, ``_piece_bits`` and ``Path._run`` keywords) so that a short run spans many
chunks and the threads really share the work.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import photolink as pl
from photolink import fec
from photolink.links.model import LinkModel

CH = pl.Channel.from_cursors(pre=(0.1,), main=1.0, post=(0.55, 0.25))
EQ = pl.Equalizer.zero_forcing(CH, n_ffe=4, n_dfe=2)


@pytest.mark.parametrize("fmt, snr, kwargs", [
    (pl.PAM4, 15.0, {}),
    (pl.PAM4, 17.0, {"channel": CH, "equalizer": EQ, "precode": True}),
    (pl.DP_16QAM, 13.0, {}),
    (pl.DP_QPSK, 9.0, {"linewidth_symbol_period": 3e-4, "differential": True}),
], ids=["pam-awgn", "pam-dfe", "qam-awgn", "qam-cpr"])
def test_simulate_ber_same_for_one_two_three_threads(fmt, snr, kwargs, assert_same_ber):
    n = 8 * 4096 + 1234                                      # 9 chunks of 4096
    runs = [pl.simulate_ber(fmt, snr, n, seed=5, n_threads=k, return_errors=True, _chunk_symbols=4096,
                            **kwargs)
            for k in (1, 2, 3)]
    for other in runs[1:]:
        assert_same_ber(runs[0], other)
    assert runs[0].symbol_errors > 50


@pytest.mark.parametrize("code, fmt, snr, kwargs", [
    (fec.KP4, pl.PAM4, 16.0, {"interleave": 4, "channel": pl.Channel((1.0, 0.9)),
                               "equalizer": pl.Equalizer(dfe=(0.9,))}),
    (fec.KP4_INNER_HAMMING, pl.PAM4, 14.2, {}),
    (fec.KR4, pl.DP_QPSK, 9.5, {"linewidth_symbol_period": 3e-4}),
], ids=["kp4-bursty-interleaved", "kp4-inner", "kr4-qpsk-phase-noise"])
def test_fec_simulate_same_for_any_threads_and_piece_size(code, fmt, snr, kwargs):
    kwargs = dict(kwargs, _chunk_symbols=1 << 14)
    n_cw = 600
    ref = fec.simulate(code, fmt, snr, n_cw, seed=3, **kwargs)
    runs = [fec.simulate(code, fmt, snr, n_cw, seed=3, n_threads=k, **kwargs) for k in (2, 3)]
    runs.append(fec.simulate(code, fmt, snr, n_cw, seed=3, n_threads=3, _piece_bits=1 << 16,  # shorter pieces
                             **kwargs))
    for other in runs:
        assert other.to_dict() == ref.to_dict()
        np.testing.assert_array_equal(other.failed_index, ref.failed_index)
    assert ref.failed > 5
    flags = fec.codeword_failures(code, fmt, snr, n_cw, seed=3, n_threads=2, **kwargs)
    np.testing.assert_array_equal(np.flatnonzero(flags), ref.failed_index)


def _bernoulli_hop(cwer, rate=100.0):
    return LinkModel("b", rate, {"propagation": 20.0}, 5140, cwer, 10.0)


@pytest.mark.slow
@pytest.mark.parametrize("recovery", ["drop", pl.LLR(max_retries=2), pl.E2E(timeout_ns=5000, max_retries=2)],
                         ids=["drop", "llr", "e2e"])
def test_exact_mode_same_for_any_threads_call_split_and_refill_size(recovery):
    """Exact mode takes codeword outcomes block by block; packets that need several blocks at
    once (exact_block set small) get them in one refill, with the same outcomes."""
    path = pl.Path([_bernoulli_hop(0.02), pl.Switch(100, buffer_bytes=60_000), _bernoulli_hop(0.01, 50.0)])
    tr = pl.traffic.Poisson(0.8, None, {64: 1.0, 1500: 2.0, 9000: 1.0})
    n = 3 * 2048 + 77
    kw = dict(seed=9, mode="exact", recovery=recovery, return_latencies=True,
              chunk_packets=2048, exact_block=4)      # a 9000-byte packet spans 15 codewords
    runs = [path._run(tr, n, **kw), path._run(tr, n, n_threads=3, **kw),
            path._run(tr, n, n_threads=2, call_packets=333, **kw)]
    for other in runs[1:]:
        assert other.to_dict() == runs[0].to_dict()
        np.testing.assert_array_equal(other.latencies_ns, runs[0].latencies_ns)
    assert runs[0].lost + runs[0].retries > 10


def test_path_sweep_rows_same_on_any_executor():
    cases = [{"hops": ["dac-800g", {"switch": {"latency_ns": 300.0}}, "dac-800g"], "load": load,
              "packet_bytes": 1500, "n_packets": 3000} for load in (0.3, 0.9)]
    one = pl.sweep("path", cases=cases, seed=4, store=None, workers=1, progress=False).rows
    with ThreadPoolExecutor(3) as pool:
        pooled = pl.sweep("path", cases=cases[::-1], seed=4, store=None, executor=pool,
                          progress=False).rows
    assert sorted(map(repr, one)) == sorted(map(repr, pooled))
    assert one[0] != one[1]
