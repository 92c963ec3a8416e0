"""Argument checks shared by the public API.

Each check raises ``TypeError`` for a wrong type and ``ValueError`` for a value outside its
range, naming the parameter, the value and what is allowed, before any C code runs.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Mapping

import numpy as np


def real(name: str, value, *, lo: float = -math.inf, hi: float = math.inf,
         lo_open: bool = False, hi_open: bool = False) -> float:
    """A finite real number in [lo, hi] (or the open variant)."""
    interval = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in {interval}, got {type(value).__name__} {value!r}")
    x = float(value)
    lo_ok = x > lo if lo_open else x >= lo
    hi_ok = x < hi if hi_open else x <= hi
    if not math.isfinite(x) or not (lo_ok and hi_ok):
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")
    return x


def integer(name: str, value, *, lo: int, hi: int) -> int:
    """An integer in [lo, hi]; floats such as 1e6 are accepted when integral."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer in [{lo}, {hi}], got bool {value!r}")
    if isinstance(value, numbers.Integral):
        n = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        n = int(value)
    else:
        raise TypeError(f"{name} must be an integer in [{lo}, {hi}], got {type(value).__name__} {value!r}")
    if not lo <= n <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return n


#: Most elements an array argument may hold (8 GB of float64): larger requests are refused
#: up front rather than attempted.
MAX_ARRAY_SIZE = 10**9


def real_array(name: str, value, *, lo: float = -math.inf, hi: float = math.inf,
               max_size: int = MAX_ARRAY_SIZE) -> np.ndarray:
    """A float64 array (any shape, at most ``max_size`` elements) of finite values in [lo, hi]."""
    size = np.size(value) if isinstance(value, np.ndarray) else None
    if size is not None and size > max_size:
        raise ValueError(f"{name} must hold at most {max_size} values, got {size}")
    try:
        if isinstance(value, (str, bytes)) or np.asarray(value).dtype.kind in "bUSVMmc":
            raise TypeError
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or an array of them, got {value!r}") from None
    if arr.size > max_size:
        raise ValueError(f"{name} must hold at most {max_size} values, got {arr.size}")
    if arr.size and not (np.all(np.isfinite(arr)) and arr.min() >= lo and arr.max() <= hi):
        bad = arr[~(np.isfinite(arr) & (arr >= lo) & (arr <= hi))].flat[0]
        raise ValueError(f"{name} must hold finite values in [{lo}, {hi}], got {bad!r}")
    return arr


#: Largest filter tap magnitude: the kernels' sums of products of taps stay finite (64 taps of
#: 1e100 through a 64-tap FFE stay below 1e206). Only ratios of taps matter, so scale them.
MAX_TAP = 1e100


def taps(name: str, value, *, max_len: int) -> np.ndarray:
    """A non-empty 1-D contiguous float64 array of finite filter taps, |tap| <= MAX_TAP."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a sequence of real taps, got {value!r}")
    try:
        if np.ndim(value) != 1:
            raise TypeError
        arr = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of real taps, got {value!r}") from None
    if arr.ndim != 1 or not 1 <= arr.size <= max_len:
        raise ValueError(f"{name} must be a 1-D sequence of 1 to {max_len} taps, got shape {arr.shape}")
    if not np.all(np.isfinite(arr) & (np.abs(arr) <= MAX_TAP)):
        raise ValueError(f"{name} must hold finite taps with |tap| <= {MAX_TAP:g} (only their ratios "
                         f"matter: scale them), got {arr.tolist()}")
    return arr


def unset(value) -> bool:
    """True for the 'option not used' values None, False and 0 (arrays are never unset)."""
    return value is None or (isinstance(value, (numbers.Number, np.bool_)) and value == 0)


def choice(name: str, value, allowed) -> str:
    """One of a fixed set of strings."""
    if not isinstance(value, Hashable) or isinstance(value, np.ndarray) or value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def boolean(name: str, value) -> bool:
    """True or False (numpy booleans too; 0 and 1 are not booleans)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be true or false, got {type(value).__name__} {value!r}")
    return bool(value)


def string(name: str, value) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty string, got {type(value).__name__} {value!r}")
    return value


def mapping(name: str, value) -> dict:
    """A mapping (a TOML table, a dict), returned as a new dict."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a table (mapping), got {type(value).__name__} {value!r}")
    return dict(value)


#: Seeds are integers in [0, 2**128), the range numpy's SeedSequence takes as one entropy word.
MAX_SEED = 2**128 - 1


def seed(name: str, value) -> int:
    """A seed written as a plain integer (configs, jobs): an integer >= 0 and < 2**128."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 0, got {type(value).__name__} {value!r}")
    if not 0 <= int(value) <= MAX_SEED:
        raise ValueError(f"{name} must be an integer >= 0 and < 2**128, got {value!r}")
    return int(value)


def detail(name: str, exc: Exception) -> str:
    """The message of a check's exception without its leading parameter name, for callers that
    put the name elsewhere (a config's key path: ``links.dac.length_m: must be ...``)."""
    text = str(exc)
    return text[len(name) + 1:] if text.startswith(name + " ") else text


#: Largest per-item result an option may ask for (error records, raw latencies), bytes.
MAX_RESULT_BYTES = 2 << 30


def within_result_cap(name: str, n: int, bytes_each: int, what: str, hint: str, *,
                      upper_bound: bool = False) -> None:
    """Refuse, before any work, ``n`` items of ``bytes_each`` bytes of ``what`` above
    :data:`MAX_RESULT_BYTES`; the message says how much the run would (``upper_bound``: could)
    need and what to do."""
    if n * bytes_each > MAX_RESULT_BYTES:
        gib = 1 << 30
        raise ValueError(
            f"{name}={n} {'could need' if upper_bound else 'needs'} {n * bytes_each / gib:.3g} GiB "
            f"of {what} ({bytes_each} bytes each); "
            f"the cap is {MAX_RESULT_BYTES / gib:.3g} GiB, so {name} must be in "
            f"[1, {MAX_RESULT_BYTES // bytes_each}]: {hint}")
