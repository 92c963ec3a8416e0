"""The seams between the parts, with the real modules on both sides: photolink.Link (links,
serdes, optics, fec, bursts) as hops of photolink.Path (path, traffic, the C Lindley kernel).

Each check is against a closed form, a link's own report, or the other mode (statistical
against exact). Seeds are fixed; several comparisons per test use 99.9 % intervals."""
import dataclasses
import math

import numpy as np
import pytest

import photolink as pl
from photolink import fec, links
from photolink._util.stats import clopper_pearson

CONF = 0.999
Poisson, Trace = pl.traffic.Poisson, pl.traffic.Trace


def overlap(a, b):
    return a[0] <= b[1] and b[0] <= a[1]


# ---- (a) queueing over ideal links against theory ([ref:queue-waits]) ------------------------

@pytest.mark.parametrize("sizes, wait_ns", [("fixed", 240.0), ("exponential", 480.0)])
def test_ideal_link_queue_matches_md1_and_mm1(sizes, wait_ns):
    # 100 Gb/s, 1500 B (120 ns service), load 0.8: M/D/1 240 ns, M/M/1 480 ns mean wait
    ideal = pl.Link.ideal(rate_gbps=100, propagation_ns=0)
    r = pl.Path([ideal]).run(Poisson(0.8, 1500, sizes), 400_000, seed=3, confidence=CONF)
    lo, hi = r.mean_latency_ci
    assert lo <= wait_ns + 120.0 <= hi, (r.mean_latency_ns, r.mean_latency_ci)
    assert r.hops[0].mean_wait_ns == pytest.approx(wait_ns, rel=0.1)
    assert r.lost == 0


def test_tandem_of_ideal_links_waits_only_at_the_first():
    ideal = pl.Link.ideal(rate_gbps=100, propagation_ns=0)
    r = pl.Path([ideal, pl.Switch(0, "store-and-forward"), ideal]).run(
        Poisson(0.8, 1500), 200_000, seed=4, confidence=CONF)
    assert r.hops[1].mean_wait_ns == pytest.approx(0.0, abs=1e-9)      # equal fixed service
    lo, hi = r.mean_latency_ci
    assert lo <= 240.0 + 2 * 120.0 <= hi


# ---- (b) zero-load latency of real presets is the sum of their parts ---------------------------

def test_zero_load_latency_of_presets_is_the_sum_of_their_breakdowns():
    dac, dr4, cpo = (links.preset(n) for n in ("dac-800g", "dr4-800g", "cpo-800g"))
    size = 4096
    reports = [x.evaluate(frame_bytes=size, reach=False) for x in (dac, dr4, cpo)]
    for rep in reports:     # a report's latency is the sum of its breakdown, serialisation included
        assert rep.latency_ns == pytest.approx(sum(rep.latency_breakdown_ns.values()), rel=1e-12)
        assert rep.latency_breakdown_ns["serialisation"] == pytest.approx(size * 8 / 800)
    # store-and-forward switches: every link's whole one-way latency, plus the switches
    saf = pl.Path([dac, pl.Switch(250, "store-and-forward"), dr4, pl.Switch(300, "store-and-forward"), cpo])
    expected = sum(r.latency_ns for r in reports) + 250 + 300
    assert saf.zero_load_latency_ns(size) == pytest.approx(expected, rel=1e-12)
    trace = Trace(np.arange(20) * 1e5, float(size))
    run = saf.run(trace, 20, seed=1, return_latencies=True)
    np.testing.assert_allclose(run.latencies_ns, expected, rtol=1e-12)
    # cut-through between equal-rate links: one serialisation, everything else adds up
    ct = pl.Path([dac, pl.Switch(250), dr4, pl.Switch(300), cpo])
    expected_ct = sum(r.latency_ns - r.latency_breakdown_ns["serialisation"] for r in reports) \
        + size * 8 / 800 + 250 + 300
    run = ct.run(trace, 20, seed=1, return_latencies=True)
    np.testing.assert_allclose(run.latencies_ns, expected_ct, rtol=1e-12)
    assert ct.zero_load_latency_ns(size) == pytest.approx(expected_ct, rel=1e-12)


# ---- (c) statistical and exact modes on a real high-BER link ------------------------------------

