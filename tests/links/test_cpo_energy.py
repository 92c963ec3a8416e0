"""The CPO presets against published per-port and per-engine figures [ref:cpo-engine-power-check],
with the engine / switch-package split stated (the host SerDes and FEC logic are not the engine's)."""
import pytest

from photolink import links

ENGINE_TBPS = 6.4          # Bailly: 8 engines of 6.4 Tb/s [ref:cpo-bailly-engines]


def test_cpo_800g_port_and_engine_power_match_published_figures():
    r = links.preset("cpo-800g").evaluate()
    host = r.energy_breakdown_w["host_serdes"] + r.energy_breakdown_w["fec_logic"]
    assert r.module_power_w + host == pytest.approx(r.power_w)          # the split is complete
    assert r.module_power_w == pytest.approx(3.04, abs=0.02)            # the engine's share
    assert r.power_w < 6.0                                              # < 6 W per 800G [ref:cpo-broadcom-bailly]
    assert r.energy_pj_per_bit == pytest.approx(5.5, abs=0.6)           # ~5.5 pJ/bit [ref:cpo-broadcom-bailly]
    per_engine = r.module_power_w * ENGINE_TBPS * 1000 / r.net_rate_gbps
    assert per_engine == pytest.approx(24.3, abs=0.3)
    assert r.power_w * ENGINE_TBPS * 1000 / r.net_rate_gbps == pytest.approx(32.6, abs=0.4)


def test_cpo_1p6t_port_power_is_the_published_9_w():
    r = links.preset("cpo-1.6t").evaluate()
    assert r.power_w == pytest.approx(9.0, abs=1.0)                     # ~9 W per 1.6T [ref:cpo-nvidia-power]
    assert r.module_power_w < r.power_w
    pluggable = links.preset("dr4-1.6t").evaluate()
    assert pluggable.power_w / r.power_w == pytest.approx(3.5, rel=0.25)   # "3.5x" [ref:cpo-nvidia-power]
