"""Flow level at scale (``collectives.run(mode="fluid")``): completion time beside the closed
form, wall time, peak memory, and the speed-up over the per-flow solver in the same run.

Runs (issue 14 targets in brackets), 100 Gb/s ideal links of 5 ns, 64 MB per rank:

- direct all-to-all of 16,384 ranks on a non-blocking 128 x 128 leaf-spine (128 spines)
  [completion time in < 10 s on one core], healthy and with one host cable at 50 Gb/s;
- ring all-reduce of 100,000 ranks on a k = 74 fat-tree (101,306 hosts, 3 tiers) [runs on one
  machine];
- the per-flow numpy solver (``mode="flow"``, ECMP) against the fluid mode on sizes both run:
  a 1,024-rank ring all-reduce and a 256-rank direct all-to-all (time ratio, and the completion
  times' difference: ECMP hash collisions, which the fluid split averages out).

Peak memory is the process's resident high-water mark after each run (cumulative).

    python benchmarks/bench_flowscale.py [--quick]
    pytest benchmarks/bench_flowscale.py --benchmark-only [--bench-quick]
"""
from __future__ import annotations

import argparse
import resource
import time

from _bench import photolink_seconds, photolink_seconds_and_result, record

from photolink import net
from photolink.links.model import LinkModel
from photolink.net import collectives as C

B = 100.0
PROP_NS = 5.0
S = 64e6
LINK = LinkModel.ideal(B, PROP_NS)


def leaf_spine(side: int) -> net.Topology:
    return net.topology.leaf_spine(side, side, side, host_link=LINK, spine_link=LINK)


def fat_tree(k: int) -> net.Topology:
    return net.topology.fat_tree(k, host_link=LINK, agg_link=LINK, core_link=LINK)


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def timed(topo_or_fab, sch, mode="fluid"):
    t0 = time.perf_counter()
    r = C.run(topo_or_fab, sch, seed=1, mode=mode)
    return r, time.perf_counter() - t0


def closed(sch, alpha_ns, rate=B):
    return C.closed_form_ns(sch.name, sch.n_ranks, sch.message_bytes, rate, alpha_ns)


def line(label, r, wall, cf):
    print(f"{label:<58} {r.completion_ns / 1e3:12.1f} us  closed form {cf / 1e3:12.1f} us  "
          f"ratio {r.completion_ns / cf:.9f}  wall {wall:7.2f} s  peak {peak_gb():.2f} GB", flush=True)


def slow_host(topo, host, gbps):
    up = topo.host_link(host)
    down = int(((topo.link_src == topo.link_dst[up]) & (topo.link_dst == host)).nonzero()[0][0])
    return C.degrade(topo, [up, down], LinkModel.ideal(gbps, PROP_NS), "slow")


def a2a_16k(side=128, slow_gbps=None):
    topo = leaf_spine(side)
    if slow_gbps:
        topo = slow_host(topo, 1000, slow_gbps)
    sch = C.direct_all_to_all(side * side, S)
    r, wall = timed(topo, sch)
    return r, wall, closed(sch, 4 * PROP_NS, slow_gbps or B)


def ring_100k(k=74, ranks=100_000):
    topo = fat_tree(k)
    sch = C.ring_all_reduce(min(ranks, topo.n_hosts), S)
    r, wall = timed(topo, sch)
    return r, wall, closed(sch, 6 * PROP_NS)


def per_flow_vs_fluid(sch, side):
    fab = net.Fabric(leaf_spine(side))
    flow, t_flow = timed(fab, sch, "flow")
    fluid, t_fluid = timed(fab, sch, "fluid")
    return flow, t_flow, fluid, t_fluid


def test_all_to_all_16k_fluid(benchmark, request, quick):
    """16,384-rank direct all-to-all (quick: 1,024): wall time against the 10 s budget."""
    side = 32 if quick else 128
    topo, sch = leaf_spine(side), C.direct_all_to_all(side * side, S)
    seconds, r = photolink_seconds_and_result(benchmark, lambda: C.run(topo, sch, seed=1, mode="fluid"), 1)
    record(request, benchmark, photolink_rate=seconds, peer_rate=10.0, unit="s wall", ratio=seconds / 10.0,
           target=1.0, higher_is_better=False, peer_name="the 10 s budget",
           completion_over_closed_form=r.completion_ns / closed(sch, 4 * PROP_NS))


def test_ring_100k_fluid(benchmark, request, quick):
    """100,000-rank ring all-reduce on a k = 74 fat-tree (quick: k = 16, 1,024 ranks): completion
    time over the closed form (target 1 + 1e-9)."""
    k, ranks = (16, 1024) if quick else (74, 100_000)
    topo = fat_tree(k)
    sch = C.ring_all_reduce(ranks, S)
    seconds, r = photolink_seconds_and_result(benchmark, lambda: C.run(topo, sch, seed=1, mode="fluid"), 1)
    record(request, benchmark, photolink_rate=seconds, peer_rate=None, unit="s wall",
           ratio=r.completion_ns / closed(sch, 6 * PROP_NS), target=1 + 1e-9, higher_is_better=False,
           peer_name="alpha-beta closed form (completion-time ratio)")


def test_fluid_against_per_flow_solver(benchmark, request, quick):
    """1,024-rank (quick: 256) ring all-reduce: per-flow solver time over fluid time."""
    side = 16 if quick else 32
    sch = C.ring_all_reduce(side * side, S)
    fab = net.Fabric(leaf_spine(side))
    seconds = photolink_seconds(benchmark, lambda: C.run(fab, sch, seed=1, mode="fluid"), 1)
    t0 = time.perf_counter()
    C.run(fab, sch, seed=1, mode="flow")
    per_flow = time.perf_counter() - t0
    record(request, benchmark, photolink_rate=seconds, peer_rate=per_flow, unit="s wall",
           ratio=per_flow / seconds, target=10.0, peer_name="per-flow numpy solver (mode='flow')")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,024-rank all-to-all, k = 16 fat-tree")
    args = ap.parse_args(argv)
    side, k, ranks = (32, 16, 1024) if args.quick else (128, 74, 100_000)
    for side_, make, label in ((16, C.direct_all_to_all, "direct all-to-all, 256 ranks"),
                               (32, C.ring_all_reduce, "ring all-reduce, 1,024 ranks")):
        flow, t_flow, fluid, t_fluid = per_flow_vs_fluid(make(side_ * side_, S), side_)
        print(f"{label:<32} per-flow ECMP {flow.completion_ns / 1e3:10.1f} us in {t_flow:7.2f} s, fluid "
              f"{fluid.completion_ns / 1e3:10.1f} us in {t_fluid:6.3f} s: {t_flow / t_fluid:7.0f}x faster, "
              f"ECMP {flow.completion_ns / fluid.completion_ns - 1:+.2%}", flush=True)
    r, wall, cf = a2a_16k(side)
    line(f"direct all-to-all 64 MB, {side * side:,} ranks, leaf-spine", r, wall, cf)
    r, wall, cf = a2a_16k(side, slow_gbps=50.0)
    line("  the same, one host cable at 50 Gb/s (closed form at 50)", r, wall, cf)
    r, wall, cf = ring_100k(k, ranks)
    line(f"ring all-reduce 64 MB, {min(ranks, fat_tree(k).n_hosts):,} ranks, fat-tree k={k}", r, wall, cf)


if __name__ == "__main__":
    main()
