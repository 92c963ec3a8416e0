"""Fabric engine: one chain and one flow against Path.run (exactly), queues against
Pollaczek-Khinchine, loss over routes, routing and traffic on whole topologies, results, bad input."""

import math

import numpy as np
import pytest

import photolink as pl
from photolink import net
from photolink.links.model import LinkModel
from photolink.net import topology as T

CONF = 0.999


def chain(links):
    """host 0 -> switch 1 -> ... -> host n: one directed link per hop, each its own tier."""
    n = len(links)
    is_host = [True] + [False] * (n - 1) + [True]
    return net.Topology("chain", is_host, list(range(n)), list(range(1, n + 1)), list(range(n)), tuple(links))


def fec_link(cwer, hold=0.0, rate=100.0, name="l"):
    return LinkModel(name, rate, {"propagation": 10.0}, 5140, cwer, hold)


def poisson_trace(n, load, size, rate=100.0, seed=5):
    g = np.random.default_rng(seed)
    times = np.cumsum(g.exponential(8 * size / (load * rate), n))
    return times, g.exponential(size, n) + 64


# ---- one chain, one flow == Path.run ----------------------------------------------------

@pytest.mark.parametrize("mode", ["cut-through", "store-and-forward"])
@pytest.mark.parametrize("recovery", ["drop", "llr", pl.E2E(timeout_ns=30_000, max_retries=2)], ids=["drop", "llr", "e2e"])
def test_one_chain_one_flow_is_path_run_exactly(mode, recovery):
    links = [fec_link(1e-3, 20), fec_link(3e-3, 5, 200), fec_link(2e-3)]
    sw = pl.Switch(100, mode, buffer_bytes=20_000)
    n = 20_000
    times, sizes = poisson_trace(n, 0.85, 1500)
    path = pl.Path([links[0], sw, links[1], sw, links[2]])
    r = path.run(pl.traffic.Trace(times, sizes), n, seed=3, recovery=recovery, return_latencies=True)
    fab = net.Fabric(chain(links), routing="ecmp", switch=sw)
    f = fab.run(net.Flows.listed(([0], [3]), [times], [sizes]), seed=3, recovery=recovery, return_latencies=True)
    assert r.lost > 0 or r.retries > 0                      # the error machinery did work
    np.testing.assert_array_equal(f.latencies_ns, r.latencies_ns)
    assert (f.lost, f.lost_tail_drop, f.lost_corrupted, f.llr_retries, f.e2e_retransmissions) == \
        (r.lost, r.lost_tail_drop, r.lost_corrupted, r.llr_retries, r.e2e_retransmissions)
    assert f.mean_latency_ci == r.mean_latency_ci
    assert f.latency_percentiles_ns == r.latency_percentiles_ns
    assert f.ipdv_percentiles_ns == r.ipdv_percentiles_ns
    links_of_path = [h for h in r.hops if h.element == "link"]
    assert list(f.links["transmissions"]) == [h.transmissions for h in links_of_path]
    assert list(f.links["retries"]) == [h.retries for h in links_of_path]
    # the switch's queue is reported by the switch hop in a Path
    assert int(f.links["tail_drops"][1]) == r.hops[1].tail_drops


def bursty_failures(n, seed):
    """A codeword failure process with bursts (runs of 1 to 4 failed codewords), not Bernoulli."""
    g = np.random.default_rng(seed)
    starts = g.random(n) < 4e-4
    out = np.zeros(n, bool)
    for run in range(4):
        out[run:] |= starts[: n - run] & (g.random(n - run) < 0.7 ** run)
    return out


