"""COM-like figure on measured channels: against PyChOpMarg, closed forms and the stream."""
import dataclasses
import math

import numpy as np
import pytest
from scipy.linalg import toeplitz

import photolink as pl
from photolink.links import com as C
from photolink.symbols.package import DevicePackage

rf = pytest.importorskip("skrf")
pu = pytest.importorskip("photolink.symbols.pulse")
RS = 53.125


def _small(**changes):
    """A small search grid (tests must be quick): 6 CTLE settings x 6 transmitter FFEs."""
    p = C.ComParams.ieee_802_3ck(RS, **changes)
    ctle = dataclasses.replace(p.ctle, g_dc_db=(0.0, -4.0, -8.0), g_dc2_db=(0.0, -2.0))
    tx = C.TxFfe((-0.2, -0.1), (0.0, 0.0), (0.1, 0.1), n_post=1, c0_min=0.5)
    return dataclasses.replace(p, ctle=ctle, tx_ffe=tx)


def _lane(length_m, n_points=600):
    thru = pl.Channel.from_network(pu.synthetic_network(length_m, n_points=n_points), RS)
    fext = pl.Channel.from_network(pu.synthetic_network(length_m, n_points=n_points, coupling=0.1),
                                   RS, check=False)
    return thru, fext


def _pychopmarg_params(p, fstep_ghz, pkg=None):
    """The same parameters for PyChOpMarg, with its package and die reduced to nothing: R_d = R_0
    (no reflection at the terminations), every capacitance, inductance and package length at the
    smallest value its checks allow (1 fF, 10 pH, 1 um)."""
    tmpl = pytest.importorskip("pychopmarg.config.template")
    t = p.tx_ffe
    # PyChOpMarg's transmitter taps are the pre-cursors then exactly 3 post-cursors
    pad = [0.0] * (3 - t.n_post)
    tx_min, tx_max, tx_step = (list(x) + pad for x in (t.taps_min, t.taps_max, t.taps_step))
    tiny = [0.001]
    if pkg is not None:      # the Annex 93A package at both ends, R_d = R_0 as photolink takes it
        seg = [z for _, z in pkg.segments]
        die = dict(C_d=[list(pkg.c_d_nf)] * 2, L_s=[list(pkg.l_s_nh)] * 2, C_b=[pkg.c_b_nf] * 2,
                   C_p=[pkg.c_p_nf] * 2, z_c=[zc for zc, _ in pkg.segments], z_p=seg[:1],
                   z_pB=seg[-1], gamma0=pkg.gamma0_per_mm, a1=pkg.a1, a2=pkg.a2,
                   tau=pkg.tau_ns_per_mm, zp_tx=seg, zp_rx=seg, zp_next=seg, zp_fext=seg)
    else:
        die = dict(C_d=[1e-6, 1e-6], C_b=[0.0, 0.0], C_p=[1e-6, 1e-6], L_s=[0.01, 0.01],
                   z_c=[50.0, 50.0], z_p=tiny, gamma0=1e-7, a1=1e-7, a2=1e-7, tau=1e-7,
                   zp_tx=tiny, zp_rx=tiny, zp_next=tiny, zp_fext=tiny)
    return tmpl.COMParams(
        fb=RS, fstep=fstep_ghz, L=4, M=32, DER_0=p.der0, T_r=p.t_r_ns, RLM=p.rlm, A_v=p.a_v,
        A_fe=p.a_fe, A_ne=p.a_ne, R_0=50.0, A_DD=p.a_dd_ui, SNR_TX=p.snr_tx_db,
        eta_0=p.eta0_v2_per_ghz, sigma_Rj=p.sigma_rj_ui, f_z=p.ctle.f_z_ghz, f_p1=p.ctle.f_p1_ghz,
        f_p2=p.ctle.f_p2_ghz, f_LF=p.ctle.f_lf_ghz, g_DC=list(p.ctle.g_dc_db),
        g_DC2=list(p.ctle.g_dc2_db), tx_taps_min=tx_min, tx_taps_max=tx_max,
        tx_taps_step=tx_step, c0_min=t.c0_min, f_r=p.f_r, dfe_min=np.array(p.dfe_min),
        dfe_max=np.array(p.dfe_max), rx_taps_min=np.array(p.rx_ffe_min),
        rx_taps_max=np.array(p.rx_ffe_max), dw=p.rx_ffe_pre, R_d=np.array([50.0]), **die)


