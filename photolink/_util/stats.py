"""Confidence intervals for Monte-Carlo counts."""
from __future__ import annotations

import math

import numpy as np
from scipy import special


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided binomial confidence interval for ``k`` events in ``n`` trials.

    Zero events give ``(0, upper)`` with upper ~ 3.7/n at 95 %; never a bare 0.

    Parameters
    ----------
    k, n : int
        Events and trials, 0 <= k <= n.
    confidence : float
        Two-sided coverage, in (0, 1).
    """
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n={n}], got {k}")
    alpha = 1.0 - confidence
    # Beta quantiles (scipy.special.betaincinv is scipy.stats.beta.ppf without its import cost).
    lo = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, alpha / 2))
    hi = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1 - alpha / 2))
    return (lo, hi)


def normal_quantile(confidence: float) -> float:
    """z such that a normal variable lies within +-z sd with the given two-sided probability."""
    return float(special.ndtri(0.5 + confidence / 2))


def mean_interval(mean: float, std_error: float, confidence: float = 0.95) -> tuple[float, float]:
    """Normal-approximation interval ``mean +- z * std_error``, clipped at 0 below."""
    z = normal_quantile(confidence)
    return (max(0.0, mean - z * std_error), mean + z * std_error)


def batch_means_interval(mean: float, batch_means, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval of ``mean`` from the means of its batches (nan, nan with fewer than two)."""
    means = np.asarray(batch_means, np.float64)
    if means.size < 2:
        return (math.nan, math.nan)
    # the Student-t quantile from scipy.special: scipy.stats is too heavy for the import path
    half = float(special.stdtrit(means.size - 1, 0.5 + confidence / 2) * means.std(ddof=1) / math.sqrt(means.size))
    return (mean - half, mean + half)


def relative_half_width(ci: tuple[float, float], value: float) -> float:
    """Half the interval's width over the value (inf when the value is 0)."""
    return (ci[1] - ci[0]) / 2 / value if value > 0 else math.inf