@pytest.mark.parametrize("recovery", ["drop", "llr", pl.E2E(timeout_ns=30_000, max_retries=2)], ids=["drop", "llr", "e2e"])
def test_one_chain_one_flow_is_path_run_exactly_in_exact_mode(recovery):
    """Exact mode: each link's codeword outcomes come from its codeword_failures (a bursty process,
    a Bernoulli cwer, and an error-free link), refilled block by block: the fabric equals Path.run."""
    bursty = LinkModel("b", 100.0, {"propagation": 10.0}, 5140, 1e-3, 20, codeword_failures=bursty_failures)
    links = [bursty, fec_link(3e-3, 5, 200), LinkModel.ideal(100.0)]
    sw = pl.Switch(100, "store-and-forward", buffer_bytes=20_000)
    n = 12_000                                              # > EXACT_BLOCK codewords per link: refills
    times, sizes = poisson_trace(n, 0.85, 1500)
    path = pl.Path([links[0], sw, links[1], sw, links[2]])
    r = path.run(pl.traffic.Trace(times, sizes), n, seed=4, mode="exact", recovery=recovery, return_latencies=True)
    fab = net.Fabric(chain(links), routing="ecmp", switch=sw)
    flows = net.Flows.listed(([0], [3]), [times], [sizes])
    f = fab.run(flows, seed=4, mode="exact", recovery=recovery, return_latencies=True)
    assert r.lost > 0 or r.retries > 0
    np.testing.assert_array_equal(f.latencies_ns, r.latencies_ns)
    assert (f.lost, f.lost_tail_drop, f.lost_corrupted, f.llr_retries, f.e2e_retransmissions) == \
        (r.lost, r.lost_tail_drop, r.lost_corrupted, r.llr_retries, r.e2e_retransmissions)
    links_of_path = [h for h in r.hops if h.element == "link"]
    assert list(f.links["failed_transmissions"]) == [h.failed_transmissions for h in links_of_path]
    # and the exact outcomes are not the statistical ones
    s = fab.run(flows, seed=4, mode="statistical", recovery=recovery, return_latencies=True)
    assert list(s.links["failed_transmissions"]) != list(f.links["failed_transmissions"])


def test_exact_mode_on_a_shared_fabric_counts_every_packet_and_is_reproducible():
    fec = LinkModel("b", 100.0, {"propagation": 10.0}, 5140, 2e-3, 20, codeword_failures=bursty_failures)
    topo = T.leaf_spine(2, 4, 2, host_link=fec, spine_link=fec)
    fab = net.Fabric(topo, routing="spray", switch=pl.Switch(100, buffer_bytes=1e5))
    flows = net.Flows.poisson(net.flows.permutation(topo, seed=2), load=0.6, n_packets=3000)
    a = fab.run(flows, seed=9, mode="exact", recovery="llr")
    b = fab.run(flows, seed=9, mode="exact", recovery="llr")
    assert a.delivered + a.lost == a.n_packets and a.llr_retries > 0
    assert a.to_dict() == b.to_dict()
    with pytest.raises(ValueError, match="mode"):
        fab.run(flows, seed=9, mode="exactly")


# ---- queues against theory --------------------------------------------------------------

def star(n_senders, sender_rate, port_rate):
    """n_senders hosts and one receiver around one switch."""
    n = n_senders + 1
    sw = n
    src = np.concatenate([np.arange(n), np.full(n, sw)])
    dst = np.concatenate([np.full(n, sw), np.arange(n)])
    tier = np.where(np.concatenate([np.arange(n), np.arange(n)]) == n_senders, 1, 0)
    return net.Topology("star", [True] * n + [False], src, dst, tier,
                        (LinkModel.ideal(sender_rate), LinkModel.ideal(port_rate)))


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_port_fed_by_poisson_flows_waits_as_md1(rho):
    # 8 Poisson flows through very fast host links into one 100 Gb/s port: Poisson arrivals,
    # deterministic service S = 120 ns, mean wait rho S / (2 (1 - rho)) (Pollaczek-Khinchine,
    # [ref:queue-waits])
    K, S = 8, 120.0
    topo = star(K, 1e5, 100.0)
    pairs = (np.arange(K), np.full(K, K))
    flows = net.Flows.poisson(pairs, load=rho * 100 / (K * 1e5), packet_bytes=1500, n_packets=50_000)
    r = net.Fabric(topo).run(flows, seed=11, confidence=CONF)
    wq = rho * S / (2 * (1 - rho))
    lo, hi = r.mean_latency_ci
    assert lo <= wq + S <= hi, (r.mean_latency_ns, r.mean_latency_ci, wq + S)
    port = int(np.flatnonzero((topo.link_src == K + 1) & (topo.link_dst == K))[0])
    assert lo - S <= r.links["mean_wait_ns"][port] <= hi - S
    assert r.links["utilisation"][port] == pytest.approx(rho, rel=0.02)
    assert r.delivered == r.n_packets == K * 50_000
    # the check can fail: the same flows at a faster port wait less
    r2 = net.Fabric(star(K, 1e5, 200.0)).run(flows, seed=11)
    assert r2.mean_latency_ns < lo