@pytest.mark.slow
@pytest.mark.parametrize(("length_m", "with_next"), [(0.15, False), (0.3, True), (0.5, False)])
def test_com_agrees_with_pychopmarg(tmp_path, length_m, with_next):
    pcm = pytest.importorskip("pychopmarg.com")
    common = pytest.importorskip("pychopmarg.common")
    p = _small()
    pu.synthetic_network(length_m, n_points=600).write_touchstone(str(tmp_path / "thru"))
    pu.synthetic_network(length_m, n_points=600, coupling=0.1).write_touchstone(str(tmp_path / "fext"))
    pu.synthetic_network(0.2, n_points=600, coupling=0.05).write_touchstone(str(tmp_path / "next"))
    thru = pl.Channel.from_touchstone(tmp_path / "thru.s4p", RS)
    fext = pl.Channel.from_touchstone(tmp_path / "fext.s4p", RS, check=False)
    nxt = [pl.Channel.from_touchstone(tmp_path / "next.s4p", RS, check=False)] if with_next else []
    ours = C.com(thru, p, fext=[fext], next=nxt)
    files = {"THRU": [tmp_path / "thru.s4p"], "FEXT": [tmp_path / "fext.s4p"],
             "NEXT": [tmp_path / "next.s4p"] if with_next else []}
    peer = pcm.COM(_pychopmarg_params(p, 0.02), files)
    peer.n_procs = 1
    theirs = peer(opt_mode=common.OptMode.PRZF, norm_mode=common.NormMode.P8023dj, unit_amp=True)
    assert abs(ours.com_db - theirs) < 0.5, (ours.com_db, theirs)
    # the 802.3dj (178A) MMSE receiver FFE against PyChOpMarg's MMSE mode on the same channel
    mmse = C.com(thru, dataclasses.replace(p, rx_ffe_mode="mmse", mmse_candidates=6), fext=[fext], next=nxt)
    theirs = peer(opt_mode=common.OptMode.MMSE, norm_mode=common.NormMode.P8023dj, unit_amp=True)
    assert abs(mmse.com_db - theirs) < 0.5, (mmse.com_db, theirs)


def _smaller():
    """An even smaller grid for the package and floating-tap oracles: 3 CTLE settings x 6 FFEs."""
    p = _small()
    return dataclasses.replace(p, ctle=dataclasses.replace(p.ctle, g_dc_db=(0.0, -4.0, -8.0), g_dc2_db=(0.0,)))


@pytest.mark.slow
@pytest.mark.parametrize(("length_m", "with_next"), [(0.1, False), (0.25, True), (0.4, False)])
def test_com_with_the_annex_93a_package_agrees_with_pychopmarg(tmp_path, length_m, with_next):
    """The 802.3dj class A die and package (12 mm + 1.8 mm lines) at both ends, in both tools."""
    pcm = pytest.importorskip("pychopmarg.com")
    common = pytest.importorskip("pychopmarg.common")
    pkg = DevicePackage.ieee_802_3dj_class_a(12.0)
    p = _smaller()
    pu.synthetic_network(length_m, n_points=600).write_touchstone(str(tmp_path / "thru"))
    pu.synthetic_network(length_m, n_points=600, coupling=0.1).write_touchstone(str(tmp_path / "fext"))
    pu.synthetic_network(0.2, n_points=600, coupling=0.05).write_touchstone(str(tmp_path / "next"))
    opts = {"tx_package": pkg, "rx_package": pkg}
    thru = pl.Channel.from_touchstone(tmp_path / "thru.s4p", RS, **opts)
    bare = pl.Channel.from_touchstone(tmp_path / "thru.s4p", RS)
    fext = pl.Channel.from_touchstone(tmp_path / "fext.s4p", RS, check=False, **opts)
    nxt = [pl.Channel.from_touchstone(tmp_path / "next.s4p", RS, check=False, **opts)] if with_next else []
    ours = C.com(thru, p, fext=[fext], next=nxt)
    assert ours.loss_at_nyquist_db > C.com(bare, p, fext=[fext], next=nxt).loss_at_nyquist_db + 1.0
    files = {"THRU": [tmp_path / "thru.s4p"], "FEXT": [tmp_path / "fext.s4p"],
             "NEXT": [tmp_path / "next.s4p"] if with_next else []}
    peer = pcm.COM(_pychopmarg_params(p, 0.02, pkg), files)
    peer.n_procs = 1
    theirs = peer(opt_mode=common.OptMode.PRZF, norm_mode=common.NormMode.P8023dj, unit_amp=True)
    assert abs(ours.com_db - theirs) < 0.5, (ours.com_db, theirs)


