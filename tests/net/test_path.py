"""Multi-hop paths: closed forms (zero load, M/D/1, M/M/1, tandem, loss over hops, retries),
statistical against exact mode, reproducibility and bad input."""
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats as st

import photolink as pl
from photolink._util.stats import clopper_pearson
from photolink.fec import KP4
from photolink.links.model import LinkModel
from photolink.net.path import (
    CHUNK_PACKETS,
    HISTOGRAM_RELATIVE_ERROR,
    IPDV_RELATIVE_ERROR,
)

# Several MC-vs-closed-form comparisons per test: 99.9 % intervals keep each family near 99 %
# (the seeds are fixed, so every outcome is deterministic).
CONF = 0.999
Poisson, ConstantRate, Trace = pl.traffic.Poisson, pl.traffic.ConstantRate, pl.traffic.Trace


def link(rate=100.0, cwer=0.0, codeword_bits=0, hold=0.0, name="l", failures=None, **latency):
    return LinkModel(name, rate, latency, codeword_bits, cwer, hold, failures)


def spaced(n, size, gap=1e5):
    """Packets far apart: every one finds the path empty."""
    return Trace(np.arange(n) * gap, size)


# ---- zero load --------------------------------------------------------------------------

def test_zero_load_latency_is_the_sum_of_components():
    a = LinkModel("a", 100, {"propagation": 60.0, "pcs": 40.0}, 0, 0.0, 20.0)
    b = LinkModel("b", 400, {"propagation": 50.0}, 0, 0.0, 10.0)
    c = LinkModel("c", 200, {"propagation": 30.0}, 0, 0.0, 0.0)
    # store-and-forward everywhere: every serialisation, fixed part, hold and switch latency
    saf = pl.Path([a, pl.Switch(250, "store-and-forward"), b, pl.Switch(300, "store-and-forward"), c])
    expected = (80 + 100 + 20) + 250 + (20 + 50 + 10) + 300 + (40 + 30 + 0)
    r = saf.run(spaced(50, 1000.0), 50, seed=1, return_latencies=True)
    assert r.latencies_ns == pytest.approx(np.full(50, expected), rel=1e-12, abs=1e-9)
    assert saf.zero_load_latency_ns(1000) == pytest.approx(expected, rel=1e-12)
    assert r.mean_latency_ns == pytest.approx(expected, rel=1e-12)
    assert r.latency_percentiles_ns["max"] == pytest.approx(expected, rel=1e-12)
    assert r.pdv_percentiles_ns["max"] == pytest.approx(0, abs=1e-9)
    assert r.ipdv_percentiles_ns["min"] == pytest.approx(0, abs=1e-9)
    # cut-through into the faster link b: forwarding may start from the first decoded bit
    # (a's first bit after 100 + 20 ns) only as far as b (4x faster) cannot run dry: it must
    # end no earlier than a's last decoded bit at 80 + 120 = 200 ns, so it starts at 200 - 20.
    ct = pl.Path([a, pl.Switch(250, "cut-through"), b, pl.Switch(300, "store-and-forward"), c])
    expected_ct = max(120, 200 - 20) + 250 + (20 + 50 + 10) + 300 + (40 + 30)
    r = ct.run(spaced(5, 1000.0), 5, seed=1, return_latencies=True)
    assert r.latencies_ns == pytest.approx(np.full(5, expected_ct), rel=1e-12)
    # equal rates, cut-through: one serialisation in all, plus every fixed part and hold
    e = [LinkModel(f"e{i}", 100, {"propagation": 5.0 * i}, 0, 0.0, 7.0) for i in range(3)]
    ct2 = pl.Path([e[0], pl.Switch(100), e[1], pl.Switch(100), e[2]])
    r = ct2.run(spaced(5, 1500.0), 5, seed=1, return_latencies=True)
    assert r.latencies_ns == pytest.approx(np.full(5, 120 + (0 + 5 + 10) + 3 * 7 + 200), rel=1e-12)


# ---- queueing against theory --------------------------------------------------------------

