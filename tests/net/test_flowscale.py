"""Flow level at scale (net.flowscale, collectives.run(mode="fluid")): flow classes with fluid
routes against the per-flow solver (exact where both have one route), against per-flow fluid
routes (exact: the class aggregation), against the alpha-beta closed forms, with stragglers,
against packet mode with spraying (within 5 %), and the repeated-step fast path."""

import math

import numpy as np
import pytest

from photolink import net
from photolink.links.model import LinkModel
from photolink.net import collectives as C
from photolink.net import flowscale, flowsim, maxmin

B = 100.0
PROP = 5.0
S = 64e6


def leaf_spine(L, H, S_, **kw):
    return net.topology.leaf_spine(L, H, S_, host_link=LinkModel.ideal(B, PROP), spine_link=LinkModel.ideal(B, PROP), **kw)


def cable(topo, host):
    """Both directed links of a host's cable."""
    up = topo.host_link(host)
    down = int(np.flatnonzero((topo.link_src == topo.link_dst[up]) & (topo.link_dst == host))[0])
    return [up, down]


def alpha(topo, a, b):
    """Unloaded route latency between two hosts of a leaf-spine of ideal links: hops x PROP."""
    H = topo.params["hosts_per_leaf"]
    return (2 if a // H == b // H else 4) * PROP


def test_alpha_is_the_route_latency():
    topo = leaf_spine(4, 4, 2)
    fab = net.Fabric(topo)
    for a, b in ((0, 1), (0, 15), (5, 9)):
        assert alpha(topo, a, b) == float(flowsim.route_latency_ns(fab, [a], [b])[0])


def listed(schedule):
    """The same schedule with every all-pairs step listed flow by flow (one class per flow)."""
    steps = tuple(C.Step(s.src, s.dst, s.bytes_, s.load) if isinstance(s, C.AllPairsStep) else s
                  for s in schedule.steps)
    return C.Schedule(schedule.name, schedule.n_ranks, schedule.message_bytes, steps)


def test_weighted_max_min_equals_duplicated_flows_per_flow():
    # a class of multiplicity m is m identical flows: checked against the per-flow solver
    rng = np.random.default_rng(3)
    for _ in range(20):
        n_c, n_l = 6, 5
        inc = rng.random((n_c, n_l)) < 0.5
        inc[np.arange(n_c), rng.integers(0, n_l, n_c)] = True
        mult = rng.integers(1, 4, n_c)
        capacity = rng.uniform(1, 10, n_l)
        cap = np.where(rng.random(n_c) < 0.3, rng.uniform(0.1, 2, n_c), np.inf)
        c, l = np.nonzero(inc)
        classes = maxmin.max_min_weighted(c, l, mult[c].astype(float), n_c, capacity, cap)
        from scipy.sparse import csr_matrix
        flows = np.repeat(np.arange(n_c), mult)
        per_flow = flowsim.max_min_rates(csr_matrix(inc[flows].astype(float)), capacity, cap[flows])
        np.testing.assert_allclose(classes[flows], per_flow, rtol=1e-9)


def test_fluid_split_textbook():
    # flow 0 split evenly over links 0 and 1 (cap 1 each), flow 1 alone on link 1: link 1
    # carries r0/2 + r1 = 1 with r0 = r1 -> 2/3 each; link 0 then has room but flow 0 is frozen
    r = maxmin.max_min_weighted(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([0.5, 0.5, 1.0]), 2,
                                   np.array([1.0, 1.0]), np.array([np.inf, np.inf]))
    np.testing.assert_allclose(r, [2 / 3, 2 / 3])


@pytest.mark.parametrize("make", [C.ring_all_reduce, C.direct_all_to_all, C.pairwise_all_to_all,
                                  C.halving_doubling_all_reduce, C.double_binary_tree_all_reduce,
                                  lambda p, s: C.direct_all_to_all(p, s, skew=1.0)],
                         ids=["ring", "direct", "pairwise", "halving-doubling", "tree", "direct-skewed"])
def test_fluid_equals_per_flow_solver_where_routes_are_unique(make):
    # one spine: every flow has one route, so fluid routes are the per-flow routes; a slow host
    # cable and a slow spine cable make the classes and the rates uneven
    topo = leaf_spine(4, 4, 1)
    slow = LinkModel.ideal(40.0, 50.0, name="slow")
    topo = C.degrade(C.degrade(topo, cable(topo, 5), slow), [int(np.flatnonzero(~topo.is_host[topo.link_src])[3])],
                     LinkModel.ideal(150.0, PROP))
    sch = make(16, 4e6)
    flo = C.run(net.Fabric(topo), sch, seed=1, mode="flow")
    flu = C.run(topo, sch, seed=1, mode="fluid")
    assert flu.completion_ns == pytest.approx(flo.completion_ns, rel=1e-9)
    np.testing.assert_allclose(flu.step_end_ns, flo.step_end_ns, rtol=1e-9)
    np.testing.assert_allclose(flu.link_busy_ns, flo.link_busy_ns, rtol=1e-9, atol=1e-6)
    assert [x["step"] for x in flu.critical_path] == [x["step"] for x in flo.critical_path]


@pytest.mark.parametrize("degrade", [None, "host", "spine"])
def test_classes_equal_per_flow_fluid_routes_256_endpoints(degrade):
    # 256 endpoints, 16 spines: the all-to-all as 16 x 16 host-group classes against 65,280
    # listed flows on the same fluid routes (exact: the class aggregation loses nothing)
    topo = leaf_spine(16, 16, 16)
    if degrade == "host":
        topo = C.degrade(topo, cable(topo, 37), LinkModel.ideal(30.0, PROP))
    elif degrade == "spine":
        topo = C.degrade(topo, [int(np.flatnonzero(~topo.is_host[topo.link_src])[5])], LinkModel.ideal(2.0, PROP))
    sch = C.direct_all_to_all(256, S)
    classes = C.run(topo, sch, seed=1, mode="fluid")
    flows = C.run(topo, listed(sch), seed=1, mode="fluid")
    assert classes.completion_ns == pytest.approx(flows.completion_ns, rel=1e-9)
    np.testing.assert_allclose(classes.link_busy_ns, flows.link_busy_ns, rtol=1e-9, atol=1e-6)
    cf = C.closed_form_ns("direct-all-to-all", 256, S, B, alpha(topo, 0, 255))
    if degrade is None:
        assert classes.completion_ns == pytest.approx(cf, rel=1e-9)
    else:
        assert classes.completion_ns > 1.05 * cf                 # the straggler shows


@pytest.mark.parametrize("p, shape", [(1024, (32, 32, 32)), (4096, (64, 64, 32))])
def test_closed_forms_on_full_bisection(p, shape):
    topo = leaf_spine(*shape)                 # (64, 64, 32): 2:1 oversubscribed, not full bisection
    a = alpha(topo, 0, topo.n_hosts - 1)
    ring = C.run(topo, C.ring_all_reduce(p, S), seed=1, mode="fluid")
    assert ring.completion_ns == pytest.approx(C.closed_form_ns("ring-all-reduce", p, S, B, a), rel=1e-9)
    a2a = C.run(topo, C.direct_all_to_all(p, S), seed=1, mode="fluid")
    cf = C.closed_form_ns("direct-all-to-all", p, S, B, a)
    if shape[1] == shape[2]:
        assert a2a.completion_ns == pytest.approx(cf, rel=1e-9)
    else:   # the cross-leaf bytes (63/64 of them) through half the capacity
        _, H, S_ = shape
        cross = S / p * (p - H) * H                        # bytes out of a leaf
        assert a2a.completion_ns == pytest.approx(8 * cross / (S_ * B) + a, rel=1e-9)


@pytest.mark.parametrize("where", ["host", "spine"])
def test_one_straggler_link_makes_the_ring_run_at_its_rate(where):
    p, slow_gbps = 256, 25.0
    topo = leaf_spine(16, 16, 16)
    a = alpha(topo, 0, 255)
    if where == "host":
        bad = C.degrade(topo, cable(topo, 40), LinkModel.ideal(slow_gbps, PROP), "slow")
        rate, a = slow_gbps, alpha(topo, 40, 41)          # the slow flows stay on their leaf
    else:   # a leaf-crossing flow's bytes split over 16 spines: one uplink at B'/16 caps it at B'
        sw = np.flatnonzero(~topo.is_host[topo.link_src] & ~topo.is_host[topo.link_dst])
        bad = C.degrade(topo, [sw[0]], LinkModel.ideal(slow_gbps / 16, PROP), "slow")
        rate = slow_gbps
    r = C.run(bad, C.ring_all_reduce(p, S), seed=1, mode="fluid")
    assert r.completion_ns == pytest.approx(C.closed_form_ns("ring-all-reduce", p, S, rate, a), rel=1e-9)
    assert r.bottleneck["tier"] == "slow"
    healthy = C.run(topo, C.ring_all_reduce(p, S), seed=1, mode="fluid")
    assert r.completion_ns > 0.9 * B / rate * healthy.completion_ns


def test_straggler_in_the_all_to_all():
    p, slow_gbps = 1024, 50.0
    topo = leaf_spine(32, 32, 32)
    bad = C.degrade(topo, cable(topo, 100), LinkModel.ideal(slow_gbps, PROP), "slow")
    r = C.run(bad, C.direct_all_to_all(p, S), seed=1, mode="fluid")
    assert r.completion_ns == pytest.approx(C.closed_form_ns("direct-all-to-all", p, S, slow_gbps, alpha(topo, 0, p - 1)),
                                            rel=1e-9)
    assert 100 in (r.critical_path[0]["src"], r.critical_path[0]["dst"])


@pytest.mark.parametrize("make", [C.ring_all_reduce, C.direct_all_to_all, C.double_binary_tree_all_reduce])
def test_fluid_agrees_with_packet_mode_spraying_64_endpoints(make):
    fab = net.Fabric(leaf_spine(8, 8, 8), routing="spray")
    sch = make(64, S)
    pkt = C.run(fab, sch, seed=1)
    flu = C.run(fab, sch, seed=1, mode="fluid")
    assert flu.completion_ns == pytest.approx(pkt.completion_ns, rel=0.05)


def test_repeated_steps_fast_path_is_exact(monkeypatch):
    # a 128-rank ring with a straggler: the wave of late ranks takes ~p steps to settle
    topo = leaf_spine(8, 16, 4)
    bad = C.degrade(topo, cable(topo, 9), LinkModel.ideal(60.0, 40.0))
    sch = C.ring_all_reduce(128, S)
    tracked = C.run(bad, sch, seed=1, mode="fluid")
    monkeypatch.setattr(C, "FLUID_PATH_FLOWS", 0)               # no critical path: the fast path
    fast = C.run(bad, sch, seed=1, mode="fluid")
    monkeypatch.setattr(C, "FLUID_STEADY_CHECK", 10**9)         # and without skipping steady steps
    slow = C.run(bad, sch, seed=1, mode="fluid")
    assert fast.completion_ns == pytest.approx(tracked.completion_ns, rel=1e-12)
    assert slow.completion_ns == pytest.approx(tracked.completion_ns, rel=1e-12)
    np.testing.assert_allclose(fast.step_end_ns, tracked.step_end_ns, rtol=1e-12)
    np.testing.assert_allclose(fast.link_busy_ns, tracked.link_busy_ns, rtol=1e-12)
    assert fast.critical_path[0]["end_ns"] == pytest.approx(tracked.critical_path[0]["end_ns"])
    assert len(tracked.critical_path) == 2 * 127


def test_llr_derating_and_e2e_in_fluid_mode():
    dac = LinkModel.ideal(B, PROP)
    import dataclasses
    lossy = dataclasses.replace(dac, cwer=2e-3, codeword_bits=5440, name="lossy")
    topo = C.degrade(leaf_spine(4, 4, 1), cable(leaf_spine(4, 4, 1), 2), lossy, "lossy")
    sch = C.ring_all_reduce(16, 4e6)
    for goodput in ("llr", "e2e", "none"):
        flo = C.run(net.Fabric(topo), sch, seed=1, mode="flow", goodput=goodput)
        flu = C.run(topo, sch, seed=1, mode="fluid", goodput=goodput)
        assert flu.completion_ns == pytest.approx(flo.completion_ns, rel=1e-9)


def test_bad_input_fluid():
    topo = leaf_spine(2, 2, 1)
    with pytest.raises(TypeError, match="fabric"):
        C.run(topo, C.ring_all_reduce(4, 1e6), seed=1, mode="flow")
    with pytest.raises(ValueError, match="routing='valiant'"):
        C.run(net.Fabric(topo, routing="valiant"), C.ring_all_reduce(4, 1e6), seed=1, mode="fluid")
    with pytest.raises(ValueError, match="goodput"):
        C.run(topo, C.ring_all_reduce(4, 1e6), seed=1, mode="fluid", goodput="x")
    # a host with two cables is not single-homed
    two = net.Topology("two", [True, True, False, False], [0, 2, 0, 3, 1, 2], [2, 0, 3, 0, 2, 1], [0] * 6,
                       (LinkModel.ideal(B),))
    with pytest.raises(ValueError, match="single-homed"):
        flowscale.FluidModel(two)
    with pytest.raises(ValueError, match="n_ranks"):
        _ = C.direct_all_to_all(1 << 20, 1e6).steps[0].src
    d = C.direct_all_to_all(5, 500.0)
    assert d.steps[0].n_flows == 20 and d.n_flows == 20 and d.steps[0].to_dict()["all_pairs"]
    assert math.isclose(d.total_bytes, 5 * 400.0)


@pytest.mark.slow
def test_fluid_against_per_flow_ecmp_256_endpoints():
    # ECMP hashes whole flows onto uplinks: the busiest uplink carries more than the mean, so the
    # per-flow ECMP all-to-all is slower than the fluid (spraying) limit, by 11.0 % at 256
    # endpoints on 16 spines (7.6 % at 1,024 on 32); a ring, whose flows share no link, is the
    # same in both
    fab = net.Fabric(leaf_spine(16, 16, 16))
    for make, lo, hi in ((C.direct_all_to_all, 0.05, 0.15), (C.ring_all_reduce, 0.0, 1e-9)):
        sch = make(256, S)
        ecmp = C.run(fab, sch, seed=1, mode="flow").completion_ns
        fluid = C.run(fab, sch, seed=1, mode="fluid").completion_ns
        assert lo <= ecmp / fluid - 1 <= hi


@pytest.mark.slow
def test_classes_equal_per_flow_fluid_routes_1024_endpoints():
    # 1,024 endpoints on 4 spines (8:1 oversubscribed), one slow host cable and one slow uplink:
    # 32 x 32 + stragglers' classes against 1,047,552 listed flows (~10 s, ~2 GB)
    topo = leaf_spine(32, 32, 4)
    sw = np.flatnonzero(~topo.is_host[topo.link_src] & ~topo.is_host[topo.link_dst])
    topo = C.degrade(C.degrade(topo, cable(topo, 77), LinkModel.ideal(30.0, PROP)), [sw[9]], LinkModel.ideal(10.0, PROP))
    sch = C.direct_all_to_all(1024, S)
    classes = C.run(topo, sch, seed=1, mode="fluid")
    flows = C.run(topo, listed(sch), seed=1, mode="fluid")
    assert classes.completion_ns == pytest.approx(flows.completion_ns, rel=1e-9)
    np.testing.assert_allclose(classes.link_busy_ns, flows.link_busy_ns, rtol=1e-9, atol=1e-6)


def test_fat_tree_closed_forms_and_fluid_shares():
    # three tiers: a cross-pod route has 6 links; full bisection, so both collectives run at the
    # closed form with alpha = 6 link latencies
    link = LinkModel.ideal(B, PROP)
    topo = net.topology.fat_tree(8, host_link=link, agg_link=link, core_link=link)
    p = topo.n_hosts
    for make in (C.ring_all_reduce, C.direct_all_to_all):
        sch = make(p, S)
        r = C.run(topo, sch, seed=1, mode="fluid")
        assert r.completion_ns == pytest.approx(C.closed_form_ns(sch.name, p, S, B, 6 * PROP), rel=1e-9)
    # the split of one cross-pod pair: all of it leaves its edge switch over the 4 uplinks and
    # reaches the destination edge switch; each core carries 1/16
    m = flowscale.FluidModel(topo)
    s, d = m.attach[0], m.attach[p - 1]
    links, shares, lat, hops = m.routes([s], [d])[0]
    out_of_s = topo.link_src[links] == s
    into_d = topo.link_dst[links] == d
    assert shares[out_of_s].sum() == pytest.approx(1.0) and out_of_s.sum() == 4
    assert shares[into_d].sum() == pytest.approx(1.0) and into_d.sum() == 4
    core = np.flatnonzero(topo.link_tier[links] == 2)
    assert np.allclose(shares[core], 1 / 16) and core.size == 32
    assert hops == 4 and lat == 4 * PROP


def test_untracked_path_for_steps_that_are_not_rings(monkeypatch):
    # hierarchical all-reduce (server rings, then rail rings) and pairwise all-to-all: the
    # untracked update of ready times equals the tracked one
    topo = net.topology.rail_optimised(8, 4, 4, host_link=LinkModel.ideal(B, PROP), spine_link=LinkModel.ideal(40.0, PROP))
    for sch in (C.hierarchical_all_reduce(8, 4, S), C.pairwise_all_to_all(32, S)):
        tracked = C.run(topo, sch, seed=1, mode="fluid")
        monkeypatch.setattr(C, "FLUID_PATH_FLOWS", 0)
        fast = C.run(topo, sch, seed=1, mode="fluid")
        monkeypatch.undo()
        assert len(tracked.critical_path) > 1 and len(fast.critical_path) == 1
        assert fast.completion_ns == pytest.approx(tracked.completion_ns, rel=1e-12)
        np.testing.assert_allclose(fast.step_end_ns, tracked.step_end_ns, rtol=1e-12)
        assert fast.critical_path[0]["end_ns"] == pytest.approx(fast.completion_ns)
