"""The built-in SerDes lane with the 802.3ck/dj reference receivers (TX FFE, CTLE, RX FFE/DFE)."""
import dataclasses

import numpy as np
import pytest

import photolink as pl
from photolink.links import catalog
from photolink.links import com as C
from photolink.links import serdes as sd

RS_DJ = 106.25
#: A 1.6T DAC channel: two hosts, two connectors, 0.7 m of 26 AWG twinax (~36 dB at 53 GHz).
DJ_LOSSES = ((catalog.HOST_TRACE, 1.0), (catalog.CONNECTOR, 1.0), (catalog.TWINAX_26AWG.loss, 0.7),
             (catalog.CONNECTOR, 1.0), (catalog.HOST_TRACE, 1.0))
#: The standard's receiver alone: no photolink crosstalk or implementation floor.
BARE_DJ = sd.SerDes.from_com("802.3dj reference receiver", C.COM_802_3DJ, crosstalk_db=-200.0,
                             implementation_snr_db=80.0)


def test_dj_parameter_set_is_the_cited_table():
    # [ref:dj-com-table], [ref:dj-com-parameters], [ref:com-dfe-b1-limit]
    p = C.COM_802_3DJ
    assert (p.eta0_v2_per_ghz, p.snr_tx_db, p.f_r, p.der0) == (6.0e-9, 33.0, 0.58, 2e-4)
    assert (p.a_v, p.a_fe, p.a_ne, p.rlm, p.t_r_ns, p.sigma_rj_ui, p.a_dd_ui) == (0.413, 0.413, 0.45, 0.95, 0.004, 0.01, 0.02)
    assert (p.rx_ffe_taps, p.rx_ffe_pre, p.rx_ffe_mode) == (16, 5, "mmse")
    assert p.dfe_max == (0.85,) and p.dfe_min == (0.0,)
    assert set(p.rx_ffe_max) == {0.7, 1.0} and set(p.rx_ffe_min) == {-0.7}
    assert (p.ctle.f_z_ghz, p.ctle.f_p1_ghz, p.ctle.f_p2_ghz, p.ctle.f_lf_ghz) == (42.5, 42.5, 106.25, 1.328125)
    assert p.ctle.g_dc_db == tuple(float(-g) for g in range(16))
    assert p.ctle.g_dc2_db == tuple(-0.5 * g for g in range(11))
    assert p.tx_ffe.taps_min == (-0.06, 0.0, -0.34, -0.2) and p.tx_ffe.taps_max == (0.0, 0.12, 0.0, 0.0)
    assert p.tx_ffe.n_pre == 3 and p.tx_ffe.c0_min == 0.5 and set(p.tx_ffe.taps_step) == {0.02}


def test_ck_parameter_set_is_the_cited_table():
    # [ref:ck-com-table], [ref:ck-com-parameters], [ref:com-ctle-ck]
    p = C.COM_802_3CK
    assert (p.eta0_v2_per_ghz, p.snr_tx_db, p.f_r, p.der0, p.a_v) == (8.2e-9, 32.5, 0.75, 1e-4, 0.413)
    assert (p.rx_ffe_taps, p.rx_ffe_pre, p.dfe_max, p.rx_ffe_mode) == (12, 3, (0.85,), "przf")
    assert p.ctle.g_dc_db == tuple(float(-g) for g in range(21)) and len(p.ctle.g_dc2_db) == 7
    assert p.ctle.f_z_ghz == pytest.approx(53.125 / 2.5) and p.ctle.f_lf_ghz == pytest.approx(53.125 / 80)


def test_preset_serdes_take_their_figures_from_the_parameter_sets():
    for s, p in ((catalog.SERDES_112G, C.COM_802_3CK), (catalog.SERDES_224G, C.COM_802_3DJ),
                 (catalog.SERDES_224G_RETIMER, C.COM_802_3DJ)):
        assert s.com == p
        assert (s.tx_swing_v, s.snr_tx_db, s.eta0_v2_per_ghz, s.rx_bandwidth_ratio) == (p.a_v, p.snr_tx_db, p.eta0_v2_per_ghz, p.f_r)
        assert (s.n_ffe, s.n_dfe, s.dfe_b1_max) == (p.rx_ffe_taps, 1, 0.85)
    eff = BARE_DJ.com_params(pl.PAM4, RS_DJ)
    assert eff.eta0_v2_per_ghz == pytest.approx(6.0e-9) and eff.snr_tx_db == pytest.approx(33.0, abs=1e-3)
    with pytest.raises(ValueError, match="n_ffe"):
        dataclasses.replace(catalog.SERDES_224G, n_ffe=5)


