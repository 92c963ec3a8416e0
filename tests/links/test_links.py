"""Links, media and energy: presets against docs/references.md, physics orderings, evaluate vs simulate,
bad input, the hop contract and the CLI."""
import csv
import dataclasses
import io
import json
import math
from contextlib import redirect_stdout

import numpy as np
import pytest

import photolink as pl
from photolink import fec, links
from photolink.links import catalog
from photolink.links.energy import SWITCH_ASIC_PJ_PER_BIT, Part, fabric_power
from photolink.links.model import LinkModel
from photolink.links.optics import dispersion_penalty_db, imdd_budget
from photolink.links.serdes import Loss, electrical_lane
from photolink.symbols.coherent import snr_from_osnr
from photolink.symbols.estimate import estimate_ber
from photolink.symbols.formats import DP_16QAM, NRZ, PAM4


def ev(name, length=None, **kw):
    link = links.preset(name)
    return (link if length is None else link.with_length(length)).evaluate(**kw)


# ---- presets against docs/references.md ------------------------------------------------------

def test_catalogue_has_the_required_presets_with_sources():
    names = links.presets()
    for required in ("dac-800g", "aec-800g", "dr4-800g", "lpo-800g", "cpo-800g", "cpo-1.6t", "dr4-1.6t",
                     "zr-400g"):
        assert required in names
    for name in names:
        assert "[ref:" in links.preset(name).source
    assert links.preset("dr4-1.6t").fec is fec.KP4_INNER_CHASE        # the inner code
    assert links.preset("zr-400g").fec is fec.CFEC_400ZR


def test_module_power_and_energy_within_reference_ranges():
    dac = ev("dac-800g")
    assert 2 * dac.module_power_w <= 0.1 + 1e-12                          # <= 0.1 W per cable (D)
    dr4 = ev("dr4-800g")
    assert 13.0 <= dr4.module_power_w <= 17.0                             # 13-18 W typ (E), 17 W max (D)
    assert dr4.module_power_w / 800 * 1000 <= 21.3                        # ~21 pJ/bit at 17 W (D)
    dsp_share = dr4.energy_breakdown_w["dsp"] / dr4.module_power_w
    assert 0.4 <= dsp_share <= 0.65                                       # DSP ~50 % of module (E)
    lpo = ev("lpo-800g")
    assert 8.0 <= lpo.module_power_w <= 12.0                              # LPO 8-9 W (E; 8-12 W other)
    cpo = ev("cpo-800g")
    assert 5.0 <= cpo.module_power_w <= 6.0                               # Bailly 5.5 W per 800G of optics (P)
    assert cpo.module_power_w < dr4.module_power_w / 2                    # against 14-16 W pluggable (P)
    cpo16 = ev("cpo-1.6t")
    assert 7.0 <= cpo16.power_w <= 11.0                                   # ~9 W per 1.6T port (P)
    plug16 = ev("dr4-1.6t")
    assert 24.0 <= plug16.power_w <= 32.0                                 # ~30 W per 1.6T pluggable (P)
    assert 2.5 <= plug16.power_w / cpo16.power_w <= 4.5                   # "3.5x" (P)
    zr = ev("zr-400g")
    assert zr.module_power_w < 20.0                                       # 400ZR < 20 W (D)


def test_reach_within_reference_ranges():
    assert 1.5 <= ev("dac-800g").reach_m <= 2.5                           # 100G/lane DAC ~1.5-2 m (D)
    assert 0.8 <= ev("dac-1.6t").reach_m <= 1.5                           # 200G/lane ~1 m (S draft)
    for name in ("dr4-800g", "lpo-800g", "cpo-800g", "cpo-1.6t", "dr4-1.6t"):
        r = ev(name)
        assert r.reach_m >= r.rated_reach_m == 500.0                      # DR 500 m (S)
    assert ev("zr-400g").reach_m >= 80_000


