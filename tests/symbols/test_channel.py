"""Channels, equaliser design and the decision-point reduction."""
import numpy as np
import pytest

import photolink as pl
from photolink.symbols.channel import decision_point

CH = pl.Channel.from_cursors(pre=(0.15,), main=1.0, post=(0.45, 0.2, 0.05))


def test_channel_cursor_and_isi():
    assert CH.cursor == 1 and CH.main == 1.0
    assert pl.Channel((0.2, 1.0, 0.3)).cursor == 1
    assert CH.isi_to_cursor_db() == pytest.approx(10 * np.log10(0.15**2 + 0.45**2 + 0.2**2 + 0.05**2))


def test_zero_forcing_ffe_flattens_the_channel():
    eq = pl.Equalizer.zero_forcing(CH, n_ffe=9, n_dfe=0)
    q = eq.combined(CH)
    d = eq.delay(CH)
    assert q[d] == pytest.approx(1.0, abs=2e-3)
    assert np.max(np.abs(np.delete(q, d))) < 2e-2


def test_dfe_takes_the_post_cursors():
    eq = pl.Equalizer.zero_forcing(CH, n_ffe=3, n_dfe=3)
    dp = decision_point(CH, eq)
    q = eq.combined(CH)
    d = eq.delay(CH)
    np.testing.assert_allclose(eq.dfe, q[d + 1:d + 4])
    assert np.sum(dp.residual_isi**2) < 1e-3 * dp.cursor**2


def test_mmse_tends_to_zero_forcing_at_high_snr_and_beats_it_at_low_snr():
    zf = pl.Equalizer.zero_forcing(CH, 7, 2)
    hi = pl.Equalizer.mmse(CH, 7, 2, snr_db=70)
    np.testing.assert_allclose(hi.ffe, zf.ffe, atol=1e-3)
    low_snr = 14.0
    mm = pl.Equalizer.mmse(CH, 7, 2, snr_db=low_snr)
    ber = lambda eq: pl.estimate_ber(pl.PAM4, low_snr, channel=CH, equalizer=eq,  # noqa: E731
                                     method="statistical-eye").ber
    assert ber(mm) < ber(zf)


def test_bad_channels_and_equalizers():
    with pytest.raises(ValueError, match="taps"):
        pl.Channel(())
    with pytest.raises(ValueError, match="taps"):
        pl.Channel((1.0, np.nan))
    with pytest.raises(ValueError, match="1 to 64"):
        pl.Channel(tuple(np.ones(65)))
    with pytest.raises(ValueError, match="main cursor"):
        pl.Channel((0.1, -1.0), cursor=1)
    with pytest.raises(ValueError, match="cursor"):
        pl.Channel((1.0, 0.2), cursor=5)
    with pytest.raises(TypeError, match="taps"):
        pl.Channel("abc")
    with pytest.raises(ValueError, match="dfe"):
        pl.Equalizer(dfe=(0.1, np.inf))
    with pytest.raises(ValueError, match="ffe_cursor"):
        pl.Equalizer(ffe=(1.0, 0.1), ffe_cursor=2)
    with pytest.raises(ValueError, match="n_ffe"):
        pl.Equalizer.zero_forcing(CH, 0)
    with pytest.raises(ValueError, match="n_dfe"):
        pl.Equalizer.zero_forcing(CH, 3, -1)
