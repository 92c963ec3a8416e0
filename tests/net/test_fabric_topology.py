"""Topologies (bisection against closed forms), routing tables (dimension order, minimal,
Valiant, UGAL), traffic patterns and throughput on whole fabrics, results as data."""
import json
import math

import numpy as np
import pytest

import photolink as pl
from photolink import net
from photolink.links.model import LinkModel
from photolink.net import flows as F
from photolink.net import topology as T

B = 100.0   # Gb/s of the default link


# ---- bisection bandwidth against closed forms ----------------------------------------------

@pytest.mark.parametrize("make, expected_gbps", [
    # fat-tree, non-blocking: N/2 x B (k = 4: 16 hosts; k = 8: 128 hosts)
    (lambda: T.fat_tree(4), 16 / 2 * B),
    (lambda: T.fat_tree(8), 128 / 2 * B),
    # fat-tree oversubscribed 2:1 at the edge: core-limited k^3/8 x B
    (lambda: T.fat_tree(4, hosts_per_edge=4), 4**3 / 8 * B),
    # leaf-spine: min(N/2 x B, L x S x B_up / 2)
    (lambda: T.leaf_spine(8, 8, 4), min(64 / 2 * B, 8 * 4 * B / 2)),
    (lambda: T.leaf_spine(8, 4, 4), min(32 / 2 * B, 8 * 4 * B / 2)),
    (lambda: T.leaf_spine(4, 8, 2, spine_link=LinkModel.ideal(400)), min(32 / 2 * B, 4 * 2 * 400 / 2)),
    # hypercube: 2^(n-1) links (4 hosts per vertex so that the cube, not the hosts, binds)
    (lambda: T.hypercube(4, hosts_per_node=4), 2**3 * B),
    (lambda: T.hypercube(6, hosts_per_node=2), 2**5 * B),
    # k-ary n-cube torus: 2 k^(n-1) links (k = 2: k^(n-1))
    (lambda: T.torus(4, 2, hosts_per_node=4), 2 * 4 * B),
    (lambda: T.torus(6, 2, hosts_per_node=4), 2 * 6 * B),
    (lambda: T.torus(4, 3, hosts_per_node=2), 2 * 16 * B),
    (lambda: T.torus(2, 3, hosts_per_node=4), 4 * B),
    # dragonfly: the global links between the halves of the groups, floor(g/2) ceil(g/2)
    (lambda: T.dragonfly(4, 2, 2), 4 * 5 * B),
    (lambda: T.dragonfly(2, 2, 1), 1 * 2 * B),
    (lambda: T.dragonfly(4, 4, 2, global_link=LinkModel.ideal(200)), 4 * 5 * 200),
    # fewer groups, m = a h / (g - 1) global links per pair: floor(g/2) ceil(g/2) m
    (lambda: T.dragonfly(4, 2, 2, groups=5), 2 * 3 * 2 * B),
    (lambda: T.dragonfly(4, 4, 2, groups=3), 1 * 2 * 4 * B),
    # rail-optimised: traffic between the server halves stays on its rail leaf
    (lambda: T.rail_optimised(8, 4, 2), 32 / 2 * B),
], ids=["ft4", "ft8", "ft4-oversub", "ls-8x8x4", "ls-8x4x4", "ls-400g-up", "cube4", "cube6", "torus4x4",
        "torus6x6", "torus4^3", "torus2^3", "df-4-2-2", "df-2-2-1", "df-200g-global", "df-g5-m2",
        "df-g3-m4", "rail"])
def test_bisection_of_each_generator_matches_its_closed_form(make, expected_gbps):
    topo = make()
    assert topo.bisection_closed_form_gbps == pytest.approx(expected_gbps)
    assert topo.bisection_gbps() == pytest.approx(expected_gbps)


