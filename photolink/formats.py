"""Modulation formats and their closed-form error rates over AWGN.

SNR convention (REFERENCE.md): mean symbol power over mean noise power at the decision
point, per symbol, over all the dimensions the symbol uses. PAM levels are
``-(M-1), ..., -1, +1, ..., M-1`` (spacing 2) with Gray labels.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from . import _validate as v

#: SNRs accepted by closed forms and simulations, in dB.
SNR_DB_RANGE = (-30.0, 80.0)


def q_function(x):
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
    >>> round(PAM4.ber_awgn(17.66), 6)
    0.00024
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

    def ser_awgn(self, snr_db):
        """Symbol error rate 2(1 - 1/M) Q(sqrt(3 SNR / (M^2 - 1))); scalar or array."""
        snr = _snr_linear(snr_db)
        ser = 2 * (1 - 1 / self.M) * q_function(np.sqrt(3 * snr / (self.M**2 - 1)))
        return _scalar_or_array(ser)

    def ber_awgn(self, snr_db):
        """Exact Gray-labelled bit error rate, every level transition included; scalar or array."""
        snr = _snr_linear(snr_db)
        p = _pam_transition_probs(self.M, np.sqrt(self.mean_power / snr))
        ham = _hamming_matrix(self.bits_per_symbol)
        ber = (p * ham).sum(axis=(-2, -1)) / (self.M * self.bits_per_symbol)
        return _scalar_or_array(ber)

    def snr_db_for_ber(self, ber: float) -> float:
        """SNR (dB) at which :meth:`ber_awgn` equals ``ber`` (1e-30 <= ber < 0.5 * worst case)."""
        return _invert(self.ber_awgn, v.real("ber", ber, lo=1e-30, hi=0.2, hi_open=True))

    def __str__(self) -> str:
        return self.name


def _invert(curve, target: float) -> float:
    """SNR in dB where a decreasing error-rate curve crosses ``target``."""
    f = lambda s: np.log(max(curve(s), 1e-300)) - np.log(target)  # noqa: E731
    lo, hi = SNR_DB_RANGE
    if f(lo) < 0 or f(hi) > 0:
        raise ValueError(f"target error rate {target!r} is not reached within SNR {SNR_DB_RANGE} dB")
    return float(optimize.brentq(f, lo, hi, xtol=1e-10))


NRZ = PAM2 = PAM(2)
PAM4 = PAM(4)
PAM8 = PAM(8)


@dataclass(frozen=True)
class QAM:
    """Square M-QAM with Gray labels per rail, on one or two polarisations.

    Each rail (I or Q) is a sqrt(M)-PAM whose power-to-noise ratio equals the symbol SNR (half
    the power, half the circular noise), so Gray BER of M-QAM equals that of sqrt(M)-PAM at the
    same SNR (Proakis, Digital Communications, ch. 4-5). ``snr_db`` is per polarisation.

    Parameters
    ----------
    M : int
        Constellation size, 4, 16, 64 or 256.
    polarizations : int
        1 or 2 (dual polarisation).
    """

    M: int
    polarizations: int = 2
    bits_per_symbol: int = field(init=False)

    def __post_init__(self):
        m = v.integer("M", self.M, lo=4, hi=256)
        if m not in (4, 16, 64, 256):
            raise ValueError(f"M must be a square power of two in (4, 16, 64, 256), got {self.M!r}")
        pol = v.integer("polarizations", self.polarizations, lo=1, hi=2)
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

    def ser_awgn(self, snr_db):
        """Symbol error rate per polarisation, 1 - (1 - P_rail)^2; scalar or array."""
        p_rail = np.asarray(self.rail.ser_awgn(snr_db))
        return _scalar_or_array(-np.expm1(2 * np.log1p(-p_rail)))

    def ber_awgn(self, snr_db):
        """Exact Gray bit error rate (that of the rail PAM at the same SNR); scalar or array."""
        return self.rail.ber_awgn(snr_db)

    def snr_db_for_ber(self, ber: float) -> float:
        """SNR (dB) per polarisation at which :meth:`ber_awgn` equals ``ber``."""
        return self.rail.snr_db_for_ber(ber)

    def __str__(self) -> str:
        return self.name


QPSK = QAM(4, polarizations=1)
DP_QPSK = QAM(4)
DP_16QAM = QAM(16)
DP_64QAM = QAM(64)
