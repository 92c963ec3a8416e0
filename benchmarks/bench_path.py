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

Run from the worktree root: ``python benchmarks/bench_path.py [--quick]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import photolink as pl  # noqa: E402
from photolink.fec import KP4  # noqa: E402
from photolink.links.model import LinkModel  # noqa: E402

import simpy_path  # noqa: E402

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


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=float, default=2e6)
    ap.add_argument("--simpy-packets", type=float, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer packets and repeats (smoke test)")
    args = ap.parse_args(argv)
    n, n_simpy, repeats = int(args.packets), int(args.simpy_packets), args.repeats
    if args.quick:
        n, n_simpy, repeats = 200_000, 2_000, 1

    traffic = pl.traffic.Poisson(LOAD, PACKET_BYTES)
    p3 = path(3, KP4.cwer_from_ber(2.4e-4))
    p6 = path(6, 1e-5)

    best, med, r3 = timed(lambda: p3.run(traffic, n, seed=1), repeats)
    pl_rate = 3 * n / best
    s_best, s_med, delays = timed(lambda: simpy_path.simulate(simpy_links(p3), LOAD, PACKET_BYTES, n_simpy, seed=1),
                                  max(1, repeats - 1))
    simpy_rate = 3 * len(delays) / s_best
    b6, m6, r6 = timed(lambda: p6.run(traffic, n, seed=2, recovery="llr"), repeats)

    print(f"photolink {pl.__version__}, numpy {np.__version__}, cpus {os.cpu_count()} "
          f"(shared: timings are noisy; best of {repeats} reported, median in brackets)")
    print(f"{'case':46s} {'packets':>10s} {'seconds':>16s} {'rate':>22s}")
    print(f"{'photolink 3x800G, statistical, whole run()':46s} {n:10d} {best:7.3f} [{med:6.3f}] "
          f"{pl_rate / 1e6:9.1f} M pkt-hops/s")
    print(f"{'SimPy (ns.py style) 3x800G':46s} {len(delays):10d} {s_best:7.3f} [{s_med:6.3f}] "
          f"{simpy_rate / 1e6:9.3f} M pkt-hops/s")
    print(f"{'photolink 6x800G, llr, cwer 1e-5':46s} {n:10d} {b6:7.3f} [{m6:6.3f}] "
          f"{n / b6 / 1e6:9.1f} M packets/s")
    ratio = pl_rate / simpy_rate
    print()
    checks = [
        ("packet-hops/s, one core (target >= 50 M)", pl_rate / 1e6, pl_rate >= 50e6),
        ("x SimPy model (target >= 750)", ratio, ratio >= 750),
        ("6-hop llr packets/s (target >= 5 M)", n / b6 / 1e6, n / b6 >= 5e6),
    ]
    for name, value, ok in checks:
        print(f"  {name:44s} {value:10.1f}  {'ok' if ok else 'BELOW TARGET'}")
    sim_mean = float(np.mean(delays))
    sim_se = float(np.std(delays) / np.sqrt(len(delays)))
    print(f"\ncross-check, mean latency: photolink {r3.mean_latency_ns:.2f} ns "
          f"(CI {r3.mean_latency_ci[0]:.2f}-{r3.mean_latency_ci[1]:.2f}), SimPy {sim_mean:.2f} "
          f"+- {2 * sim_se:.2f} ns (2 s.e., correlated samples)")
    print(f"photolink 3-hop percentiles (ns): " + ", ".join(f"{k} {x:.1f}" for k, x in r3.latency_percentiles_ns.items()))
    sp = simpy_path.percentiles(delays)
    print(f"SimPy 3-hop percentiles (ns):     " + ", ".join(f"p{k:g} {x:.1f}" for k, x in sp.items()))
    print(f"6-hop llr: {r6.llr_retries} retries, {r6.lost} lost, p99.99 {r6.latency_percentiles_ns['p99.99']:.1f} ns, "
          f"max {r6.latency_percentiles_ns['max']:.1f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
