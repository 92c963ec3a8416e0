"""Coherent links through laser phase noise and carrier recovery (issue 11, item 6).

``Link.simulate`` streams a coherent link's symbols through the transceiver's combined laser
linewidth [ref:photolink-zr-linewidth] and its carrier recovery (blind phase search with the
400ZR frame's pilots, [ref:zr-dsp-frame-pilots], [ref:pilot-aided-cpr]); ``evaluate()`` models
an ideal carrier. Fixed seeds; every comparison is against a Clopper-Pearson interval.
"""
import dataclasses

import pytest

from photolink import links
from photolink.links.link import required_osnr_db
from photolink.symbols.carrier import ZR_PILOT_PERIOD, CarrierRecovery

N = 400_000


@pytest.mark.parametrize("name", ["zr-400g", "zr-800g"])
def test_ideal_carrier_simulation_agrees_with_evaluate(name):
    link = links.preset(name).with_length(0.0)
    e = link.evaluate(reach=False)
    s = link.simulate(N, seed=3, reach=False, phase_noise=False)
    assert s.bit_errors >= 500
    assert s.pre_fec_ber_ci[0] <= e.pre_fec_ber <= s.pre_fec_ber_ci[1]
    assert s.segments[0]["cycle_slips"] == 0 and s.segments[0]["carrier_recovery"] is None


@pytest.mark.parametrize("name", ["zr-400g", "zr-800g"])
def test_negligible_linewidth_costs_only_the_recoverys_own_estimation_noise(name):
    """1 kHz combined linewidth: the pilot-aided BPS runs while the phase barely moves; what is
    left is the estimator's own cost (61-symbol window, 64 test phases): a few % of BER, well
    under 0.1 dB. (Zero linewidth is an ideal carrier: evaluate()'s model, checked above.)"""
    link = links.preset(name).with_length(0.0)
    narrow = dataclasses.replace(link, coherent=dataclasses.replace(link.coherent, linewidth_khz=1.0))
    e = narrow.evaluate(reach=False)
    s = narrow.simulate(N, seed=4, reach=False)
    seg = s.segments[0]
    assert seg["carrier_recovery"]["pilot_period"] == ZR_PILOT_PERIOD and seg["cycle_slips"] == 0
    assert seg["data_symbols"] == N - N // ZR_PILOT_PERIOD          # pilots are not data
    lo, hi = s.pre_fec_ber_ci
    assert lo <= 1.12 * e.pre_fec_ber and e.pre_fec_ber <= hi


@pytest.mark.parametrize("name", ["zr-400g", "zr-800g"])
def test_preset_linewidth_costs_a_small_penalty_and_no_slip(name):
    """At the presets' 200 kHz the simulated BER is above evaluate()'s (the phase-recovery
    penalty, ~0.1 dB) but far below the FEC threshold back to back, with no cycle slip."""
    link = links.preset(name).with_length(0.0)
    e = link.evaluate(reach=False)
    s = link.simulate(N, seed=5, reach=False)
    assert s.pre_fec_ber_ci[0] > e.pre_fec_ber                 # the penalty shows
    assert s.pre_fec_ber_ci[1] < 1.3 * e.pre_fec_ber            # and is small
    assert s.pre_fec_ber_ci[1] < e.threshold_ber / 10           # far below cFEC / oFEC
    assert s.segments[0]["cycle_slips"] == 0
    assert not any("cycle slips" in w for w in s.warnings)


def test_short_blind_window_slips_and_pilots_repair_the_slips():
    """400ZR near its cFEC threshold (OSNR set so) with a 21-symbol blind window: cycle slips
    rotate the rest of the stream (BER ~ 0.4); with the 400ZR frame's pilots the same window's
    slips are repaired within a few pilots and the BER stays near the ideal carrier's."""
    zr = links.preset("zr-400g")
    trx = dataclasses.replace(zr.coherent, tx_osnr_db=23.1)          # BER 9e-3 (evaluate)
    near = dataclasses.replace(zr, coherent=trx).with_length(0.0)
    ideal = near.simulate(N, seed=6, reach=False, phase_noise=False)
    assert 5e-3 < ideal.pre_fec_ber_ci[0] and ideal.pre_fec_ber_ci[1] < 1.25e-2

    def run(cr):
        link = dataclasses.replace(near, coherent=dataclasses.replace(trx, carrier_recovery=cr))
        return link.simulate(N, seed=6, reach=False)

    blind = run(CarrierRecovery("blind-phase-search", 21, 32))
    piloted = run(CarrierRecovery("blind-phase-search", 21, 32, pilot_period=ZR_PILOT_PERIOD))
    preset = run(zr.coherent.carrier_recovery)
    assert blind.segments[0]["cycle_slips"] > 10 and blind.pre_fec_ber_ci[0] > 0.1
    assert any("cycle slips" in w for w in blind.warnings)
    assert piloted.segments[0]["cycle_slips"] > 10 and piloted.pre_fec_ber_ci[1] < 1.5 * ideal.pre_fec_ber_ci[0]
    assert preset.segments[0]["cycle_slips"] == 0 and preset.pre_fec_ber_ci[1] < 1.15 * ideal.pre_fec_ber_ci[0]


@pytest.mark.parametrize("name, b2b_margin", [("zr-400g", 7.9), ("zr-800g", 5.7)])
def test_osnr_margin_shrinks_with_length_within_a_span(name, b2b_margin):
    link = links.preset(name)
    margins = [link.with_length(km * 1e3).evaluate(reach=False).margin_db for km in (0, 40, 80)]
    assert margins[0] == pytest.approx(b2b_margin, abs=0.1)
    assert margins[0] > margins[1] > margins[2] > 3.0
    assert required_osnr_db(link) - required_osnr_db(link, allowances=False) == pytest.approx(3.7)


def test_bad_phase_noise_flag_and_linewidth_are_refused():
    zr = links.preset("zr-400g")
    with pytest.raises(TypeError, match="phase_noise"):
        zr.simulate(1000, seed=1, phase_noise="yes")
    with pytest.raises(ValueError, match="linewidth_khz"):
        dataclasses.replace(zr.coherent, linewidth_khz=-1.0)
    with pytest.raises(TypeError, match="carrier_recovery"):
        dataclasses.replace(zr.coherent, carrier_recovery="bps")