def test_noise_budget_adds_up_and_feeds_the_ber_machinery():
    thru, fext = _lane(0.3)
    p = _small()
    r = C.com(thru, p, fext=[fext])
    assert set(r.noise_v) == set(C.NOISE_SOURCES)
    total = sum(x**2 for x in r.noise_v.values())
    signal = (5 / 9) * (r.a_s_v * 3 / 0.95) ** 2               # PAM4 mean level power x cursor^2
    assert r.snr_db == pytest.approx(10 * math.log10(signal / total), abs=1e-9)
    for k, x in r.noise_v.items():
        assert r.noise_db[k] == pytest.approx(10 * math.log10(signal / x**2), abs=1e-9)
    # transmitter noise is SNR_TX of the cursor, by definition (93A-30)
    assert r.noise_db["tx_noise"] == pytest.approx(p.snr_tx_db + 10 * math.log10(5 / 9), abs=1e-9)
    assert 0 < r.ber() < 1e-3
    d = r.to_dict()
    assert d["com_db"] == r.com_db and len(d["tx_taps"]) == 3
    assert _small().to_dict()["ctle"]["g_dc_db"] == (0.0, -4.0, -8.0)
    # the symbol-spaced lane the stream runs: channel x FFE has cursor 1 at the decision delay
    q = r.equalizer.combined(r.channel)
    assert q[r.equalizer.delay(r.channel)] == pytest.approx(1.0, rel=1e-9)


def test_com_without_noise_or_crosstalk_is_the_isi_quantile():
    # no Gaussian noise, no jitter, no crosstalk: A_ni is the DER_0 quantile of the residual ISI
    thru, _ = _lane(0.3)
    p = _small(snr_tx_db=100.0, eta0_v2_per_ghz=0.0, sigma_rj_ui=0.0, a_dd_ui=0.0)
    r = C.com(thru, p)
    assert r.noise_v["crosstalk"] == 0 and r.noise_v["jitter"] == 0
    assert r.noise_v["thermal"] == 0
    assert r.a_ni_v <= r.noise_v["isi"] / math.sqrt(5 / 9) * 3 * 1.05 + 1e-12  # bounded by the peak ISI


def test_more_loss_lower_com_at_the_same_equaliser_grid():
    coms = [C.com(_lane(x)[0], _small()).com_db for x in (0.4, 0.8)]
    assert coms[0] > coms[1]


def test_ctle_and_tx_grid():
    ctle = C.Ctle.ieee_802_3ck(53.125)
    assert ctle.f_z_ghz == pytest.approx(21.25) and ctle.f_lf_ghz == pytest.approx(0.6640625)
    h = ctle.response(np.array([0.0, 1e6]), -6.0, 0.0)
    assert abs(h[0]) == pytest.approx(10 ** (-6 / 20))
    combos = C.TxFfe((-0.2, -0.1), (0.0, 0.0), (0.1, 0.1), n_post=1, c0_min=0.75).combinations()
    # c(-1) in {-0.2, -0.1, 0}, c(1) in {-0.1, 0}, cursor 1 - |c(-1)| - |c(1)| >= 0.75: 5 of 6
    assert combos.shape == (5, 3)
    np.testing.assert_allclose(combos[:, 1], 1 - np.abs(combos[:, 0]) - np.abs(combos[:, 2]))
    assert np.all(combos[:, 1] >= 0.75 - 1e-12)