@pytest.mark.parametrize("sizes", ["fixed", "exponential"])
def test_poisson_into_ideal_link_matches_md1_and_mm1(sizes):
    S = 120.0   # 1500 B at 100 Gb/s
    path = pl.Path([LinkModel.ideal(100)])
    for k, rho in enumerate([0.5, 0.8, 0.9]):
        r = path.run(Poisson(rho, 1500, sizes), 2_000_000, seed=10 + k, confidence=CONF)
        if sizes == "fixed":   # Pollaczek-Khinchine, M/D/1
            wq = rho * S / (2 * (1 - rho))
        else:                  # M/M/1
            wq = rho * S / (1 - rho)
        lo, hi = r.mean_latency_ci
        assert lo <= wq + S <= hi, (sizes, rho, r.mean_latency_ns, r.mean_latency_ci, wq + S)
        assert r.delivered == r.n_packets and r.lost == 0
        if rho == 0.8:   # [ref:queue-waits]: 100 Gb/s, 1500 B, load 0.8 -> 240 ns (M/D/1), 480 ns (M/M/1)
            assert wq == pytest.approx(240 if sizes == "fixed" else 480)
            if sizes == "fixed":
                assert lo - S <= r.hops[0].mean_wait_ns <= hi - S


def test_tandem_of_equal_fixed_service_never_waits_at_the_second_hop():
    for mid in (None, pl.Switch(0, "store-and-forward"), pl.Switch(50, "cut-through")):
        hops = [LinkModel.ideal(100, 30), LinkModel.ideal(100, 30)]
        if mid is not None:
            hops.insert(1, mid)
        r = pl.Path(hops).run(Poisson(0.8, 1500), 200_000, seed=3)
        assert r.hops[0].mean_wait_ns > 100            # the first queue works hard
        q2 = r.hops[1] if mid is not None else r.hops[-1]
        assert q2.max_wait_ns < 1e-6 and q2.packets == 200_000   # (rounding of absolute times)
    # the check can fail: a slower second link does queue
    r = pl.Path([LinkModel.ideal(100), LinkModel.ideal(50)]).run(Poisson(0.8, 1500), 100_000, seed=3)
    assert r.hops[1].mean_wait_ns > 100


def test_finite_buffer_overload_loses_the_excess():
    # D/D/1 at load 1.5 into a 10-packet buffer: a third of the packets are tail-dropped and
    # the link runs full
    path = pl.Path([LinkModel.ideal(100)], source_buffer_bytes=15_000)
    n = 300_000
    r = path.run(ConstantRate(1.5, 1500), n, seed=1)
    assert r.lost == r.lost_tail_drop == r.hops[0].tail_drops
    assert abs(r.lost - n / 3) <= 12
    assert r.goodput_gbps == pytest.approx(100, rel=1e-3)
    assert r.hops[0].utilisation == pytest.approx(1.0, rel=1e-3)
    assert r.latency_percentiles_ns["max"] <= 10 * 120 + 1e-6   # never more than the buffer


# ---- errors, loss and recovery ------------------------------------------------------------

def test_loss_over_independent_hops_is_one_minus_product():
    flr = [0.01, 0.02, 0.005]
    hops = [link(100, p, name=f"h{i}") for i, p in enumerate(flr)]
    path = pl.Path([hops[0], pl.Switch(100, "store-and-forward"), hops[1], pl.Switch(100, "cut-through"), hops[2]])
    r = path.run(Poisson(0.5, 1000), 300_000, seed=7, confidence=CONF)
    expected = 1 - np.prod([1 - p for p in flr])
    lo, hi = r.ci
    assert lo <= expected <= hi, (r.loss_ratio, r.ci, expected)
    assert r.lost == r.lost_corrupted
    # per hop: corrupted frames over the frames that reached the hop
    for h, p in zip((r.hops[0], r.hops[2], r.hops[4]), flr):
        lo, hi = clopper_pearson(h.failed_transmissions, h.transmissions, CONF)
        assert lo <= p <= hi
    # through the cut-through switch a corrupted frame travels on: hop 4 carries hop 2's
    # corrupted frames too, the store-and-forward switch stopped hop 0's
    assert r.hops[4].transmissions == r.hops[2].transmissions
    assert r.hops[2].transmissions == r.n_packets - r.hops[0].corrupted_packets