def test_200g_copper_channel_loss_matches_8023dj():
    seg = ev("dac-1.6t", 1.0).segments[0]
    assert 37.0 <= seg["loss_at_nyquist_db"] <= 40.0                      # <= 40 dB die to die, ~1 m (S)
    assert links.preset("dac-1.6t").symbol_rate_gbd == pytest.approx(106.25)   # 802.3dj COM (S)
    assert links.preset("dr4-1.6t").symbol_rate_gbd == pytest.approx(113.33, abs=0.01)  # inner code


def test_400zr_needs_26_db_osnr_at_the_cfec_threshold():
    link = links.preset("zr-400g")
    rs = link.symbol_rate_gbd
    assert rs == pytest.approx(478.75 / 8)                                # 59.84 GBd (D)
    with np.errstate(divide="ignore"):
        need = DP_16QAM.snr_db_for_ber(fec.CFEC_400ZR.threshold_ber)
    # OSNR at which the typical transceiver's SNR meets the threshold, plus its implementation and
    # ageing allowances: 26 dB / 0.1 nm (D)
    from scipy import optimize
    osnr = optimize.brentq(lambda o: link.coherent.snr_db(o, rs) - need, 15, 40)
    assert osnr + link.coherent.allowances_db == pytest.approx(26.0, abs=0.1)


# ---- physics orderings ------------------------------------------------------------------------

def test_cpo_below_lpo_below_dsp_pluggable_in_energy():
    cpo, lpo, dsp = (ev(n).energy_pj_per_bit for n in ("cpo-800g", "lpo-800g", "dr4-800g"))
    assert cpo < lpo < dsp
    assert ev("cpo-1.6t").energy_pj_per_bit < ev("dr4-1.6t").energy_pj_per_bit
    # CPO has no DSP and a short host channel; LPO has no DSP
    assert "dsp" not in ev("cpo-800g").energy_breakdown_w and "dsp" not in ev("lpo-800g").energy_breakdown_w
    assert ev("lpo-800g").segments[0]["loss_at_nyquist_db"] > 3 * ev("cpo-800g").segments[0]["loss_at_nyquist_db"]


@pytest.mark.slow
def test_copper_snr_falls_with_length_and_lane_rate():
    link = links.preset("dac-800g")
    snrs = [link.with_length(x).evaluate(reach=False).snr_db for x in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)]
    assert all(a > b for a, b in zip(snrs, snrs[1:]))
    # the same 224G SerDes and cable at 100G and at 200G per lane
    fast = dataclasses.replace(links.preset("dac-1.6t"), length_m=1.0)
    slow = dataclasses.replace(fast, lane_rate_gbps=100.0)
    assert slow.evaluate(reach=False).snr_db > fast.evaluate(reach=False).snr_db + 2
    assert ev("dac-800g").reach_m > 1.5 * ev("dac-1.6t").reach_m


@pytest.mark.parametrize("name", ["dac-800g", "dac-1.6t", "lpo-800g"])
def test_link_fails_its_margin_past_reach(name):
    link = links.preset(name)
    reach = link.evaluate().reach_m
    inside, outside = link.with_length(0.97 * reach).evaluate(), link.with_length(1.03 * reach).evaluate()
    assert inside.ok and inside.pre_fec_ber < inside.threshold_ber
    assert not outside.ok
    if link.technology == "passive-copper":
        # copper's reach is where the COM-like margin falls to the 3 dB COM pass mark
        assert inside.margin_kind == "com-like-db" and inside.margin_pass_db == 3.0
        assert inside.margin_db >= 3.0 > outside.margin_db
        assert inside.reach_limit == "com-3db"
        assert any("below the 3 dB" in w for w in outside.warnings)
    else:
        assert outside.pre_fec_ber > outside.threshold_ber
        assert any("above the FEC threshold" in w for w in outside.warnings)


def test_copper_past_its_ber_reach_fails_the_fec_threshold():
    dac = links.preset("dac-800g")
    r = dac.with_length(3.6).evaluate(reach=False)
    assert not r.ok and r.noise_margin_db < 0 and r.pre_fec_ber > r.threshold_ber
    assert any("above the FEC threshold" in w for w in r.warnings)
    assert r.cwer > 1e-3