def test_bad_input():
    thru, _ = _lane(0.3)
    with pytest.raises(TypeError, match="oversampled"):
        C.com(pl.Channel((1.0, 0.3)))
    with pytest.raises(TypeError, match="params"):
        C.com(thru, params=3)
    with pytest.raises(ValueError, match="g_dc_db"):
        C.Ctle(1, 1, 1, 1, g_dc_db=(3.0,))
    with pytest.raises(ValueError, match="rx_ffe_pre"):
        C.ComParams(ctle=C.Ctle.ieee_802_3ck(), rx_ffe_taps=4, rx_ffe_pre=3)
    other = pl.Channel.from_network(pu.synthetic_network(0.3, n_points=200), 26.5625)
    with pytest.raises(ValueError, match="share"):
        C.com(thru, _small(), fext=[other])


def test_link_on_a_measured_lane():
    from photolink import links
    thru, fext = _lane(0.3)
    r = C.com(thru, _small(), fext=[fext])
    dac = links.preset("dac-800g")
    link = dataclasses.replace(dac, lane=r, length_m=1.0)
    rep = link.evaluate()
    seg = link.segments()[0]
    assert seg.snr_db == r.snr_db and seg.detail["com_db"] == r.com_db
    assert rep.pre_fec_ber == pytest.approx(r.ber(), rel=1e-9)
    assert rep.cwer_method == "burst-model"
    # a measured lane goes into a path like any link
    res = pl.Path([link, pl.Switch(250), link]).run(pl.traffic.Poisson(load=0.5, packet_bytes=4096),
                                                    2000, seed=1)
    assert res.loss_ratio == 0
    with pytest.raises(ValueError, match="GBd"):
        dataclasses.replace(links.preset("dac-1.6t"), lane=r)
    with pytest.raises(TypeError, match="ComResult"):
        dataclasses.replace(dac, lane=3)


def test_link_on_a_measured_lane_has_a_fixed_channel():
    """length_m of a measured lane sets the delay only: with_length refuses, reach is NaN, the report says so."""
    from photolink import links
    thru, _ = _lane(0.3)
    r = C.com(thru, _small())
    link = dataclasses.replace(links.preset("dac-800g"), lane=r, length_m=1.0)
    with pytest.raises(ValueError, match="measured lane"):
        link.with_length(2.0)
    assert link.with_length(1.0) == link
    rep = link.evaluate()
    assert math.isnan(rep.reach_m) and rep.reach_limit == links.link.MEASURED_LANE
    assert any("measured lane" in w and "delay only" in w for w in rep.warnings)
    # the delay follows length_m, the error figures do not
    longer = dataclasses.replace(link, length_m=2.0).evaluate()
    assert longer.pre_fec_ber == rep.pre_fec_ber
    assert longer.latency_ns > rep.latency_ns


def test_stream_on_the_com_lane_matches_its_statistical_ber():
    # raise the noise so that errors are countable; the stream runs the COM lane's channel and FFE
    thru, _ = _lane(0.3)
    r = C.com(thru, _small(eta0_v2_per_ghz=1e-5))
    ber_eye = r.ber()
    assert 1e-4 < ber_eye < 3e-2
    sim = pl.simulate_ber(pl.PAM4, r.snr_in_db, 10**6, seed=3, channel=r.channel,
                          equalizer=r.equalizer, ideal_feedback=True)
    assert sim.ci[0] * 0.8 < ber_eye < sim.ci[1] * 1.25