@pytest.mark.parametrize("mode", ["statistical", "exact"])
def test_frame_loss_from_codeword_errors_matches_closed_form(mode):
    # 1500-byte frames over 5140-bit codewords at a uniformly random offset touch 3 codewords
    # with probability (3 * 5140 - 12000) / 5140 and 4 otherwise
    p, K, L = 0.01, 5140, 12000
    p3 = (3 * K - L) / K
    flr = 1 - (p3 * (1 - p) ** 3 + (1 - p3) * (1 - p) ** 4)
    r = pl.Path([link(100, p, K)]).run(Poisson(0.05, 1500), 150_000, seed=11, mode=mode, confidence=CONF)
    lo, hi = r.ci
    assert lo <= flr <= hi, (r.loss_ratio, r.ci, flr)


def test_zero_errors_report_an_upper_bound():
    r = pl.Path([LinkModel.ideal(100)]).run(Poisson(0.5, 1500), 100_000, seed=1)
    assert r.lost == 0 and r.ci[0] == 0.0
    assert r.ci[1] == pytest.approx(3.69 / 100_000, rel=0.01)


def test_failed_codeword_corrupts_every_frame_it_touches():
    # 8000-bit codewords, 600-byte frames back to back: frame 0 holds bits 0-4799 (codeword 0),
    # frame 1 bits 4800-9599 (codewords 0 and 1), frame 2 bits 9600-14399 (codeword 1), ...
    def first_fails(n, seed):
        out = np.zeros(n, bool)
        out[0] = True
        return out
    path = pl.Path([link(100, 0.0, 8000, failures=first_fails)])
    trace = Trace(np.arange(20) * 48.0, 600.0)
    r = path.run(trace, 20, seed=1, mode="exact", return_latencies=True)
    assert r.lost == 2 and r.delivered == 18
    # statistical mode with cwer = 1: every frame fails; cwer = 0: none
    for p, lost in ((1.0, 20), (0.0, 0)):
        r = pl.Path([link(100, p, 8000)]).run(trace, 20, seed=1)
        assert r.lost == lost


def test_llr_trades_loss_for_latency():
    hops = [link(100, 0.02, name="a", propagation=100.0), pl.Switch(200, "store-and-forward"),
            link(100, 0.02, name="b", propagation=100.0)]
    path = pl.Path(hops)
    n = 200_000
    drop = path.run(Poisson(0.6, 1500), n, seed=5, confidence=CONF)
    llr = path.run(Poisson(0.6, 1500), n, seed=5, recovery="llr", confidence=CONF)
    lo, hi = drop.ci
    assert lo <= 1 - 0.98 ** 2 <= hi
    # with 3 resends a packet is lost only after 4 failures on one link: ~2 * 0.02^4 = 3.2e-7
    assert llr.lost <= 2 and llr.ci[1] < 1e-4
    assert llr.retries == llr.llr_retries > 0
    lo, hi = clopper_pearson(llr.llr_retries, 2 * n, CONF)   # p + p^2 + p^3 resends per link
    assert lo <= 0.02 + 0.02 ** 2 + 0.02 ** 3 <= hi
    assert llr.mean_latency_ns > drop.mean_latency_ns
    assert llr.latency_percentiles_ns["p99.9"] > drop.latency_percentiles_ns["p99.9"] + 500
    # a resend costs the replay round trip (2 x 100 ns) and one more serialisation (120 ns)
    once = path.run(spaced(4000, 1500.0), 4000, seed=2, recovery=pl.LLR(max_retries=3),
                    return_latencies=True)
    base = path.zero_load_latency_ns(1500)
    extra = (once.latencies_ns - base) / (200 + 120)
    assert once.lost == 0 and once.llr_retries > 100
    np.testing.assert_allclose(extra, np.round(extra), atol=1e-9)
    assert np.round(extra).sum() == once.llr_retries
    # no resends allowed: exactly the drop policy
    none = path.run(Poisson(0.6, 1500), 20_000, seed=5, recovery=pl.LLR(max_retries=0))
    assert none.lost == path.run(Poisson(0.6, 1500), 20_000, seed=5).lost


