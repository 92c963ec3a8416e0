"""Fabric engine: flows that wait for other flows (dependencies), and the attribution of each
flow's completion time to queueing, retries, serialisation, link latency, FEC hold and switches."""

import numpy as np
import pytest

import photolink as pl
from photolink import net
from photolink.links.model import LinkModel
from photolink.net import _fabric
from photolink.net import topology as T
from photolink.net.fabric import LATENCY_PARTS

B = 100.0
PROP = 1000.0


def star(p, link=None):
    """p hosts on one switch (node p)."""
    link = link or LinkModel.ideal(B, PROP)
    return net.Topology("star", [True] * p + [False], list(range(p)) + [p] * p, [p] * p + list(range(p)),
                        [0] * (2 * p), (link,), ("host",))


def parts_sum(flows):
    return flows["source_ns"] + sum(flows[k] for k in LATENCY_PARTS)


def test_a_dependent_flow_starts_when_its_last_dependency_is_delivered():
    fab = net.Fabric(star(5), switch=pl.Switch(150))
    # 0: 0 -> 1 (40 packets), 1: 2 -> 1 (10 packets), 2: 1 -> 3 after both, 500 ns later,
    # 3: 3 -> 4 after flow 2, constant from its own start
    f = net.flows.flow_list([0.0, 0.0, 500.0, 0.0], [0, 2, 1, 3], [1, 1, 3, 4], [40 * 4096, 10 * 4096, 8192, 4096])
    r = fab.run(f.after([[], [], [0, 1], [2]]), seed=1)
    t = r.flows
    assert r.delivered == r.n_packets == 40 + 10 + 2 + 1 and r.not_started == 0
    end = t["end_ns"]
    assert end[0] > end[1]                                   # the long flow is delivered last
    assert t["released_by"].tolist() == [-1, -1, 0, 2]
    assert t["ready_ns"][2] == end[0] and t["ready_ns"][3] == end[2]
    start = end - t["completion_time_ns"]
    assert start[2] == end[0] + 500.0 and start[3] == end[2]
    # alone on its route, a flow of n packets takes n serialisations + the route's latency
    s = 8 * 4096 / B
    assert t["completion_time_ns"][3] == pytest.approx(s + 2 * PROP + 150, rel=1e-12)
    # listed flows: their entry times count from the moment they are released
    g = net.Flows.listed(([0, 1], [1, 2]), [[0.0, 10.0], [100.0, 300.0]], [[1000, 1000], [500, 500]])
    r2 = fab.run(g.after([[], [0]]), seed=1)
    assert r2.flows["end_ns"][1] - r2.flows["completion_time_ns"][1] == r2.flows["end_ns"][0] + 100.0


def test_flows_released_at_different_times_share_queues():
    """Two long flows into host 1 build a backlog at its port; a flow 2 -> 1 released by a
    short flow 2 -> 4 queues behind it (one run: a dependency does not wait for the fabric to
    drain)."""
    fab = net.Fabric(star(5))
    f = net.flows.flow_list([0.0] * 4, [0, 3, 2, 2], [1, 1, 4, 1], [100 * 4096, 100 * 4096, 4096, 4096])
    t = fab.run(f.after([[], [], [], [2]]), seed=1).flows
    s = 8 * 4096 / B
    assert t["end_ns"][3] - t["completion_time_ns"][3] < t["end_ns"][0]      # started while 0 ran
    assert t["queueing_ns"][3] > 5 * s                                        # and waited behind it
    assert t["worst_link"][3] == 5 + 1                                        # at the port to host 1
    np.testing.assert_allclose(parts_sum(t), t["completion_time_ns"], rtol=1e-12)


def test_a_flow_whose_dependency_loses_packets_never_starts():
    dead = LinkModel("dead", B, {"propagation": PROP}, 5140, 1.0, 0.0)      # every codeword fails
    topo = net.Topology("two", [True, True, True, False], [0, 3, 1, 3, 2, 3], [3, 0, 3, 1, 3, 2],
                        [1, 0, 0, 0, 0, 0], (LinkModel.ideal(B, PROP), dead), ("ok", "dead"))
    f = net.flows.flow_list([0.0, 0.0, 0.0], [0, 1, 2], [1, 2, 1], [3 * 4096, 4096, 2 * 4096])
    r = net.Fabric(topo).run(f.after([[], [0], [1]]), seed=1)
    assert r.flows["delivered"].tolist() == [0, 0, 0] and r.flows["sent"].tolist() == [3, 0, 0]
    assert r.lost == r.n_packets == 3 and r.not_started == 3
    assert np.all(np.isnan(r.flows["completion_time_ns"][1:]))
    assert r.to_dict()["not_started"] == 3


