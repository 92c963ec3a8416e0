"""Standards-faithful link physics (issue 11): precoding, interleaving, the DFE tap limit, the
margin each technology reports, rated vs physics reach; and the Link fields' validation."""
import dataclasses
import math

import numpy as np
import pytest

from photolink import fec, links
from photolink.links import catalog
from photolink.links.serdes import electrical_lane
from photolink.symbols.channel import decision_point
from photolink.symbols.formats import PAM4


# ---- precoding, interleaving, FEC hold ---------------------------------------------------------

def test_copper_presets_precode_and_interleave_as_802_3ck_dj():
    for name in ("dac-800g", "dac-1.6t", "aec-800g", "dr4-800g"):
        link = links.preset(name)
        assert link.precode and link.interleave == 2 and link.fec_flows == 2, name
        assert "[ref:800g-two-flows]" in link.source


def test_fec_hold_is_interleave_codewords_at_the_flow_rate():
    dac = links.preset("dac-800g")
    hold, _ = dac._fec_latency()
    assert hold == pytest.approx(2 * 5440 / 425.0)                      # 25.6 ns [ref:800g-two-flows]
    one = dataclasses.replace(dac, interleave=1, fec_flows=1)
    assert one._fec_latency()[0] == pytest.approx(5440 / 850.0)          # one codeword striped over 8 lanes
    # the decode part does not change with the hold
    assert dac._fec_latency()[1] == pytest.approx(one._fec_latency()[1])


def test_precoding_and_interleave_cut_the_burst_cwer_by_decades():
    dac = links.preset("dac-800g").with_length(2.9)
    plain = dataclasses.replace(dac, precode=False, interleave=1, fec_flows=1)
    a, b = dac.evaluate(reach=False), plain.evaluate(reach=False)
    assert a.pre_fec_ber == b.pre_fec_ber                              # same error-free-feedback BER
    # behind the CTLE the DFE's first tap is well below b_max, so its bursts are short already:
    # precoding turns them into pairs and still cuts the decoder's BER, and the CWER by decades
    assert a.ber_with_propagation < b.ber_with_propagation
    assert a.cwer < b.cwer / 100


def test_interleave_needs_an_rs_code_and_a_valid_depth():
    dr4 = links.preset("dr4-1.6t")
    with pytest.raises(ValueError, match="interleave must be 1 unless fec is a Reed-Solomon"):
        dataclasses.replace(dr4, interleave=2)
    dac = links.preset("dac-800g")
    with pytest.raises(ValueError, match="interleave must be one of"):
        dataclasses.replace(dac, interleave=3)
    with pytest.raises(ValueError, match="fec_flows must divide lanes=8"):
        dataclasses.replace(dac, fec_flows=3)
    with pytest.raises(TypeError, match="precode must be a bool"):
        dataclasses.replace(dac, precode="yes")


# ---- the DFE's first tap --------------------------------------------------------------------------

def test_first_dfe_tap_is_limited_to_b_max():
    losses = [(catalog.HOST_TRACE, 1.0), (catalog.TWINAX_26AWG.loss, 3.5), (catalog.HOST_TRACE, 1.0)]
    # the receiver FFE + DFE alone (no reference receiver): the FFE leaves the DFE a big first tap
    bare = dataclasses.replace(catalog.SERDES_112G, com=None, n_ffe=24)
    free = dataclasses.replace(bare, dfe_b1_max=1.0)
    r_free = electrical_lane(PAM4, free, losses, 53.125)
    r_lim = electrical_lane(PAM4, bare, losses, 53.125)
    # with the 802.3ck reference receiver COM clips the tap at b_max(1) too
    r_com = electrical_lane(PAM4, dataclasses.replace(catalog.SERDES_112G, dfe_b1_max=0.3), losses, 53.125)
    assert r_com.equalizer.dfe[0] <= 0.3 * decision_point(r_com.channel, r_com.equalizer).cursor + 1e-12
    b_free = r_free.equalizer.dfe[0] / decision_point(r_free.channel, r_free.equalizer).cursor
    b_lim = r_lim.equalizer.dfe[0] / decision_point(r_lim.channel, r_lim.equalizer).cursor
    assert b_free > 0.86                                               # the channel wants more ...
    assert b_lim == pytest.approx(0.85, abs=1e-9)                      # ... COM allows 0.85
    assert r_lim.snr_db < r_free.snr_db                                # and that costs SNR
    with pytest.raises(ValueError, match="dfe_b1_max"):
        dataclasses.replace(catalog.SERDES_112G, dfe_b1_max=0.0)