# exact mode asks a link for codeword outcomes 16384 at a time (photolink.net.path.EXACT_BLOCK);
# smaller blocks (Path._run's private exact_block) only change how many are computed ahead
SMALL_EXACT_BLOCK = 4096


@pytest.mark.slow
def test_statistical_and_exact_agree_on_copper_past_its_reach():
    link = plain_dac().with_length(3.55)   # BER threshold at ~3.25 m: BER ~2.3e-3 with bursts
    rep = link.evaluate(reach=False)
    hop = link.link_model()
    assert rep.cwer_method == "burst-model" and hop.cwer == rep.cwer and 3e-3 < hop.cwer < 5e-2
    assert hop.codeword_failures is not None                   # fec.codeword_failures of its stream
    # the seam this guards: the independent-error map of the same BER is 2 decades off (behind the
    # reference receiver's CTLE the DFE tap is ~0.55 and its bursts short)
    assert link.fec.cwer_from_ber(rep.pre_fec_ber) < hop.cwer / 30
    p = pl.Path([link])
    tr = Poisson(0.5, 1500)
    n = 5000
    for recovery in ("drop", "llr"):
        s = p.run(tr, n, seed=21, recovery=recovery, confidence=CONF)
        x = p._run(tr, n, seed=22, recovery=recovery, mode="exact", confidence=CONF,
                   exact_block=SMALL_EXACT_BLOCK)
        if recovery == "drop":
            assert s.lost > 50 and x.lost > 50
            assert overlap(s.ci, x.ci), (s.loss_ratio, s.ci, x.loss_ratio, x.ci)
            # and both agree with the link's own frame loss ratio
            assert s.ci[0] <= rep.frame_loss_ratio(1500) <= s.ci[1]
        else:
            assert s.lost <= 2 and x.lost <= 2                 # 4 failures in a row on one link
            cs = clopper_pearson(s.llr_retries, s.hops[0].transmissions, CONF)
            cx = clopper_pearson(x.llr_retries, x.hops[0].transmissions, CONF)
            assert s.llr_retries > 50 and overlap(cs, cx), (cs, cx)
            assert overlap(s.mean_latency_ci, x.mean_latency_ci)


@pytest.mark.slow
def test_exact_mode_of_a_multi_segment_link():
    # 2xDR4 module with a weak transmitter: three segments (AUI, optics, AUI) whose error
    # patterns combine symbol by symbol before KP4
    weak = weak_dr4(-7.4)
    rep = weak.evaluate(reach=False)
    assert 1e-3 < rep.cwer < 0.1 and rep.cwer_method == "burst-model"
    p = pl.Path([weak])
    tr = Poisson(0.5, 1500)
    s = p.run(tr, 4000, seed=31, confidence=CONF)
    x = p._run(tr, 4000, seed=32, mode="exact", confidence=CONF, exact_block=SMALL_EXACT_BLOCK)
    assert s.lost > 30 and x.lost > 30 and overlap(s.ci, x.ci), (s.ci, x.ci)


# ---- (d) loss over independent real hops, (e) llr trades loss for latency -----------------------

def plain_dac():
    """dac-800g without precoding or interleaving: DFE bursts at their worst."""
    return dataclasses.replace(links.preset("dac-800g"), precode=False, interleave=1, fec_flows=1)


def weak_dr4(launch_oma_dbm):
    base = links.preset("dr4-800g")
    return dataclasses.replace(base, tx=dataclasses.replace(base.tx, launch_oma_dbm=launch_oma_dbm))


def _lossy_path():
    dac = plain_dac()
    hops = [dac.with_length(3.5), pl.Switch(250, "store-and-forward", buffer_bytes=1 << 22),
            weak_dr4(-7.3), pl.Switch(250, "cut-through", buffer_bytes=1 << 22), dac.with_length(3.45)]
    flr = [h.evaluate(frame_bytes=1500, reach=False).frame_loss_ratio(1500) for h in hops[::2]]
    return pl.Path(hops), flr


@pytest.mark.slow
def test_loss_over_real_hops_is_one_minus_the_product_of_their_frame_loss():
    path, flr = _lossy_path()
    assert all(1e-4 < f < 2e-2 for f in flr)
    r = path.run(Poisson(0.6, 1500), 300_000, seed=7, confidence=CONF)
    expected = 1 - np.prod([1 - f for f in flr])
    assert r.ci[0] <= expected <= r.ci[1], (r.loss_ratio, r.ci, expected)
    assert r.lost == r.lost_corrupted
    # per link: corrupted transmissions over transmissions is that link's frame loss ratio
    for h, f in zip(r.hops[::2], flr):
        lo, hi = clopper_pearson(h.failed_transmissions, h.transmissions, CONF)
        assert lo <= f <= hi, (h.name, h.failed_transmissions, h.transmissions, f)


