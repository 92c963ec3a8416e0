"""Channels (pulse responses) and equalisers (FFE + DFE).

A channel is its symbol-spaced pulse response: ``taps[cursor]`` is the main cursor, taps
before it are pre-cursors and taps after it post-cursors. With a channel, ``snr_db`` in the
simulators is referred to the main cursor at the receiver input,
``SNR = E|a|^2 * taps[cursor]^2 / sigma^2``, so that for an ideal channel it is the decision-point
SNR of [ref:snr-convention] and an equaliser's noise enhancement and residual ISI show up as the
penalty they are.

A channel may also keep its **oversampled** pulse response (:meth:`Channel.from_pulse`,
:meth:`Channel.from_network`, :meth:`Channel.from_touchstone`): ``samples`` at
``samples_per_ui`` per UI, the main cursor at sample ``cursor_sample``. The symbol-spaced
``taps`` are then derived from it (``samples[cursor_sample % spu :: spu]``, a window of at most 64
taps, ``precursors`` of them before the cursor), and :meth:`Channel.at_phase` resamples it at
another sampling phase, so timing (sampling phase, jitter) can be modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._util import validate as v
from . import pulse as _pulse
from ._pam_stream import MAX_TAPS

#: Cursor selection rules for oversampled pulses.
CURSOR_RULES = ("peak", "mueller-muller")


@dataclass(frozen=True)
class Channel:
    """A symbol-spaced pulse response.

    Parameters
    ----------
    taps : sequence of float
        Pulse response samples, 1 to 64 of them.
    cursor : int
        Index of the main cursor in ``taps`` (default: the largest magnitude).
    samples : numpy.ndarray, optional
        The oversampled pulse response ``taps`` were derived from (read-only; see the module
        docstring). Not part of equality.
    samples_per_ui : int, optional
    cursor_sample : int, optional
        Index in ``samples`` of the main cursor.
    symbol_rate_gbd : float, optional
    """

    taps: tuple
    cursor: int | None = None
    samples: np.ndarray | None = field(default=None, compare=False, repr=False)
    samples_per_ui: int | None = field(default=None, compare=False)
    cursor_sample: int | None = field(default=None, compare=False)
    symbol_rate_gbd: float | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.samples is not None:
            arr = v.real_array("samples", self.samples)
            if arr.ndim != 1:
                raise ValueError(f"samples must be 1-D, got shape {arr.shape}")
            spu = v.integer("samples_per_ui", self.samples_per_ui, lo=1, hi=1024)
            v.integer("cursor_sample", self.cursor_sample, lo=spu, hi=arr.size - spu - 1)
            arr = arr.copy()
            arr.flags.writeable = False
            object.__setattr__(self, "samples", arr)
            if self.symbol_rate_gbd is not None:
                v.real("symbol_rate_gbd", self.symbol_rate_gbd, lo=0.1, hi=1000.0)
        arr = v.taps("taps", self.taps, max_len=MAX_TAPS)
        cursor = int(np.argmax(np.abs(arr))) if self.cursor is None else \
            v.integer("cursor", self.cursor, lo=0, hi=arr.size - 1)
        if arr[cursor] <= 0:
            raise ValueError(f"taps[cursor] (the main cursor) must be > 0, got {arr[cursor]!r}")
        object.__setattr__(self, "taps", tuple(arr.tolist()))
        object.__setattr__(self, "cursor", cursor)

    @classmethod
    def from_cursors(cls, pre=(), main: float = 1.0, post=()) -> "Channel":
        """Build from pre-cursors (furthest first), the main cursor and post-cursors."""
        return cls(tuple(pre) + (main,) + tuple(post), cursor=len(tuple(pre)))

    @classmethod
    def from_pulse(cls, samples, samples_per_ui: int, *, cursor="peak", precursors: int = 4,
                   n_taps: int = MAX_TAPS, symbol_rate_gbd: float | None = None) -> "Channel":
        """A channel from a user's own oversampled pulse response.

        Parameters
        ----------
        samples : sequence of float
            Pulse response (response to one UI of unit amplitude), ``samples_per_ui`` per UI.
        samples_per_ui : int
            1 to 1024 (1: already symbol-spaced).
        cursor : {"peak", "mueller-muller"} or int
            Main-cursor sample: the largest sample, the Mueller-Muller point (first pre-cursor
            equal to the first post-cursor, within a UI of the peak; IEEE 802.3 93A-25 without
            DFE), or an explicit sample index.
        precursors : int
            Symbol-spaced taps kept before the cursor (0 to 32).
        n_taps : int
            Symbol-spaced taps kept in all (1 to 64).
        symbol_rate_gbd : float, optional
            Kept for the record (needed by the SerDes and COM models).
        """
        arr = v.real_array("samples", samples)
        spu = v.integer("samples_per_ui", samples_per_ui, lo=1, hi=1024)
        if arr.ndim != 1 or arr.size < 3 * spu:
            raise ValueError(f"samples must be 1-D and span at least 3 UI ({3 * spu} samples), got {arr.shape}")
        idx = _cursor_sample(arr, spu, cursor)
        return _sampled(arr, spu, idx, v.integer("precursors", precursors, lo=0, hi=32),
                        v.integer("n_taps", n_taps, lo=1, hi=MAX_TAPS), symbol_rate_gbd)

    @classmethod
    def from_network(cls, network, symbol_rate_gbd: float, *, ports=None,
                     samples_per_ui: int = _pulse.SAMPLES_PER_UI, span_ui: int = _pulse.SPAN_UI,
                     cursor="peak", precursors: int = 4, n_taps: int = MAX_TAPS,
                     check: bool = True, tx_package=None, rx_package=None) -> "Channel":
        """A channel from a scikit-rf network (see :mod:`photolink.symbols.pulse`).

        Parameters
        ----------
        network : skrf.Network
            A differential 2-port or a single-ended 4-port (or more).
        symbol_rate_gbd : float
        ports : sequence of int, optional
            ``(tx_p, tx_n, rx_p, rx_n)``, 1-based, default ``(1, 3, 2, 4)`` (1 -> 2 and 3 -> 4
            are the two legs); ``(tx, rx)`` for a 2-port.
        samples_per_ui, span_ui : int
            Oversampling and length of the pulse response.
        cursor, precursors, n_taps
            As for :meth:`from_pulse`.
        check : bool
            Warn (:class:`photolink.symbols.pulse.ChannelWarning`) when the network is not
            passive (``|Sdd21| > 1`` or a singular value of S above 1) or not causal.
        tx_package, rx_package : skrf.Network or DevicePackage, optional
            Differential 2-ports cascaded before and after the channel
            (:func:`photolink.symbols.pulse.package_network` builds a simple one), or the IEEE 802.3
            Annex 93A / 178A die-and-package model
            :class:`photolink.symbols.package.DevicePackage` (built on the channel's frequencies).
        """
        if tx_package is not None or rx_package is not None:
            network = _pulse.with_packages(network, tx_package, rx_package, ports)
            ports = None
        f, h, sv = _pulse.differential_transfer(network, ports)
        if check:
            _pulse.check_network(f, h, sv, name=getattr(network, "name", None) or "network")
        samples = _pulse.pulse_from_transfer(f, h, symbol_rate_gbd, samples_per_ui=samples_per_ui,
                                             span_ui=span_ui)
        return cls.from_pulse(samples, samples_per_ui, cursor=cursor, precursors=precursors,
                              n_taps=n_taps, symbol_rate_gbd=symbol_rate_gbd)

    @classmethod
    def from_touchstone(cls, path, symbol_rate_gbd: float, **options) -> "Channel":
        """A channel from a Touchstone file (.s2p, .s4p, ...) read by scikit-rf.

        ``options`` are those of :meth:`from_network` (``ports``, ``samples_per_ui``, ...).
        """
        return cls.from_network(_pulse.load_touchstone(path), symbol_rate_gbd, **options)

    @property
    def oversampled(self) -> bool:
        """Whether the oversampled pulse response is kept."""
        return self.samples is not None

    def at_phase(self, offset_samples: int) -> "Channel":
        """The same pulse sampled ``offset_samples`` later (earlier if < 0) than the cursor."""
        self._need_samples("at_phase")
        spu = self.samples_per_ui
        off = v.integer("offset_samples", offset_samples, lo=-spu, hi=spu)
        n_taps = len(self.taps)
        return _sampled(self.samples, spu, self.cursor_sample + off, self.cursor, n_taps,
                        self.symbol_rate_gbd)

    def symbol_spaced(self, offset_samples: int = 0) -> np.ndarray:
        """Every symbol-spaced sample of the pulse at the cursor's phase (+ offset), cursor included."""
        self._need_samples("symbol_spaced")
        spu = self.samples_per_ui
        return self.samples[(self.cursor_sample + offset_samples) % spu::spu]

    def slopes(self) -> np.ndarray:
        """Slope of the pulse (per UI) at every symbol-spaced sample of the cursor's phase."""
        self._need_samples("slopes")
        spu = self.samples_per_ui
        grad = np.gradient(self.samples) * spu
        return grad[self.cursor_sample % spu::spu]

    def _need_samples(self, what: str) -> None:
        if self.samples is None:
            raise ValueError(f"{what} needs an oversampled channel (Channel.from_pulse, from_network "
                             f"or from_touchstone), this one has symbol-spaced taps only")

    @property
    def pulse(self) -> np.ndarray:
        return np.asarray(self.taps)

    @property
    def main(self) -> float:
        return self.taps[self.cursor]

    def isi_to_cursor_db(self) -> float:
        """Unequalised ISI power over main-cursor power, in dB (-inf for an ideal channel)."""
        p = self.pulse
        isi = float(np.sum(p**2) - p[self.cursor] ** 2)
        return 10 * np.log10(isi / p[self.cursor] ** 2) if isi > 0 else -np.inf


def _cursor_sample(arr: np.ndarray, spu: int, rule) -> int:
    if not isinstance(rule, str):
        return v.integer("cursor", rule, lo=spu, hi=arr.size - spu - 1)
    v.choice("cursor", rule, CURSOR_RULES)
    peak = int(np.argmax(arr))
    if peak < spu or peak >= arr.size - spu:
        raise ValueError(f"the pulse peak (sample {peak}) must have a full UI on each side; "
                         f"pad the samples")
    if rule == "peak" or spu == 1:
        return peak
    lo, hi = max(spu, peak - spu), min(arr.size - spu - 1, peak + spu)
    cand = np.arange(lo, hi + 1)
    res = np.abs(arr[cand - spu] - arr[cand + spu])
    res[arr[cand] <= 0] = np.inf
    return int(cand[int(np.argmin(res))])


def _sampled(arr, spu, idx, precursors, n_taps, symbol_rate_gbd) -> "Channel":
    main = idx // spu
    sym = arr[idx % spu::spu]
    first = max(main - precursors, 0)
    taps = sym[first:first + n_taps]
    if taps[main - first] <= 0:
        raise ValueError(f"the pulse at the chosen cursor (sample {idx}) must be > 0, got {arr[idx]!r}")
    return Channel(tuple(taps.tolist()), cursor=main - first, samples=arr, samples_per_ui=spu,
                   cursor_sample=int(idx), symbol_rate_gbd=symbol_rate_gbd)


@dataclass(frozen=True)
class Equalizer:
    """Feed-forward (FFE) and decision-feedback (DFE) equaliser.

    The FFE filters the received samples; the DFE subtracts ``dfe[j] * a_hat[m-1-j]`` from the
    FFE output using its own past decisions, so a wrong decision feeds back and errors come in
    bursts, as in real receivers.

    Parameters
    ----------
    ffe : sequence of float
        FFE taps (1 to 64); ``(1.0,)`` is no FFE.
    ffe_cursor : int
        Index of the FFE's main tap: the decision delay is ``channel.cursor + ffe_cursor``.
    dfe : sequence of float
        DFE taps (0 to 64), in the units of the FFE output.
    """

    ffe: tuple = (1.0,)
    ffe_cursor: int = 0
    dfe: tuple = ()

    def __post_init__(self):
        ffe = v.taps("ffe", self.ffe, max_len=MAX_TAPS)
        object.__setattr__(self, "ffe", tuple(ffe.tolist()))
        object.__setattr__(self, "ffe_cursor", v.integer("ffe_cursor", self.ffe_cursor, lo=0, hi=ffe.size - 1))
        try:
            flat = not isinstance(self.dfe, (str, bytes)) and np.ndim(self.dfe) == 1
        except ValueError:          # ragged
            flat = False
        if not flat:
            raise TypeError(f"dfe must be a sequence of 0 to {MAX_TAPS} real taps, got {self.dfe!r}")
        dfe = () if len(self.dfe) == 0 else tuple(v.taps("dfe", self.dfe, max_len=MAX_TAPS).tolist())
        object.__setattr__(self, "dfe", dfe)

    @classmethod
    def zero_forcing(cls, channel: Channel, n_ffe: int, n_dfe: int = 0) -> "Equalizer":
        """Least-squares zero-forcing FFE with ``n_dfe`` DFE taps cancelling post-cursors.

        The decision delay that leaves the least residual ISI is chosen.
        """
        return _design(channel, n_ffe, n_dfe, noise_to_signal=0.0)

    @classmethod
    def mmse(cls, channel: Channel, n_ffe: int, n_dfe: int, snr_db: float) -> "Equalizer":
        """Minimum-mean-square-error FFE (+ DFE) for ``channel`` at ``snr_db`` (cursor-referred).

        Assumes correct past decisions in the DFE, as MMSE-DFE design does.
        """
        _check_channel(channel)
        snr_db = v.real("snr_db", snr_db, lo=-30, hi=80)
        return _design(channel, n_ffe, n_dfe, noise_to_signal=channel.main**2 / 10 ** (snr_db / 10))

    def combined(self, channel: Channel) -> np.ndarray:
        """Pulse response at the FFE output (channel convolved with the FFE)."""
        return np.convolve(channel.pulse, np.asarray(self.ffe))

    def delay(self, channel: Channel) -> int:
        return channel.cursor + self.ffe_cursor


def _check_channel(channel) -> None:
    if not isinstance(channel, Channel):
        raise TypeError(f"channel must be a photolink.Channel, got {type(channel).__name__} {channel!r}")


def _design(channel: Channel, n_ffe, n_dfe, noise_to_signal: float) -> Equalizer:
    _check_channel(channel)
    n_ffe = v.integer("n_ffe", n_ffe, lo=1, hi=MAX_TAPS)
    n_dfe = v.integer("n_dfe", n_dfe, lo=0, hi=MAX_TAPS)
    h = channel.pulse
    n_q = h.size + n_ffe - 1
    conv = np.zeros((n_q, n_ffe))            # q = conv @ c
    for i in range(n_ffe):
        conv[i:i + h.size, i] = h
    # A tiny ridge keeps zero-forcing well posed when the channel has spectral nulls.
    ridge = max(noise_to_signal, 1e-10 * float(h @ h))
    best = None
    for fc in range(n_ffe):
        d = channel.cursor + fc
        keep = np.ones(n_q, bool)
        keep[d + 1:d + 1 + n_dfe] = False    # post-cursors the DFE cancels
        a = conv[keep]
        target = (np.arange(n_q) == d)[keep].astype(float)
        c = np.linalg.solve(a.T @ a + ridge * np.eye(n_ffe), a.T @ target)
        mse = float(np.sum((a @ c - target) ** 2) + noise_to_signal * c @ c)
        if best is None or mse < best[0]:
            q = conv @ c
            best = (mse, c, fc, q[d + 1:d + 1 + n_dfe])
    _, c, fc, b = best
    b = np.concatenate([b, np.zeros(n_dfe - b.size)])
    return Equalizer(ffe=tuple(c.tolist()), ffe_cursor=fc, dfe=tuple(b.tolist()))


@dataclass(frozen=True)
class DecisionPoint:
    """What the slicer sees with correct DFE feedback: cursor gain, residual ISI and noise.

    ``noise_gain`` is the FFE's noise gain sqrt(sum c^2); the slicer input for a symbol of
    amplitude a is ``cursor * a + sum(residual_isi * a_other) + noise_gain * sigma * N(0,1)``.
    """

    cursor: float
    residual_isi: np.ndarray
    noise_gain: float
    delay: int


def decision_point(channel: Channel | None, equalizer: Equalizer | None) -> DecisionPoint:
    """Reduce a channel and equaliser to the slicer's view (error-free feedback)."""
    if channel is None:
        channel = Channel((1.0,))
    eq = equalizer or Equalizer()
    q = eq.combined(channel)
    d = eq.delay(channel)
    resid = q.copy()
    n_dfe = len(eq.dfe)
    window = resid[d + 1:d + 1 + n_dfe]
    resid[d + 1:d + 1 + n_dfe] = window - np.asarray(eq.dfe)[:window.size]
    if q[d] <= 0:
        raise ValueError(f"the equalised main cursor must be > 0, got {q[d]!r}: check the FFE taps")
    isi = np.delete(resid, d)
    return DecisionPoint(cursor=float(q[d]), residual_isi=isi[np.abs(isi) > 1e-15 * q[d]],
                         noise_gain=float(np.sqrt(np.sum(np.square(eq.ffe)))), delay=d)
