"""Helpers of the benchmark suites (see conftest.py): timing, peers, extra_info and targets."""
from __future__ import annotations

import time

import pytest

#: Every comparison of the session, and those below their target.
REPORT: list[str] = []
BELOW: list[str] = []


def peer(module: str, package: str | None = None):
    """Import a peer, or skip this comparison saying how to install it."""
    return pytest.importorskip(
        module, reason=f"peer {package or module} is not installed, so this comparison is skipped "
                       f"(pip install {package or module}, or pip install -e \".[bench]\")")


def best_seconds(fn, repeats: int) -> float:
    """Fastest of ``repeats`` calls of ``fn`` (after one warm-up), in seconds."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def photolink_seconds(benchmark, fn, rounds: int) -> float:
    """Time ``fn`` with pytest-benchmark (best round); by hand when benchmarking is disabled."""
    benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        return float(stats.stats.min)
    return best_seconds(fn, rounds)


def photolink_seconds_and_result(benchmark, fn, rounds: int):
    """:func:`photolink_seconds` of ``fn``, and what its last call returned (no extra run for
    figures the timed call already computed)."""
    last = []
    seconds = photolink_seconds(benchmark, lambda: last.append(fn()), rounds)
    return seconds, last[-1]


def record(request, benchmark, *, photolink_rate: float, peer_rate: float | None, unit: str,
           target: float | None, peer_name: str, ratio: float | None = None,
           higher_is_better: bool = True, **extra) -> float | None:
    """Put the figures in ``extra_info``, remember the verdict, and with ``--check-targets``
    fail when the ratio is below (or, ``higher_is_better=False``, above) its target."""
    if ratio is None and peer_rate:
        ratio = photolink_rate / peer_rate
    benchmark.extra_info.update(photolink_rate=photolink_rate, peer=peer_name, peer_rate=peer_rate,
                                unit=unit, ratio=ratio, target=target, **extra)
    ok = target is None or ratio is None or (ratio >= target if higher_is_better else ratio <= target)
    sign = ">=" if higher_is_better else "<="
    verdict = "" if target is None else f" (target {sign} {target:g}: {'ok' if ok else 'BELOW TARGET'})"
    peer_txt = f" vs {peer_name} {peer_rate:.4g}" if peer_rate is not None else f" vs {peer_name}"
    line = (f"{request.node.name}: photolink {photolink_rate:.4g}{peer_txt} {unit}; "
            f"ratio {ratio:.3g}{verdict}" if ratio is not None else
            f"{request.node.name}: photolink {photolink_rate:.4g} {unit}")
    REPORT.append(line)
    if not ok:
        BELOW.append(line)
        if request.config.getoption("--check-targets"):
            pytest.fail(f"below target: {line}", pytrace=False)
    return ratio
