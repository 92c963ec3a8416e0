"""Max-min fair rate sharing by progressive filling, and the event loop that runs it over time.

The one solver behind both flow-level modes: :mod:`photolink.net.flowsim` (one flow per row,
weight 1) and :mod:`photolink.net.flowscale` (flow classes with multiplicities and fluid route
shares as weights) ([ref:coll-maxmin]).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["max_min_weighted", "send_times"]

_EPS = 1e-9


def max_min_weighted(cls: np.ndarray, link: np.ndarray, weight: np.ndarray, n_classes: int,
                     capacity: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Max-min fair per-flow rates of classes by progressive filling.

    Parameters
    ----------
    cls, link, weight : numpy.ndarray
        The incidence as triples: class ``cls[i]`` loads link ``link[i]`` with ``weight[i]`` x its
        per-flow rate (multiplicity x share of its bytes on that link).
    n_classes : int
    capacity : numpy.ndarray
        Per link.
    cap : numpy.ndarray
        Per class: a flow's own largest rate (``inf``: none).

    Returns
    -------
    numpy.ndarray
        Per class: the rate of each of its flows.
    """
    n_l = capacity.size
    rate = np.zeros(n_classes)
    free = np.ones(n_classes, bool)
    used = np.zeros(n_l)
    finite_cap = np.isfinite(cap)
    level = 0.0
    while np.any(free):
        live = free[cls]
        a = np.bincount(link[live], weights=weight[live], minlength=n_l)
        on = a > 0
        room = (capacity[on] - used[on]) / a[on]
        delta = min(float(room.min()) if room.size else math.inf, float((cap[free] - level).min()))
        if not math.isfinite(delta):
            raise ValueError("a flow crosses no link and has no cap: its rate is unbounded")
        delta = max(delta, 0.0)
        level += delta
        used += a * delta
        sat = on & (capacity - used <= _EPS * capacity)
        hit = np.bincount(cls[live & sat[link]], minlength=n_classes) > 0
        frozen = free & (hit | (finite_cap & (cap - level <= _EPS * np.maximum(cap, 1.0))))
        if not np.any(frozen):  # pragma: no cover - rounding; freeze the tightest
            frozen = free.copy()
        rate[frozen] = level
        free &= ~frozen
    return rate


def send_times(cls: np.ndarray, link: np.ndarray, weight: np.ndarray, n_c: int, capacity: np.ndarray,
               cap: np.ndarray, bytes_: np.ndarray, start: np.ndarray) -> np.ndarray:
    """When each class (or flow) has sent its last byte, classes entering at ``start``.

    Event loop: between starts and ends every active class is sent at its max-min fair rate
    (:func:`max_min_weighted` over the active classes, recomputed at every event). Arguments as
    :func:`max_min_weighted`, plus ``bytes_`` and ``start`` per class (a flow of a class sends
    ``bytes_``); returns per class the time its last byte leaves (same unit as ``start``).
    """
    left = bytes_.astype(np.float64).copy()
    sent = np.full(n_c, np.nan)
    order = np.argsort(start, kind="stable")
    nxt = 0
    active = np.zeros(n_c, bool)
    t = float(start[order[0]]) if n_c else 0.0
    while nxt < n_c or np.any(active):
        while nxt < n_c and start[order[nxt]] <= t * (1 + _EPS):
            active[order[nxt]] = True
            nxt += 1
        idx = np.flatnonzero(active)
        t_start = float(start[order[nxt]]) if nxt < n_c else math.inf
        if idx.size:
            sub = active[cls]
            local = np.cumsum(active) - 1
            rate = max_min_weighted(local[cls[sub]], link[sub], weight[sub], idx.size, capacity, cap[idx])
            with np.errstate(divide="ignore"):
                t_end = t + left[idx] / rate
            t_next = min(t_start, float(t_end.min()))
            left[idx] -= rate * (t_next - t)
            done = idx[(t_end <= t_next * (1 + _EPS)) | (left[idx] <= _EPS * bytes_[idx])]
        else:
            t_next, done = t_start, idx
        sent[done] = t_next
        active[done] = False
        left[done] = 0.0
        t = t_next
    return sent