def test_llr_trades_loss_for_latency_on_real_links():
    path, flr = _lossy_path()
    tr = Poisson(0.5, 1500)
    n = 100_000
    drop = path.run(tr, n, seed=8, confidence=CONF)
    llr = path.run(tr, n, seed=8, recovery="llr", confidence=CONF)
    assert drop.lost > 300
    assert llr.lost <= 2 and llr.ci[1] < drop.ci[0]               # loss all but gone ...
    assert llr.llr_retries > 300
    # resends per packet: at most every link's frame loss ratio (with resends of resends); at
    # least the failures of the codewords a frame does not share with the one before it (after
    # a failure the link idles for the replay round trip, so the resend and the next frame start
    # on fresh codewords: a failed codeword no longer corrupts two frames)
    lo, hi = clopper_pearson(llr.llr_retries, n, CONF)
    reps = [h.evaluate(frame_bytes=1500, reach=False) for h in path.hops[::2]]
    per_frame = 1 + (8 * 1500 - 1) / path.hops[0].fec.message_bits
    fewest = sum(-math.expm1((per_frame - 1) * math.log1p(-r.cwer)) for r in reps)
    assert lo <= sum(f * (1 + f + f * f) for f in flr) and fewest <= hi, (lo, hi, flr, fewest)
    assert llr.mean_latency_ns > drop.mean_latency_ns             # ... paid for in latency
    assert llr.latency_percentiles_ns["p99.9"] > drop.latency_percentiles_ns["p99.9"]
    assert llr.latency_percentiles_ns["max"] > drop.latency_percentiles_ns["max"] + 500


# ---- the statistical burst model against the decoder simulation, link by link ------------------

# The burst model was ~2x high over the Hamming inner code behind the 802.3dj receiver and
# ~10-40 % high with 1/(1+D) precoding (allowed for here by factors 2.5 and 1.45): its onset rate
# counted the errors that follow an error within an episode's quiet run twice (as episode members
# and as new onsets), episodes started inside one another through the inner code, and the
# importance samples left the CWER ~+-10 % off (photolink.fec.bursts docstring). Fixed: every case
# agrees within the simulation's interval, no allowance.
@pytest.mark.parametrize("make, n_symbols, bursty", [
    (lambda: plain_dac().with_length(3.55), 12_000_000, True),                       # KP4 behind a DFE
    (lambda: links.preset("dac-800g").with_length(3.6), 12_000_000, True),           # precoded, 2-way
    (lambda: weak_dr4(-7.5), 12_000_000, False),                                     # three segments
    (lambda: dataclasses.replace(links.preset("cpo-1.6t"), fec=fec.KP4_INNER_HAMMING, tx=dataclasses.replace(
        links.preset("cpo-1.6t").tx, launch_oma_dbm=-6.65)), 30_000_000, True),     # Hamming + KP4
    (lambda: dataclasses.replace(plain_dac().with_length(3.55), pma_mux="bit"), 12_000_000, True),
], ids=["copper-dfe", "copper-precoded-interleaved", "dr4-3-segments", "cpo-1.6t-inner-code",
        "copper-dfe-bit-muxed"])
@pytest.mark.slow
def test_evaluate_cwer_agrees_with_the_codewords_simulate_counts(make, n_symbols, bursty):
    link = make()
    e = link.evaluate(reach=False)
    s = link.simulate(n_symbols, seed=5, reach=False)
    assert e.cwer_method == "burst-model" and s.cwer_method == "fec.simulate"
    codewords = s.symbols * link.fmt.bits_per_symbol / link.fec.codeword_bits
    assert s.cwer * codewords > 25                                     # failures enough to count
    lo, hi = s.cwer_ci
    assert lo <= e.cwer <= hi, (e.cwer, s.cwer, s.cwer_ci)
    if bursty:     # DFE bursts (or pairs through the inner code): the independent-error map is off
        assert not lo <= link.fec.cwer_from_ber(e.pre_fec_ber) <= hi