def test_bisection_check_can_fail_and_topologies_have_the_documented_sizes():
    ls = T.leaf_spine(8, 8, 4)
    assert (ls.n_hosts, ls.n_nodes, ls.n_links) == (64, 76, 2 * (64 + 32))
    assert ls.params["oversubscription"] == 2.0
    ft = T.fat_tree(4)
    assert (ft.n_hosts, ft.n_nodes - ft.n_hosts) == (16, 20)
    df = T.dragonfly(4, 2, 2)
    assert df.params["groups"] == 9 and df.n_hosts == 72
    assert np.sum(df.link_tier == 2) == 2 * 9 * 8 // 2          # one global cable per group pair
    # every pair of groups joined by exactly one global cable
    g = df.group
    pairs = {tuple(sorted((g[s], g[d]))) for s, d in zip(df.link_src[df.link_tier == 2], df.link_dst[df.link_tier == 2])}
    assert len(pairs) == 9 * 8 // 2
    # a bisection cut through one leaf's hosts only is smaller than the fabric's
    side = np.zeros(ls.n_nodes, bool)
    side[:4] = True
    assert ls.bisection_gbps(side) == pytest.approx(4 * B)


def test_from_networkx_gives_the_generator_fabric():
    nx = pytest.importorskip("networkx")
    g = nx.Graph()
    for h in range(8):
        g.add_node(("h", h), host=True)
        g.add_edge(("h", h), ("leaf", h // 4), tier=0)
    for leaf in range(2):
        for s in range(2):
            g.add_edge(("leaf", leaf), ("spine", s), tier=1)
    topo = T.from_networkx(g, tiers=(LinkModel.ideal(100), LinkModel.ideal(100)))
    ref = T.leaf_spine(2, 4, 2)
    assert (topo.n_nodes, topo.n_hosts, topo.n_links) == (ref.n_nodes, ref.n_hosts, ref.n_links)
    assert topo.bisection_gbps() == ref.bisection_gbps() == 200.0
    r = net.Fabric(topo).run(net.Flows.poisson(F.permutation(topo, seed=1), load=0.3, n_packets=200), seed=1)
    assert r.delivered == r.n_packets


# ---- routing tables -------------------------------------------------------------------------

def test_dimension_order_corrects_the_lowest_dimension_first():
    topo = T.torus(4, 2)
    routes = net.routing.build_routes(topo, "dimension-order")
    sw = np.flatnonzero(~topo.is_host)
    for u in sw:
        for target in topo.hosts:
            c = routes.candidates(u, target)
            assert c.size >= 1
            dims = topo.link_dim[c]
            if np.all(dims < 0):               # the last hop, to the host
                assert topo.link_dst[c[0]] == target
                continue
            # every candidate in one dimension, the lowest that still differs
            assert len(set(dims.tolist())) == 1
    cube = T.hypercube(5)
    pairs = F.all_to_all(cube)
    spaced = net.Flows.constant(pairs, packet_bytes=512, n_packets=1, start_ns=1000.0 * np.arange(pairs[0].size))
    r = net.Fabric(cube, routing="dimension-order").run(spaced, seed=1, return_latencies=True)
    # zero load, cut-through, equal rates: one serialisation + (hops + 2 host links) x 5 ns
    flows = r.latency_flows
    ham = np.array([(int(a) ^ int(b)).bit_count() for a, b in zip(r.flows["src"], r.flows["dst"])])
    expected = 8 * 512 / 100 + 5.0 * (ham[flows] + 2)
    np.testing.assert_allclose(r.latencies_ns, expected, rtol=1e-12)


def test_ecmp_keeps_a_flow_on_one_route_and_spraying_spreads_it():
    topo = T.leaf_spine(2, 2, 4)
    flows = net.Flows.poisson(([0], [2]), load=0.2, n_packets=4000)
    ups = np.flatnonzero(topo.link_tier == 1)[:8]
    leaf0_up = ups[topo.link_src[ups] == 4]
    ecmp = net.Fabric(topo, routing="ecmp").run(flows, seed=1)
    spray = net.Fabric(topo, routing="spray").run(flows, seed=1)
    assert sorted(ecmp.links["packets"][leaf0_up]) == [0, 0, 0, 4000]
    counts = spray.links["packets"][leaf0_up]
    assert counts.sum() == 4000 and counts.min() > 850          # ~1000 each


# ---- throughput on whole fabrics --------------------------------------------------------------

def saturation(topo, routing, pairs, n=600, seed=1):
    """Delivered throughput per host, as a fraction of the host link rate, for back-to-back
    flows through unbounded (lossless) queues: the busiest link sets the run's duration."""
    fab = net.Fabric(topo, routing=routing, switch=pl.Switch(100))
    r = fab.run(net.Flows.constant(pairs, load=1.0, packet_bytes=4096, n_packets=n), seed=seed)
    assert r.lost == 0
    return r.throughput_gbps / (len(pairs[0]) * B), r


def test_permutation_on_a_non_blocking_fat_tree_runs_at_line_rate_with_spraying():
    ft = T.fat_tree(4)
    pairs = F.permutation(ft, seed=1)
    spray, _ = saturation(ft, "spray", pairs, n=2000)
    assert spray > 0.95
    # flow-hash ECMP collides on the uplinks (the check can fail)
    ecmp, r = saturation(ft, "ecmp", pairs, n=2000)
    assert ecmp < 0.8
    assert max(r.links["utilisation"]) == pytest.approx(1.0, rel=0.01)


def test_dragonfly_adversarial_minimal_valiant_ugal():
    # minimal routing saturates at 1/(a p) of the injection bandwidth (a group's a p hosts share
    # one global link, [ref:dragonfly-minimal-adversarial]), Valiant near 1/2 (two global hops
    # per packet), UGAL in between ([ref:dragonfly-valiant-ugal], BookSim2's behaviour)
    a, p, h = 4, 2, 2
    df = T.dragonfly(a, p, h)
    pairs = F.dragonfly_adversarial(df)
    minimal, _ = saturation(df, "minimal", pairs)
    valiant, rv = saturation(df, "valiant", pairs)
    ugal, ru = saturation(df, "ugal", pairs)
    assert minimal == pytest.approx(1 / (a * p), rel=0.02)
    assert 0.45 <= valiant <= 0.55
    assert minimal + 0.1 < ugal < valiant
    assert rv.valiant_packets == rv.n_packets and 0 < ru.valiant_packets < ru.n_packets


def test_dragonfly_with_several_global_links_per_group_pair():
    # g = 5 groups of a = 4 routers with h = 2 global ports: m = a h / (g - 1) = 2 links per pair,
    # from different routers; every router keeps h global ports
    a, p, h = 4, 2, 2
    df = T.dragonfly(a, p, h, groups=5)
    assert df.params["global_links_per_pair"] == 2
    glob = df.link_tier == 2
    pair = df.group[df.link_src[glob]] * 5 + df.group[df.link_dst[glob]]
    assert np.all(np.bincount(pair, minlength=25).reshape(5, 5)[~np.eye(5, dtype=bool)] == 2)
    assert np.all(np.bincount(df.link_src[glob] - df.n_hosts, minlength=20) == h)
    # minimal routing under the adversarial pattern now saturates at m/(a p): the m links share
    # a group's traffic ([ref:photolink-dragonfly-parallel-global])
    minimal, _ = saturation(df, "minimal", F.dragonfly_adversarial(df))
    assert minimal == pytest.approx(2 / (a * p), rel=0.03)
    with pytest.raises(ValueError, match="groups - 1 must divide"):
        T.dragonfly(4, 2, 2, groups=4)
    with pytest.raises(ValueError, match="groups"):
        T.dragonfly(4, 2, 2, groups=10)


def test_incast_and_uniform_patterns_are_well_formed():
    topo = T.leaf_spine(4, 4, 2)
    src, dst = F.incast(topo, 5, receiver=3)
    assert np.all(dst == 3) and len(set(src.tolist())) == 5 and 3 not in src
    src, dst = F.uniform_random(topo, 3, seed=2)
    assert src.size == 48 and np.all(src != dst)
    src, dst = F.permutation(topo, seed=4)
    assert sorted(dst.tolist()) == sorted(src.tolist()) and np.all(src != dst)
    src, dst = F.all_to_all(topo)
    assert src.size == 16 * 15
    with pytest.raises(ValueError, match="dragonfly"):
        F.dragonfly_adversarial(topo)


# ---- results ----------------------------------------------------------------------------------

def test_flow_completion_times_and_tables(tmp_path):
    topo = T.leaf_spine(2, 2, 1)
    sw = pl.Switch(200)
    flows = F.flow_list([0.0, 1e4], [0, 1], [2, 3], [9 * 4096 + 1000, 4096], packet_bytes=4096)
    r = net.Fabric(topo, switch=sw).run(flows, seed=1)
    gap = 8 * 4096 / B
    # cut-through, equal rates, idle fabric: the last packet enters at 9 gaps and takes one
    # serialisation, four 5 ns links and three switches (host, leaf, spine, leaf, host)
    expected0 = 9 * gap + 8 * 1000 / B + 4 * 5 + 3 * 200
    assert r.flows["completion_time_ns"][0] == pytest.approx(expected0, rel=1e-12)
    assert r.flows["sent"].tolist() == [10, 1]
    assert r.flows["delivered"].tolist() == [10, 1]
    d = r.to_dict()
    json.dumps(d)                                              # plain values only
    assert d["links"]["src"] == topo.link_src.tolist()
    assert len(r.flow_table()) == 2 and len(r.link_table()) == topo.n_links
    r.write_csv(tmp_path / "links.csv")
    r.write_csv(tmp_path / "flows.csv", "flows")
    assert (tmp_path / "links.csv").read_text().count("\n") == topo.n_links + 1
    assert r.flow_loss_ci(0)[0] == 0.0 and r.flow_loss_ci(0)[1] < 0.5
    assert not math.isnan(r.percentile(50))


def test_same_seed_same_run_other_seed_other_spray():
    topo = T.fat_tree(4)
    flows = net.Flows.poisson(F.uniform_random(topo, 2, seed=3), load=0.4, n_packets=500)
    fab = net.Fabric(topo, routing="spray", switch=pl.Switch(100, buffer_bytes=20_000))
    a = fab.run(flows, seed=9, return_latencies=True)
    b = fab.run(flows, seed=9, return_latencies=True)
    c = fab.run(flows, seed=10, return_latencies=True)
    np.testing.assert_array_equal(a.latencies_ns, b.latencies_ns)
    # per-flow percentiles from the raw latencies, against a direct computation
    p99 = a.flow_percentiles(99)
    for f in (0, 7, 31):
        lat = np.sort(a.latencies_ns[a.latency_flows == f])
        assert p99[f] == lat[math.ceil(0.99 * lat.size) - 1]
    assert np.all(a.flow_percentiles(100) == a.flows["max_latency_ns"])
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert not np.array_equal(a.latencies_ns, c.latencies_ns)


@pytest.mark.parametrize("make", [lambda: T.leaf_spine(4, 3, 2), lambda: T.fat_tree(4), lambda: T.dragonfly(2, 2, 1),
                                  lambda: T.torus(3, 2, hosts_per_node=2), lambda: T.rail_optimised(2, 4, 2)],
                         ids=["leaf-spine", "fat-tree", "dragonfly", "torus", "rail"])
def test_host_links_are_each_hosts_first_link(make):
    topo = make()
    want = np.array([np.flatnonzero(topo.link_src == h)[0] for h in topo.hosts])
    assert np.array_equal(topo.host_links(topo.hosts), want)
    assert [topo.host_link(int(h)) for h in topo.hosts[:3]] == want[:3].tolist()
    assert np.array_equal(topo.host_links(topo.hosts[::-1]), want[::-1])
    assert not topo.first_link.flags.writeable


def test_host_links_refuse_a_node_without_links_or_out_of_range():
    topo = net.Topology("two", [True, True, True], [0], [1], [0], (T.DEFAULT_LINK,))
    assert topo.host_link(0) == 0
    with pytest.raises(ValueError, match="host 2 has no link"):
        topo.host_links([0, 2])
    with pytest.raises(ValueError, match=r"node ids in \[0, 3\)"):
        topo.host_link(3)
    with pytest.raises(ValueError, match=r"node ids in \[0, 3\)"):
        topo.host_link(-1)
