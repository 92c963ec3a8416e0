"""Estimators at extreme scales (issue 16, item 7): FFE taps far from 1 and BERs far below 1e-154."""
import pytest

import photolink as pl


@pytest.mark.parametrize("scale", [1e-170, 1e-100, 1e100])
def test_tap_scale_does_not_matter(scale):
    """Equalizer(ffe=(1e-170,)) is accepted ("only ratios matter") and used to give NaN
    (importance) and 0 (statistical eye) where the truth is ~2.9e-6."""
    snr = float(pl.PAM4.snr_db_for_ber(2.9e-6))
    truth = pl.PAM4.ber_awgn(snr)
    eq = pl.Equalizer(ffe=(scale,))
    imp = pl.estimate_ber(pl.PAM4, snr, equalizer=eq, seed=1)
    assert imp.ci[0] <= truth <= imp.ci[1]
    eye = pl.estimate_ber(pl.PAM4, snr, equalizer=eq, method="statistical-eye")
    assert eye.ber == pytest.approx(truth, rel=1e-9)
    ch = pl.Channel.from_cursors(pre=(0.1,), main=1.0, post=(0.4,))
    unit = pl.Equalizer(ffe=(-0.1, 1.0, -0.2), ffe_cursor=1, dfe=(0.3,))
    scaled = pl.Equalizer(ffe=tuple(scale * t for t in unit.ffe), ffe_cursor=1,
                          dfe=tuple(scale * t for t in unit.dfe))
    for method in ("statistical-eye", "importance"):
        a = pl.estimate_ber(pl.PAM4, 20.0, channel=ch, equalizer=unit, method=method, seed=3)
        b = pl.estimate_ber(pl.PAM4, 20.0, channel=ch, equalizer=scaled, method=method, seed=3)
        assert b.ber == pytest.approx(a.ber, rel=1e-9)


@pytest.mark.parametrize("snr_db", [36.0, 38.0])
def test_importance_interval_below_1e154_covers_the_truth(snr_db):
    """The weights' squares used to underflow below BER ~1e-154: a zero-width interval that
    excluded the closed form (1.35e-175 at 36 dB)."""
    truth = pl.PAM4.ber_awgn(snr_db)
    assert 0 < truth < 1e-170
    est = pl.estimate_ber(pl.PAM4, snr_db, seed=1)
    assert est.ci[0] < est.ber < est.ci[1]
    assert est.ci[0] <= truth <= est.ci[1]
    assert pl.estimate_ber(pl.PAM4, snr_db, method="statistical-eye").ber == pytest.approx(truth, rel=1e-9)