def test_noise_margin_is_snr_over_need_for_an_isi_free_lane():
    r = ev("dr4-800g")          # the AUIs' own (tiny) errors take a few hundredths of a dB
    assert r.noise_margin_db == pytest.approx(r.snr_db - r.required_snr_db, abs=0.08)
    with np.errstate(divide="ignore"):
        assert r.required_snr_db == pytest.approx(PAM4.snr_db_for_ber(fec.KP4.threshold_ber))
    z = ev("zr-400g")
    assert z.noise_margin_db == pytest.approx(z.snr_db - z.required_snr_db, abs=0.01)


def test_dsp_removal_lowers_latency():
    dsp, lpo, cpo = (ev(n).latency_ns for n in ("dr4-800g", "lpo-800g", "cpo-800g"))
    assert dsp - lpo == pytest.approx(100.0, abs=1e-6)                    # ~100 ns (E)
    assert cpo < dsp
    br = ev("dr4-800g").latency_breakdown_ns
    assert set(br) == {"serialisation", "propagation", "pcs_fec", "dsp", "retimer"}
    assert br["propagation"] == pytest.approx(100 * 1.468 / 0.299792458)  # ~4.9 ns/m (E)
    assert br["serialisation"] == pytest.approx(64 * 8 / 800)
    assert ev("zr-400g").latency_breakdown_ns["pcs_fec"] >= 8000          # ~8 us DSP + FEC (D)


# ---- evaluate vs simulate ---------------------------------------------------------------------

def _agree(report_eval, report_sim):
    lo, hi = report_sim.pre_fec_ber_ci
    assert report_sim.bit_errors >= 100
    assert lo <= report_eval.pre_fec_ber <= hi


def test_copper_evaluate_agrees_with_simulate():
    link = links.preset("dac-800g").with_length(3.2)          # BER ~ 7e-4: errors to count
    e = link.evaluate(reach=False)
    s = link.simulate(300_000, seed=11, ideal_feedback=True, precode=False, reach=False)
    _agree(e, s)
    assert s.cwer_ci[0] <= s.cwer <= s.cwer_ci[1]
    # whole interleave groups of KP4 codewords (2 x 2720 PAM4 symbols) are streamed, the CWER
    # is counted on them
    assert s.method == "simulate" and 300_000 <= s.symbols < 300_000 + 2 * 2720
    assert s.cwer_method == "fec.simulate" and e.cwer_method == "burst-model"
    # real DFE decisions: error propagation adds errors; precoding turns bursts into pairs
    real = link.simulate(300_000, seed=11, precode=False, reach=False)
    pre = link.simulate(300_000, seed=11, reach=False)              # the preset precodes
    assert real.pre_fec_ber > 2 * s.pre_fec_ber
    assert s.pre_fec_ber < pre.pre_fec_ber < real.pre_fec_ber
    # the report's two BERs: error-free feedback (COM's view) and with propagation (the decoder's)
    assert e.pre_fec_ber == e.ber_error_free_feedback < e.ber_with_propagation
    assert pre.pre_fec_ber_ci[0] <= e.ber_with_propagation <= pre.pre_fec_ber_ci[1]
    assert pre.ber_with_propagation == pre.pre_fec_ber and pre.margin_db == e.margin_db


def test_optical_evaluate_agrees_with_simulate():
    base = links.preset("dr4-800g")
    weak = dataclasses.replace(base, tx=dataclasses.replace(base.tx, launch_oma_dbm=-8.0))
    e = weak.evaluate(reach=False)
    assert 1e-4 < e.pre_fec_ber < 1e-2
    s = weak.simulate(200_000, seed=5, reach=False)
    _agree(e, s)
    assert len(s.segments) == 3 and s.segments[1]["name"] == "optical"


def test_coherent_evaluate_agrees_with_simulate():
    link = links.preset("zr-400g")
    _agree(link.evaluate(reach=False), link.simulate(100_000, seed=3, reach=False, phase_noise=False))