@pytest.mark.parametrize("recovery", ["llr", pl.E2E(timeout_ns=20_000, max_retries=20)], ids=["llr", "e2e"])
@pytest.mark.parametrize("mode", ["cut-through", "store-and-forward"])
def test_the_parts_of_a_flow_add_up_to_its_completion_time(recovery, mode):
    """Lossy host links (retries), a slower spine tier (cut-through cannot overlap all of a
    packet), an FEC hold, switch latency and incast queueing: source pacing plus the
    last-delivered packet's parts is every flow's completion time (an independent measurement:
    first entry to last delivery)."""
    lossy = LinkModel("lossy", B, {"propagation": 50.0}, 5140, 2e-2, 80.0)
    spine = LinkModel("spine", 0.5 * B, {"propagation": 300.0}, 5140, 0.0, 40.0)
    topo = T.leaf_spine(2, 4, 2, host_link=lossy, spine_link=spine)
    fab = net.Fabric(topo, switch=pl.Switch(120, mode, buffer_bytes=2e6))
    src, dst = T.leaf_spine(2, 4, 2).hosts[[0, 1, 2, 4, 5, 6, 7]], [4, 4, 4, 0, 0, 1, 2]
    f = net.flows.flow_list([0.0] * 7, src, dst, [64 * 4096] * 7).after([[], [], [], [0], [1], [3, 4], [5]])
    r = fab.run(f, seed=3, recovery=recovery)
    t = r.flows
    assert r.delivered == r.n_packets
    np.testing.assert_allclose(parts_sum(t), t["completion_time_ns"], rtol=1e-9)
    assert np.all(t["retries_ns"] >= -1e-6) and np.sum(t["retries_ns"]) > 0
    assert np.all(t["fec_hold_ns"] >= 80.0) and np.all(t["queueing_ns"] >= -1e-6)
    if mode == "store-and-forward":       # every hop serialises the whole packet
        assert np.all(t["serialisation_ns"][3:] >= 8 * 4096 * (2 / B + 2 / (0.5 * B)) - 1e-6)
    assert np.max(t["queueing_ns"]) > 1e3                 # the incast at host 4 queues


def test_the_parts_on_an_idle_route_are_its_closed_form():
    """One flow alone host -> leaf -> spine -> leaf -> host, cut-through, spine at half rate:
    serialisation = the spine's extra time (S_spine - S_host) + the last hop's S_host, source
    pacing (n - 1) S_host, queueing: the faster host link feeding the slower spine."""
    host = LinkModel("h", B, {"propagation": 10.0}, 0, 0.0, 25.0)
    spine = LinkModel("s", 0.5 * B, {"propagation": 200.0}, 0, 0.0, 0.0)
    topo = T.leaf_spine(2, 2, 1, host_link=host, spine_link=spine)
    fab = net.Fabric(topo, switch=pl.Switch(100))
    n = 5
    t = fab.run(net.flows.flow_list([0.0], [0], [2], [n * 4096]), seed=1).flows
    s = 8 * 4096 / B
    assert t["source_ns"][0] == pytest.approx((n - 1) * s)
    assert t["serialisation_ns"][0] == pytest.approx(s + 2 * s - s)
    assert t["link_latency_ns"][0] == pytest.approx(10 + 200 + 200 + 10)
    assert t["fec_hold_ns"][0] == pytest.approx(2 * 25.0) and t["switch_ns"][0] == pytest.approx(3 * 100.0)
    assert t["queueing_ns"][0] == pytest.approx((n - 1) * (2 * s - s))      # the last packet waits for the spine
    assert t["retries_ns"][0] == 0.0
    assert parts_sum(t)[0] == pytest.approx(t["completion_time_ns"][0], rel=1e-12)