# ---- margins and reach --------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, pass_db", [
    ("dac-800g", "com-like-db", 3.0), ("aec-800g", "com-like-db", 3.0),
    ("dr4-800g", "optical-power-db", 0.0), ("lpo-800g", "optical-power-db", 0.0),
    ("zr-400g", "osnr-db", 0.0)])
def test_each_technology_names_its_margin(name, kind, pass_db):
    r = links.preset(name).evaluate(reach=False)
    assert r.margin_kind == kind and r.margin_pass_db == pass_db
    assert r.to_dict()["margin_kind"] == kind


def test_optical_power_margin_is_the_loss_the_link_tolerates():
    dr4 = links.preset("dr4-800g")
    r = dr4.evaluate(reach=False)
    # that much more connector loss puts the pre-FEC BER on the threshold
    at = dataclasses.replace(dr4, connector_loss_db=dr4.connector_loss_db + r.margin_db / dr4.connectors)
    assert at.evaluate(reach=False).pre_fec_ber == pytest.approx(r.threshold_ber, rel=0.02)
    assert r.margin_db > r.noise_margin_db                  # dB of optical loss != dB of noise


def test_dac_800g_at_its_rated_reach_passes_com_and_simulate_confirms_the_cwer():
    dac = links.preset("dac-800g")
    rated = dac.with_length(dac.rated_reach_m)
    e = rated.evaluate()
    assert e.margin_kind == "com-like-db" and e.margin_db >= 3.0 and e.ok
    assert e.rated_reach_m <= e.reach_m and e.reach_limit == "com-3db"
    assert e.cwer < 1e-15 and e.pre_fec_ber < e.ber_with_propagation < 1e-5
    s = rated.simulate(2_000_000, seed=3, reach=False)
    assert s.cwer_method == "fec.simulate"
    assert s.cwer_ci[0] <= e.cwer <= s.cwer_ci[1]
    assert s.pre_fec_ber_ci[0] <= e.ber_with_propagation <= s.pre_fec_ber_ci[1]


@pytest.mark.slow
def test_every_preset_is_rated_within_its_physics_reach():
    for name in links.presets():
        r = links.preset(name).evaluate()
        assert r.rated_reach_m is None or r.rated_reach_m <= r.reach_m, (name, r.rated_reach_m, r.reach_m)
        assert r.reach_limit in ("com-3db", "fec-threshold", "dispersion", "medium")
        assert not any("exceeds the physics reach" in w for w in r.warnings)


def test_a_rating_past_the_physics_reach_is_flagged():
    dac = dataclasses.replace(links.preset("dac-1.6t"), rated_reach_m=3.0)
    assert any("exceeds the physics reach" in w for w in dac.evaluate().warnings)


# ---- Link fields reachable from [links.*] are validated (issue 16, item 8) ----------------------

@pytest.mark.parametrize("field, value, exc, match", [
    ("propagation_ns", -82.0, ValueError, "propagation_ns"),
    ("propagation_ns", math.nan, ValueError, "propagation_ns"),
    ("propagation_ns", math.inf, ValueError, "propagation_ns"),
    ("dsp_snr_db", -3083.0, ValueError, "dsp_snr_db"),
    ("dsp_snr_db", math.nan, ValueError, "dsp_snr_db"),
    ("rated_reach_m", -1.0, ValueError, "rated_reach_m"),
    ("rated_reach_m", math.nan, ValueError, "rated_reach_m"),
    ("name", 42, TypeError, "name"),
    ("name", "", TypeError, "name"),
    ("source", 3, TypeError, "source"),
])
def test_link_fields_are_validated(field, value, exc, match):
    dac = links.preset("dr4-800g")
    with pytest.raises(exc, match=match):
        dataclasses.replace(dac, **{field: value})


