"""The CPO presets against published per-port and per-engine figures [ref:cpo-engine-power-check],
with the engine / switch-package split stated (the host SerDes and FEC logic are not the engine's)."""
import pytest

from photolink import links

ENGINE_TBPS = 6.4          # Bailly: 8 engines of 6.4 Tb/s [ref:cpo-bailly-engines]


def test_cpo_800g_engine_is_broadcoms_5p5_w_per_800g():
    """Broadcom: Bailly's optics draw 5.5 W per 800G against 14-16 W for a pluggable module
    [ref:cpo-broadcom-bailly] (a module-to-module comparison: the engine and its laser); the
    switch package adds the host SerDes and FEC logic."""
    r = links.preset("cpo-800g").evaluate()
    host = r.energy_breakdown_w["host_serdes"] + r.energy_breakdown_w["fec_logic"]
    assert r.module_power_w + host == pytest.approx(r.power_w)          # the split is complete
    assert r.module_power_w == pytest.approx(5.5, abs=0.1)              # engine + laser share
    assert r.energy_breakdown_w["host_serdes"] == pytest.approx(0.88)   # XSR 1.1 pJ/bit [ref:serdes-112g-blocks]
    assert r.power_w == pytest.approx(6.53, abs=0.05) and r.energy_pj_per_bit == pytest.approx(8.16, abs=0.06)
    per_engine = r.module_power_w * ENGINE_TBPS * 1000 / r.net_rate_gbps
    assert per_engine == pytest.approx(44.0, abs=0.6)                   # one 6.4 Tb/s engine
    assert r.power_w * ENGINE_TBPS * 1000 / r.net_rate_gbps == pytest.approx(52.2, abs=0.6)
    module = links.preset("dr4-800g").evaluate().module_power_w
    assert 14.0 <= module <= 16.0                                       # the pluggable it replaces
    assert module / r.module_power_w == pytest.approx(2.7, abs=0.2)


def test_cpo_1p6t_port_power_is_nvidias_9_w_per_port():
    """NVIDIA: ~30 W per 1.6T pluggable port down to ~9 W with CPO, "3.5x" [ref:cpo-nvidia-power]
    (per port, the electrical interface included: the 30 W is a module and its host SerDes)."""
    r = links.preset("cpo-1.6t").evaluate()
    assert r.power_w == pytest.approx(9.0, abs=1.0)
    assert r.module_power_w < r.power_w
    pluggable = links.preset("dr4-1.6t").evaluate()
    assert pluggable.power_w == pytest.approx(30.0, abs=2.0)
    assert pluggable.power_w / r.power_w == pytest.approx(3.5, rel=0.25)


def test_switch_share_is_the_core_of_tomahawk5_less_its_serdes():
    """The switch share of a port: Tomahawk 5's ~8.8 pJ/bit less the 5.0 pJ/bit of its own
    SerDes [ref:photolink-switch-serdes-share]; the port's SerDes is the link's host_serdes."""
    from photolink.links.energy import SWITCH_ASIC_PJ_PER_BIT, SWITCH_ASIC_SERDES_PJ_PER_BIT
    assert SWITCH_ASIC_PJ_PER_BIT == pytest.approx(450.0 / 51.2, abs=0.05)      # [ref:tomahawk5-power]
    for name in ("dac-800g", "dr4-800g", "cpo-800g"):
        link = links.preset(name)
        plain = link.evaluate(reach=False)
        with_switch = link.evaluate(reach=False, switch_pj_per_bit=SWITCH_ASIC_PJ_PER_BIT)
        core_w = (SWITCH_ASIC_PJ_PER_BIT - SWITCH_ASIC_SERDES_PJ_PER_BIT) * link.net_rate_gbps / 1000
        assert with_switch.energy_breakdown_w["switch_asic"] == pytest.approx(core_w)
        assert with_switch.power_w == pytest.approx(plain.power_w + core_w)
