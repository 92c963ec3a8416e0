"""Modulation formats and their closed-form error rates over AWGN.

SNR convention ([ref:snr-convention]): mean symbol power over mean noise power at the decision
point, per symbol, over all the dimensions the symbol uses. PAM levels are
``-(M-1), ..., -1, +1, ..., M-1`` (spacing 2) with Gray labels.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from .._util import validate as v

#: SNRs accepted by closed forms and simulations, in dB.
SNR_DB_RANGE = (-30.0, 80.0)


def q_function(x: ArrayLike) -> float | np.ndarray:
    """Gaussian tail Q(x) = P[N(0,1) > x], accurate far into the tail (scipy ``ndtr``)."""
    return special.ndtr(-np.asarray(x, dtype=np.float64))


def db_to_linear(x_db):
    """10^(x/10) for scalars or arrays."""
    return 10.0 ** (np.asarray(x_db, dtype=np.float64) / 10.0)


def _snr_linear(snr_db) -> np.ndarray:
    return db_to_linear(v.real_array("snr_db", snr_db, lo=SNR_DB_RANGE[0], hi=SNR_DB_RANGE[1]))


def _scalar_or_array(x: np.ndarray):
    return float(x) if x.ndim == 0 else x


def gray(labels):
    """Binary-reflected Gray code of integer level indices."""
    labels = np.asarray(labels)
    return labels ^ (labels >> 1)


def _hamming_matrix(bits: int) -> np.ndarray:
    g = gray(np.arange(1 << bits))
    x = g[:, None] ^ g[None, :]
    return np.array([[bin(int(e)).count("1") for e in row] for row in x], dtype=np.float64)


def _pam_transition_probs(levels: int, sigma: np.ndarray) -> np.ndarray:
    """P[decide j | sent i] for unit-spaced-by-2 PAM levels, shape sigma.shape + (M, M)."""
    s = sigma[..., None, None]
    i = np.arange(levels)[:, None]
    j = np.arange(levels)[None, :]
    k = (j - i).astype(np.float64)
    lower = np.where(j == 0, -np.inf, 2 * k - 1)   # region of j relative to level i
    upper = np.where(j == levels - 1, np.inf, 2 * k + 1)
    # Use the tail that keeps precision: below the sent level, ndtr of negative arguments.
    left = special.ndtr(upper / s) - special.ndtr(lower / s)
    right = special.ndtr(-lower / s) - special.ndtr(-upper / s)
    return np.where(k < 0, left, right)


@dataclass(frozen=True)
class PAM:
    """M-level pulse-amplitude modulation with Gray labels.

    Parameters
    ----------
    M : int
        Number of levels, a power of two from 2 to 64.

    Examples
    --------
    >>> from photolink import PAM4
    >>> f"{PAM4.ber_awgn(17.66):.3e}"
    '2.383e-04'
    """

    M: int
    bits_per_symbol: int = field(init=False)

    def __post_init__(self):
        m = v.integer("M", self.M, lo=2, hi=64)
        if m & (m - 1):
            raise ValueError(f"M must be a power of two in [2, 64], got {self.M!r}")
        object.__setattr__(self, "M", m)
        object.__setattr__(self, "bits_per_symbol", m.bit_length() - 1)

    @property
    def name(self) -> str:
        return f"PAM{self.M}"

    @property
    def levels(self) -> np.ndarray:
        """Level amplitudes -(M-1), ..., M-1 in steps of 2."""
        return np.arange(-(self.M - 1), self.M, 2, dtype=np.float64)

    @property
    def labels(self) -> np.ndarray:
        """Gray label of each level, in level order."""
        return gray(np.arange(self.M))

    @property
    def mean_power(self) -> float:
        """Mean symbol power (M^2 - 1) / 3 of equiprobable levels."""
        return (self.M**2 - 1) / 3.0

    def noise_sigma(self, snr_db: float) -> float:
        """Noise standard deviation giving ``snr_db`` at these level amplitudes."""
        snr_db = v.real("snr_db", snr_db, lo=SNR_DB_RANGE[0], hi=SNR_DB_RANGE[1])
        return float(np.sqrt(self.mean_power / db_to_linear(snr_db)))

    def ser_awgn(self, snr_db: ArrayLike) -> float | np.ndarray:
        """Symbol error rate 2(1 - 1/M) Q(sqrt(3 SNR / (M^2 - 1))); scalar or array."""
        snr = _snr_linear(snr_db)
        ser = 2 * (1 - 1 / self.M) * q_function(np.sqrt(3 * snr / (self.M**2 - 1)))
        return _scalar_or_array(ser)

    def ber_awgn(self, snr_db: ArrayLike) -> float | np.ndarray:
        """Exact Gray-labelled bit error rate, every level transition included; scalar or array."""
        snr = _snr_linear(snr_db)
        p = _pam_transition_probs(self.M, np.sqrt(self.mean_power / snr))
        ham = _hamming_matrix(self.bits_per_symbol)
        ber = (p * ham).sum(axis=(-2, -1)) / (self.M * self.bits_per_symbol)
        return _scalar_or_array(ber)

    def snr_db_for_ber(self, ber: float | np.ndarray) -> float | np.ndarray:
        """SNR (dB) at which :meth:`ber_awgn` equals ``ber`` (1e-30 <= ber < 0.2); an array of
        BERs gives an array of SNRs of the same shape."""
        if np.ndim(ber) > 0:
            return _invert_each(self.snr_db_for_ber, ber)
        return _invert(self.ber_awgn, v.real("ber", ber, lo=1e-30, hi=0.2, hi_open=True))

    def __str__(self) -> str:
        return self.name


def _invert_each(inverse, ber) -> np.ndarray:
    """``inverse`` (a scalar inverse function) over every element of an array of BERs."""
    arr = v.real_array("ber", ber, lo=1e-30, hi=0.2)
    return np.array([inverse(float(b)) for b in arr.ravel()]).reshape(arr.shape)


def _invert(curve, target: float) -> float:
    """SNR in dB where a decreasing error-rate curve crosses ``target``."""
    from scipy import (
        optimize,  # imported here: it is heavy and only root-finding needs it
    )
    f = lambda s: np.log(max(curve(s), 1e-300)) - np.log(target)  # noqa: E731
    lo, hi = SNR_DB_RANGE
    if f(lo) < 0 or f(hi) > 0:
        raise ValueError(f"target error rate {target!r} is not reached within SNR {SNR_DB_RANGE} dB")
    return float(optimize.brentq(f, lo, hi, xtol=1e-10))


NRZ = PAM2 = PAM(2)
PAM4 = PAM(4)
PAM8 = PAM(8)


#: Quadrant (0: I>0 and Q>0, counted counter-clockwise) of a point from its rail sign bits,
#: indexed by 2 * I-sign + Q-sign (sign bit 1 = positive half). Consecutive quadrants differ in
#: one bit, so the sign bits are a Gray code of the quadrant.
QUADRANT_OF_SIGNS = (2, 1, 3, 0)
SIGNS_OF_QUADRANT = (3, 1, 0, 2)


@dataclass(frozen=True)
class QAM:
    """Square M-QAM with Gray labels per rail, on one or two polarisations.

    Each rail (I or Q) is a sqrt(M)-PAM (levels -(L-1), ..., L-1 in steps of 2, Gray labels)
    whose power-to-noise ratio equals the symbol SNR (half the power, half the circular noise),
    so the Gray BER of M-QAM equals that of sqrt(M)-PAM at the same SNR (Proakis, Digital
    Communications, ch. 4-5; [ref:qam-ser]). ``snr_db`` is the SNR of
    [ref:snr-convention]: mean symbol power over mean circular noise power, per polarisation (the same
    number for the dual-polarisation symbol, both powers doubling).

    One *symbol* of the format carries all polarisations: ``bits_per_symbol`` counts both, a
    simulated stream counts dual-polarisation symbols, and :meth:`ser_awgn` is the probability
    that a dual-polarisation symbol has any error (pass ``per_polarization=True`` for the
    textbook per-polarisation SER).

    Bit order of a symbol label (and of ``BerResult.error_bits``), MSB first:
    ``[X-I rail, X-Q rail, Y-I rail, Y-Q rail]``, each rail's Gray label MSB first (its MSB is
    the sign bit); single polarisation ``[I, Q]``.

    Parameters
    ----------
    M : int
        Constellation size: 4 (QPSK), 16, 64 or 256.
    polarizations : int
        1 or 2 (dual polarisation).

    Examples
    --------
    >>> from photolink import DP_16QAM
    >>> DP_16QAM.bits_per_symbol
    8
    >>> round(DP_16QAM.ber_awgn(16.0), 6)
    0.001791
    """

    M: int
    polarizations: int = 2
    bits_per_symbol: int = field(init=False)

    def __post_init__(self):
        m = v.integer("M", self.M, lo=4, hi=256)
        if m not in (4, 16, 64, 256):
            raise ValueError(f"M must be a square power of two (4, 16, 64 or 256), got {self.M!r}")
        if isinstance(self.polarizations, (bool, np.bool_)) or not isinstance(self.polarizations, numbers.Integral):
            raise TypeError(f"polarizations must be the integer 1 or 2, got {self.polarizations!r}")
        if self.polarizations not in (1, 2):
            raise ValueError(f"polarizations must be 1 or 2 (single or dual polarisation), "
                             f"got {self.polarizations!r}")
        pol = int(self.polarizations)
        object.__setattr__(self, "M", m)
        object.__setattr__(self, "polarizations", pol)
        object.__setattr__(self, "bits_per_symbol", pol * (m.bit_length() - 1))

    @property
    def name(self) -> str:
        base = "QPSK" if self.M == 4 else f"{self.M}QAM"
        return f"DP-{base}" if self.polarizations == 2 else base

    @property
    def rail(self) -> PAM:
        """The sqrt(M)-PAM carried on each of I and Q."""
        return PAM(int(round(np.sqrt(self.M))))

    @property
    def bits_per_rail(self) -> int:
        return self.rail.bits_per_symbol

    @property
    def mean_power(self) -> float:
        """Mean power 2 (M - 1) / 3 of one polarisation's symbol (rail levels +-1, +-3, ...)."""
        return 2.0 * (self.M - 1) / 3.0

    @property
    def constellation(self) -> np.ndarray:
        """Complex points of one polarisation, indexed by their label ``(gI << b) | gQ``."""
        rail = self.rail
        b = self.bits_per_rail
        level_of_label = np.empty(rail.M)
        level_of_label[rail.labels] = rail.levels
        labels = np.arange(self.M)
        return level_of_label[labels >> b] + 1j * level_of_label[labels & (rail.M - 1)]

    def noise_sigma(self, snr_db: float) -> float:
        """Noise standard deviation per real dimension giving ``snr_db`` at these amplitudes."""
        return self.rail.noise_sigma(snr_db)

    def ser_awgn(self, snr_db: ArrayLike, per_polarization: bool = False) -> float | np.ndarray:
        """Symbol error rate over AWGN; scalar or array.

        By default the probability that a symbol of this format (all polarisations) has an
        error, 1 - (1 - P_rail)^(2 * polarizations), which is what ``BerResult.ser`` estimates;
        with ``per_polarization=True`` the textbook SER of one polarisation, 1 - (1 - P_rail)^2.
        """
        p_rail = np.asarray(self.rail.ser_awgn(snr_db))
        rails = 2 if per_polarization else 2 * self.polarizations
        return _scalar_or_array(-np.expm1(rails * np.log1p(-p_rail)))

    def ber_awgn(self, snr_db: ArrayLike, differential: bool = False) -> float | np.ndarray:
        """Exact Gray bit error rate over AWGN; scalar or array.

        Without differential coding it is that of the rail PAM at the same SNR. With quadrant
        differential coding (see :class:`photolink.symbols.coherent.CarrierRecovery`) it is evaluated
        exactly by enumerating sent and decided points and the quadrant error of the previous
        symbol (ideal carrier, independent noise from symbol to symbol).
        """
        if not differential:
            return self.rail.ber_awgn(snr_db)
        return _scalar_or_array(_differential_ber(self, _snr_linear(snr_db)))

    def snr_db_for_ber(self, ber: float | np.ndarray, differential: bool = False
                       ) -> float | np.ndarray:
        """SNR (dB) at which :meth:`ber_awgn` equals ``ber``; elementwise for an array."""
        if np.ndim(ber) > 0:
            return _invert_each(lambda b: self.snr_db_for_ber(b, differential), ber)
        ber = v.real("ber", ber, lo=1e-30, hi=0.2, hi_open=True)
        if not differential:
            return self.rail.snr_db_for_ber(ber)
        return _invert(lambda s: self.ber_awgn(s, differential=True), ber)

    def __str__(self) -> str:
        return self.name


