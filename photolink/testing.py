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

from typing import Any, Mapping

from .links.link import LinkResult
from .net.path import PathResult
from .studies import regress as _regress
from .symbols.estimate import BerEstimate
from .symbols.stream import BerResult

#: What :func:`assert_not_worse` compares (the results ``photolink regress`` handles).
ACCEPTED = ("a BerResult (simulate_ber), a BerEstimate (estimate_ber), a LinkResult (evaluate or "
            "simulate), a PathResult (Path.run), a sweep or regress row (dict) of kind ber, link or "
            "path, or an (events, trials) tuple")


def _kind_and_row(x: Any, what: str) -> tuple[str, dict]:
    """The regress kind and row of a result, so that regress's own test applies."""
    if isinstance(x, BerResult):
        return "ber", {"method": "simulate", "error_events": x.bursts, "symbols": x.symbols}
    if isinstance(x, BerEstimate):
        return "ber", {"method": x.method, "ber": x.ber, "ber_ci_low": x.ci[0],
                       "ber_ci_high": x.ci[1], "confidence": x.confidence}
    if isinstance(x, LinkResult):
        return "link", x.to_dict()
    if isinstance(x, PathResult):
        return "path", {"n_packets": x.n_packets, "lost": x.lost, "loss_ratio": x.loss_ratio}
    if isinstance(x, tuple) and len(x) == 2:
        return "ber", {"method": "simulate", "error_events": int(x[0]), "symbols": int(x[1])}
    if isinstance(x, Mapping):
        row = dict(x)
        if "error_events" in row and "symbols" in row:
            return "ber", {**row, "method": row.get("method", "simulate")}
        if "method" in row and "ber" in row:
            return "ber", row
        if "n_packets" in row or "packets" in row:
            return "path", row
        if "pre_fec_ber" in row:
            return "link", row
    raise TypeError(f"{what} must be {ACCEPTED}; got {type(x).__name__}")


def worse_p_value(current, baseline) -> float:
    """One-sided p-value that ``current`` is worse than ``baseline`` (the test of
    ``photolink regress check``: Fisher's exact test on error events or lost packets, a z-test
    on importance-sampled estimates, a strict comparison of deterministic figures).

    Arguments: see :data:`ACCEPTED`; both must be of the same kind.
    """
    return _compare(current, baseline)[1]


def _compare(current, baseline) -> tuple[str, float, str, str]:
    """``(kind, p, detail, statistic type)`` of ``current`` against ``baseline``."""
    k1, row1 = _kind_and_row(current, "current")
    k0, row0 = _kind_and_row(baseline, "baseline")
    if k1 != k0:
        raise TypeError(f"current is a {k1} result and baseline a {k0} result: compare like with like")
    s1, s0 = _regress.statistic(k1, row1), _regress.statistic(k0, row0)
    if s1["type"] != s0["type"]:
        raise TypeError(f"current is compared by {s1['name']} and baseline by {s0['name']}: "
                        f"record the baseline with the same method")
    p, detail = _regress.worse_p_value(k1, row1, row0)
    return k1, p, detail, s1["type"]


def assert_not_worse(current, baseline, *, confidence: float = 0.99) -> None:
    """Fail (AssertionError) when ``current`` is statistically worse than ``baseline``.

    One-sided test at level ``1 - confidence`` (see :func:`worse_p_value`): an unchanged
    setting fails at most ``1 - confidence`` of the time. Arguments: see :data:`ACCEPTED`.
    """
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence!r}")
    kind, p, detail, stat_type = _compare(current, baseline)
    if p < 1 - confidence:
        test = {"counts": "Fisher", "estimate": "z-test"}.get(stat_type, "deterministic comparison,")
        raise AssertionError(f"{kind} result is statistically worse than the baseline: {detail}, "
                             f"one-sided {test} p = {p:.3g} < {1 - confidence:.3g}")


def assert_no_regression(config, baseline, *, seed: int | None = None,
                         confidence: float | None = None, workers: int | None = 1) -> None:
    """Rerun a config's cases and fail when any is statistically worse than the baseline file.

    The AssertionError carries the readable table of ``photolink regress check``.
    """
    report = _regress.check(config, baseline, seed=seed, confidence=confidence, workers=workers)
    if not report.ok:
        raise AssertionError("\n" + report.table())