def test_runs_with_dependencies_are_reproducible():
    lossy = LinkModel("lossy", B, {"propagation": 50.0}, 5140, 3e-3, 0.0)
    fab = net.Fabric(T.leaf_spine(2, 4, 2, host_link=lossy, spine_link=lossy))
    f = net.flows.flow_list([0.0] * 4, [0, 1, 2, 3], [4, 5, 6, 7], [32 * 4096] * 4).after([[], [0], [1], [0, 2]])
    a, b, c = (fab.run(f, seed=s, recovery="llr").flows for s in (5, 5, 6))
    for k in ("end_ns", "queueing_ns", "retries_ns", "released_by"):
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["retries_ns"], c["retries_ns"])


def test_dependencies_in_exact_mode_wait_through_refills():
    """Exact mode stalls for codeword outcomes block by block; released flows resume with it."""
    lossy = LinkModel("lossy", B, {"propagation": 50.0}, 5140, 3e-3, 0.0)
    fab = net.Fabric(T.leaf_spine(2, 2, 1, host_link=lossy, spine_link=lossy))
    f = net.flows.flow_list([0.0] * 3, [0, 1, 2], [2, 3, 0], [2500 * 4096] * 3).after([[], [0], [1]])
    a, b = (fab.run(f, seed=4, recovery="llr", mode="exact") for _ in range(2))
    assert a.delivered == a.n_packets == 7500 and a.llr_retries > 0
    np.testing.assert_array_equal(a.flows["end_ns"], b.flows["end_ns"])
    assert a.flows["released_by"].tolist() == [-1, 0, 1]
    assert np.all(a.flows["end_ns"][1:] - a.flows["completion_time_ns"][1:] == a.flows["end_ns"][:-1])
    np.testing.assert_allclose(parts_sum(a.flows), a.flows["completion_time_ns"], rtol=1e-9)


def test_bad_dependencies_are_refused_before_the_kernel():
    f = net.flows.flow_list([0.0, 0.0, 0.0], [0, 1, 2], [1, 2, 0], [4096] * 3)
    with pytest.raises(ValueError, match="earlier flow"):
        f.after([[], [2], []])                               # a later flow: a cycle is possible
    with pytest.raises(ValueError, match="earlier flow"):
        f.after([[], [1], []])                               # itself
    with pytest.raises(ValueError, match="earlier flow"):
        f.after([[], [-1], []])
    with pytest.raises(ValueError, match="one sequence per flow"):
        f.after([[], []])
    with pytest.raises(ValueError, match="dep_off"):
        f.after((np.array([0, 0, 1]), np.array([0])))
    with pytest.raises(TypeError, match="integer"):
        f.after((np.array([0, 0, 1, 1]), np.array([0.5])))


def test_the_kernel_refuses_bad_dependency_arrays_without_crashing():
    topo = T.leaf_spine(2, 2, 1)
    fab = net.Fabric(topo)
    flows = net.flows.flow_list([0.0, 0.0], [0, 1], [2, 3], [4096, 4096])
    r = fab.routes
    args = {"choice": "hash", "paths": "minimal", "recovery": "drop", "max_retries": 0, "timeout_ns": 0.0,
            "ugal_threshold_bytes": 0.0, "hash_salt": 1, "batch_len": 1, "batch_cap": 2, "raw_cap": 0,
            "queue_histograms": False, "bit_generators": [None] * topo.n_links}

    def make(off, on):
        kf = dict(fab._kernel_flows(flows), dep_off=np.array(off), dep_on=np.array(on))
        return _fabric.FabricKernel(fab._kernel_links(None), topo.link_src, topo.link_dst, r.target_of,
                                    topo.is_host, r.route_off, r.route_link, None, None, kf, **args)

    make([0, 0, 1], [0])                                     # flow 1 after flow 0: fine
    for off, on in (([0, 0, 1], [1]), ([0, 1, 1], [0]), ([0, 0, 1], [-3]), ([1, 1, 1], [0]),
                    ([0, 1 << 40, 1], [0])):                   # an offset far past dep_on
        with pytest.raises(ValueError):
            make(off, on)