def test_fast_search_equals_the_direct_figure_of_merit():
    # the vectorised search (only the samples the FFEs touch) against the oversampled evaluation
    thru, fext = _lane(0.3)
    nxt = pl.Channel.from_network(pu.synthetic_network(0.2, n_points=600, coupling=0.05), RS, check=False)
    p = _small()
    lane = C._Lane(thru, (fext,), (nxt,), p)
    hc = p.ctle.response(lane.f, -4.0, -2.0)
    y0 = np.fft.irfft(lane.thru * hc, lane.n)
    fx = [np.fft.irfft(lane.fext[0] * hc, lane.n)]
    nx = [np.fft.irfft(lane.next[0] * hc, lane.n)]
    spu = lane.spu
    noise_r = lane.noise_autocorrelation(np.abs(lane.hr * hc) ** 2, p.rx_ffe_taps)
    combos = p.tx_ffe.combinations()
    fast = C._fast_foms(y0, fx, nx, combos, p, spu, 5 / 9, noise_r, 4)
    shifts = (np.arange(combos.shape[1]) - p.tx_ffe.n_pre) * spu
    idx = C._fir_index(lane.n // spu, p.rx_ffe_taps, p.rx_ffe_pre)
    for i, c in enumerate(combos):
        y = c @ C._rolls(y0, shifts)
        pk = int(np.argmax(y))
        w = C._przf(y[pk % spu::spu], pk // spu, p)
        xts = [c @ C._rolls(fx[0], shifts)] + nx
        direct, _ = C._evaluate(y, xts, w, p.rx_ffe_pre, p, spu, 5 / 9, noise_r, 4, idx)
        assert fast[i] == pytest.approx(direct, abs=1e-6)


def test_near_end_crosstalk_lowers_com():
    thru, fext = _lane(0.3)
    nxt = pl.Channel.from_network(pu.synthetic_network(0.2, n_points=600, coupling=0.05), RS, check=False)
    quiet = C.com(thru, _small(), fext=[fext])
    noisy = C.com(thru, _small(), fext=[fext], next=[nxt])
    assert noisy.com_db < quiet.com_db and noisy.noise_v["crosstalk"] > quiet.noise_v["crosstalk"]


def test_mmse_taps_minimise_the_error_with_the_cursor_held():
    """The MMSE solution is the constrained minimum: no tap change that keeps the cursor lowers the error."""
    rng = np.random.default_rng(12)
    h = np.array([0.0, 0.05, 0.2, 1.0, 0.45, 0.2, 0.1, 0.05, 0.02, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    p = dataclasses.replace(C.ComParams.ieee_802_3ck(RS), rx_ffe_min=(-10.0,) * 12, rx_ffe_max=(10.0,) * 12)
    n, pre, dh, var_x = p.rx_ffe_taps, p.rx_ffe_pre, 3, 5 / 9
    cov = 1e-3 * toeplitz(0.5 ** np.arange(n))
    w = C._mmse(h, dh, p, var_x, cov)
    conv = C._conv_matrix(h, n)
    keep = np.ones(h.size, dtype=bool)
    keep[dh + pre:dh + pre + 2] = False

    def err(x):
        return var_x * np.sum((conv[keep] @ x) ** 2) + x @ cov @ x

    c = conv[dh + pre]
    assert w[pre] == 1.0
    w_unit = w * h[dh] / (c @ w)                       # scaled back to unit cursor gain
    for _ in range(200):
        d = rng.normal(size=n) * 1e-2
        d -= c * (c @ d) / (c @ c)                     # keep (H w)[cursor]
        assert err(w_unit + d) >= err(w_unit) - 1e-15
    # zero forcing leaves more error (it ignores the noise)
    zf = C._przf(h, dh, p)
    assert err(zf * h[dh] / (c @ zf)) > err(w_unit)


def test_mmse_mode_is_selectable_and_not_worse_than_zero_forcing():
    thru, fext = _lane(0.3)
    zf = C.com(thru, _small(eta0_v2_per_ghz=8e-8), fext=[fext])
    mm = C.com(thru, _small(eta0_v2_per_ghz=8e-8, rx_ffe_mode="mmse"), fext=[fext])
    assert mm.fom_db >= zf.fom_db - 0.05
    assert mm.rx_ffe != zf.rx_ffe
    with pytest.raises(ValueError, match="rx_ffe_mode"):
        _small(rx_ffe_mode="lms")


def test_crosstalk_budget_adds_over_several_aggressors():
    """Two FEXT and one NEXT aggressor: with the equaliser fixed (one CTLE and transmitter setting,
    zero forcing on the thru) the crosstalk power is the sum of each aggressor's, and it reaches the
    eye and COM."""
    thru, fext = _lane(0.3)
    fext2 = pl.Channel.from_network(pu.synthetic_network(0.25, n_points=600, coupling=0.08), RS, check=False)
    nxt = pl.Channel.from_network(pu.synthetic_network(0.2, n_points=600, coupling=0.05), RS, check=False)
    p = _small()
    p = dataclasses.replace(p, ctle=dataclasses.replace(p.ctle, g_dc_db=(-4.0,), g_dc2_db=(0.0,)),
                            tx_ffe=C.TxFfe((-0.1, 0.0), (-0.1, 0.0), (0.0, 0.0), n_post=1))
    alone = C.com(thru, p)
    parts = [C.com(thru, p, fext=[fext]), C.com(thru, p, fext=[fext2]), C.com(thru, p, next=[nxt])]
    both = C.com(thru, p, fext=[fext, fext2], next=[nxt])
    assert alone.noise_v["crosstalk"] == 0.0
    assert all(r.rx_ffe == both.rx_ffe for r in parts)
    assert both.noise_v["crosstalk"] ** 2 == pytest.approx(sum(r.noise_v["crosstalk"] ** 2 for r in parts),
                                                          rel=1e-9)
    for k in ("isi", "thermal", "jitter"):
        assert both.noise_v[k] == pytest.approx(alone.noise_v[k], rel=1e-9)
    assert both.com_db < min(r.com_db for r in parts) < alone.com_db
    assert both.ber() > max(r.ber() for r in parts)


def _floating(p, **changes):
    return dataclasses.replace(p, rx_ffe_mode="mmse", mmse_candidates=2, rx_ffe_taps=24, rx_ffe_min=(),
                               rx_ffe_max=(), rx_ffe_fixed=8, float_groups=2, float_taps=3, **changes)


@pytest.mark.slow
def test_floating_taps_agree_with_pychopmarg(tmp_path):
    """802.3dj floating receiver FFE taps (8 fixed + 2 groups of 3 over 24 positions), MMSE."""
    pcm = pytest.importorskip("pychopmarg.com")
    common = pytest.importorskip("pychopmarg.common")
    p = _floating(_smaller())
    pu.synthetic_network(0.3, n_points=600).write_touchstone(str(tmp_path / "thru"))
    pu.synthetic_network(0.3, n_points=600, coupling=0.1).write_touchstone(str(tmp_path / "fext"))
    thru = pl.Channel.from_touchstone(tmp_path / "thru.s4p", RS)
    fext = pl.Channel.from_touchstone(tmp_path / "fext.s4p", RS, check=False)
    ours = C.com(thru, p, fext=[fext])
    cp = dataclasses.replace(_pychopmarg_params(p, 0.02), Nfix=8, Nwg=2, Nwf=3)
    peer = pcm.COM(cp, {"THRU": [tmp_path / "thru.s4p"], "FEXT": [tmp_path / "fext.s4p"], "NEXT": []})
    peer.n_procs = 1
    theirs = peer(opt_mode=common.OptMode.MMSE, norm_mode=common.NormMode.P8023dj, unit_amp=True)
    assert abs(ours.com_db - theirs) < 0.5, (ours.com_db, theirs)


def test_floating_taps_use_fixed_plus_groups_and_help():
    thru, fext = _lane(0.3)
    p = _floating(_small())
    r = C.com(thru, p, fext=[fext])
    used = [i for i, x in enumerate(r.rx_ffe) if x != 0]
    assert set(range(8)) <= set(used) and len(used) <= 8 + 2 * 3
    fixed = C.com(thru, dataclasses.replace(_small(), rx_ffe_mode="mmse", mmse_candidates=2, rx_ffe_taps=8,
                                            rx_ffe_min=(), rx_ffe_max=()), fext=[fext])
    assert r.fom_db >= fixed.fom_db
    with pytest.raises(ValueError, match="rx_ffe_mode"):
        dataclasses.replace(_floating(_small()), rx_ffe_mode="przf")
    with pytest.raises(ValueError, match="rx_ffe_fixed"):
        dataclasses.replace(_floating(_small()), rx_ffe_fixed=2)