def test_incast_overload_drops_at_the_tail_and_runs_the_port_full():
    K = 4
    topo = star(K, 100.0, 100.0)
    flows = net.Flows.constant((np.arange(K), np.full(K, K)), load=0.5, packet_bytes=1000, n_packets=20_000)
    r = net.Fabric(topo, switch=pl.Switch(0, buffer_bytes=50_000)).run(flows, seed=1)
    # offered 2x the port: half is dropped at the switch's output port
    assert r.lost == r.lost_tail_drop
    assert r.loss_ratio == pytest.approx(0.5, abs=0.01)
    port = int(np.flatnonzero(topo.link_src == K + 1)[K])
    assert r.links["utilisation"][port] == pytest.approx(1.0, rel=0.01)
    assert r.links["queue_max_bytes"][port] <= 50_000 * 1.13
    assert r.hot_spots(1)[0]["link"] == port


def test_loss_over_a_route_is_one_minus_product_of_hop_losses():
    flr = [0.01, 0.02, 0.005]
    links = [LinkModel(f"h{i}", 100, {"p": 5.0}, 0, p) for i, p in enumerate(flr)]
    fab = net.Fabric(chain(links), switch=pl.Switch(100, "store-and-forward"))
    flows = net.Flows.poisson(([0], [3]), load=0.5, packet_bytes=1000, n_packets=300_000)
    r = fab.run(flows, seed=7, confidence=CONF)
    lo, hi = r.ci
    assert lo <= 1 - np.prod([1 - p for p in flr]) <= hi
    # link-level retry with R resends: residual loss per hop PER^(R+1)
    links = [LinkModel(f"h{i}", 100, {"p": 5.0}, 0, 0.2) for i in range(3)]
    fab = net.Fabric(chain(links), switch=pl.Switch(100, "store-and-forward"))
    r = fab.run(flows, seed=8, recovery=pl.LLR(max_retries=2), confidence=CONF)
    lo, hi = r.ci
    assert lo <= 1 - (1 - 0.2 ** 3) ** 3 <= hi
    assert r.llr_retries > 0
    # end-to-end, R retransmissions: residual loss (1 - prod(1 - loss_h))^(R + 1)
    route_loss = 1 - 0.8 ** 3
    r = fab.run(flows, seed=9, recovery=pl.E2E(timeout_ns=50_000, max_retries=2), confidence=CONF)
    lo, hi = r.ci
    assert lo <= route_loss ** 3 <= hi
    assert r.e2e_retransmissions > 0 and r.flows["e2e_retransmissions"].sum() == r.e2e_retransmissions


# ---- bad input ----------------------------------------------------------------------------

def test_bad_input_is_refused_before_the_kernel():
    topo = T.leaf_spine(2, 2, 1)
    with pytest.raises(ValueError, match="routing"):
        net.Fabric(topo, routing="teleport")
    with pytest.raises(ValueError, match="dimension-order"):
        net.Fabric(topo, routing="dimension-order")
    with pytest.raises(TypeError, match="flows"):
        net.Fabric(topo).run([(0, 1)], seed=1)
    with pytest.raises(ValueError, match="itself"):
        net.Flows.poisson(([0], [0]), load=0.5, n_packets=10)
    with pytest.raises(ValueError, match="load"):
        net.Flows.poisson(([0], [1]), load=-1, n_packets=10)
    with pytest.raises(ValueError, match="hosts"):
        net.Fabric(topo).run(net.Flows.poisson(([0], [5]), load=0.5, n_packets=10), seed=1)
    with pytest.raises(ValueError, match="recovery"):
        net.Fabric(topo).run(net.Flows.poisson(([0], [1]), load=0.5, n_packets=10), seed=1, recovery="e2e")
    with pytest.raises(ValueError, match="timeout_ns"):
        net.Fabric(topo).run(net.Flows.poisson(([0], [1]), load=0.5, n_packets=10), seed=1, recovery=pl.E2E())
    with pytest.raises(ValueError, match="self-loop"):
        net.Topology("x", [True, True], [0], [0], [0], (LinkModel.ideal(100),))
    with pytest.raises(ValueError, match="k must be even"):
        T.fat_tree(5)


def test_unreachable_destinations_are_lost_as_no_route_never_hang():
    # two islands: host 0 - switch 4 - host 1, host 2 - switch 5 - host 3
    m = LinkModel.ideal(100)
    topo = net.Topology("islands", [True] * 4 + [False] * 2, [0, 4, 1, 4, 2, 5, 3, 5], [4, 0, 4, 1, 5, 2, 5, 3],
                        [0] * 8, (m,))
    r = net.Fabric(topo).run(net.Flows.poisson(([0, 0], [1, 3]), load=0.1, n_packets=100), seed=1)
    assert r.lost_no_route == 100 and r.delivered == 100
    assert r.flows["lost_no_route"].tolist() == [0, 100]