def test_ideal_link_fields_are_validated_too():
    with pytest.raises(ValueError, match="propagation_ns"):
        links.Link.ideal(100.0, propagation_ns=-1.0)
    with pytest.raises(ValueError, match="propagation_ns"):
        links.Link.ideal(100.0, propagation_ns=math.nan)


def test_infinite_dsp_snr_means_no_floor():
    dr4 = links.preset("dr4-800g")
    assert dataclasses.replace(dr4, dsp_snr_db=math.inf).evaluate(reach=False).pre_fec_ber \
        < dr4.evaluate(reach=False).pre_fec_ber
    assert fec.KP4.threshold_ber > 0


# ---- IM-DD budget per IEEE methodology ----------------------------------------------------------

def test_400gbase_dr4_spec_corner_closes_500_m_with_3_db_loss():
    dr4 = links.preset("dr4-800g", corner="spec")
    assert dr4.length_m == 500.0 and dr4.tx.tdecq_db == 3.4 and dr4.tx.extinction_ratio_db == 3.5
    assert dr4.tx.launch_oma_dbm - dr4.tx.tdecq_db == pytest.approx(-2.2)      # [ref:dr4-pmd-spec]
    r = dr4.evaluate()
    optical = r.segments[1]
    channel_loss = optical["losses_db"]["fibre"] + optical["losses_db"]["connectors"]
    assert channel_loss == pytest.approx(3.0, abs=1e-9)
    assert r.margin_kind == "optical-power-db" and 0.0 <= r.margin_db < 1.0 and r.ok
    assert "rin" not in optical["noise_db"] and "mpi" in optical["noise_db"]
    # IEEE arithmetic: -2.2 dBm - 3 dB = -5.2 dBm against a -5.8 dBm sensitivity: 0.6 dB, less
    # what shot noise, MPI and dispersion take
    assert r.margin_db == pytest.approx(0.6, abs=0.25)
    typical = links.preset("dr4-800g").with_length(500.0).evaluate()
    assert typical.margin_db > r.margin_db + 3.0                          # datasheet-typical headroom


def test_rin_is_not_counted_twice_unless_asked():
    dr4 = links.preset("dr4-800g", corner="spec")
    ideal_tx = dataclasses.replace(dr4.tx, rin_in_tdecq=False)
    a = dr4.evaluate(reach=False)
    b = dataclasses.replace(dr4, tx=ideal_tx).evaluate(reach=False)
    assert "rin" in b.segments[1]["noise_db"] and b.margin_db < a.margin_db


def test_receiver_from_sensitivity_meets_the_threshold_at_its_sensitivity():
    rx = catalog.RX_SPEC_100G
    tx = dataclasses.replace(links.preset("dr4-800g").tx, launch_oma_dbm=-5.8, tdecq_db=0.0)
    from photolink.links.optics import imdd_budget
    b = imdd_budget(PAM4, tx, rx, catalog.SMF_OBAND, 0.0, 53.125, connectors=0)
    with np.errstate(divide="ignore"):
        assert b.noise_db["thermal"] == pytest.approx(float(PAM4.snr_db_for_ber(fec.KP4.threshold_ber)), abs=1e-6)


def test_mpi_from_connector_reflections_costs_margin():
    dr4 = links.preset("dr4-800g", corner="spec")
    clean = dataclasses.replace(dr4, connector_reflectance_db=-math.inf).evaluate(reach=False)
    dirty = dataclasses.replace(dr4, connector_reflectance_db=-22.0, connectors=4,
                                connector_loss_db=dr4.connector_loss_db / 2).evaluate(reach=False)
    assert "mpi" not in clean.segments[1]["noise_db"]
    assert dirty.segments[1]["noise_db"]["mpi"] < 35 and dirty.margin_db < clean.margin_db - 0.2


