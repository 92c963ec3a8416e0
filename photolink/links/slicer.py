"""The statistical slicer of the electrical lanes: exact residual-ISI distribution, Gaussian noise.

:class:`Eye` is what the SerDes lane (:mod:`photolink.links.serdes`) and COM
(:mod:`photolink.links.com`) leave at the slicer: its BER, noise margin and COM-like figure.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from .._util import validate as v
from ..symbols.formats import PAM, _hamming_matrix

#: Bins of the residual-ISI distribution in the statistical eye (convolution grid) ...
EYE_BINS = 2048
#: ... and the points it is collapsed onto for the BER integral.
EYE_POINTS = 256


class Eye:
    """Statistical eye of a PAM slicer: exact residual-ISI distribution, Gaussian noise.

    Residual-ISI taps too small for the grid are added to the Gaussian noise (their variance),
    the rest are convolved exactly on an ``EYE_BINS`` grid. ``ber(extra_db)`` is then a few
    thousand ``ndtr`` calls, cheap enough for root finding.
    """

    def __init__(self, fmt: PAM, cursor: float, isi: np.ndarray, sigma: float):
        self.fmt, self.cursor, self.sigma = fmt, float(cursor), float(sigma)
        levels = fmt.levels
        isi = np.asarray(isi, dtype=np.float64)
        reach = float(np.sum(np.abs(isi))) * (fmt.M - 1)
        step = 2 * reach / (EYE_BINS - 1) if reach > 0 else 1.0
        small = np.abs(isi) * (fmt.M - 1) < 2 * step
        self.sigma_isi_gauss = math.sqrt(fmt.mean_power * float(np.sum(isi[small] ** 2)))
        pmf = np.zeros(EYE_BINS)
        pmf[EYE_BINS // 2] = 1.0
        for tap in isi[~small]:
            new = np.zeros_like(pmf)
            for s in np.rint(tap * levels / step).astype(int):
                if s >= 0:
                    new[s:] += pmf[:EYE_BINS - s]
                else:
                    new[:s] += pmf[-s:]
            pmf = new / fmt.M
        # Collapse onto EYE_POINTS bins, each at its probability-weighted mean value.
        values = (np.arange(EYE_BINS) - EYE_BINS // 2) * step
        group = np.arange(EYE_BINS) // (EYE_BINS // EYE_POINTS)
        probs = np.bincount(group, weights=pmf, minlength=EYE_POINTS)
        sums = np.bincount(group, weights=pmf * values, minlength=EYE_POINTS)
        keep = probs > 1e-300
        self.probs = probs[keep]
        self.values = sums[keep] / self.probs
        self._thresholds = cursor * np.arange(-fmt.M + 2, fmt.M - 1, 2, dtype=np.float64)
        self._ham = _hamming_matrix(fmt.bits_per_symbol)

    def ber(self, extra_noise_db: float = 0.0) -> float:
        """BER with the Gaussian noise (not the residual ISI) raised by ``extra_noise_db``."""
        return self._ber(extra_noise_db, 1.0)

    def _ber(self, extra_noise_db: float, gain: float) -> float:
        """BER with the Gaussian noise raised by ``extra_noise_db`` and the cursor (signal and
        decision thresholds) scaled by ``gain``."""
        fmt = self.fmt
        s = math.hypot(self.sigma * 10.0 ** (extra_noise_db / 20.0), self.sigma_isi_gauss)
        if s == 0:
            return 0.0
        thresholds = self._thresholds * gain
        lo = np.concatenate([[-np.inf], thresholds])
        hi = np.concatenate([thresholds, [np.inf]])
        total = 0.0
        j = np.arange(fmt.M)
        for i, level in enumerate(fmt.levels):
            x = (self.cursor * gain * level + self.values)[:, None]
            below = special.ndtr((hi - x) / s) - special.ndtr((lo - x) / s)
            above = special.ndtr((x - lo) / s) - special.ndtr((x - hi) / s)
            p = np.where(j < i, below, above)
            w = self._ham[i].copy()
            w[i] = 0.0
            total += float(self.probs @ (p @ w))
        return total / (fmt.M * fmt.bits_per_symbol)

    def com_like_db(self, target_ber: float) -> float:
        """COM-like figure: 20 log10 of the factor by which noise *and* residual ISI may grow
        (equivalently, the signal shrink) before the BER reaches ``target_ber``.

        IEEE 802.3 COM is 20 log10(A_s / A_ni) with A_ni the noise-plus-interference amplitude
        exceeded with the detector error ratio DER0; scaling every impairment by 10^(x/20) until
        the error ratio is the target gives the same x. A channel passes COM at >= 3 dB
        [ref:com-pass-3db].
        """
        target = v.real("target_ber", target_ber, lo=1e-30, hi=0.4)
        f = lambda d: math.log(max(self._ber_scaled(d), 1e-320)) - math.log(target)  # noqa: E731
        lo, hi = -30.0, 30.0
        if f(hi) < 0:
            return hi
        if f(lo) > 0:
            return -math.inf
        return float(optimize.brentq(f, lo, hi, xtol=1e-4))

    def _ber_scaled(self, up_db: float) -> float:
        """BER with every impairment ``up_db`` dB larger relative to the signal."""
        return self._ber(0.0, 10.0 ** (-up_db / 20.0))

    def noise_margin_db(self, target_ber: float) -> float:
        """dB by which the Gaussian noise can rise (or must fall, < 0) for the BER to reach ``target_ber``."""
        target = v.real("target_ber", target_ber, lo=1e-30, hi=0.4)
        f = lambda d: math.log(max(self.ber(d), 1e-320)) - math.log(target)  # noqa: E731
        lo, hi = -30.0, 30.0
        if f(hi) < 0:            # even 30 dB more noise leaves the BER below target
            return hi
        if f(lo) > 0:            # residual ISI alone closes the eye
            return -math.inf
        return float(optimize.brentq(f, lo, hi, xtol=1e-4))