def test_e2e_retransmits_after_the_timeout():
    p = 0.1
    path = pl.Path([link(100, p, propagation=500.0)])
    n = 100_000
    r = path.run(Poisson(0.3, 1000), n, seed=9, recovery=pl.E2E(timeout_ns=5000, max_retries=3),
                 return_latencies=True, confidence=CONF)
    lo, hi = r.ci
    assert lo <= p ** 4 <= hi                                   # lost only after 4 failures
    expected = n * (p + p ** 2 + p ** 3)
    assert abs(r.e2e_retransmissions - expected) < 4 * math.sqrt(expected)
    base = path.zero_load_latency_ns(1000)
    late = r.latencies_ns[r.latencies_ns > 5000]
    assert late.size == pytest.approx(n * p, rel=0.05) and late.min() >= 5000 + base - 1e-6
    assert r.delivered + r.lost == n


def test_e2e_also_recovers_tail_drops():
    path = pl.Path([LinkModel.ideal(100)], source_buffer_bytes=6000)
    r = path.run(ConstantRate(1.2, 1500), 20_000, seed=1, recovery=pl.E2E(timeout_ns=1e4, max_retries=100))
    assert r.e2e_retransmissions > 1000 and r.lost < r.e2e_retransmissions


def _rs_failures(ber):
    """Exact KP4 codeword outcomes: RS symbols in error drawn one by one, > t fails."""
    ps = 1 - (1 - ber) ** 10

    def failures(n, seed):
        g = np.random.default_rng(seed)
        return g.binomial(544, ps, size=n) > 15
    return failures


def test_statistical_and_exact_agree_on_a_high_ber_path():
    ber = 1.6e-3
    cwer = KP4.cwer_from_ber(ber)
    assert 1e-3 < cwer < 1e-1
    mk = lambda i: LinkModel(f"l{i}", 400, {"propagation": 50.0}, KP4.message_bits, cwer, 13.0,  # noqa: E731
                            _rs_failures(ber))
    path = pl.Path([mk(0), pl.Switch(100, "cut-through"), mk(1)])
    tr = Poisson(0.6, 1500)
    n = 60_000
    for recovery in ("drop", "llr", "e2e"):
        s = path.run(tr, n, seed=21, recovery=recovery)
        x = path.run(tr, n, seed=22, recovery=recovery, mode="exact")
        pooled = (s.lost + x.lost) / (2 * n)
        z = abs(s.loss_ratio - x.loss_ratio) / math.sqrt(max(pooled * (1 - pooled) * 2 / n, 1e-300))
        assert z < 3.3, (recovery, s.loss_ratio, x.loss_ratio)
        if recovery == "drop":
            assert s.lost > 300
        elif recovery == "e2e":
            pooled = (s.e2e_retransmissions + x.e2e_retransmissions) / (2 * n)
            z = abs(s.e2e_retransmissions - x.e2e_retransmissions) / n / math.sqrt(pooled * 2 / n)
            assert z < 3.3 and s.e2e_retransmissions > 300
        else:
            pooled = (s.llr_retries + x.llr_retries) / (2 * n)
            z = abs(s.llr_retries - x.llr_retries) / n / math.sqrt(pooled * 2 / n)
            assert z < 3.3 and s.llr_retries > 300
            assert abs(s.mean_latency_ns - x.mean_latency_ns) < 3.3 * math.hypot(
                *(np.diff(r.mean_latency_ci)[0] / 2 / st.norm.ppf(0.975) for r in (s, x)))
    # a link without an exact model falls back to one Bernoulli(cwer) draw per codeword
    plain = pl.Path([LinkModel("p", 400, {}, KP4.message_bits, cwer, 13.0)])
    s = plain.run(tr, n, seed=3)
    x = plain.run(tr, n, seed=4, mode="exact")
    pooled = (s.lost + x.lost) / (2 * n)
    assert abs(s.loss_ratio - x.loss_ratio) < 3.3 * math.sqrt(pooled * (1 - pooled) * 2 / n)


