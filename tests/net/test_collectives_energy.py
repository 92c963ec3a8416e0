"""Whole-fabric power and step energy: the fabric's power is the sum of its links' and
switches' reported power; joules = power x time; pJ per bit against the definition."""

import numpy as np
import pytest

from photolink import net
from photolink.links import catalog
from photolink.net import collectives as C
from photolink.net import fabric_energy as E


def cluster():
    dac, dr4 = catalog.preset("dac-800g"), catalog.preset("dr4-800g")
    return net.topology.leaf_spine(4, 8, 4, host_link=dac, spine_link=dr4), dac, dr4


def test_fabric_power_is_the_sum_of_its_parts():
    topo, dac, dr4 = cluster()
    pw = E.fabric_power(topo, [dac, dr4], switch_w=300.0, switch_pj_per_bit=5.0)
    # every directed link carries its link's reported per-port power
    report = {0: dac.evaluate().power_w, 1: dr4.evaluate().power_w}
    np.testing.assert_allclose(pw.link_w, [report[t] for t in topo.link_tier])
    n_host_cables, n_spine_cables = 32, 16
    assert pw.tier_w["host"] == pytest.approx(2 * n_host_cables * report[0])
    assert pw.tier_w["spine"] == pytest.approx(2 * n_spine_cables * report[1])
    # a leaf has 8 host ports + 4 spine ports of 800G out; a spine 4 leaf ports
    leaf_w = 300.0 + 5.0 * 12 * 800 * 1e-3
    spine_w = 300.0 + 5.0 * 4 * 800 * 1e-3
    np.testing.assert_allclose(pw.switch_w, [leaf_w] * 4 + [spine_w] * 4)
    assert pw.total_w == pytest.approx(sum(report[t] for t in topo.link_tier) + 4 * leaf_w + 4 * spine_w)
    assert pw.total_w == pytest.approx(pw.links_w + pw.switches_w) and pw.links_w == pytest.approx(sum(pw.tier_w.values()))
    assert pw.to_dict()["n_switches"] == 8


def test_step_energy_of_a_collective():
    topo, dac, dr4 = cluster()
    pw = E.fabric_power(topo, [10.0, 20.0], switch_w=500.0)
    r = C.run(net.Fabric(topo), C.ring_all_reduce(32, 32e6), seed=1, mode="flow")
    e = E.step_energy(pw, r.completion_ns, 32e6 * 32, r.network_bytes, gpu_power_w=1000.0, n_gpus=32)
    assert e.joules == pytest.approx(pw.total_w * r.completion_ns * 1e-9)
    assert e.pj_per_useful_bit == pytest.approx(e.joules * 1e12 / (8 * 32e6 * 32))
    assert e.pj_per_network_bit == pytest.approx(e.joules * 1e12 / (8 * 2 * 31 * 32e6))
    assert e.network_share == pytest.approx(pw.total_w / (pw.total_w + 32_000.0))


def test_bad_input():
    topo, dac, _ = cluster()
    with pytest.raises(ValueError, match="one entry per tier"):
        E.fabric_power(topo, [dac])
    with pytest.raises(ValueError, match="tier_power_w"):
        E.fabric_power(topo, [-1.0, 2.0])
    with pytest.raises(TypeError, match="power"):
        E.step_energy(3.0, 1.0, 1.0, 1.0)
