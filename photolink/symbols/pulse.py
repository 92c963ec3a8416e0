"""Measured channels: S-parameters -> differential transfer function -> oversampled pulse response.

The way in for a signal-integrity engineer's channel (a Touchstone file from a VNA or a field
solver, read by scikit-rf; photolink writes no Touchstone parser):

1. :func:`differential_transfer`: the differential thru ``Sdd21(f)`` of a single-ended 4-port
   (mixed-mode conversion, ``Sdd21 = (S_pp - S_pn - S_np + S_nn) / 2`` with ``S_xy`` from the
   transmitter's leg ``y`` to the receiver's leg ``x``), or ``S21`` of a 2-port taken as already
   differential. **Port order**: ``ports=(tx_p, tx_n, rx_p, rx_n)``, 1-based, default
   ``(1, 3, 2, 4)``: port 1 -> port 2 is the P leg and port 3 -> port 4 the N leg (the "odd-even"
   ordering of IEEE 802.3 channel contributions and PyChOpMarg's ``sdd_21``). Give ``(1, 2, 3, 4)``
   for files numbered with both inputs first.
2. :func:`check_network`: passivity (a passive network has no singular value of S above 1 and
   ``|Sdd21| <= 1``: a warning names the worst frequency otherwise) and causality (the impulse
   response carries energy at negative time, or the phase rises with frequency: a warning).
3. :func:`pulse_from_transfer`: DC extrapolation (magnitude along the trend of the lowest points,
   phase to 0), interpolation onto an FFT grid of ``samples_per_ui`` samples per UI spanning
   ``span_ui`` UI (magnitude and unwrapped phase, linearly; zero above the last measured
   frequency), the band-limited impulse response, and the response to a one-UI rectangular
   transmit pulse, rolled so that its peak lies ``lead_ui`` UI from the start.

scikit-rf is needed for networks and Touchstone files only (``pip install scikit-rf``, or in a
clone of photolink ``pip install -e ".[channels]"``);
a pulse of one's own needs nothing (:meth:`photolink.Channel.from_pulse`).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .._util import validate as v

#: Default port order (tx_p, tx_n, rx_p, rx_n), 1-based: 1 -> 2 and 3 -> 4 are the legs.
DEFAULT_PORTS = (1, 3, 2, 4)
#: Samples per UI of the oversampled pulse response.
SAMPLES_PER_UI = 32
#: UIs spanned by the FFT grid (the pulse must decay within it).
SPAN_UI = 256
#: Where the pulse peak is placed, in UI from the start of the record.
LEAD_UI = 16
#: Largest singular value of S above which a network is reported as active.
PASSIVITY_TOL = 1e-6
#: Share of the impulse-response energy at negative time above which a network is reported as non-causal.
CAUSALITY_TOL = 1e-2


class ChannelWarning(UserWarning):
    """A measured channel looks unphysical (active or non-causal)."""


def _skrf():
    try:
        import skrf
    except ImportError as err:     # pragma: no cover - depends on the environment
        raise ImportError("Touchstone files and networks need scikit-rf: "
                          "pip install scikit-rf (or, in a clone of photolink, "
                          "pip install -e \".[channels]\")") from err
    return skrf


def load_touchstone(path):
    """Read a Touchstone file (.sNp) with scikit-rf; returns a ``skrf.Network``."""
    return _skrf().Network(str(path))


def _ports(ports, nports: int) -> tuple:
    if nports == 2 and ports is None:
        return (1, 2)
    ports = DEFAULT_PORTS if ports is None else ports
    if isinstance(ports, (str, bytes)) or len(ports) not in (2, 4):
        raise ValueError(f"ports must be (tx, rx) for a 2-port or (tx_p, tx_n, rx_p, rx_n), 1-based, got {ports!r}")
    out = tuple(v.integer("ports", p, lo=1, hi=nports) for p in ports)
    if len(set(out)) != len(out):
        raise ValueError(f"ports must be distinct, got {ports!r}")
    return out


def differential_transfer(network, ports=None):
    """Frequencies (Hz) and the differential transfer function of ``network``.

    Parameters
    ----------
    network : skrf.Network
        A 2-port (taken as already differential: ``S21``) or a single-ended network of 4 or more
        ports (mixed-mode ``Sdd21`` of the four ``ports``).
    ports : sequence of int, optional
        ``(tx, rx)`` of a 2-port or ``(tx_p, tx_n, rx_p, rx_n)``, 1-based; default ``(1, 3, 2, 4)``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Frequencies in Hz, the complex transfer function, and the largest singular value of the
        single-ended S matrix at each frequency (passivity).
    """
    s = getattr(network, "s", None)
    f = getattr(network, "f", None)
    if s is None or f is None or np.ndim(s) != 3:
        raise TypeError(f"network must be a skrf.Network, got {type(network).__name__}")
    nports = s.shape[1]
    p = [i - 1 for i in _ports(ports, nports)]
    if len(p) == 2:
        h = s[:, p[1], p[0]]
    else:
        if nports < 4:
            raise ValueError(f"a mixed-mode thru needs 4 ports, the network has {nports}")
        tp, tn, rp, rn = p
        h = 0.5 * (s[:, rp, tp] - s[:, rp, tn] - s[:, rn, tp] + s[:, rn, tn])
    sv = np.linalg.norm(s, ord=2, axis=(1, 2))
    return np.asarray(f, dtype=np.float64), np.asarray(h, dtype=np.complex128), sv


def differential_network(network, ports=None):
    """The differential 2-port (Sdd11, Sdd12, Sdd21, Sdd22 at 100 ohm) of ``network``.

    A 2-port is returned as it is; a single-ended 4-port is converted with ``ports`` as in
    :func:`differential_transfer` (``Sdd_xy = (S_xp,yp - S_xp,yn - S_xn,yp + S_xn,yn) / 2``).
    """
    rf = _skrf()
    s = getattr(network, "s", None)
    if s is None or np.ndim(s) != 3:
        raise TypeError(f"network must be a skrf.Network, got {type(network).__name__}")
    nports = s.shape[1]
    p = [i - 1 for i in _ports(ports, nports)]
    if len(p) == 2:
        sub = s[:, [p[0], p[1]]][:, :, [p[0], p[1]]]
        return rf.Network(frequency=network.frequency, s=sub, z0=network.z0[:, p])
    tp, tn, rp, rn = p
    legs = ((tp, tn), (rp, rn))
    sdd = np.empty((s.shape[0], 2, 2), dtype=complex)
    for a, (ap, an) in enumerate(legs):
        for b, (bp, bn) in enumerate(legs):
            sdd[:, a, b] = 0.5 * (s[:, ap, bp] - s[:, ap, bn] - s[:, an, bp] + s[:, an, bn])
    z0 = 2 * np.real(network.z0[:, [tp, rp]])
    return rf.Network(frequency=network.frequency, s=sdd, z0=z0)


def with_packages(network, tx_package=None, rx_package=None, ports=None):
    """``tx_package ** channel ** rx_package`` as differential 2-ports at 100 ohm (or 2 R_0).

    The packages (differential 2-ports, port 1 towards the die of the transmitter for
    ``tx_package``, port 1 towards the channel for ``rx_package``; or
    :class:`photolink.symbols.package.DevicePackage`, the Annex 93A die-and-package model, built
    on the channel's frequencies and flipped at the receiver) are interpolated onto the
    channel's frequencies; everything is renormalised to 100 ohm before the cascade, or to the
    device packages' ``2 R_0`` (e.g. 92.5 ohm in 802.3dj, whose die terminations are R_d = R_0), so
    that the result's S21 is the transfer between matched die terminations.
    """
    refs = {2 * float(p.r0_ohm) for p in (tx_package, rx_package) if hasattr(p, "r0_ohm")}
    if len(refs) > 1:
        raise ValueError(f"tx_package and rx_package must share r0_ohm, got {sorted(r / 2 for r in refs)}")
    z_ref = refs.pop() if refs else 100.0
    chan = differential_network(network, ports)
    chan.renormalize(z_ref)
    out = chan
    for name, pkg in (("tx_package", tx_package), ("rx_package", rx_package)):
        if pkg is None:
            continue
        if callable(getattr(pkg, "network", None)):        # a DevicePackage (Annex 93A model)
            pkg = pkg.network(chan.frequency, rx=name == "rx_package")
        if getattr(pkg, "nports", None) != 2:
            raise TypeError(f"{name} must be a differential 2-port skrf.Network, got {pkg!r}")
        pkg = pkg.interpolate(chan.frequency, kind="linear", fill_value="extrapolate") \
            if not np.array_equal(pkg.f, chan.f) else pkg.copy()
        pkg.renormalize(z_ref)
        out = pkg ** out if name == "tx_package" else out ** pkg
    return out


def package_network(frequency, *, c_die_ff: float = 60.0, length_mm: float = 12.0,
                    z_ohm: float = 90.0, c_pad_ff: float = 45.0, loss_db_per_mm_ghz: float = 0.004):
    """A differential package model (2-port, 100 ohm): die capacitance, a package trace, ball pad.

    ``frequency`` is a ``skrf.Frequency`` (e.g. a channel's ``network.frequency``). The trace is
    ``length_mm`` of ``z_ohm`` line, effective permittivity 4, loss ``loss_db_per_mm_ghz * f`` dB/mm;
    port 1 is the die side. Capacitances are differential (half the single-ended value of each leg:
    the defaults are ~120 fF die and ~90 fF pad per leg, the order of the IEEE 802.3 COM tables).
    The IEEE 802.3 COM package model in shape (shunt C, line, shunt C), not its exact Annex 93A
    ladder; with everything 0 it is a thru.
    """
    rf = _skrf()
    for name, value in (("c_die_ff", c_die_ff), ("length_mm", length_mm), ("c_pad_ff", c_pad_ff),
                        ("loss_db_per_mm_ghz", loss_db_per_mm_ghz)):
        v.real(name, value, lo=0.0, hi=1e4)
    v.real("z_ohm", z_ohm, lo=1.0, hi=1000.0)
    f = frequency.f
    beta = 2 * np.pi * f * 2.0 / 299792458.0
    gamma = loss_db_per_mm_ghz * 1e3 / 8.686 * f / 1e9 + 1j * beta
    ref = rf.media.DefinedGammaZ0(frequency, gamma=gamma, z0=100.0)
    line = rf.media.DefinedGammaZ0(frequency, gamma=gamma, z0=z_ohm)
    net = ref.shunt_capacitor(c_die_ff * 1e-15) ** ref.thru()
    if length_mm > 0:
        net = net ** ref.impedance_mismatch(100.0, z_ohm) ** line.line(length_mm, "mm") \
            ** ref.impedance_mismatch(z_ohm, 100.0)
    return net ** ref.shunt_capacitor(c_pad_ff * 1e-15) ** ref.thru()


def check_network(f_hz, h, singular_values=None, *, name: str = "network") -> list[str]:
    """Warn (:class:`ChannelWarning`) when a channel is not passive or not causal; returns the messages.

    Passive: ``|h| <= 1`` and no singular value of S above ``1 + PASSIVITY_TOL``. Causal: the
    band-limited impulse response, its bulk delay removed, keeps less than ``CAUSALITY_TOL`` of
    its energy at negative time (the second half of the ``1 / df`` record).
    """
    msgs = []
    mag = np.abs(h)
    if mag.max() > 1 + PASSIVITY_TOL:
        k = int(np.argmax(mag))
        msgs.append(f"{name} is not passive: |Sdd21| = {mag[k]:.4f} > 1 at {f_hz[k] / 1e9:.3f} GHz")
    if singular_values is not None and singular_values.max() > 1 + PASSIVITY_TOL:
        k = int(np.argmax(singular_values))
        msgs.append(f"{name} is not passive: largest singular value of S = {singular_values[k]:.4f} > 1 "
                    f"at {f_hz[k] / 1e9:.3f} GHz")
    if f_hz.size >= 8:
        share = _negative_time_share(f_hz, h)
        if share > CAUSALITY_TOL:
            msgs.append(f"{name} may not be causal: {share:.2%} of the impulse-response energy "
                        f"comes before t = 0 (check the phase and the frequency step)")
    for m in msgs:
        warnings.warn(m, ChannelWarning, stacklevel=3)
    return msgs


def _negative_time_share(f_hz, h) -> float:
    """Share of the (Hann-tapered, band-limited) impulse response's energy at negative time.

    The bulk delay (median group delay where ``|h|`` is within 20 dB of its peak) is removed
    first; the record is then ``1 / df`` long and its second half stands for negative time, less
    a guard of 10 samples and 1 % of the record for the taper's spread and the line's dispersion.
    """
    df = float(np.median(np.diff(f_hz)))
    grid = np.arange(0, f_hz[-1] + df / 2, df)
    hg = _interp(f_hz, h, grid)
    mag = np.abs(hg)
    band = mag > 0.1 * mag.max()
    gd = -np.diff(np.unwrap(np.angle(hg))) / (2 * np.pi * df)
    tau = float(np.median(gd[band[1:]])) if np.any(band[1:]) else 0.0
    taper = np.cos(0.5 * np.pi * grid / grid[-1]) ** 2
    imp = np.fft.irfft(hg * np.exp(2j * np.pi * grid * tau) * taper, 2 * (grid.size - 1))
    n = imp.size
    neg = float(np.sum(imp[n // 2:n - 10 - n // 100] ** 2))
    return neg / max(float(np.sum(imp ** 2)), 1e-300)


def _with_dc(f_hz, h):
    """Prepend a DC point: magnitude along a line through the lowest points, phase 0."""
    if f_hz[0] <= 0:
        out = h.copy()
        out[0] = abs(h[0])
        return f_hz, out
    k = min(10, f_hz.size)
    mag = np.abs(h[:k])
    if k >= 2:
        _slope, icpt = np.polyfit(f_hz[:k], mag, 1)
        dc = float(np.clip(icpt, 0.0, max(1.0, mag[0])))
    else:
        dc = float(mag[0])
    return np.concatenate([[0.0], f_hz]), np.concatenate([[dc + 0j], h])


def _interp(f_hz, h, grid):
    """Magnitude and unwrapped phase, linearly; zero above the last frequency."""
    f0, h0 = _with_dc(np.asarray(f_hz, float), np.asarray(h, complex))
    mag = np.interp(grid, f0, np.abs(h0), right=0.0)
    phase = np.unwrap(np.angle(h0))
    phase -= phase[0]
    # beyond the data the magnitude is 0, so the phase there does not matter
    ph = np.interp(grid, f0, phase)
    return mag * np.exp(1j * ph)


def pulse_from_transfer(f_hz, h, symbol_rate_gbd: float, *, samples_per_ui: int = SAMPLES_PER_UI,
                        span_ui: int = SPAN_UI, lead_ui: int = LEAD_UI, extra=None) -> np.ndarray:
    """Oversampled response of a one-UI rectangular pulse through ``h``.

    Parameters
    ----------
    f_hz, h : array
        Frequencies (Hz, ascending) and complex transfer function (any grid; DC is extrapolated).
    symbol_rate_gbd : float
    samples_per_ui : int
        Samples per UI of the result (4 to 256).
    span_ui : int
        Length of the result in UI (16 to 8192); the pulse must decay within it.
    lead_ui : int
        UIs before the pulse peak (0 to span_ui/2).
    extra : callable, optional
        ``extra(f_ghz) -> complex array`` multiplied into the transfer function (a filter).

    Returns
    -------
    numpy.ndarray
        ``span_ui * samples_per_ui`` samples, volts per volt of launch amplitude.
    """
    rs = v.real("symbol_rate_gbd", symbol_rate_gbd, lo=0.1, hi=1000.0)
    spu = v.integer("samples_per_ui", samples_per_ui, lo=4, hi=256)
    span = v.integer("span_ui", span_ui, lo=16, hi=8192)
    lead = v.integer("lead_ui", lead_ui, lo=0, hi=span // 2)
    f_hz = v.real_array("f_hz", f_hz, lo=0.0)
    if f_hz.ndim != 1 or f_hz.size < 2 or np.any(np.diff(f_hz) <= 0):
        raise ValueError("f_hz must be at least 2 ascending frequencies")
    h = np.asarray(h, dtype=np.complex128)
    if h.shape != f_hz.shape or not np.all(np.isfinite(h)):
        raise ValueError(f"h must hold {f_hz.size} finite complex values (one per frequency)")
    n = span * spu
    grid = np.fft.rfftfreq(n, d=1.0 / (spu * rs * 1e9))
    hg = _interp(f_hz, h, grid)
    if extra is not None:
        hg = hg * extra(grid / 1e9)
    impulse = np.fft.irfft(hg, n)
    return _shape(impulse, spu, lead)


def _shape(impulse: np.ndarray, spu: int, lead: int) -> np.ndarray:
    """One-UI rectangle (circular, so the record stays periodic) and peak placed at ``lead`` UI."""
    rect = np.zeros(impulse.size)
    rect[:spu] = 1.0
    pulse = np.fft.irfft(np.fft.rfft(impulse) * np.fft.rfft(rect), impulse.size)
    peak = int(np.argmax(pulse))
    return np.roll(pulse, lead * spu - peak)


def loss_at_db(samples: np.ndarray, samples_per_ui: int, f_over_rs: float = 0.5) -> float:
    """Insertion loss (dB) at ``f_over_rs`` times the symbol rate, read back from an oversampled pulse."""
    n = samples.size
    k = round(f_over_rs * n / samples_per_ui)
    rect = np.zeros(n)
    rect[:samples_per_ui] = 1.0
    num = abs(np.fft.rfft(samples)[k])
    den = abs(np.fft.rfft(rect)[k])
    return -20.0 * math.log10(max(num / den, 1e-300)) if den > 0 else math.inf


def synthetic_network(length_m: float = 0.3, *, sqrt_db_per_m: float = 2.0, linear_db_per_m: float = 1.2,
                      stub_mm: float = 0.8, connector: bool = True, f_max_ghz: float = 60.0,
                      n_points: int = 600, coupling: float = 0.0, name: str = "synthetic"):
    """A differential channel built with ``skrf.media``, as a single-ended 4-port (ports 1->2, 3->4).

    Each leg (50 ohm) is a connector discontinuity (2 mm of 42 ohm line and 60 fF to ground),
    a lossy line ``length_m`` long (``sqrt_db_per_m * sqrt(f_GHz) + linear_db_per_m * f_GHz``
    dB/m, skin effect with its causal phase, effective permittivity 3.6), a via stub (an open
    stub ``stub_mm`` long, its quarter-wave notch near ``39.5 / stub_mm`` GHz) and the connector
    again. With ``coupling > 0`` it is instead a far-end crosstalk aggressor: the thru scaled by
    ``coupling * j f / f_max`` (derivative coupling, passive for coupling < 1).

    Frequencies ``f_max_ghz / n_points`` to ``f_max_ghz`` (no DC point, as a VNA measures).
    """
    rf = _skrf()
    length_m = v.real("length_m", length_m, lo=0.0, hi=10.0)
    n_points = v.integer("n_points", n_points, lo=16, hi=100000)
    f_max = v.real("f_max_ghz", f_max_ghz, lo=1.0, hi=1000.0)
    coupling = v.real("coupling", coupling, lo=0.0, hi=0.999)
    freq = rf.Frequency(f_max / n_points, f_max, n_points, unit="GHz")
    f = freq.f
    eps_eff = 3.6
    beta = 2 * np.pi * f * math.sqrt(eps_eff) / 299792458.0
    k_skin = sqrt_db_per_m / 8.686 * np.sqrt(f / 1e9)
    gamma = k_skin * (1 + 1j) + linear_db_per_m / 8.686 * f / 1e9 + 1j * beta
    line = rf.media.DefinedGammaZ0(freq, gamma=gamma, z0=50.0)
    leg = line.line(length_m, "m")
    if stub_mm > 0:
        leg = leg ** line.shunt_delay_open(stub_mm * 1e-3, "m") ** line.thru()
    if connector:
        lowz = rf.media.DefinedGammaZ0(freq, gamma=1j * beta, z0=42.0)
        conn = line.shunt_capacitor(60e-15) ** line.thru()
        conn = conn ** rf.media.DefinedGammaZ0(freq, gamma=1j * beta, z0=50.0).thru()
        step = line.impedance_mismatch(50.0, 42.0) ** lowz.line(2.0, "mm") ** line.impedance_mismatch(42.0, 50.0)
        leg = step ** conn ** leg ** conn ** step
    s2 = leg.s
    if coupling > 0:
        scale = coupling * 1j * f / (f_max * 1e9)
        s2 = np.zeros_like(leg.s)
        s2[:, 1, 0] = s2[:, 0, 1] = scale * leg.s[:, 1, 0]
    s4 = np.zeros((f.size, 4, 4), dtype=complex)
    for a, b in ((0, 1), (2, 3)):          # leg a -> b: (port 1 -> 2) and (port 3 -> 4)
        s4[:, a, a], s4[:, a, b] = s2[:, 0, 0], s2[:, 0, 1]
        s4[:, b, a], s4[:, b, b] = s2[:, 1, 0], s2[:, 1, 1]
    return rf.Network(frequency=freq, s=s4, z0=50.0, name=name)
