"""2-D statistical eye and bathtub of an oversampled channel (photolink.symbols.eye)."""
import numpy as np
import pytest
from scipy import stats

import photolink as pl
from photolink import plot
from photolink.symbols import eye as E

pu = pytest.importorskip("photolink.symbols.pulse")
pytest.importorskip("skrf")
RS = 53.125


@pytest.fixture(scope="module")
def lane():
    ch = pl.Channel.from_network(pu.synthetic_network(0.3, n_points=600), RS)
    return ch, pl.Equalizer.mmse(ch, 12, 1, 20)


def _ideal(spu=16, width_ui=0.6):
    """A pulse with no ISI at the cursor phase: a raised cosine 0.6 UI wide."""
    t = (np.arange(40 * spu) - 20 * spu) / spu
    p = np.where(np.abs(t) < width_ui, 0.5 * (1 + np.cos(np.pi * t / width_ui)), 0.0)
    return pl.Channel.from_pulse(p, spu, symbol_rate_gbd=RS)


def test_eye_centre_ber_agrees_with_monte_carlo(lane):
    ch, eq = lane
    snr = 19.2
    e = E.statistical_eye(ch, pl.PAM4, snr, equalizer=eq, span="taps")
    ber = e.ber()
    assert 3e-5 < ber < 3e-4
    r = pl.simulate_ber(pl.PAM4, snr, 4 * 10**6, seed=7, channel=ch, equalizer=eq, ideal_feedback=True)
    assert r.ci[0] <= ber <= r.ci[1], (ber, r.ci)
    # and the 1-D statistical eye of photolink.estimate_ber, to grid precision
    ref = pl.estimate_ber(pl.PAM4, snr, channel=ch, equalizer=eq, method="statistical-eye").ber
    assert ber == pytest.approx(ref, rel=2e-3)


def test_eye_height_closed_form_without_isi():
    ch = _ideal()
    snr = 26.0
    e = E.statistical_eye(ch, pl.PAM4, snr)
    sigma = pl.PAM4.noise_sigma(snr)              # cursor 1, no FFE
    for target in (1e-3, 1e-9):
        want = 2 - 2 * sigma * stats.norm.isf(target)
        assert e.eye_height(target) == pytest.approx(want, rel=2e-3)
    assert e.ber() == pytest.approx(pl.PAM4.ber_awgn(snr), rel=1e-6)
    assert e.vertical_eye_closure_db(1e-9) == pytest.approx(20 * np.log10(2 / e.eye_height(1e-9)))
    assert e.to_dict(1e-9)["eye_height"] == e.eye_height(1e-9)


def test_bathtub_and_width(lane):
    ch, eq = lane
    e = E.statistical_eye(ch, pl.PAM4, 30.0, equalizer=eq, rj_ui=0.01, dd_ui=0.02, phases=16)
    ph, ber = e.bathtub()
    c = int(np.argmin(np.abs(ph)))
    assert ber[c] < ber[0] and ber[c] < ber[-1]    # a tub
    w6, w12 = e.eye_width(1e-6), e.eye_width(1e-10)
    assert 0 < w12 < w6 < 1
    # jitter closes the eye: wider without it
    e0 = E.statistical_eye(ch, pl.PAM4, 30.0, equalizer=eq, phases=16)
    assert e0.eye_width(1e-10) > w12 and e0.eye_height(1e-10) > e.eye_height(1e-10)


def test_crosstalk_closes_the_eye(lane):
    ch, eq = lane
    agg = pl.Channel.from_network(pu.synthetic_network(0.3, n_points=600, coupling=0.3), RS, check=False)
    quiet = E.statistical_eye(ch, pl.PAM4, 24.0, equalizer=eq, phases=4)
    noisy = E.statistical_eye(ch, pl.PAM4, 24.0, equalizer=eq, crosstalk=[agg], phases=4)
    assert noisy.ber() > quiet.ber()
    assert noisy.eye_height(1e-9) < quiet.eye_height(1e-9)


def test_ber_map_is_the_error_probability(lane):
    ch, eq = lane
    e = E.statistical_eye(ch, pl.PAM4, 22.0, equalizer=eq, phases=8)
    volts, m = e.ber_map()
    assert m.shape == (8, volts.size)
    c = int(np.argmin(np.abs(e.phases_ui)))
    # deep in the middle of an eye the error probability is far below that at a level
    mid = np.argmin(np.abs(volts - 2.0))
    lvl = np.argmin(np.abs(volts - 3.0))
    assert m[c, mid] < 1e-3 * m[c, lvl]


def test_plots_accept_axes(lane, tmp_path):
    from matplotlib.figure import Figure
    ch, eq = lane
    e = E.statistical_eye(ch, pl.PAM4, 22.0, equalizer=eq, phases=8)
    fig = Figure()
    axes = fig.subplots(1, 3)
    assert plot.statistical_eye(e, ax=axes[0]) is fig
    assert plot.eye_bathtub(e, ax=axes[1]) is fig
    assert plot.pulse_response(ch, ax=axes[2]) is fig
    plot.statistical_eye(e, path=tmp_path / "eye.png")
    assert (tmp_path / "eye.png").stat().st_size > 1000
    with pytest.raises(TypeError, match="StatisticalEye"):
        plot.statistical_eye(3)


def test_bad_input(lane):
    ch, eq = lane
    with pytest.raises(TypeError, match="oversampled"):
        E.statistical_eye(pl.Channel((1.0, 0.2)), pl.PAM4, 20.0)
    with pytest.raises(ValueError, match="span"):
        E.statistical_eye(ch, pl.PAM4, 20.0, span="some")
    with pytest.raises(ValueError, match="rj_ui"):
        E.statistical_eye(ch, pl.PAM4, 20.0, rj_ui=-1)
    e = E.statistical_eye(ch, pl.PAM4, 20.0, equalizer=eq, phases=4)
    with pytest.raises(ValueError, match="target_ber"):
        e.eye_height(0.9)


def test_two_aggressors_convolve_exactly_into_the_eye():
    """Two aggressors with no ISI of their own: BER = mean over their signs of Q((1 + s1 a1 + s2 a2) / sigma)."""
    victim = _ideal()
    a1, a2 = 0.2, 0.15
    aggressors = [pl.Channel.from_pulse(a * np.asarray(victim.samples), 16, symbol_rate_gbd=RS)
                  for a in (a1, a2)]
    snr = 16.0
    sigma = pl.PAM2.noise_sigma(snr)
    eye = E.statistical_eye(victim, pl.PAM2, snr, crosstalk=aggressors)
    expect = np.mean([stats.norm.sf((1 + s1 * a1 + s2 * a2) / sigma) for s1 in (-1, 1) for s2 in (-1, 1)])
    assert eye.ber() == pytest.approx(expect, rel=1e-3)
    one = E.statistical_eye(victim, pl.PAM2, snr, crosstalk=aggressors[:1])
    assert one.ber() < eye.ber()
    assert eye.eye_height(1e-6) < one.eye_height(1e-6) < E.statistical_eye(victim, pl.PAM2, snr).eye_height(1e-6)
