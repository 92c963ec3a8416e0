"""Traffic offered to a path: when packets enter the source queue and how large they are.

A traffic object is a specification; :meth:`photolink.Path.run` resolves it against the path's
bottleneck rate (``load`` is a fraction of that rate) and asks for packets chunk by chunk.
Chunk ``c`` draws from its own random streams, so the packets depend on the seed alone.

Examples
--------
>>> import photolink as pl
>>> pl.traffic.Poisson(load=0.7, packet_bytes=4096, size_distribution="fixed")  # doctest: +ELLIPSIS
Poisson(load=0.7, packet_bytes=4096, ...)
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._util import rng as _rng
from .._util import validate as v

#: Default packet size when none is given, bytes.
DEFAULT_PACKET_BYTES = 1500.0
#: Largest packet accepted, bytes.
MAX_PACKET_BYTES = 1e7
#: Latest entry time of a packet, ns (about 11.6 days): trace times, and the span of a run's
#: arrivals (n_packets times the mean gap) for the other traffic.
MAX_TIME_NS = 1e15

__all__ = ["ConstantRate", "OnOff", "Poisson", "Trace", "Traffic"]


class Traffic:
    """Base of all traffic specifications."""

    @property
    def mean_packet_bytes(self) -> float:
        raise NotImplementedError

    def offered_load(self, bottleneck_gbps: float) -> float:
        """Offered load as a fraction of ``bottleneck_gbps``."""
        raise NotImplementedError

    def _source(self, bottleneck_gbps: float, n_packets: int) -> "_Source":
        raise NotImplementedError


class _Sizes:
    """Packet-size law: fixed, exponential or a discrete distribution."""

    def __init__(self, packet_bytes, size_distribution):
        if isinstance(size_distribution, Mapping):
            if packet_bytes is not None:
                raise ValueError("packet_bytes must be None when size_distribution is a "
                                 f"{{size_bytes: weight}} mapping, got packet_bytes={packet_bytes!r}")
            if not size_distribution:
                raise ValueError("size_distribution must not be an empty mapping")
            sizes = v.real_array("size_distribution sizes", list(size_distribution.keys()),
                                 lo=1.0, hi=MAX_PACKET_BYTES)
            weights = v.real_array("size_distribution weights", list(size_distribution.values()),
                                   lo=0.0, hi=math.inf)
            if not weights.sum() > 0:
                raise ValueError(f"size_distribution weights must not all be 0, got {weights.tolist()}")
            self.distribution = "discrete"
            self.values = sizes
            self.cdf = np.cumsum(weights) / weights.sum()
            self.cdf[-1] = 1.0
            self.mean = float(sizes @ (weights / weights.sum()))
            self.min = float(sizes[weights > 0].min())
        else:
            distribution = v.choice("size_distribution", size_distribution, {"fixed", "exponential"})
            mean = DEFAULT_PACKET_BYTES if packet_bytes is None else \
                v.real("packet_bytes", packet_bytes, lo=1.0, hi=MAX_PACKET_BYTES)
            self.distribution, self.mean = distribution, mean
            self.min = mean if distribution == "fixed" else 0.0

    def draw(self, bit_generator, n: int):
        """n sizes (bytes) from bit_generator, or None for fixed sizes."""
        if self.distribution == "fixed":
            return None
        g = np.random.Generator(bit_generator)
        if self.distribution == "exponential":
            return g.standard_exponential(n) * self.mean
        return self.values[np.searchsorted(self.cdf, g.random(n), side="right").clip(0, self.values.size - 1)]


def _load(name, value, hi=math.inf):
    return v.real(name, value, lo=0.0, hi=hi, lo_open=True)


@dataclass(frozen=True)
class _Rated(Traffic):
    """Traffic defined by a load (fraction of the bottleneck rate) and a size law."""

    load: float
    packet_bytes: float | None = None
    size_distribution: object = "fixed"
    _sizes: _Sizes = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "load", _load("load", self.load, hi=100.0))
        object.__setattr__(self, "_sizes", _Sizes(self.packet_bytes, self.size_distribution))

    @property
    def mean_packet_bytes(self) -> float:
        return self._sizes.mean

    def offered_load(self, bottleneck_gbps: float) -> float:
        return self.load

    def _mean_gap_ns(self, bottleneck_gbps: float) -> float:
        return 8.0 * self._sizes.mean / (self.load * bottleneck_gbps)


@dataclass(frozen=True)
class Poisson(_Rated):
    """Poisson arrivals (exponential gaps) at ``load`` times the bottleneck rate.

    Parameters
    ----------
    load : float
        Mean offered bit rate over the bottleneck link's rate, > 0.
    packet_bytes : float, optional
        Mean packet size (default 1500 B); None with a size mapping.
    size_distribution : {"fixed", "exponential"} or mapping
        ``"fixed"`` sizes, ``"exponential"`` sizes of mean ``packet_bytes``, or a
        ``{size_bytes: weight}`` mapping.
    """

    def _source(self, bottleneck_gbps, n_packets):
        gap = self._mean_gap_ns(bottleneck_gbps)

        def gaps(bg, start, n):
            return np.random.Generator(bg).standard_exponential(n) * gap
        return _Source(self._sizes, gaps, gaps=True)


@dataclass(frozen=True)
class ConstantRate(_Rated):
    """Packets at a constant spacing (mean size over ``load`` times the bottleneck rate).

    Parameters are those of :class:`Poisson`; the first packet enters at time 0.
    """

    def _source(self, bottleneck_gbps, n_packets):
        gap = self._mean_gap_ns(bottleneck_gbps)

        def times(bg, start, n):
            return (start + np.arange(n, dtype=np.float64)) * gap
        return _Source(self._sizes, times, gaps=False, random_times=False)


@dataclass(frozen=True)
class OnOff(_Rated):
    """Bursts at ``peak_load`` separated by exponential idle periods.

    A burst holds a geometric number of packets (mean ``burst_packets``) spaced at
    ``peak_load`` times the bottleneck rate; idle periods are exponential, with the mean that
    makes the long-run load equal ``load``.

    Parameters
    ----------
    load, packet_bytes, size_distribution
        As for :class:`Poisson`; ``load <= peak_load``.
    burst_packets : float
        Mean packets per burst, >= 1.
    peak_load : float
        Rate within a burst over the bottleneck rate (1: back to back at line rate).
    """

    burst_packets: float = 16.0
    peak_load: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "burst_packets", v.real("burst_packets", self.burst_packets, lo=1.0, hi=1e9))
        object.__setattr__(self, "peak_load", _load("peak_load", self.peak_load, hi=100.0))
        if self.load > self.peak_load:
            raise ValueError(f"load must be <= peak_load={self.peak_load}, got {self.load}")

    def _source(self, bottleneck_gbps, n_packets):
        spacing = 8.0 * self._sizes.mean / (self.peak_load * bottleneck_gbps)
        idle_mean = self.burst_packets * (self._mean_gap_ns(bottleneck_gbps) - spacing)
        p_start = 1.0 / self.burst_packets

        def gaps(bg, start, n):
            g = np.random.Generator(bg)
            starts = g.random(n) < p_start
            idle = g.standard_exponential(n) * idle_mean
            return spacing + np.where(starts, idle, 0.0)
        return _Source(self._sizes, gaps, gaps=True)


@dataclass(frozen=True, eq=False)
class Trace(Traffic):
    """A user trace: entry times into the source queue and packet sizes.

    Parameters
    ----------
    times_ns : array_like
        Non-decreasing, finite entry times, ns, >= 0.
    sizes_bytes : array_like or float
        Packet sizes (1 byte to ``MAX_PACKET_BYTES``), one per time, or one size for all.
    """

    times_ns: np.ndarray
    sizes_bytes: np.ndarray | float

    def __post_init__(self):
        if isinstance(self.times_ns, (str, bytes)):
            raise TypeError(f"times_ns must be an array of times in ns, got {self.times_ns!r}")
        t = v.real_array("times_ns", self.times_ns, lo=0.0, hi=MAX_TIME_NS)
        if t.ndim != 1 or t.size == 0:
            raise ValueError(f"times_ns must be a non-empty 1-D array, got shape {t.shape}")
        d = np.diff(t)
        if d.size and d.min() < 0:
            i = int(np.argmax(d < 0))
            raise ValueError(f"times_ns must be sorted (non-decreasing): times_ns[{i + 1}]="
                             f"{t[i + 1]!r} < times_ns[{i}]={t[i]!r}")
        if isinstance(self.sizes_bytes, (str, bytes)):
            raise TypeError(f"sizes_bytes must be a size or an array of sizes in bytes, got {self.sizes_bytes!r}")
        s = v.real_array("sizes_bytes", self.sizes_bytes, lo=1.0, hi=MAX_PACKET_BYTES)
        if s.ndim == 0:
            s = np.full(t.size, float(s))
        if s.shape != t.shape:
            raise ValueError(f"sizes_bytes must be one size or one per time ({t.size}), got shape {s.shape}")
        # Own read-only copies: the caller's arrays stay writable and later edits to them
        # cannot change the trace.
        t = np.array(t, dtype=np.float64, copy=True)
        s = np.array(s, dtype=np.float64, copy=True)
        t.setflags(write=False)
        s.setflags(write=False)
        object.__setattr__(self, "times_ns", t)
        object.__setattr__(self, "sizes_bytes", s)

    def __len__(self) -> int:
        return self.times_ns.size

    @property
    def mean_packet_bytes(self) -> float:
        return float(self.sizes_bytes.mean())

    def offered_load(self, bottleneck_gbps: float) -> float:
        """Bits offered over what the bottleneck sends from the first entry until the last
        packet could be out (1.0 for packets back to back at the bottleneck rate)."""
        bits = 8.0 * self.sizes_bytes.sum()
        span = self.times_ns[-1] - self.times_ns[0] + 8.0 * self.sizes_bytes[-1] / bottleneck_gbps
        return bits / (span * bottleneck_gbps)

    def _source(self, bottleneck_gbps, n_packets):
        if n_packets > self.times_ns.size:
            raise ValueError(f"n_packets must be at most the trace length {self.times_ns.size}, got {n_packets}")
        return _TraceSource(self)


class _Source:
    """Packets of one run, chunk by chunk: a pure function of (seed, chunk index)."""

    def __init__(self, sizes: _Sizes, times, gaps: bool, random_times: bool = True):
        self.sizes, self._times, self.gaps, self._random_times = sizes, times, gaps, random_times

    @property
    def fixed_size(self) -> float:
        return self.sizes.mean if self.sizes.distribution == "fixed" else 0.0

    def chunk(self, ss_times, ss_sizes, index: int, start: int, n: int):
        """(times, sizes or None) of packets start .. start + n - 1 (chunk ``index``).

        With ``self.gaps`` the times are gaps from the previous packet's entry (the first
        packet of a run enters at its gap after time 0).
        """
        bg = _rng.chunk_bit_generator(ss_times, index) if self._random_times else None
        times = self._times(bg, start, n)
        sizes = None
        if self.sizes.distribution != "fixed":
            sizes = self.sizes.draw(_rng.chunk_bit_generator(ss_sizes, index), n)
        return times, sizes


class _TraceSource(_Source):
    def __init__(self, trace: Trace):
        self.trace, self.gaps = trace, False

    @property
    def fixed_size(self) -> float:
        return 0.0

    def chunk(self, ss_times, ss_sizes, index, start, n):
        return self.trace.times_ns[start:start + n], self.trace.sizes_bytes[start:start + n]