def test_builtin_lane_agrees_with_com_on_the_loss_model_as_touchstone(tmp_path):
    lane = sd.electrical_lane(pl.PAM4, BARE_DJ, DJ_LOSSES, RS_DJ)
    sd.loss_network(DJ_LOSSES).write_touchstone(str(tmp_path / "dac"))
    thru = pl.Channel.from_touchstone(tmp_path / "dac.s2p", RS_DJ)
    ref = C.com(thru, BARE_DJ.com_params(pl.PAM4, RS_DJ))       # the receiver the lane runs
    # same receiver, same search; the Touchstone path (band limit, DC extrapolation) costs < 0.15 dB
    assert abs(lane.equaliser["com_db"] - ref.com_db) < 0.15, (lane.equaliser["com_db"], ref.com_db)
    assert abs(lane.snr_db - ref.snr_db) < 0.15
    assert abs(lane.loss_at_nyquist_db - ref.loss_at_nyquist_db) < 0.1
    assert lane.equaliser["g_dc_db"] < 0                      # a 36 dB channel uses the CTLE


def test_transmitter_ffe_and_ctle_beat_the_receiver_ffe_alone():
    # the same receiver with the CTLE held at 0 dB and the transmitter taps at 0: RX FFE + DFE only
    p = C.COM_802_3DJ
    flat = dataclasses.replace(p, ctle=dataclasses.replace(p.ctle, g_dc_db=(0.0,), g_dc2_db=(0.0,)),
                               tx_ffe=C.TxFfe((0.0,) * 4, (0.0,) * 4, (0.0,) * 4, n_post=1, c0_min=0.5))
    rx_only = sd.electrical_lane(pl.PAM4, dataclasses.replace(BARE_DJ, com=flat), DJ_LOSSES, RS_DJ)
    full = sd.electrical_lane(pl.PAM4, BARE_DJ, DJ_LOSSES, RS_DJ)
    gain_db = full.eye.com_like_db(2.4e-4) - rx_only.eye.com_like_db(2.4e-4)
    assert gain_db > 2.0, gain_db
    assert full.equaliser["tx_taps"] != rx_only.equaliser["tx_taps"] or full.equaliser["g_dc_db"] != 0.0


@pytest.mark.slow
def test_local_search_finds_the_grid_optimum_within_half_a_db():
    # a smaller grid than the standard's (the full one takes minutes): transmitter steps 0.06
    p = dataclasses.replace(C.COM_802_3DJ, rx_ffe_mode="przf",
                            tx_ffe=C.TxFfe((-0.06, 0.0, -0.3, -0.18), (0.0, 0.12, 0.0, 0.0), (0.06,) * 4,
                                           n_post=1, c0_min=0.5))
    for length in (0.4, 0.9):
        losses = DJ_LOSSES[:2] + ((catalog.TWINAX_26AWG.loss, length),) + DJ_LOSSES[3:]
        pulse, _ = sd.pulse_response(losses, RS_DJ, None)
        thru = pl.Channel.from_pulse(np.roll(pulse, 256), 32, symbol_rate_gbd=RS_DJ)
        grid = C.com(thru, p)
        local = C.com(thru, dataclasses.replace(p, search="local"))
        assert grid.fom_db - 0.5 <= local.fom_db <= grid.fom_db + 1e-9, (length, grid.fom_db, local.fom_db)
        assert abs(local.com_db - grid.com_db) < 0.6


def test_search_is_validated():
    with pytest.raises(ValueError, match="search"):
        dataclasses.replace(C.COM_802_3DJ, search="random")