def test_corner_is_checked():
    with pytest.raises(ValueError, match="corner must be one of"):
        links.preset("dr4-800g", corner="worst")
    with pytest.raises(ValueError, match="has no spec corner"):
        links.preset("dac-800g", corner="spec")


# ---- the burst-model CWER: monotone where the physics is, and with an interval (issue 16, 12) ---

@pytest.mark.slow
def test_aec_burst_cwer_rises_with_length_and_carries_an_interval():
    aec = links.preset("aec-800g")
    lengths = (3.6, 3.68, 3.76, 4.4)
    reps = [aec.with_length(m).evaluate(reach=False) for m in lengths]
    bers = [r.pre_fec_ber for r in reps]
    cwers = [r.cwer for r in reps]
    assert bers == sorted(bers) and cwers == sorted(cwers), (bers, cwers)
    # without precoding the deep tail is poorly resolved: the interval says so, and the
    # neighbouring lengths' figures fall inside it (before: a 25x jump between 3.60 and 3.68 m)
    plain = dataclasses.replace(aec, precode=False, interleave=1, fec_flows=1)
    mid = plain.with_length(4.16).evaluate(reach=False, cwer_interval=True)
    lo, hi = mid.cwer_ci
    assert lo <= mid.cwer <= hi
    plain_cwers = [plain.with_length(m).evaluate(reach=False).cwer for m in (4.08, 4.16, 4.24)]
    assert plain_cwers == sorted(plain_cwers) and plain_cwers[0] < plain_cwers[-1]
    assert plain.with_length(4.16).evaluate(reach=False).cwer_ci is None      # only on request


def test_16t_lpo_and_aec_presets():
    names = links.presets()
    assert "lpo-1.6t" in names and "aec-1.6t" in names
    lpo, aec = links.preset("lpo-1.6t"), links.preset("aec-1.6t")
    assert lpo.net_rate_gbps == aec.net_rate_gbps == 1600.0
    assert lpo.technology == "linear-optics" and lpo.fec is fec.KP4_INNER_CHASE
    assert aec.technology == "active-copper" and aec.precode and aec.interleave == 2
    for link in (lpo, aec):
        r = link.evaluate()
        assert r.ok and r.rated_reach_m <= r.reach_m and "[ref:" in link.source
    # 200G/lane costs reach: the 1.6T AEC reaches less far than the 800G one
    assert aec.reach_m()[0] < links.preset("aec-800g").reach_m()[0]


# ---- coherent: typical transceiver, allowances, OSNR margin -----------------------------------

def test_400zr_back_to_back_is_far_below_threshold_and_needs_26_db_with_allowances():
    from photolink.links.link import required_osnr_db
    zr = links.preset("zr-400g")
    b2b = zr.with_length(0.0).evaluate(reach=False)
    assert b2b.pre_fec_ber < b2b.threshold_ber / 20                     # ~3e-4 vs 1.25e-2
    assert required_osnr_db(zr) == pytest.approx(26.0, abs=0.05)         # [ref:zr-osnr-threshold]
    typical = required_osnr_db(zr, allowances=False)
    assert typical == pytest.approx(26.0 - 3.7, abs=0.05)
    at80 = zr.evaluate(reach=False)
    seg = at80.segments[0]
    assert at80.margin_kind == "osnr-db"
    assert at80.margin_db == pytest.approx(seg["osnr_db"] - seg["required_osnr_db"])
    assert 0 < at80.margin_db < b2b.margin_db                              # shrinks with length
    # the reach is where the OSNR margin (allowances included) runs out, or the DSP's CD limit
    weak = dataclasses.replace(zr, coherent=dataclasses.replace(zr.coherent, ageing_allowance_db=7.5))
    r = weak.evaluate()
    assert r.reach_limit == "fec-threshold" and r.reach_m < zr.medium.max_length_m
    assert weak.with_length(r.reach_m * 1.02).evaluate(reach=False).margin_db < 0
