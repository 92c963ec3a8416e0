"""Measured channels: Touchstone / scikit-rf networks -> oversampled pulse -> symbol-spaced taps."""
import pathlib
import warnings

import numpy as np
import pytest

import photolink as pl
from photolink.links import serdes as sd
from photolink.symbols import pulse as pu

rf = pytest.importorskip("skrf")
DATA = pathlib.Path(__file__).resolve().parent.parent / "data"
RS = 53.125
LOSSES = [(sd.Loss("cable", 0.7286, 0.0657), 1.5), (sd.Loss("host", 0.2, 0.235), 1.0)]


def _loss_network(losses, ports4=True, delay_ns=1.0, gain=1.0, n_points=2000):
    """The Loss model's minimum-phase response (as serdes.pulse_response builds it) as a network."""
    n, fs = 1 << 16, 2000e9
    fg = np.fft.rfftfreq(n, 1 / fs)
    il = sum(p.db(fg / 1e9, s) for p, s in losses)
    hmin = sd._minimum_phase(10 ** (-il / 20), n)
    f = np.linspace(50e6, 100e9, n_points)
    h = gain * (np.interp(f, fg, hmin.real) + 1j * np.interp(f, fg, hmin.imag))
    h = h * np.exp(-2j * np.pi * f * delay_ns * 1e-9)
    freq = rf.Frequency.from_f(f, unit="Hz")
    if not ports4:
        s = np.zeros((f.size, 2, 2), complex)
        s[:, 1, 0] = s[:, 0, 1] = h
        return rf.Network(frequency=freq, s=s, z0=50)
    s = np.zeros((f.size, 4, 4), complex)
    s[:, 1, 0] = s[:, 0, 1] = s[:, 3, 2] = s[:, 2, 3] = h     # legs 1 -> 2 and 3 -> 4
    return rf.Network(frequency=freq, s=s, z0=50)


@pytest.mark.parametrize("ports4", [True, False])
def test_loss_model_through_touchstone_gives_the_same_slicer_snr(tmp_path, ports4):
    ref = sd.electrical_lane(pl.PAM4, sd.SerDes("t"), LOSSES, RS)
    ntw = _loss_network(LOSSES, ports4)
    ntw.write_touchstone(str(tmp_path / "loss"))
    path = tmp_path / ("loss.s4p" if ports4 else "loss.s2p")
    ch = pl.Channel.from_touchstone(path, RS)
    got = sd.electrical_lane_on(pl.PAM4, sd.SerDes("t"), ch)
    assert abs(got.snr_db - ref.snr_db) < 0.1
    assert abs(got.loss_at_nyquist_db - ref.loss_at_nyquist_db) < 0.05
    assert abs(got.noise_db["rx_thermal"] - ref.noise_db["rx_thermal"]) < 0.1


def test_dc_extrapolation_keeps_the_dc_gain():
    # a one-UI pulse sampled once per UI sums to the DC gain (the rectangle's spectrum vanishes at
    # every other multiple of the symbol rate): a flat 0.8 with a delay, measured from 50 MHz
    flat = _loss_network([(sd.Loss("x"), 1.0)], gain=0.8)
    ch = pl.Channel.from_network(flat, RS)
    assert ch.symbol_spaced().sum() == pytest.approx(0.8, abs=1e-6)
    assert ch.oversampled and ch.samples_per_ui == 32 and ch.symbol_rate_gbd == RS
    # skin effect: the DC point lies on the trend of the lowest points, between them and 1
    h0 = abs(_loss_network(LOSSES).s[0, 1, 0])
    dc = pl.Channel.from_network(_loss_network(LOSSES), RS).symbol_spaced().sum()
    assert h0 < dc < 1.0


def test_taps_are_the_oversampled_pulse_at_the_cursor_phase():
    ch = pl.Channel.from_network(_loss_network(LOSSES), RS, precursors=3, n_taps=20)
    spu = ch.samples_per_ui
    assert len(ch.taps) == 20 and ch.cursor == 3
    assert ch.main == ch.samples[ch.cursor_sample] == ch.samples.max()
    np.testing.assert_array_equal(ch.taps, ch.samples[ch.cursor_sample - 3 * spu::spu][:20])
    late = ch.at_phase(4)
    assert late.cursor_sample == ch.cursor_sample + 4 and late.main < ch.main
    # equality is the symbol-spaced channel's
    assert pl.Channel(ch.taps, ch.cursor) == ch


def test_mueller_muller_cursor_balances_first_pre_and_post_cursor():
    x = np.linspace(-8, 8, 16 * 64 + 1)
    samples = np.exp(-x**2 / 2) * (1 + 0.3 * np.tanh(x))        # skewed pulse, 64 samples per UI
    ch = pl.Channel.from_pulse(samples, 64, cursor="mueller-muller")
    i = ch.cursor_sample
    assert abs(samples[i - 64] - samples[i + 64]) < abs(np.gradient(samples)).max()
    assert ch.cursor_sample != int(np.argmax(samples))