# ---- latency statistics -------------------------------------------------------------------

def rank(q, n):
    """0-based index of the nearest-rank q-th percentile of n sorted values."""
    return math.ceil(Fraction(str(q)) * n / 100) - 1


def test_histogram_percentiles_within_bounded_relative_error():
    path = pl.Path([LinkModel.ideal(100, 20), pl.Switch(100), LinkModel.ideal(50, 20)])
    tr = Poisson(0.85, 1500, "exponential")
    hist = path.run(tr, 300_000, seed=4)
    raw = path.run(tr, 300_000, seed=4, return_latencies=True)
    lat = raw.latencies_ns
    for q in (0.1, 1, 50, 90, 99, 99.9, 99.99):
        exact = np.sort(lat)[rank(q, lat.size)]
        assert raw.percentile(q) == exact
        assert hist.percentile(q) == pytest.approx(exact, rel=HISTOGRAM_RELATIVE_ERROR)
    assert hist.latency_percentiles_ns["max"] == lat.max() == raw.latency_percentiles_ns["max"]
    assert hist.mean_latency_ns == pytest.approx(lat.mean(), rel=1e-12)
    assert hist.min_latency_ns == lat.min()
    assert hist.pdv_percentiles_ns["p99.9"] == pytest.approx(hist.percentile(99.9) - lat.min())
    # IPDV: D(n) - D(n-1) of consecutive packets (no loss, no reordering here)
    d = np.diff(lat)
    for key, q in (("p1", 1), ("p50", 50), ("p99", 99), ("p99.9", 99.9)):
        exact = np.sort(d)[rank(q, d.size)]
        assert hist.ipdv_percentiles_ns[key] == pytest.approx(exact, rel=IPDV_RELATIVE_ERROR, abs=1e-3)
    assert hist.ipdv_percentiles_ns["min"] == pytest.approx(d.min()) and hist.ipdv_percentile(100) == pytest.approx(d.max())


def test_ipdv_of_alternating_delays():
    # pairs of packets entering together: the second waits one serialisation (120 ns)
    t = np.repeat(np.arange(1000) * 1e4, 2)
    r = pl.Path([LinkModel.ideal(100)]).run(Trace(t, 1500.0), 2000, seed=1)
    assert r.ipdv_percentiles_ns["min"] == pytest.approx(-120) and r.ipdv_percentiles_ns["max"] == pytest.approx(120)
    assert r.ipdv_percentile(40) == pytest.approx(-120) and r.ipdv_percentile(60) == pytest.approx(120)
    assert r.pdv_percentiles_ns["max"] == pytest.approx(120)
    assert r.latency_percentiles_ns["p50"] == pytest.approx(120, rel=HISTOGRAM_RELATIVE_ERROR)


def test_goodput_and_traffic_kinds_offer_their_load():
    path = pl.Path([LinkModel.ideal(100)])
    for tr in (Poisson(0.5, 1500), ConstantRate(0.5, 1500), pl.traffic.OnOff(0.5, 1500, burst_packets=8),
               Poisson(0.5, size_distribution={64: 1, 1500: 1, 9000: 0.5})):
        r = path.run(tr, 200_000, seed=2)
        assert r.goodput_gbps == pytest.approx(50, rel=0.02), tr
    # constant rate never queues; bursts queue more than Poisson at the same load
    assert path.run(ConstantRate(0.9, 1500), 10_000, seed=1).hops[0].max_wait_ns < 1e-6
    # bursts at line rate never queue either; at twice the line rate they queue more than Poisson
    line = path.run(pl.traffic.OnOff(0.5, 1500, burst_packets=16), 100_000, seed=1).hops[0]
    assert line.max_wait_ns < 1e-6
    w_burst = path.run(pl.traffic.OnOff(0.5, 1500, burst_packets=16, peak_load=2.0), 100_000,
                       seed=1).hops[0].mean_wait_ns
    w_pois = path.run(Poisson(0.5, 1500), 100_000, seed=1).hops[0].mean_wait_ns
    assert w_burst > 3 * w_pois