def test_the_kernel_refuses_inconsistent_arrays_without_crashing():
    from photolink.net import _fabric
    topo = T.leaf_spine(2, 2, 1)
    fab = net.Fabric(topo)
    flows = net.Flows.poisson(([0], [2]), load=0.1, n_packets=10)
    links = fab._kernel_links(None)
    r = fab.routes
    kf = fab._kernel_flows(flows)
    args = {"choice": "hash", "paths": "minimal", "recovery": "drop", "max_retries": 0, "timeout_ns": 0.0,
            "ugal_threshold_bytes": 0.0, "hash_salt": 1, "batch_len": 1, "batch_cap": 2, "raw_cap": 0,
            "queue_histograms": False, "bit_generators": [None] * topo.n_links}

    def make(**over):
        a = {"links": links, "link_src": topo.link_src, "link_dst": topo.link_dst, "target_of": r.target_of,
             "is_host": topo.is_host, "route_off": r.route_off, "route_link": r.route_link, "hops": None,
             "via": None, "flows": kf}
        a.update(over)
        return _fabric.FabricKernel(a.pop("links"), a.pop("link_src"), a.pop("link_dst"), a.pop("target_of"),
                                    a.pop("is_host"), a.pop("route_off"), a.pop("route_link"), a.pop("hops"),
                                    a.pop("via"), a.pop("flows"), **args)

    make()                                                   # the consistent arrays work
    bad_route = r.route_link.copy()
    bad_route[0] = (bad_route[0] + 1) % topo.n_links          # a candidate not leaving its node
    with pytest.raises(ValueError, match="fabric kernel"):
        make(route_link=bad_route)
    with pytest.raises(ValueError, match="fabric kernel"):
        make(flows=dict(kf, dst=np.array([5])))                # a switch as destination
    with pytest.raises(ValueError, match="fabric kernel"):
        make(links=dict(links, rate_gbps=-links["rate_gbps"]))
    with pytest.raises(ValueError):
        make(route_off=r.route_off[:-1])
    with pytest.raises(ValueError, match="fabric kernel"):
        make(flows=dict(kf, n_packets=np.array([0])))


# ---- on/off arrivals within flows ---------------------------------------------------------

def test_onoff_flows_have_the_gap_mean_and_variance_of_their_bursts():
    """Each flow alone on its route (host -> leaf -> next host of the leaf, bursts at line rate:
    no queueing), so completion time - latency is the sum of its n - 1 gaps. A gap is the spacing
    s, plus with probability 1/B an exponential idle of mean I = B (mean gap - s): mean 4 s and
    variance 2 I^2 / B - (I / B)^2 = 279 s^2 at load 1/4, B = 16 (Poisson: 16 s^2)."""
    from scipy import stats
    L, H, n, B, load, size = 8, 8, 2000, 16.0, 0.25, 1500.0
    topo = T.leaf_spine(L, H, 1)
    hosts = topo.hosts
    dst = hosts[(hosts % H + 1) % H + (hosts // H) * H]
    flows = net.Flows.onoff((hosts, dst), load=load, packet_bytes=size, n_packets=n, burst_packets=B)
    r = net.Fabric(topo, switch=pl.Switch(0)).run(flows, seed=8)
    assert r.delivered == r.n_packets
    np.testing.assert_allclose(r.flows["max_latency_ns"], r.flows["min_latency_ns"], rtol=1e-9)  # no queueing
    sums = r.flows["completion_time_ns"] - r.flows["min_latency_ns"]
    s = 8 * size / 100.0
    idle = B * (s / load - s)
    mean, var = (n - 1) * s / load, (n - 1) * (2 * idle**2 / B - (idle / B) ** 2)
    k = sums.size
    assert abs(sums.mean() - mean) < 4 * math.sqrt(var / k)
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], k - 1) / (k - 1)
    assert lo * var < sums.var(ddof=1) < hi * var
    with pytest.raises(ValueError, match="peak_load"):
        net.Flows.onoff((hosts, dst), load=0.5, n_packets=10, peak_load=0.4)
    with pytest.raises(ValueError, match="burst_packets"):
        net.Flows.onoff((hosts, dst), load=0.5, n_packets=10, burst_packets=0.5)
