"""Collectives at scale: completion time beside the alpha-beta closed form, and wall time.

Runs (issue 14 targets in brackets):

- packet mode, ring all-reduce of 64 MB over 1,024 GPUs on a 32 x 32 leaf-spine with 32 spines
  (non-blocking), 100 Gb/s links: one engine run of 2.1 M dependent flows [< 60 s];
- flow mode, the same ring all-reduce, and a direct all-to-all of ``--a2a-ranks`` ranks (the
  16,384-rank all-to-all [< 10 s] and the 100k-rank ring run in the fluid mode:
  benchmarks/bench_flowscale.py).

No peer runs here (ASTRA-sim and SimAI are not packaged); the closed form is the reference.

    python benchmarks/bench_collectives.py [--ranks 1024] [--a2a-ranks 512] [--skip-packet]
    pytest benchmarks/bench_collectives.py --benchmark-only [--bench-quick]

Under pytest the "peer" is the closed form: the ratio recorded is the simulated completion time
over the alpha-beta closed form (target <= 1.01), and the wall time against its budget.
"""
from __future__ import annotations

import argparse
import math
import time

import pytest
from _bench import photolink_seconds_and_result, record

from photolink import net
from photolink.net import collectives as C
from photolink.net import flowsim


def leaf_spine_for(p: int) -> net.Topology:
    side = max(2, int(math.ceil(math.sqrt(p))))
    return net.topology.leaf_spine(side, side, side)


def closed_form_for(fab, sch) -> float:
    """The alpha-beta closed form of ``sch`` on ``fab`` (alpha: the longest route's latency), ns."""
    alpha_ns = float(flowsim.route_latency_ns(fab, [0], [fab.topology.hosts[-1]])[0])
    return C.closed_form_ns(sch.name, sch.n_ranks, sch.message_bytes, 100.0, alpha_ns)


def line(label, fab, sch, mode):
    t0 = time.perf_counter()
    r = C.run(fab, sch, seed=1, mode=mode)
    wall = time.perf_counter() - t0
    cf = closed_form_for(fab, sch)
    print(f"{label:<44} {mode:<6} {r.completion_ns / 1e3:12.1f} us  closed form {cf / 1e3:12.1f} us "
          f"({r.completion_ns / cf - 1:+.2%})  wall {wall:7.2f} s")


@pytest.mark.parametrize("mode", ["packet", "flow"])
def test_ring_all_reduce(benchmark, request, quick, mode):
    """1,024-rank (quick: 64) ring all-reduce of 64 MB in packet mode (max-min fair sharing in flow
    mode): wall time (packet mode < 60 s) and completion time against the alpha-beta closed form."""
    ranks = 64 if quick else 1024
    fab, ring = net.Fabric(leaf_spine_for(ranks)), C.ring_all_reduce(ranks, 64e6)
    seconds, r = photolink_seconds_and_result(benchmark, lambda: C.run(fab, ring, seed=1, mode=mode), 1)
    record(request, benchmark, photolink_rate=seconds, peer_rate=None, unit="s wall",
           ratio=r.completion_ns / closed_form_for(fab, ring), target=1.01,
           higher_is_better=False, peer_name="alpha-beta closed form (completion-time ratio)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, default=1024)
    ap.add_argument("--a2a-ranks", type=int, default=512)
    ap.add_argument("--skip-packet", action="store_true")
    args = ap.parse_args(argv)
    fab = net.Fabric(leaf_spine_for(args.ranks))
    ring = C.ring_all_reduce(args.ranks, 64e6)
    if not args.skip_packet:
        line(f"ring all-reduce 64 MB, {args.ranks} ranks", fab, ring, "packet")
    line(f"ring all-reduce 64 MB, {args.ranks} ranks", fab, ring, "flow")
    fab2 = net.Fabric(leaf_spine_for(args.a2a_ranks))
    line(f"direct all-to-all 64 MB, {args.a2a_ranks} ranks", fab2, C.direct_all_to_all(args.a2a_ranks, 64e6), "flow")


if __name__ == "__main__":
    main()