# ---- reproducibility ------------------------------------------------------------------------

def test_same_seed_same_latencies_for_any_threads_and_call_split():
    hops = [link(100, 0.01, 5140, 10.0, propagation=50.0), pl.Switch(100, "cut-through", 60_000),
            link(50, 0.005, 5140, 10.0, propagation=50.0)]
    path = pl.Path(hops)
    tr = Poisson(0.9, 1500, "exponential")
    n = 2 * CHUNK_PACKETS + 4321
    for rec in ("llr", pl.E2E(timeout_ns=3000, max_retries=2)):
        runs = [path.run(tr, n, seed=42, recovery=rec, return_latencies=True),
                path.run(tr, n, seed=42, recovery=rec, return_latencies=True, n_threads=3),
                path._run(tr, n, seed=42, recovery=rec, return_latencies=True, call_packets=777)]
        for other in runs[1:]:
            np.testing.assert_array_equal(other.latencies_ns, runs[0].latencies_ns)
            assert other.to_dict() == runs[0].to_dict()
        assert runs[0].lost_tail_drop > 0 and runs[0].retries > 0
        other = path.run(tr, n, seed=43, recovery=rec)
        assert other.mean_latency_ns != runs[0].mean_latency_ns


def test_link_by_link_batches_give_the_packet_by_packet_result():
    # without end-to-end retransmissions the kernel goes link by link through batches of
    # packets; the order of work must not change a single bit
    hops = [link(100, 0.01, 5140, 10.0, propagation=50.0), pl.Switch(100, "cut-through", 60_000),
            link(50, 0.002, 0, 0.0, propagation=20.0), pl.Switch(300, "store-and-forward", 30_000),
            link(400, 0.02, 5140, 5.0, propagation=10.0)]
    path = pl.Path(hops, source_buffer_bytes=1e5)
    for tr, rec in ((Poisson(0.95, 1500, "exponential"), "drop"), (pl.traffic.OnOff(0.8, 4096, peak_load=1.5), "llr")):
        a = path.run(tr, 30_000, seed=8, recovery=rec, return_latencies=True)
        b = path._run(tr, 30_000, seed=8, recovery=rec, return_latencies=True, link_major=False)
        np.testing.assert_array_equal(a.latencies_ns, b.latencies_ns)
        assert a.to_dict() == b.to_dict()
        assert a.lost_tail_drop > 0 and a.lost_corrupted > 0


def test_memory_stays_constant():
    import tracemalloc
    path = pl.Path([link(100, 1e-3, 5140), pl.Switch(100), link(100, 1e-3, 5140)])
    peaks = []
    for n in (100_000, 600_000):
        tracemalloc.start()
        path.run(Poisson(0.8, 1500, "exponential"), n, seed=1, recovery="llr")
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.2 * peaks[0] + 1e5 and peaks[1] < 16e6


def test_result_is_frozen_data():
    r = pl.Path([LinkModel.ideal(100)]).run(Poisson(0.5), 1000, seed=1)
    d = r.to_dict()
    assert d["delivered"] == 1000 and d["latency_p99_ns"] == r.latency_percentiles_ns["p99"]
    assert r.latencies_ns is None
    with pytest.raises(Exception):
        r.lost = 3


# ---- bad input ------------------------------------------------------------------------------