def test_port_order_convention():
    ntw = _loss_network(LOSSES)
    swapped = ntw.copy()
    swapped.renumber([0, 1, 2, 3], [0, 2, 1, 3])                # legs now 1 -> 3 and 2 -> 4
    a = pl.Channel.from_network(ntw, RS)
    b = pl.Channel.from_network(swapped, RS, ports=(1, 2, 3, 4))
    np.testing.assert_allclose(a.samples, b.samples, atol=1e-12)
    with pytest.raises(ValueError, match="ports"):
        pl.Channel.from_network(ntw, RS, ports=(1, 1, 2, 3))
    with pytest.raises(ValueError, match="ports"):
        pl.Channel.from_network(ntw, RS, ports=(1, 2, 3, 5))
    with pytest.raises(TypeError, match="network"):
        pl.Channel.from_network(np.zeros(3), RS)


def test_active_network_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pl.Channel.from_network(_loss_network([(sd.Loss("x", 0.0, 0.0), 1.0)], gain=1.05), RS)
    msgs = [str(w.message) for w in caught if issubclass(w.category, pu.ChannelWarning)]
    assert any("|Sdd21| = 1.0500" in m for m in msgs)
    assert any("singular value of S = 1.0500" in m for m in msgs)


def test_passive_and_causal_networks_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pl.Channel.from_network(_loss_network(LOSSES), RS)
        pl.Channel.from_touchstone(DATA / "via_stub_thru.s4p", RS)


def test_non_causal_network_warns():
    # a pure advance is not causal in a band-limited record: energy arrives before the peak
    ntw = _loss_network(LOSSES, delay_ns=0.0)
    s = ntw.s.copy()
    f = ntw.f[:, None, None]
    s = s + 0.3 * s * np.exp(2j * np.pi * f * 0.3e-9)         # an echo 0.3 ns *before* the signal
    with pytest.warns(pu.ChannelWarning, match="causal"):
        pl.Channel.from_network(rf.Network(frequency=ntw.frequency, s=s / 1.3, z0=50), RS)


def test_shipped_channel_and_aggressor():
    thru = pl.Channel.from_touchstone(DATA / "via_stub_thru.s4p", RS)
    agg = pl.Channel.from_touchstone(DATA / "via_stub_fext.s4p", RS, check=False)
    assert 0.05 < thru.main < 0.5
    assert np.abs(agg.samples).max() < 0.1 * thru.main
    # the stub's reflections make post-cursor ripple the loss formula cannot
    assert thru.isi_to_cursor_db() > -10


def test_any_symbol_rate_and_oversampling():
    ntw = _loss_network(LOSSES)
    for rs, spu in ((26.5625, 16), (106.25, 64)):
        ch = pl.Channel.from_network(ntw, rs, samples_per_ui=spu, span_ui=128)
        assert ch.samples.size == 128 * spu and ch.samples_per_ui == spu
    slow = pl.Channel.from_network(ntw, 26.5625)
    fast = pl.Channel.from_network(ntw, 106.25)
    assert slow.main > fast.main          # more loss at the faster rate's Nyquist


def test_from_pulse_validation():
    with pytest.raises(ValueError, match="samples"):
        pl.Channel.from_pulse([1.0, 0.5], 4)
    with pytest.raises(ValueError, match="cursor"):
        pl.Channel.from_pulse(np.ones(64), 8, cursor="middle")
    with pytest.raises(ValueError, match="at the chosen cursor"):
        pl.Channel.from_pulse(-np.hanning(64), 8, cursor=32)
    with pytest.raises(ValueError, match="oversampled"):
        pl.Channel((1.0, 0.2)).at_phase(1)


def test_packages_cascade_onto_the_channel():
    ntw = _loss_network(LOSSES)
    bare = pl.Channel.from_network(ntw, RS)
    nothing = pu.package_network(ntw.frequency, c_die_ff=0, length_mm=0, c_pad_ff=0)
    same = pl.Channel.from_network(ntw, RS, tx_package=nothing, rx_package=nothing)
    np.testing.assert_allclose(same.samples, bare.samples, atol=1e-9)
    pkg = pu.package_network(ntw.frequency)
    packed = pl.Channel.from_network(ntw, RS, tx_package=pkg, rx_package=pkg)
    assert packed.main < bare.main                    # capacitances and the trace cost signal
    # the mixed-mode 2-port of an uncoupled pair is the leg's own 2-port
    dn = pu.differential_network(ntw)
    np.testing.assert_allclose(dn.s[:, 1, 0], ntw.s[:, 1, 0])
    with pytest.raises(TypeError, match="tx_package"):
        pl.Channel.from_network(ntw, RS, tx_package=ntw)