def test_simulate_is_reproducible_and_checks_input():
    link = links.preset("dac-800g").with_length(3.2)
    a = link.simulate(50_000, seed=7, reach=False)
    b = link.simulate(50_000, seed=7, reach=False)
    assert a.bit_errors == b.bit_errors
    with pytest.raises(ValueError, match="n_symbols"):
        link.simulate(0, seed=1)


# ---- the electrical and optical models against independent computations ----------------------

def test_fast_eye_matches_the_statistical_eye_estimator():
    lossy = [(catalog.HOST_TRACE, 1.0), (catalog.TWINAX_26AWG.loss, 2.4), (catalog.HOST_TRACE, 1.0)]
    r = electrical_lane(PAM4, catalog.SERDES_112G, lossy, 53.125)
    ref = estimate_ber(PAM4, r.snr_in_db, channel=r.channel, equalizer=r.equalizer, method="statistical-eye")
    assert r.ber() == pytest.approx(ref.ber, rel=0.03)


def test_lossless_lane_is_limited_by_its_noise_floors():
    r = electrical_lane(PAM4, catalog.SERDES_112G, [(Loss("none"), 1.0)], 53.125)
    assert r.loss_at_nyquist_db == 0.0
    assert r.snr_db <= catalog.SERDES_112G.implementation_snr_db
    inv = sum(10 ** (-x / 10) for k, x in r.noise_db.items())
    assert r.snr_db == pytest.approx(-10 * math.log10(inv), abs=0.01)   # noises add


def test_imdd_budget_thermal_only_matches_hand_calculation():
    tx = dataclasses.replace(catalog.TX_EML_100G, rin_db_per_hz=-200.0, tdecq_db=0.0, launch_oma_dbm=0.0)
    rx = catalog.RX_PIN_TIA
    b = imdd_budget(PAM4, tx, rx, catalog.SMF_OBAND, 0.0, 50.0, connectors=0)
    i_oma = 0.8 * 1e-3                                        # 0 dBm OMA at 0.8 A/W
    signal = 5 * (i_oma / 3 / 2) ** 2
    thermal = (18e-12) ** 2 * 0.75 * 50e9
    assert b.noise_db["thermal"] == pytest.approx(10 * math.log10(signal / thermal), abs=1e-9)
    assert b.received_oma_dbm == pytest.approx(0.0)


def test_dispersion_penalty_and_limit():
    assert dispersion_penalty_db(53.125, 2.0, 0.0, 0.15) == 0.0
    eps = 53.125e9 * 2e-12 * 5.0 * 0.15                       # 5 km
    assert dispersion_penalty_db(53.125, 2.0, 5000, 0.15) == pytest.approx(-5 * math.log10(1 - 16 * eps**2))
    assert dispersion_penalty_db(53.125, 2.0, 1e6, 0.15) == math.inf


def test_coherent_osnr_and_snr_conversions():
    line = catalog.DCI_LINE
    osnr = line.osnr_db(80_000)                               # one 80 km span, no TX OSNR
    assert osnr == pytest.approx(58 + 0 - 0.22 * 80 - 5.5)
    assert line.spans(120_000) == 2
    assert line.osnr_db(120_000) == pytest.approx(58 - 0.22 * 60 - 5.5 - 10 * math.log10(2))
    rs = 59.84375
    trx = dataclasses.replace(catalog.ZR_TRX, implementation_snr_db=80.0)
    assert trx.snr_db(30.0, rs) == pytest.approx(snr_from_osnr(30.0, rs), abs=1e-3)


# ---- bad input ------------------------------------------------------------------------------

def test_negative_length_is_rejected():
    with pytest.raises(ValueError, match="length_m"):
        links.preset("dac-800g").with_length(-1.0)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError) as exc:
        links.preset("dac-9000g")
    for name in links.presets():
        assert name in str(exc.value)


def test_lane_rate_the_format_cannot_carry():
    with pytest.raises(ValueError, match="cannot be carried.*GBd"):
        dataclasses.replace(links.preset("dac-800g"), lane_rate_gbps=400.0)
    with pytest.raises(ValueError, match="PAM2 needs 212.50 GBd"):
        dataclasses.replace(links.preset("dr4-1.6t"), fmt=NRZ)
    with pytest.raises(TypeError, match="PAM"):
        dataclasses.replace(links.preset("dac-800g"), fmt=DP_16QAM)