def test_bad_paths_are_refused():
    ok = LinkModel.ideal(100)
    with pytest.raises(ValueError, match="empty"):
        pl.Path([])
    with pytest.raises(TypeError, match=r"hops\[1\]"):
        pl.Path([ok, "fibre"])
    with pytest.raises(ValueError, match="start and end with a link"):
        pl.Path([pl.Switch(10), ok])
    with pytest.raises(ValueError, match="both switches"):
        pl.Path([ok, pl.Switch(10), pl.Switch(10), ok])
    with pytest.raises(ValueError, match="mode"):
        pl.Switch(10, "wormhole")
    with pytest.raises(ValueError, match="latency_ns"):
        pl.Switch(-1)
    with pytest.raises(ValueError, match="buffer_bytes"):
        pl.Switch(10, buffer_bytes=0)
    with pytest.raises(ValueError, match="source_buffer_bytes"):
        pl.Path([ok], source_buffer_bytes=float("nan"))

    class Fake:
        def link_model(self):
            return 3
    with pytest.raises(TypeError, match="link_model"):
        pl.Path([Fake()])


def test_overload_without_finite_buffer_is_refused_never_hangs():
    path = pl.Path([LinkModel.ideal(100), pl.Switch(10, buffer_bytes=1e5), LinkModel.ideal(100)])
    with pytest.raises(ValueError, match="unbounded"):
        path.run(Poisson(1.0, 1500), 1000, seed=1)
    with pytest.raises(ValueError, match="unbounded"):
        pl.Path([LinkModel.ideal(100), LinkModel.ideal(10)]).run(Poisson(1.2, 1500), 1000, seed=1)
    bounded = pl.Path([LinkModel.ideal(100)], source_buffer_bytes=1e5)
    r = bounded.run(Poisson(2.0, 1500), 10_000, seed=1)
    assert r.lost_tail_drop > 4000
    with pytest.warns(RuntimeWarning, match="unbounded"):
        pl.Path([LinkModel.ideal(100)]).run(Trace(np.zeros(100), 1500.0), 100, seed=1)


def test_bad_traffic_and_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="sorted"):
        Trace([0.0, 2.0, 1.0], 100.0)
    with pytest.raises(ValueError, match="times_ns"):
        Trace([0.0, float("nan")], 100.0)
    with pytest.raises(ValueError, match="times_ns"):
        Trace([-1.0, 0.0], 100.0)
    with pytest.raises(ValueError, match="sizes_bytes"):
        Trace([0.0, 1.0], [100.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="sizes_bytes"):
        Trace([0.0, 1.0], [100.0, -5.0])
    with pytest.raises(ValueError, match="sizes_bytes"):
        Trace([0.0, 1.0], [100.0, 0.0])
    with pytest.raises(ValueError, match="load"):
        Poisson(0.0)
    with pytest.raises(ValueError, match="packet_bytes"):
        Poisson(0.5, -1500)
    with pytest.raises(ValueError, match="size_distribution"):
        Poisson(0.5, 1500, "pareto")
    with pytest.raises(ValueError, match="peak_load"):
        pl.traffic.OnOff(0.8, 1500, peak_load=0.5)
    path = pl.Path([LinkModel.ideal(100)])
    with pytest.raises(ValueError, match="n_packets"):
        path.run(Trace([0.0, 1.0], 100.0), 3, seed=1)
    with pytest.raises(ValueError, match="n_packets"):
        path.run(Poisson(0.5), 0, seed=1)
    with pytest.raises(ValueError, match="mode"):
        path.run(Poisson(0.5), 10, seed=1, mode="fast")
    with pytest.raises(ValueError, match="recovery"):
        path.run(Poisson(0.5), 10, seed=1, recovery="fec")
    with pytest.raises(TypeError, match="traffic"):
        path.run(0.5, 10, seed=1)
    with pytest.raises(ValueError, match="timeout_ns"):
        pl.E2E(timeout_ns=0)
    bad = pl.Path([link(100, 0.1, 5140, failures=lambda n, seed: np.zeros(3, bool))])
    with pytest.raises(ValueError, match="outcomes"):
        bad.run(Poisson(0.5), 10, seed=1, mode="exact")


def test_public_run_signature_has_no_private_parameters():
    import inspect
    params = inspect.signature(pl.Path.run).parameters
    assert "traffic" in params and "seed" in params
    assert not [p for p in params if p.startswith("_")]
