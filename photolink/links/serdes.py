"""Electrical lanes, COM-style: insertion loss -> pulse response -> equalised slicer SNR and BER.

A lane is a SerDes transmitter, a lossy channel and a SerDes receiver. The loss
``IL(f) = sum_i (a_i sqrt(f) + b_i f)`` dB (skin effect and dielectric loss of each piece: package,
PCB, connector, cable) becomes a causal, minimum-phase transfer function and, with a one-UI
rectangular transmit pulse, a pulse response.

With a reference receiver (``SerDes.com``, e.g. :data:`photolink.links.com.COM_802_3DJ`; every
preset SerDes has one) the lane is what COM sees (:func:`photolink.links.com.com`): the
standard's transmitter FFE, rise-time and receiver filters, CTLE, receiver FFE (zero forcing or
MMSE) and DFE with b_max(1), the setting chosen by COM's figure of merit (by a coarse scan and
hill climbing, ``search="local"``, within ~0.5 dB of the full grid), and COM's noise budget. The
SerDes adds two figures of photolink's own [ref:photolink-serdes-floor-ctle]: crosstalk (broadband,
relative to the launched power, white at the receiver input: it adds to eta_0 and goes through
the CTLE and the FFE) and an implementation floor at the slicer (ADC, clock recovery; added to
the transmitter noise, which COM refers to the cursor), and any noise entering with the signal
(an optical receiver's, for linear optics) is referred to the cursor likewise.

Without one (``com=None``) the receiver is an MMSE FFE + DFE (:meth:`photolink.Equalizer.mmse`)
behind a 4th-order Butterworth filter, sampled at the pulse peak, with every noise referred to
the slicer as in COM:

- receiver thermal noise (density ``eta0`` in the receiver bandwidth) and crosstalk: white at the
  receiver input, enhanced by the FFE's noise gain;
- transmitter noise (``snr_tx_db`` of the launched signal) and any extra noise entering with the
  signal: through the channel and the FFE, like the signal;
- jitter (random + dual-Dirac, in UI) through the slope of the equalised pulse;
- the pulse tail beyond the 64 taps the stream simulator keeps, through the FFE;
- an implementation floor at the slicer.

Either way the residual ISI is not Gaussian: the statistical eye (:class:`Eye`) keeps its exact
distribution. :attr:`ElectricalResult.snr_in_db` is the white input noise that gives the same
slicer noise, so :func:`photolink.simulate_ber` with the same channel and equaliser streams the
same lane. Not modelled: reflections, crosstalk as aggressor channels (use
:func:`photolink.links.com.com` on measured channels for those).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .._util import validate as v
from ..symbols import pulse as _pulse
from ..symbols.channel import Channel, Equalizer, decision_point
from ..symbols.formats import PAM
from . import com as _com
from .slicer import EYE_BINS, EYE_POINTS, Eye  # noqa: F401  (Eye lives in slicer; re-exported)

#: Samples per UI of the pulse-response computation.
OVERSAMPLE = 32
#: UIs spanned by the FFT (the pulse must decay within it).
SPAN_UI = 256
#: Channel taps kept for the stream simulator (photolink.Channel holds at most 64).
KEPT_TAPS = 64
#: Pre-cursors kept before the main cursor.
PRECURSORS = 4
#: Noise bandwidth of a 4th-order Butterworth filter over its 3 dB bandwidth.
_BUTTERWORTH4_NOISE_BW = (math.pi / 8) / math.sin(math.pi / 8)


@dataclass(frozen=True)
class Loss:
    """Insertion loss of one piece of an electrical channel, ``sqrt_db * sqrt(f) + linear_db * f``.

    Parameters
    ----------
    name : str
    sqrt_db : float
        Skin-effect (conductor) term, dB per sqrt(GHz) (per metre for a cable).
    linear_db : float
        Dielectric term, dB per GHz (per metre for a cable).
    source : str
    """

    name: str
    sqrt_db: float = 0.0
    linear_db: float = 0.0
    source: str = ""

    def __post_init__(self):
        v.real("sqrt_db", self.sqrt_db, lo=0.0, hi=100.0)
        v.real("linear_db", self.linear_db, lo=0.0, hi=100.0)

    def db(self, f_ghz, scale: float = 1.0):
        """Loss in dB at ``f_ghz`` (scalar or array), times ``scale`` (a length in m for a cable)."""
        f = np.asarray(f_ghz, dtype=np.float64)
        out = scale * (self.sqrt_db * np.sqrt(f) + self.linear_db * f)
        return float(out) if out.ndim == 0 else out

    def scaled(self, factor: float) -> "Loss":
        """The same piece ``factor`` times longer."""
        return Loss(self.name, self.sqrt_db * factor, self.linear_db * factor, self.source)


@dataclass(frozen=True)
class Twinax:
    """A twinax copper cable (DAC / AEC medium).

    Parameters
    ----------
    name : str
    loss : Loss
        Insertion loss per metre.
    propagation_ns_per_m : float
    max_length_m : float
        Longest cable of this kind that is built (beyond it: ValueError).
    source : str
    """

    name: str
    loss: Loss
    propagation_ns_per_m: float = 4.5
    max_length_m: float = 7.0
    source: str = ""

    def __post_init__(self):
        if not isinstance(self.loss, Loss):
            raise TypeError(f"loss must be a photolink.links.serdes.Loss, got {type(self.loss).__name__}")
        v.real("propagation_ns_per_m", self.propagation_ns_per_m, lo=0.0, hi=100.0)
        v.real("max_length_m", self.max_length_m, lo=0.0, hi=1000.0)

    def propagation_ns(self, length_m: float) -> float:
        return length_m * self.propagation_ns_per_m


@dataclass(frozen=True)
class SerDes:
    """A SerDes (transmitter + receiver) and its COM-style noise figures.

    Parameters
    ----------
    name : str
    tx_swing_v : float
        Peak differential launch amplitude A_v: the outer PAM levels are +-tx_swing_v.
    snr_tx_db : float
        Transmitter noise and distortion, SNR of the launched signal (COM SNR_TX).
    eta0_v2_per_ghz : float
        Receiver input-referred thermal noise density (COM eta_0), V^2/GHz.
    rx_bandwidth_ratio : float
        Receiver 4th-order Butterworth 3 dB bandwidth over the symbol rate (COM f_r).
    rj_ui, dd_ui : float
        Random jitter rms and dual-Dirac jitter, in UI (COM sigma_RJ, A_DD).
    n_ffe, n_dfe : int
        Receiver FFE and DFE taps.
    implementation_snr_db : float
        Slicer-referred floor of everything else (ADC quantisation, clock, offsets).
    crosstalk_db : float
        Integrated crosstalk (mostly near-end, from the aggressor transmitters next to this
        receiver) relative to the launched signal power; broadband, so the FFE enhances it.
    max_symbol_rate_gbd : float
        Fastest symbol rate this SerDes class runs.
    dfe_b1_max : float
        Largest first DFE tap relative to the main cursor (COM b_max(1), 0.85 in IEEE 802.3ck and
        802.3dj [ref:com-dfe-b1-limit]); the FFE is redesigned to leave at most this much first
        post-cursor, and what the DFE cannot cancel stays as residual ISI.
    source : str
    com : photolink.links.com.ComParams, optional
        The standard's reference receiver (e.g. :data:`photolink.links.com.COM_802_3DJ`): with it
        the lane has the standard's transmitter FFE, CTLE and receiver FFE/DFE, chosen by COM's
        figure of merit (:func:`photolink.links.com.com`, ``search="local"``), and the figures
        above replace the parameter set's (build with :meth:`from_com` to take them from it).
        Without it: receiver FFE (``n_ffe`` taps, MMSE) and DFE only.
    """

    name: str
    tx_swing_v: float = 0.413
    snr_tx_db: float = 32.5
    eta0_v2_per_ghz: float = 8.2e-9
    rx_bandwidth_ratio: float = 0.75
    rj_ui: float = 0.01
    dd_ui: float = 0.02
    n_ffe: int = 24
    n_dfe: int = 1
    implementation_snr_db: float = 30.0
    crosstalk_db: float = -45.0
    max_symbol_rate_gbd: float = 120.0
    dfe_b1_max: float = 0.85
    source: str = ""
    com: _com.ComParams | None = None

    def __post_init__(self):
        v.real("tx_swing_v", self.tx_swing_v, lo=1e-3, hi=5.0)
        v.real("snr_tx_db", self.snr_tx_db, lo=0.0, hi=80.0)
        v.real("eta0_v2_per_ghz", self.eta0_v2_per_ghz, lo=0.0, hi=1e-3)
        v.real("rx_bandwidth_ratio", self.rx_bandwidth_ratio, lo=0.1, hi=4.0)
        v.real("rj_ui", self.rj_ui, lo=0.0, hi=0.5)
        v.real("dd_ui", self.dd_ui, lo=0.0, hi=0.5)
        v.integer("n_ffe", self.n_ffe, lo=1, hi=64)
        v.integer("n_dfe", self.n_dfe, lo=0, hi=16)
        v.real("implementation_snr_db", self.implementation_snr_db, lo=0.0, hi=80.0)
        v.real("crosstalk_db", self.crosstalk_db, lo=-200.0, hi=0.0)
        v.real("max_symbol_rate_gbd", self.max_symbol_rate_gbd, lo=0.1, hi=1000.0)
        v.real("dfe_b1_max", self.dfe_b1_max, lo=0.0, hi=1.0, lo_open=True)
        if self.com is not None:
            if not isinstance(self.com, _com.ComParams):
                raise TypeError(f"com must be a photolink.links.com.ComParams, got {type(self.com).__name__}")
            if self.n_dfe < 1 or self.n_ffe < self.com.rx_ffe_pre + self.n_dfe + 1:
                raise ValueError(f"with com, n_dfe must be >= 1 and n_ffe > {self.com.rx_ffe_pre} "
                                 f"pre-cursors + n_dfe, got n_ffe={self.n_ffe}, n_dfe={self.n_dfe}")

    @classmethod
    def from_com(cls, name: str, params: _com.ComParams, **figures) -> SerDes:
        """A SerDes with the reference receiver ``params`` and its noise figures (A_v, SNR_TX,
        eta_0, f_r, sigma_RJ, A_DD, receiver FFE and DFE taps, b_max(1)); ``figures`` sets the
        rest (``crosstalk_db``, ``implementation_snr_db``, ``max_symbol_rate_gbd``, ``source``)
        or overrides any of them."""
        base = dict(tx_swing_v=params.a_v, snr_tx_db=params.snr_tx_db, eta0_v2_per_ghz=params.eta0_v2_per_ghz,
                    rx_bandwidth_ratio=params.f_r, rj_ui=params.sigma_rj_ui, dd_ui=params.a_dd_ui,
                    n_ffe=params.rx_ffe_taps, n_dfe=len(params.dfe_max), dfe_b1_max=params.dfe_max[0])
        return cls(name, com=params, **{**base, **figures})

    def com_params(self, fmt: PAM, symbol_rate_gbd: float, extra_snr_db: float = math.inf) -> _com.ComParams:
        """The reference receiver with this SerDes's figures, its crosstalk folded into the
        receiver's noise density (white at the receiver input: ``crosstalk_db`` of the launched
        power in the receiver's noise bandwidth) and its implementation floor and any noise
        entering with the signal (``extra_snr_db``) into the transmitter noise (COM refers
        SNR_TX to the cursor at the slicer, 93A-30).

        The receiver FFE is found by zero forcing even where the parameter set asks for MMSE
        (802.3dj): photolink's MMSE figure of merit is not a smooth function of the CTLE and
        transmitter setting on high-loss channels (it jumps by tenths of a dB between neighbouring
        lengths), which a reach search cannot use; zero forcing gives COM within ~0.5 dB below it."""
        p = self.com
        var_x = fmt.mean_power / (fmt.M - 1) ** 2
        eta_xt = (self.tx_swing_v**2 * var_x * 10 ** (self.crosstalk_db / 10)
                  / (self.rx_bandwidth_ratio * symbol_rate_gbd * _BUTTERWORTH4_NOISE_BW))
        nsr = (10 ** (-self.snr_tx_db / 10) + var_x * 10 ** (-self.implementation_snr_db / 10)
               + (var_x * 10 ** (-extra_snr_db / 10) if math.isfinite(extra_snr_db) else 0.0))
        changes = dict(a_v=self.tx_swing_v, snr_tx_db=-10 * math.log10(nsr),
                       eta0_v2_per_ghz=self.eta0_v2_per_ghz + eta_xt, f_r=self.rx_bandwidth_ratio,
                       sigma_rj_ui=self.rj_ui, a_dd_ui=self.dd_ui, search="local", rx_ffe_mode="przf",
                       float_groups=0, mm_tolerance_v=1e-6)
        if self.n_ffe != p.rx_ffe_taps:
            changes.update(rx_ffe_taps=self.n_ffe, rx_ffe_min=(), rx_ffe_max=())
        later = (p.dfe_max[1:] + (1.0,) * self.n_dfe)[:self.n_dfe - 1]
        changes.update(dfe_min=(p.dfe_min + (-1.0,) * self.n_dfe)[:self.n_dfe],
                       dfe_max=(self.dfe_b1_max,) + later)
        return dataclasses.replace(p, **changes)


@dataclass(frozen=True)
class ElectricalResult:
    """An equalised electrical lane: what the slicer sees and what the stream simulator needs.

    Attributes
    ----------
    loss_at_nyquist_db : float
        Channel insertion loss at half the symbol rate.
    snr_in_db : float
        All Gaussian noise referred to the main cursor at the receiver input (the ``snr_db``
        of :func:`photolink.simulate_ber` with :attr:`channel` and :attr:`equalizer`).
    snr_db : float
        Effective slicer SNR: cursor power over noise plus residual-ISI power.
    channel : photolink.Channel
        Symbol-spaced pulse response, main cursor 1.
    equalizer : photolink.Equalizer
    noise_db : dict
        Each noise source referred to the slicer, as an SNR in dB.
    equaliser : dict
        With a reference receiver (``SerDes.com``): the chosen transmitter taps (``tx_taps``),
        CTLE gains (``g_dc_db``, ``g_dc2_db``), receiver FFE and DFE, and ``com_db`` (COM at
        the parameter set's DER_0). Empty otherwise.
    """

    loss_at_nyquist_db: float
    snr_in_db: float
    snr_db: float
    channel: Channel
    equalizer: Equalizer
    noise_db: dict
    eye: "Eye"
    equaliser: dict = field(default_factory=dict)

    def ber(self, extra_noise_db: float = 0.0) -> float:
        """Pre-FEC BER (error-free DFE feedback) with all Gaussian noise raised by ``extra_noise_db``."""
        return self.eye.ber(extra_noise_db)


def _minimum_phase(mag: np.ndarray, n: int) -> np.ndarray:
    """Minimum-phase spectrum (rfft layout) with magnitude ``mag`` (real cepstrum folding)."""
    log_mag = np.log(np.maximum(mag, 1e-300))
    cep = np.fft.irfft(log_mag, n)
    fold = np.zeros(n)
    fold[0] = cep[0]
    fold[1:n // 2] = 2 * cep[1:n // 2]
    fold[n // 2] = cep[n // 2]
    return np.exp(np.fft.rfft(fold))


def pulse_response(losses, symbol_rate_gbd: float, rx_bandwidth_ratio: float | None = 0.75):
    """Pulse response of a one-UI rectangular pulse through ``losses`` and the receiver filter.

    Parameters
    ----------
    losses : sequence of (Loss, scale)
        Pieces of the channel and their scale (length in m for a cable, 1 otherwise).
    symbol_rate_gbd : float
    rx_bandwidth_ratio : float or None
        Receiver filter bandwidth over the symbol rate; None: the channel alone.

    Returns
    -------
    (numpy.ndarray, int)
        The pulse sampled ``OVERSAMPLE`` times per UI (peak <= 1 for unit launch amplitude)
        and the index of its peak.
    """
    rs = v.real("symbol_rate_gbd", symbol_rate_gbd, lo=0.1, hi=1000.0)
    n = SPAN_UI * OVERSAMPLE
    f = np.fft.rfftfreq(n, d=1.0 / (OVERSAMPLE * rs))        # GHz
    il = np.zeros_like(f)
    for piece, scale in losses:
        il += piece.db(f, scale)
    h = _minimum_phase(10.0 ** (-il / 20.0), n)
    if rx_bandwidth_ratio is not None:
        h = h * _com._butterworth4(f, rx_bandwidth_ratio * rs)
    impulse = np.fft.irfft(h, n)
    pulse = np.convolve(impulse, np.ones(OVERSAMPLE))[:n]
    return pulse, int(np.argmax(pulse))


def loss_network(losses, f_max_ghz: float = 120.0, n_points: int = 2400, delay_ns: float = 1.0):
    """The minimum-phase response of ``losses`` (as :func:`pulse_response` builds it, delayed by
    ``delay_ns``) as a differential 2-port ``skrf.Network`` from ``f_max_ghz / n_points`` to
    ``f_max_ghz``: a Touchstone channel (``write_touchstone``) of the loss model."""
    fmax = v.real("f_max_ghz", f_max_ghz, lo=1.0, hi=1000.0)
    npts = v.integer("n_points", n_points, lo=10, hi=100_000)
    n, fs = 1 << 16, 2000.0                                    # fine grid for the cepstrum, GHz
    fg = np.fft.rfftfreq(n, 1 / fs)
    il = sum(p.db(fg, s) for p, s in losses)
    hmin = _minimum_phase(10 ** (-il / 20), n)
    f = np.linspace(fmax / npts, fmax, npts)
    h = (np.interp(f, fg, hmin.real) + 1j * np.interp(f, fg, hmin.imag)) * np.exp(-2j * np.pi * f * delay_ns)
    s = np.zeros((f.size, 2, 2), complex)
    s[:, 1, 0] = s[:, 0, 1] = h
    rf = _pulse._skrf()
    return rf.Network(frequency=rf.Frequency.from_f(f * 1e9, unit="Hz"), s=s, z0=50)


def insertion_loss_db(losses, f_ghz: float) -> float:
    """Total insertion loss of ``losses`` (sequence of (Loss, scale)) at ``f_ghz``."""
    return float(sum(piece.db(f_ghz, scale) for piece, scale in losses))


def electrical_lane(fmt: PAM, serdes: SerDes, losses, symbol_rate_gbd: float,
                    extra_snr_db: float = math.inf) -> ElectricalResult:
    """Equalised slicer view of an electrical lane (see the module docstring).

    Parameters
    ----------
    fmt : PAM
    serdes : SerDes
    losses : sequence of (Loss, scale)
    symbol_rate_gbd : float
    extra_snr_db : float
        Extra Gaussian noise entering with the signal (e.g. an optical receiver's), as the SNR of
        the signal where it enters; it then travels the channel like transmitter noise.
    """
    # insertion losses add, so their order is irrelevant: one order keeps one cache entry per
    # lane (a DSP module's host->module and module->host lanes are the same lane)
    return _electrical_lane(fmt, serdes, tuple(sorted(losses, key=repr)), float(symbol_rate_gbd),
                            float(extra_snr_db))


@lru_cache(maxsize=512)
def _electrical_lane(fmt, serdes, losses, rs, extra_snr_db) -> ElectricalResult:
    if serdes.com is not None:
        pulse, _ = pulse_response(losses, rs, None)        # minimum phase: delayed a few UI
        thru = Channel.from_pulse(np.roll(pulse, 8 * OVERSAMPLE), OVERSAMPLE, symbol_rate_gbd=rs)
        return _com_lane(fmt, serdes, thru, insertion_loss_db(losses, rs / 2), extra_snr_db)
    pulse, peak = pulse_response(losses, rs, serdes.rx_bandwidth_ratio)
    return _lane_from_pulse(fmt, serdes, pulse, peak, OVERSAMPLE, rs,
                            insertion_loss_db(losses, rs / 2), extra_snr_db)


def electrical_lane_on(fmt: PAM, serdes: SerDes, channel: Channel,
                       extra_snr_db: float = math.inf) -> ElectricalResult:
    """:func:`electrical_lane` on a measured channel (an oversampled :class:`photolink.Channel`).

    The SerDes receiver filter is applied to the channel's oversampled pulse (from
    :meth:`photolink.Channel.from_touchstone`, ``from_network`` or ``from_pulse``, with its
    ``symbol_rate_gbd``); the rest is the same model as for a loss formula.
    """
    if not isinstance(channel, Channel) or not channel.oversampled or channel.symbol_rate_gbd is None:
        raise TypeError("channel must be an oversampled photolink.Channel with symbol_rate_gbd "
                        f"(Channel.from_touchstone / from_network / from_pulse), got {channel!r}")
    spu, rs = channel.samples_per_ui, float(channel.symbol_rate_gbd)
    samples = np.asarray(channel.samples)
    if serdes.com is not None:
        return _com_lane(fmt, serdes, channel, _pulse.loss_at_db(samples, spu), float(extra_snr_db))
    f_ghz = np.fft.rfftfreq(samples.size, d=1.0 / (spu * rs))
    pulse = np.fft.irfft(np.fft.rfft(samples) * _com._butterworth4(f_ghz, serdes.rx_bandwidth_ratio * rs),
                         samples.size)
    peak = int(np.argmax(pulse))
    return _lane_from_pulse(fmt, serdes, pulse, peak, spu, rs, _pulse.loss_at_db(samples, spu),
                            float(extra_snr_db))


def _com_lane(fmt, serdes, thru: Channel, loss_nyquist_db, extra_snr_db) -> ElectricalResult:
    """The lane through the SerDes's reference receiver (:attr:`SerDes.com`), equalised as COM
    equalises it, with its noise budget split back into the SerDes's sources."""
    rs = float(thru.symbol_rate_gbd)
    params = serdes.com_params(fmt, rs, extra_snr_db)
    r = _com.com(thru, params, fmt=fmt)
    var_x = fmt.mean_power / (fmt.M - 1) ** 2
    eta = {"rx_thermal": serdes.eta0_v2_per_ghz, "crosstalk": params.eta0_v2_per_ghz - serdes.eta0_v2_per_ghz}
    nsr = {"tx_noise": 10 ** (-serdes.snr_tx_db / 10), "implementation": var_x * 10 ** (-serdes.implementation_snr_db / 10)}
    if math.isfinite(extra_snr_db):
        nsr["extra"] = var_x * 10 ** (-extra_snr_db / 10)
    noise_db = {"jitter": r.noise_db["jitter"], "residual_isi": r.noise_db["isi"]}
    for parts, total_db in ((eta, r.noise_db["thermal"]), (nsr, r.noise_db["tx_noise"])):
        whole = sum(parts.values())
        for k, x in parts.items():
            if x > 0 and whole > 0:
                noise_db[k] = total_db + 10 * math.log10(whole / x)
    if r.noise_db["crosstalk"] < math.inf:
        noise_db["crosstalk_aggressors"] = r.noise_db["crosstalk"]
    # The stream keeps 64 taps of the pulse: the ISI outside them goes into the Gaussian noise (of
    # the eye and of snr_in_db alike), so that evaluate() and simulate() see the same lane.
    dp = decision_point(r.channel, r.equalizer)
    kept = np.asarray(dp.residual_isi) / dp.cursor
    h0 = r.a_s_v * (fmt.M - 1) / params.rlm
    tail = max(r.noise_v["isi"] ** 2 / (var_x * h0**2) - float(kept @ kept), 0.0)
    gain2 = float(np.sum(np.square(r.equalizer.ffe)))
    sigma2 = fmt.mean_power * gain2 * 10 ** (-r.snr_in_db / 10) + fmt.mean_power * tail
    if tail > 0:
        noise_db["isi_tail"] = -10 * math.log10(tail)
        noise_db["residual_isi"] = -10 * math.log10(float(kept @ kept)) if kept.any() else math.inf
    eye = Eye(fmt, 1.0, kept, math.sqrt(sigma2))
    equaliser = {"tx_taps": r.tx_taps, "g_dc_db": r.g_dc_db, "g_dc2_db": r.g_dc2_db,
                 "rx_ffe": r.rx_ffe, "dfe": r.dfe, "com_db": r.com_db}
    return ElectricalResult(loss_at_nyquist_db=loss_nyquist_db,
                            snr_in_db=10 * math.log10(fmt.mean_power * gain2 / sigma2), snr_db=r.snr_db,
                            channel=r.channel, equalizer=r.equalizer, noise_db=noise_db, eye=eye,
                            equaliser=equaliser)


def _lane_from_pulse(fmt, serdes, pulse, peak, spu, rs, loss_nyquist_db,
                     extra_snr_db) -> ElectricalResult:
    phase = peak % spu
    h0 = float(pulse[peak])
    cursors = pulse[phase::spu] / h0                    # every cursor, main = 1
    slope = np.gradient(pulse)[phase::spu] * spu / h0   # per UI
    main = peak // spu
    first = max(main - PRECURSORS, 0)
    window = np.zeros(cursors.size, bool)
    window[first:first + KEPT_TAPS] = True
    channel = Channel(tuple(cursors[window].tolist()), cursor=main - first)
    unit = serdes.tx_swing_v / (fmt.M - 1)                     # volts per level unit
    pavg = fmt.mean_power
    thermal = (serdes.eta0_v2_per_ghz * serdes.rx_bandwidth_ratio * rs
               * _BUTTERWORTH4_NOISE_BW) / (unit * h0) ** 2
    coloured = 10.0 ** (-serdes.snr_tx_db / 10)               # noise launched with the signal
    if math.isfinite(extra_snr_db):
        coloured += 10.0 ** (-extra_snr_db / 10)
    xtalk = pavg * 10.0 ** (serdes.crosstalk_db / 10) / h0**2
    jitter2 = serdes.rj_ui**2 + serdes.dd_ui**2
    impl = 10.0 ** (-serdes.implementation_snr_db / 10)
    # MMSE design for a white-noise approximation of everything at the cursor.
    design = thermal + xtalk + pavg * (coloured + impl + jitter2 * float(slope[main] ** 2))
    eq = Equalizer.mmse(channel, serdes.n_ffe, serdes.n_dfe, _db(pavg / design))
    if serdes.n_dfe:
        eq = _limit_first_dfe_tap(channel, eq, serdes.n_ffe, serdes.n_dfe, design / pavg, serdes.dfe_b1_max)
    dp = decision_point(channel, eq)
    c = np.asarray(eq.ffe)
    gain2 = float(c @ c)
    q_all = np.convolve(cursors, c)
    outside = np.where(window, 0.0, cursors)
    var = {                                                    # slicer-referred, (unit h0)^2 units
        "rx_thermal": thermal * gain2,
        "crosstalk": xtalk * gain2,
        "tx_noise": pavg * 10.0 ** (-serdes.snr_tx_db / 10) * float(q_all @ q_all),
        "jitter": pavg * jitter2 * float(np.sum(np.convolve(slope, c) ** 2)),
        "isi_tail": pavg * float(np.sum(np.convolve(outside, c) ** 2)),
        "implementation": pavg * dp.cursor**2 * impl,
    }
    if math.isfinite(extra_snr_db):
        var["extra"] = pavg * 10.0 ** (-extra_snr_db / 10) * float(q_all @ q_all)
    slicer_noise = sum(var.values())
    resid = float(np.sum(dp.residual_isi**2)) * pavg
    signal_power = pavg * dp.cursor**2
    noise_db = {k: _db(signal_power / x) for k, x in var.items() if x > 0}
    if resid > 0:
        noise_db["residual_isi"] = _db(signal_power / resid)
    return ElectricalResult(
        loss_at_nyquist_db=loss_nyquist_db,
        snr_in_db=_db(pavg * gain2 / slicer_noise),            # white input noise, same slicer variance
        snr_db=_db(signal_power / (slicer_noise + resid)), channel=channel, equalizer=eq,
        noise_db=noise_db, eye=Eye(fmt, dp.cursor, dp.residual_isi, math.sqrt(slicer_noise)))


def _limit_first_dfe_tap(channel: Channel, eq: Equalizer, n_ffe: int, n_dfe: int,
                         noise_to_signal: float, b_max: float) -> Equalizer:
    """``eq`` if its first DFE tap is at most ``b_max`` times the cursor; else the MMSE FFE that
    aims the first post-cursor at ``b_max`` (instead of leaving it free for the DFE), with the
    first DFE tap clipped to ``b_max`` (COM's b_max(1); the rest is residual ISI)."""
    dp = decision_point(channel, eq)
    if eq.dfe[0] <= b_max * dp.cursor:
        return eq
    h = channel.pulse
    n_q = h.size + n_ffe - 1
    conv = np.zeros((n_q, n_ffe))
    for i in range(n_ffe):
        conv[i:i + h.size, i] = h
    ridge = max(noise_to_signal * channel.main**2, 1e-10 * float(h @ h))
    best = None
    for fc in range(n_ffe):
        d = channel.cursor + fc
        keep = np.ones(n_q, bool)
        keep[d + 2:d + 1 + n_dfe] = False        # taps 2.. are the DFE's; tap 1 is aimed at b_max
        target = np.zeros(n_q)
        target[d] = 1.0
        if d + 1 < n_q:
            target[d + 1] = b_max
        a = conv[keep]
        c = np.linalg.solve(a.T @ a + ridge * np.eye(n_ffe), a.T @ target[keep])
        mse = float(np.sum((a @ c - target[keep]) ** 2) + noise_to_signal * channel.main**2 * c @ c)
        if best is None or mse < best[0]:
            best = (mse, c, fc)
    _, c, fc = best
    q = conv @ c
    d = channel.cursor + fc
    b = np.zeros(n_dfe)
    post = q[d + 1:d + 1 + n_dfe]
    b[:post.size] = post
    b[0] = min(b[0], b_max * q[d])
    return Equalizer(ffe=tuple(c.tolist()), ffe_cursor=fc, dfe=tuple(b.tolist()))


def _db(x: float) -> float:
    return 10.0 * math.log10(x) if x > 0 else -math.inf