def _quadrant_and_inner(fmt: QAM) -> tuple[np.ndarray, np.ndarray]:
    """Quadrant and inner label (position after rotating back to quadrant 0) of each point,
    indexed by rail level indices ``[iI, iQ]``."""
    L = fmt.rail.M
    b = fmt.bits_per_rail
    top = L - 1
    g = gray(np.arange(L))
    ii, iq = np.meshgrid(np.arange(L), np.arange(L), indexing="ij")
    quad = np.asarray(QUADRANT_OF_SIGNS)[2 * (g[ii] >> (b - 1)) + (g[iq] >> (b - 1))]
    # rotate back by -90 deg per quadrant: (I, Q) -> (Q, -I), i.e. (iI, iQ) -> (iQ, top - iI)
    ri, rq = ii.copy(), iq.copy()
    for _ in range(3):
        turn = quad > _
        ri, rq = np.where(turn, rq, ri), np.where(turn, top - ri, rq)
    inner_mask = (1 << (b - 1)) - 1
    inner = ((g[ri] & inner_mask) << (b - 1)) | (g[rq] & inner_mask)
    return quad, inner


def _differential_ber(fmt: QAM, snr: np.ndarray) -> np.ndarray:
    L = fmt.rail.M
    b = fmt.bits_per_rail
    p = _pam_transition_probs(L, np.sqrt(fmt.rail.mean_power / snr))      # (..., L, L)
    # joint[..., iI, iQ, jI, jQ] = P[decide (jI, jQ) | sent (iI, iQ)] / M
    joint = p[..., :, None, :, None] * p[..., None, :, None, :] / fmt.M
    quad, inner = _quadrant_and_inner(fmt)
    inner_bits = 2 * (b - 1)
    ham = np.array([bin(k).count("1") for k in range(1 << max(inner_bits, 1))], dtype=np.float64)
    inner_err = ham[inner[:, :, None, None] ^ inner[None, None, :, :]]
    e_inner = (joint * inner_err).sum(axis=(-4, -3, -2, -1))
    delta = (quad[None, None, :, :] - quad[:, :, None, None]) % 4
    p_delta = np.stack([(joint * (delta == k)).sum(axis=(-4, -3, -2, -1)) for k in range(4)], axis=-1)
    # quadrant-bit errors of the increment: Gray-adjacent increments cost 1 bit, opposite 2
    cost = np.array([0.0, 1.0, 2.0, 1.0])
    e_quad = sum(p_delta[..., d] * p_delta[..., e] * cost[(d - e) % 4] for d in range(4) for e in range(4))
    return (e_inner + e_quad) / (2 * b)


QPSK = QAM(4, polarizations=1)
DP_QPSK = QAM(4)
DP_16QAM = QAM(16)
DP_64QAM = QAM(64)
