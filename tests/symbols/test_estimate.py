"""Rare-event BER estimators against closed forms and each other."""
import numpy as np
import pytest

import photolink as pl


@pytest.mark.parametrize("fmt,target", [(pl.PAM4, 1e-12), (pl.PAM2, 1e-12), (pl.PAM8, 1e-9)])
def test_importance_sampling_within_its_interval_of_the_closed_form(fmt, target):
    snr = fmt.snr_db_for_ber(target)
    est = pl.estimate_ber(fmt, snr, seed=11, rel_ci=0.05)
    lo, hi = est.ci
    assert lo <= fmt.ber_awgn(snr) <= hi
    assert (hi - lo) / 2 <= 0.05 * est.ber * 1.0001
    assert est.samples > 0 and est.method == "importance"


def test_statistical_eye_is_the_closed_form_on_awgn():
    for snr in np.linspace(12, 25, 8):
        est = pl.estimate_ber(pl.PAM4, snr, method="statistical-eye")
        assert est.ber == pytest.approx(pl.PAM4.ber_awgn(snr), rel=1e-10)


CH = pl.Channel.from_cursors(pre=(0.12,), main=1.0, post=(0.5, 0.2, -0.08))


MILD = pl.Channel.from_cursors(pre=(0.05,), main=1.0, post=(0.15, 0.05))


@pytest.mark.parametrize("channel,n_ffe,n_dfe,snr", [(MILD, 0, 0, 27.0), (CH, 5, 2, 22.0), (CH, 3, 3, 22.0)])
def test_importance_sampling_and_statistical_eye_agree_with_isi(channel, n_ffe, n_dfe, snr):
    eq = pl.Equalizer.mmse(channel, n_ffe, n_dfe, snr_db=snr) if n_ffe else None
    eye = pl.estimate_ber(pl.PAM4, snr, channel=channel, equalizer=eq, method="statistical-eye").ber
    imp = pl.estimate_ber(pl.PAM4, snr, channel=channel, equalizer=eq, seed=5, rel_ci=0.05)
    assert 1e-14 < eye < 1e-3
    assert imp.ci[0] <= eye <= imp.ci[1]


def test_importance_sampling_survives_a_closed_eye():
    eye = pl.estimate_ber(pl.PAM4, 30.0, channel=CH, method="statistical-eye").ber
    imp = pl.estimate_ber(pl.PAM4, 30.0, channel=CH, seed=5, rel_ci=0.05)
    assert eye > 0.1
    assert imp.ci[0] <= eye <= imp.ci[1]


def test_statistical_eye_matches_ideal_feedback_monte_carlo():
    eq = pl.Equalizer.zero_forcing(CH, 3, 2)
    snr = 17.0
    eye = pl.estimate_ber(pl.PAM4, snr, channel=CH, equalizer=eq, method="statistical-eye").ber
    mc = pl.simulate_ber(pl.PAM4, snr, 2_000_000, seed=8, channel=CH, equalizer=eq, ideal_feedback=True)
    assert mc.ci[0] <= eye <= mc.ci[1]


def test_montecarlo_method_reaches_its_precision():
    est = pl.estimate_ber(pl.PAM4, 15.0, seed=2, method="montecarlo", rel_ci=0.1)
    assert est.method == "montecarlo"
    assert (est.ci[1] - est.ci[0]) / 2 <= 0.1 * est.ber
    assert est.ci[0] <= pl.PAM4.ber_awgn(15.0) <= est.ci[1]


def test_importance_sampling_is_reproducible():
    a = pl.estimate_ber(pl.PAM4, 20.0, seed=3)
    b = pl.estimate_ber(pl.PAM4, 20.0, seed=3)
    assert a == b


def test_bad_estimator_input():
    with pytest.raises(ValueError, match="method"):
        pl.estimate_ber(pl.PAM4, 20.0, method="magic")
    with pytest.raises(ValueError, match="rel_ci"):
        pl.estimate_ber(pl.PAM4, 20.0, rel_ci=0.0)
    with pytest.raises(ValueError, match="snr_db"):
        pl.estimate_ber(pl.PAM4, np.nan)
    with pytest.raises(TypeError, match="channel"):
        pl.estimate_ber(pl.PAM4, 20.0, channel=[1.0, 0.3])
