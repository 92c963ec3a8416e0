"""Benchmark: packets through multi-hop paths, photolink against a SimPy (ns.py-style) model.

Measured in one run, so that the ratio holds even on a loaded machine:

1. statistical mode, 3 links of 800 Gb/s with two store-and-forward switches, Poisson load 0.7,
   4096-byte packets, 2 M packets, the whole ``Path.run`` timed (percentiles included):
   packet-hops per second; target >= 50 M on one core;
2. the same path in SimPy written in the style of ns.py (benchmarks/simpy_path.py), with fewer
   packets: packet-hops per second; target ratio >= 750;
3. 6 links with link-level retry on a degraded KP4 link (codeword error ratio 1e-5):
   packets per second; target >= 5 M.

The two models of the same path must also agree on the mean latency (a cross-check).

    pytest benchmarks/bench_path.py --benchmark-only [--check-targets] [--bench-quick]
"""
from __future__ import annotations

import sys

import numpy as np
import pytest
from _bench import best_seconds, peer, photolink_seconds, record

import photolink as pl
from photolink.fec import KP4
from photolink.links.model import LinkModel

#: An 800G optical link: 20 m of fibre at ~4.9 ns/m [ref:fibre-propagation] (E); KP4 decode ~3 + 31 ns
#: (802.3dj slide, E); DSP ~100 ns (LPO vs DSP ~100 ns less, E); FEC hold: 4 x 5440-bit
#: codewords at 800G ~27 ns (E); KP4 at its design BER 2.4e-4 (closed form, ~8.2e-13).
LATENCY_NS = {"propagation": 20 * 4.9, "pcs_fec": 34.0, "dsp": 100.0}
SWITCH_NS = 250.0          # Tomahawk Ultra port to port (P)
BUFFER_BYTES = 16 << 20
LOAD, PACKET_BYTES = 0.7, 4096


def link(i, cwer):
    return LinkModel(f"800G-{i}", 800.0, LATENCY_NS, KP4.message_bits, cwer, 27.0)


def path(n_links, cwer):
    hops = []
    for i in range(n_links):
        if i:
            hops.append(pl.Switch(SWITCH_NS, "store-and-forward", BUFFER_BYTES))
        hops.append(link(i, cwer))
    return pl.Path(hops)


def simpy_links(p: pl.Path):
    """The same path as SimPy elements: delay after serialisation up to the next queue."""
    links = p.links
    out = []
    for i, m in enumerate(links):
        frames_cw = KP4.codewords_per_frame(PACKET_BYTES)
        out.append({"rate_gbps": m.rate_gbps, "buffer_bytes": None if i == 0 else BUFFER_BYTES,
                    "delay_ns": m.fixed_latency_ns + m.fec_hold_ns + (SWITCH_NS if i + 1 < len(links) else 0.0),
                    "loss": float(-np.expm1(frames_cw * np.log1p(-m.cwer)))})
    return out


def _sizes(quick):
    return (200_000, 2_000) if quick else (2_000_000, 20_000)


def test_three_hops_vs_simpy(benchmark, request, quick):
    """Packet-hops per second of the whole run() against the SimPy model of the same path
    (target ratio >= 750); the two must agree on the mean latency."""
    peer("simpy")
    import simpy_path
    n, n_simpy = _sizes(quick)
    traffic = pl.traffic.Poisson(LOAD, PACKET_BYTES)
    p3 = path(3, KP4.cwer_from_ber(2.4e-4))
    t_pl = photolink_seconds(benchmark, lambda: p3.run(traffic, n, seed=1), 1 if quick else 3)
    delays = simpy_path.simulate(simpy_links(p3), LOAD, PACKET_BYTES, n_simpy, seed=1)
    t_sim = best_seconds(lambda: simpy_path.simulate(simpy_links(p3), LOAD, PACKET_BYTES, n_simpy,
                                                     seed=1), 1)
    r3 = p3.run(traffic, n, seed=1)
    sim_mean, sim_se = float(np.mean(delays)), float(np.std(delays) / np.sqrt(len(delays)))
    assert abs(r3.mean_latency_ns - sim_mean) < 10 * sim_se + 1.0     # correlated samples: wide
    record(request, benchmark, photolink_rate=3 * n / t_pl / 1e6,
           peer_rate=3 * len(delays) / t_sim / 1e6, unit="M packet-hops/s", target=750.0,
           peer_name="SimPy model (ns.py style)", photolink_mean_latency_ns=r3.mean_latency_ns,
           peer_mean_latency_ns=sim_mean)


def test_three_hops_absolute_rate(benchmark, request, quick):
    """Packet-hops per second on one core against the 50 M target (no peer: ratio = rate / 50 M)."""
    n, _ = _sizes(quick)
    traffic = pl.traffic.Poisson(LOAD, PACKET_BYTES)
    p3 = path(3, KP4.cwer_from_ber(2.4e-4))
    rate = 3 * n / photolink_seconds(benchmark, lambda: p3.run(traffic, n, seed=1), 1 if quick else 3)
    record(request, benchmark, photolink_rate=rate / 1e6, peer_rate=50.0, unit="M packet-hops/s",
           target=1.0, peer_name="the 50 M target")


def test_six_hops_with_link_level_retry(benchmark, request, quick):
    """6 links with llr on a degraded KP4 link (CWER 1e-5): packets/s against the 5 M target."""
    n, _ = _sizes(quick)
    traffic = pl.traffic.Poisson(LOAD, PACKET_BYTES)
    p6 = path(6, 1e-5)
    t = photolink_seconds(benchmark, lambda: p6.run(traffic, n, seed=2, recovery="llr"),
                          1 if quick else 3)
    r6 = p6.run(traffic, n, seed=2, recovery="llr")
    assert r6.llr_retries > 0
    record(request, benchmark, photolink_rate=n / t / 1e6, peer_rate=5.0, unit="M packets/s",
           target=1.0, peer_name="the 5 M target", retries=r6.llr_retries)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "--benchmark-only", *sys.argv[1:]]))