def test_length_past_the_physical_limit():
    with pytest.raises(ValueError, match="physical limit"):
        links.preset("dac-800g").with_length(10.0)
    with pytest.raises(ValueError, match="physical limit"):
        links.preset("zr-400g").with_length(200_000.0)         # past the DSP's CD tolerance


def test_dispersion_limited_link_is_flagged_not_silent():
    base = links.preset("dr4-800g")
    bad = dataclasses.replace(base, medium=dataclasses.replace(base.medium, dispersion_ps_per_nm_km=40.0),
                              length_m=10_000.0)
    r = bad.evaluate(reach=False)
    assert not r.ok and r.margin_db == -math.inf
    assert any("dispersion-limited" in w for w in r.warnings)
    with pytest.raises(ValueError, match="no open eye"):
        bad.simulate(1000, seed=1)


def test_past_rated_reach_warns():
    r = ev("dr4-800g", 2000.0)
    assert r.ok and any("rated reach" in w for w in r.warnings)


def test_bad_parts_and_components():
    with pytest.raises(ValueError, match="name"):
        Part("flux_capacitor", 1.0)
    with pytest.raises(TypeError, match="medium"):
        dataclasses.replace(links.preset("dac-800g"), medium=catalog.SMF_OBAND)
    with pytest.raises(ValueError, match="frame_bytes"):
        links.preset("dac-800g").evaluate(frame_bytes=0)


# ---- values, hop contract, energy roll-up ---------------------------------------------------

def test_links_are_immutable_values():
    a = links.preset("dac-800g")
    b = a.with_length(1.0)
    assert a.length_m == 1.5 and b.length_m == 1.0 and a != b and a == links.preset("dac-800g")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.length_m = 3.0
    d = a.evaluate().to_dict()
    json.dumps(d, default=str)
    assert d["ok"] is True and d["name"] == "dac-800g"


def test_ideal_link_link_model_is_the_ideal_hop():
    link = pl.Link.ideal(400.0, propagation_ns=25.0)
    assert link.link_model() == LinkModel.ideal(400.0, 25.0)
    r = link.evaluate()
    assert r.pre_fec_ber == 0 and r.cwer == 0 and r.energy_pj_per_bit == 0
    assert r.latency_ns == pytest.approx(25.0 + 64 * 8 / 400)


def test_link_model_of_a_preset():
    link = links.preset("dac-800g")
    h = link.link_model()
    # two 400G FEC flows, two codewords interleaved in each: the path's unit is the group
    assert h.rate_gbps == 800.0 and h.codeword_bits == 2 * 5140
    assert "serialisation" not in h.latency_ns and h.latency_ns["propagation"] == pytest.approx(1.5 * 4.5)
    assert h.fec_hold_ns == pytest.approx(2 * 5440 / (106.25 * 8 / 2))     # 25.6 ns [ref:800g-two-flows]
    assert h.cwer == pytest.approx(-math.expm1(2 * math.log1p(-link.evaluate().cwer)))
    r = link.evaluate()
    # report's pcs_fec = PCS + accumulation + decode; the hop splits accumulation out
    assert r.latency_breakdown_ns["pcs_fec"] == pytest.approx(h.latency_ns["pcs_fec"] + h.fec_hold_ns)


@pytest.mark.slow
def test_link_model_exact_codeword_failures():
    good = links.preset("dac-800g").link_model().codeword_failures
    bad = links.preset("dac-800g").with_length(4.5).link_model().codeword_failures
    assert good is not None
    assert not good(100, 1).any()
    flags = bad(100, 1)
    assert flags.dtype == bool and flags.size == 100 and flags.mean() > 0.9
    # three segments, RS code: their error patterns combine symbol by symbol
    assert links.preset("dr4-800g").link_model().codeword_failures(50, 1).shape == (50,)
    # the inner code covers only the optical lane of a DSP module: not expressible, statistical
    assert links.preset("dr4-1.6t").link_model().codeword_failures is None


