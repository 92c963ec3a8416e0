"""Assertions for users' own pytest suites: "this setting is not statistically worse".

Example
-------
>>> import photolink as pl
>>> from photolink.testing import assert_not_worse
>>> base = pl.simulate_ber(pl.PAM4, 18.0, 10**6, seed=1)
>>> assert_not_worse(pl.simulate_ber(pl.PAM4, 18.0, 10**6, seed=2), base)

The same one-sided test as ``photolink regress check`` (see :mod:`photolink.studies.regress`).
"""
from __future__ import annotations

import math

from scipy import stats as _st

from .studies import regress as _regress
from .symbols.estimate import BerEstimate
from .symbols.stream import BerResult


def _counts(x, what: str) -> tuple[int, int]:
    if isinstance(x, BerResult):
        return x.bursts, x.symbols
    if isinstance(x, dict) and "error_events" in x and "symbols" in x:
        return int(x["error_events"]), int(x["symbols"])
    if isinstance(x, tuple) and len(x) == 2:
        return int(x[0]), int(x[1])
    raise TypeError(f"{what} must be a BerResult, a simulated BER row (with error_events and "
                    f"symbols) or an (events, trials) tuple; got {type(x).__name__}")


def _estimate(x):
    """(ber, standard error) of a BerEstimate (importance or Monte Carlo), else None."""
    if isinstance(x, BerEstimate) and x.method != "statistical-eye":
        lo, hi = x.ci
        z = _st.norm.ppf(0.5 + x.confidence / 2)
        return float(x.ber), float((hi - lo) / (2 * z))
    return None


def worse_p_value(current, baseline) -> float:
    """One-sided p-value that ``current`` has a higher error-event rate than ``baseline``.

    Arguments are :class:`photolink.BerResult`, sweep rows of simulated BER cases, or
    ``(events, trials)`` tuples (Fisher exact test on error events, runs of consecutive symbol
    errors); or two :class:`photolink.BerEstimate` of ``estimate_ber`` with an interval
    (importance, Monte Carlo: a one-sided z-test, as ``photolink regress check``).
    """
    a, b = _estimate(current), _estimate(baseline)
    if (a is None) != (b is None):
        raise TypeError("current and baseline must both be counts or both be estimates with an "
                        f"interval; got {type(current).__name__} and {type(baseline).__name__}")
    if a is not None:
        if not all(math.isfinite(x) for x in (*a, *b)):
            return 0.0
        return _regress.z_worse_p(a[0], a[1], b[0], b[1])
    k1, n1 = _counts(current, "current")
    k0, n0 = _counts(baseline, "baseline")
    return _regress.fisher_worse_p(k1, n1, k0, n0)


def assert_not_worse(current, baseline, *, confidence: float = 0.99) -> None:
    """Fail (AssertionError) when ``current`` is statistically worse than ``baseline``.

    One-sided Fisher exact test on error events at level ``1 - confidence``: an unchanged
    setting fails at most ``1 - confidence`` of the time.
    """
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence!r}")
    p = worse_p_value(current, baseline)
    if p < 1 - confidence and _estimate(current) is not None:
        raise AssertionError(
            f"BER estimate is statistically worse than the baseline: {current.ber:.3e} "
            f"{current.ci} vs {baseline.ber:.3e} {baseline.ci}, one-sided z-test p = {p:.3g} < "
            f"{1 - confidence:.3g}")
    if p < 1 - confidence:
        k1, n1 = _counts(current, "current")
        k0, n0 = _counts(baseline, "baseline")
        raise AssertionError(
            f"error rate is statistically worse than the baseline: {k1}/{n1} vs {k0}/{n0} error "
            f"events ({k1 / n1:.3e} vs {k0 / n0:.3e}), one-sided Fisher p = {p:.3g} < "
            f"{1 - confidence:.3g}")


def assert_no_regression(config, baseline, *, seed: int | None = None,
                         confidence: float | None = None, workers: int | None = 1) -> None:
    """Rerun a config's cases and fail when any is statistically worse than the baseline file.

    The AssertionError carries the readable table of ``photolink regress check``.
    """
    report = _regress.check(config, baseline, seed=seed, confidence=confidence, workers=workers)
    if not report.ok:
        raise AssertionError("\n" + report.table())
