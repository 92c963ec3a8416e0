"""Channels (pulse responses) and equalisers (FFE + DFE).

A channel is its symbol-spaced pulse response: ``taps[cursor]`` is the main cursor, taps
before it are pre-cursors and taps after it post-cursors. With a channel, ``snr_db`` in the
simulators is referred to the main cursor at the receiver input,
``SNR = E|a|^2 * taps[cursor]^2 / sigma^2``, so that for an ideal channel it is the decision-point
SNR of [ref:snr-convention] and an equaliser's noise enhancement and residual ISI show up as the
penalty they are.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._util import validate as v
from ._pam_stream import MAX_TAPS


@dataclass(frozen=True)
class Channel:
    """A symbol-spaced pulse response.

    Parameters
    ----------
    taps : sequence of float
        Pulse response samples, 1 to 64 of them.
    cursor : int
        Index of the main cursor in ``taps`` (default: the largest magnitude).
    """

    taps: tuple
    cursor: int | None = None

    def __post_init__(self):
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
