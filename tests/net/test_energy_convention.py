"""One energy convention everywhere (links.energy.ENERGY_CONVENTION): a preset's power is one
port's (one end of the link), per net bit; a fabric's link power is the sum over link ends.
Checked across the two fabric-power computations (links.energy.fabric_power for `photolink
fabric`, net.fabric_energy.fabric_power for the cluster demo); the CLI texts in
tests/cli/test_energy_cli.py."""
import numpy as np
import pytest

from photolink import links, net
from photolink.links import energy
from photolink.net import fabric_energy


@pytest.mark.parametrize("name", links.presets())
def test_every_preset_reports_one_port_per_net_bit(name):
    r = links.preset(name).evaluate(reach=False)
    assert r.power_w == pytest.approx(sum(r.energy_breakdown_w.values()))
    assert r.energy_pj_per_bit == pytest.approx(r.power_w / r.net_rate_gbps * 1000)
    assert r.module_power_w <= r.power_w + 1e-12
    for part, w in r.energy_breakdown_w.items():
        assert r.energy_breakdown_pj_per_bit[part] == pytest.approx(w / r.net_rate_gbps * 1000)


def test_passive_cable_power_is_split_half_per_end():
    r = links.preset("dac-800g").evaluate(reach=False)
    assert r.energy_breakdown_w["cable"] == pytest.approx(0.05)       # <= 0.1 W per cable [ref:dac-passive-power]


def test_fabric_power_is_the_sum_over_link_ends_in_both_computations():
    dac, dr4 = links.preset("dac-800g"), links.preset("dr4-800g")
    topo = net.topology.leaf_spine(4, 8, 4, host_link=dac, spine_link=dr4)
    n_cables = 32 + 16
    p = fabric_energy.fabric_power(topo, [dac, dr4])
    ends = 2 * 32 * dac.evaluate().power_w + 2 * 16 * dr4.evaluate().power_w
    assert topo.link_src.size == 2 * n_cables                        # a cable is two directed links
    assert p.links_w == pytest.approx(ends) and p.total_w == pytest.approx(ends)
    # the same fabric of one link type through `photolink fabric`'s computation
    same = fabric_energy.fabric_power(net.topology.leaf_spine(4, 8, 4, host_link=dr4, spine_link=dr4), [dr4, dr4])
    f = energy.fabric_power(dr4, n_gpus=32, links_per_gpu=n_cables / 32, gpu_power_w=1000.0)
    assert f.ports == 2 * f.links == 2 * n_cables
    assert f.network_w == pytest.approx(same.total_w)
    np.testing.assert_allclose(same.link_w, f.port_w)
    # with the switch: both add the switching core (the whole ASIC less its SerDes) per switch
    # port, the ports' host SerDes being the switch's own
    core = fabric_energy.fabric_power(net.topology.leaf_spine(4, 8, 4, host_link=dr4, spine_link=dr4),
                                      [dr4, dr4], switch_pj_per_bit=energy.SWITCH_CORE_PJ_PER_BIT)
    g = energy.fabric_power(dr4, n_gpus=32, links_per_gpu=n_cables / 32, gpu_power_w=1000.0,
                            switch_pj_per_bit=energy.SWITCH_ASIC_PJ_PER_BIT)
    assert energy.SWITCH_CORE_PJ_PER_BIT == pytest.approx(3.8)
    assert g.switch_w == pytest.approx(core.switches_w) and g.network_w == pytest.approx(core.total_w)