def test_energy_breakdown_sums_and_switch_share():
    r = ev("dr4-800g")
    assert sum(r.energy_breakdown_w.values()) == pytest.approx(r.power_w)
    assert sum(r.energy_breakdown_pj_per_bit.values()) == pytest.approx(r.energy_pj_per_bit)
    assert r.power_w / 800 * 1000 == pytest.approx(r.energy_pj_per_bit)
    s = ev("dr4-800g", switch_pj_per_bit=SWITCH_ASIC_PJ_PER_BIT)
    # the switching core: 8.8 pJ/bit less the ASIC's own long-reach SerDes (5.0, E), the same for
    # every link (the port's SerDes is the link's host_serdes part)
    assert s.energy_breakdown_pj_per_bit["switch_asic"] == pytest.approx(8.8 - 5.0)
    cpo = ev("cpo-800g", switch_pj_per_bit=SWITCH_ASIC_PJ_PER_BIT)
    assert cpo.energy_breakdown_pj_per_bit["switch_asic"] == pytest.approx(8.8 - 5.0)
    assert cpo.energy_pj_per_bit < s.energy_pj_per_bit
    laser = r.energy_breakdown_w["laser"]
    tx = catalog.TX_EML_100G
    assert laser == pytest.approx(8 * 10 ** ((tx.launch_avg_dbm + 6.0) / 10) / 0.08 / 1000 + 1.0)


def test_fabric_roll_up():
    link = links.preset("dr4-800g")
    f = fabric_power(link, 1000, 3, 1000.0)
    port = link.evaluate().power_w
    assert f.ports == 6000 and f.network_w == pytest.approx(6000 * port)
    assert f.share_of_gpu == pytest.approx(6 * port / 1000.0)
    assert f.share_of_total == pytest.approx(6000 * port / (6000 * port + 1e6))
    g = fabric_power(link, 1000, 3, 1000.0, switch_pj_per_bit=SWITCH_ASIC_PJ_PER_BIT)
    assert g.switch_w == pytest.approx(5000 * (8.8 - 5.0) * 0.8)
    with pytest.raises(ValueError, match="gpu_power_w"):
        fabric_power(link, 10, 3, 0.0)


# ---- CLI --------------------------------------------------------------------------------------

def _run(argv):
    from photolink.cli import main
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(argv)
    return code, buf.getvalue()


def test_cli_compare_table_csv_json(tmp_path):
    code, out = _run(["compare", "dac-800g", "cpo-800g"])
    assert code == 0 and "pJ/bit" in out and "cpo-800g" in out
    code, out = _run(["compare", "dac-800g", "zr-400g", "--csv", "-"])
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "name" and [r[0] for r in rows[1:]] == ["dac-800g", "zr-400g"]
    path = tmp_path / "c.json"
    code, _ = _run(["compare", "lpo-800g", "--json", str(path)])
    data = json.loads(path.read_text())["rows"]
    assert data[0]["name"] == "lpo-800g" and "energy_breakdown_pj_per_bit.host_serdes" in data[0]


def test_cli_link_and_fabric_and_errors(capsys):
    code, out = _run(["link", "dac-800g", "--length-m", "3.6"])
    assert code == 0 and "above the FEC threshold" in capsys.readouterr().err   # warnings: stderr
    code, out = _run(["fabric", "cpo-1.6t", "--gpus", "1024", "--links-per-gpu", "3", "--gpu-power-w", "1200"])
    assert code == 0 and "per GPU" in out
    assert _run(["link", "nope"])[0] == 2
    assert "known presets" in capsys.readouterr().err


def test_reports_are_read_only():
    r = ev("dac-800g")
    with pytest.raises(TypeError):
        r.energy_breakdown_w["host_serdes"] = 0.0
    with pytest.raises(TypeError):
        r.segments[0]["ber"] = 0.0
    assert ev("dac-800g").energy_breakdown_w["host_serdes"] == pytest.approx(4.0)
