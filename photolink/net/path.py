"""Multi-hop paths: packets through links and switches, measured as loss, latency and jitter.

The model, per packet and per link (the C kernel csrc/path.c does the work):

- **Queue** in front of each link (the source's NIC for the first link, the switch's output port
  otherwise): FIFO, one server, so the start of transmission follows the Lindley recursion
  ``start = max(eligible, link free)``. Finite buffers drop at the tail: a packet is refused when
  the bytes accepted and not yet sent (the unfinished work) plus its own exceed the buffer.
- **Link**: serialisation ``8 * bytes / rate_gbps``, then the fixed components (propagation,
  PCS/FEC decode, DSP, ...), then the FEC hold: every bit leaves the receiver's decoder
  ``fec_hold_ns`` after it arrived (a whole codeword is accumulated before it is decoded).
- **Node**: a store-and-forward node may forward a packet once its last bit is out of the
  decoder; a cut-through node once its first bit is (never so early that a faster outgoing link
  would run out of bits). A switch adds its latency. Two links in a row meet at an implicit
  store-and-forward node without latency or buffer limit.
- **Errors**: each link's payload bit stream is cut into a fixed grid of FEC codewords; a
  transmission is corrupted when any codeword it touches failed (a codeword shared by two
  packets corrupts both). Without FEC (``codeword_bits=0``) each frame is one trial with
  probability ``cwer``. A corrupted frame dies at the next store-and-forward node or at the
  destination; through cut-through nodes it travels on (stomped) and keeps occupying links.
- **Recovery**: ``drop`` (the packet is lost), ``llr`` (the link resends after a replay round
  trip; the link carries nothing useful meanwhile, as in go-back-N, and at most ``max_retries``
  resends), ``e2e`` (the source retransmits a lost packet, tail drops included, ``timeout_ns``
  after the lost copy entered the source queue).

Modes: ``statistical`` draws each link's codeword failures with geometric skips (a rare failure
costs nothing until it happens); ``exact`` takes the outcome of every touched codeword from the
link's ``LinkModel.codeword_failures(n, seed)`` (the symbol stream through FEC), or, when a link
has none, from one Bernoulli(cwer) draw per codeword.

Reproducibility: packets are processed in order of entry into the source queue, one at a time
through all links, so the queues couple packets exactly as in one long simulation. A run is cut
into chunks of :data:`CHUNK_PACKETS` packets (the default of the private keyword
``chunk_packets`` of ``Path._run``, which tests set small); chunk ``c`` draws its arrivals, sizes and
failures from its own streams (``_rng.chunk_bit_generator``), and the kernel state (queues,
codeword positions, pending retransmissions, statistics) is carried from chunk to chunk. The
result depends on the seed alone: threads only generate traffic ahead of the (sequential)
kernel, and splitting a chunk into several kernel calls changes nothing.
"""
from __future__ import annotations

import math
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import batch_means_interval, clopper_pearson
from ..links.model import LinkModel
from . import _path
from .traffic import MAX_TIME_NS, Trace, Traffic

#: Packets per chunk (one set of random streams each); default of ``Path._run``'s private
#: keyword ``chunk_packets``.
CHUNK_PACKETS = 1 << 16
#: Codeword outcomes asked from ``codeword_failures`` at a time in exact mode; default of
#: ``Path._run``'s private keyword ``exact_block``.
EXACT_BLOCK = 1 << 14
#: Most codeword outcomes one packet may need in exact mode (its span times its LLR attempts).
MAX_EXACT_OUTCOMES = 1 << 20
#: Largest run, and largest run whose raw latencies may be returned.
MAX_PACKETS = 10**13
#: Most memory the raw latencies of one ``return_latencies=True`` run may take (2 GiB, 8 bytes a
#: packet), checked before the run starts.
MAX_LATENCY_BYTES = v.MAX_RESULT_BYTES
MAX_PACKETS_WITH_LATENCIES = MAX_LATENCY_BYTES // 8
#: Batches for the batch-means confidence interval of the mean latency.
N_BATCHES = 32

LATENCY_QUANTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9, "p99.99": 99.99, "max": 100.0}
IPDV_QUANTILES = {"min": 0.0, "p0.1": 0.1, "p1": 1.0, "p50": 50.0, "p99": 99.0, "p99.9": 99.9, "max": 100.0}

MODES = {"statistical", "exact"}

__all__ = ["E2E", "LLR", "HopStats", "Path", "PathResult", "Switch"]


# --------------------------------------------------------------------------------------------
# hops and policies

@dataclass(frozen=True)
class Switch:
    """A switch between two links.

    Parameters
    ----------
    latency_ns : float
        Port-to-port latency added to every packet (first bit in to first bit out for
        cut-through, last bit in to first bit out for store-and-forward), ns.
    mode : {"cut-through", "store-and-forward"}
    buffer_bytes : float
        Output buffer in front of the next link; ``math.inf`` is unbounded.
    name : str
    """

    latency_ns: float = 0.0
    mode: str = "cut-through"
    buffer_bytes: float = math.inf
    name: str = "switch"

    def __post_init__(self):
        object.__setattr__(self, "latency_ns", v.real("latency_ns", self.latency_ns, lo=0.0, hi=1e9))
        v.choice("mode", self.mode, {"cut-through", "store-and-forward"})
        b = self.buffer_bytes
        if not (isinstance(b, (int, float, np.integer, np.floating)) and not isinstance(b, bool)
                and (b == math.inf or (math.isfinite(b) and b >= 1))):
            raise ValueError(f"buffer_bytes must be a number >= 1 or math.inf, got {b!r}")
        object.__setattr__(self, "buffer_bytes", float(b))

    @property
    def cut_through(self) -> bool:
        return self.mode == "cut-through"


@dataclass(frozen=True)
class LLR:
    """Link-level retry: a link resends a corrupted frame after a replay round trip.

    Parameters
    ----------
    max_retries : int
        Resends per link and packet before the packet is given up (lost).
    replay_ns : float, optional
        From the end of a failed transmission to the start of its resend. None: twice the
        link's fixed latency plus FEC hold (the receiver learns of the failure when the codeword
        is decoded, and the request travels back as far).
    """

    max_retries: int = 3
    replay_ns: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "max_retries", v.integer("max_retries", self.max_retries, lo=0, hi=1000))
        if self.replay_ns is not None:
            object.__setattr__(self, "replay_ns", v.real("replay_ns", self.replay_ns, lo=0.0, hi=1e9))

    def replay_for(self, fixed_latency_ns: float | np.ndarray, fec_hold_ns: float | np.ndarray) -> float | np.ndarray:
        """The replay time of a link (or an array of links) with this fixed latency and FEC hold,
        ns: ``replay_ns``, or by default twice their sum."""
        twice = 2.0 * (np.asarray(fixed_latency_ns, np.float64) + fec_hold_ns)
        out = twice if self.replay_ns is None else np.full_like(twice, self.replay_ns)
        return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class E2E:
    """End-to-end retransmission: the source resends a lost packet after a timeout.

    Parameters
    ----------
    timeout_ns : float, optional
        From a copy entering the source queue to its retransmission. None: four zero-load
        round trips (eight one-way zero-load latencies of a mean-size packet).
    max_retries : int
        Retransmissions per packet before it is given up.
    """

    timeout_ns: float | None = None
    max_retries: int = 3

    def __post_init__(self):
        object.__setattr__(self, "max_retries", v.integer("max_retries", self.max_retries, lo=0, hi=1000))
        if self.timeout_ns is not None:
            object.__setattr__(self, "timeout_ns", v.real("timeout_ns", self.timeout_ns, lo=0.0, hi=1e15, lo_open=True))


def _policy(recovery):
    if isinstance(recovery, (LLR, E2E)):
        return recovery
    v.choice("recovery", recovery, {"drop", "llr", "e2e"})
    return {"drop": None, "llr": LLR(), "e2e": E2E()}[recovery]


def _as_link_model(hop, index: int) -> LinkModel:
    if isinstance(hop, LinkModel):
        return hop
    make = getattr(hop, "link_model", None)
    if callable(make):
        model = make()
        if not isinstance(model, LinkModel):
            raise TypeError(f"hops[{index}].link_model() must return a LinkModel, got {type(model).__name__}")
        return model
    raise TypeError(f"hops[{index}] must be a photolink.Switch, a LinkModel or a link with a "
                    f"link_model() method, got {type(hop).__name__} {hop!r}")


# --------------------------------------------------------------------------------------------
# results

@dataclass(frozen=True)
class HopStats:
    """What one hop of the path did during a run.

    A link reports its transmissions; the queue in front of a link is reported by the switch
    that holds it, or by the link itself when no switch precedes it (the source's queue, or the
    implicit node between two links).

    Attributes
    ----------
    name : str
    element : {"link", "switch"}
    packets : int
        Packets offered to the queue this hop holds (0 for a link whose queue is a switch's).
    tail_drops : int
    mean_wait_ns, max_wait_ns : float
        Queueing wait in that queue.
    transmissions, failed_transmissions, retries : int
        Link only: transmissions including LLR resends, corrupted ones, LLR resends.
    corrupted_packets : int
        Link only: packets that left this link corrupted for good (after any resends).
    mean_serialisation_ns : float
        Link only: mean serialisation time per packet (resends not counted).
    fixed_latency_ns, fec_hold_ns : float
        Link only.
    latency_ns : float
        Switch only.
    utilisation : float
        Link only: fraction of the run the link was busy (resends and replay gaps included).
    """

    name: str
    element: str
    packets: int = 0
    tail_drops: int = 0
    mean_wait_ns: float = 0.0
    max_wait_ns: float = 0.0
    transmissions: int = 0
    failed_transmissions: int = 0
    retries: int = 0
    corrupted_packets: int = 0
    mean_serialisation_ns: float = 0.0
    fixed_latency_ns: float = 0.0
    fec_hold_ns: float = 0.0
    latency_ns: float = 0.0
    utilisation: float = 0.0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _nearest_rank(q, n: int) -> int:
    """1-based rank of the q-th percentile of n values (nearest-rank definition)."""
    r = math.ceil(Fraction(str(float(q))) * n / 100)
    return min(max(r, 1), n)


class _Histogram:
    """Bucket midpoints of the kernel's log-bucketed histograms (see csrc/path.h)."""

    _mid = {}

    @classmethod
    def midpoints(cls, sub_bits: int = _path.HIST_SUB_BITS) -> np.ndarray:
        if sub_bits not in cls._mid:
            n = (_path.HIST_MAX_EXP - _path.HIST_MIN_EXP) << sub_bits
            base = (1023 + _path.HIST_MIN_EXP) << sub_bits
            bits = (np.arange(n + 1, dtype=np.int64) + base) << (52 - sub_bits)
            e = bits.view(np.float64)
            cls._mid[sub_bits] = 0.5 * (e[:-1] + e[1:])
        return cls._mid[sub_bits]


#: Largest relative error of a latency percentile read from the histogram (half a bucket).
HISTOGRAM_RELATIVE_ERROR = 2.0 ** -(_path.HIST_SUB_BITS + 1)
#: The same for IPDV percentiles (magnitudes above 2^-12 ns; below, IPDV counts as 0).
IPDV_RELATIVE_ERROR = 2.0 ** -(_path.IPDV_SUB_BITS + 1)


def _quantiles_from_counts(values: np.ndarray, counts: np.ndarray, qs, lo: float, hi: float) -> list[float]:
    """Nearest-rank percentiles ``qs`` of values with counts; exact ``lo`` and ``hi`` at 0 and 100."""
    cum = np.cumsum(counts, dtype=np.int64)
    n = int(cum[-1])
    out = []
    for q in qs:
        if n == 0:
            out.append(math.nan)
        elif q <= 0:
            out.append(lo)
        elif q >= 100:
            out.append(hi)
        else:
            i = int(np.searchsorted(cum, _nearest_rank(q, n)))
            out.append(float(min(max(values[i], lo), hi)))
    return out


def loss_fields(result) -> dict:
    """Packet counts and loss with its interval: the head of a path's or fabric's ``to_dict()``."""
    return {
        "n_packets": result.n_packets, "delivered": result.delivered, "lost": result.lost,
        "loss_ratio": result.loss_ratio, "loss_ci_low": result.ci[0], "loss_ci_high": result.ci[1],
        "lost_tail_drop": result.lost_tail_drop, "lost_corrupted": result.lost_corrupted,
    }


def latency_fields(result) -> dict:
    """Latency percentiles, mean with its interval and minimum, ns (path and fabric results)."""
    return {
        **{f"latency_{k}_ns": x for k, x in result.latency_percentiles_ns.items()},
        "mean_latency_ns": result.mean_latency_ns,
        "mean_latency_ci_low": result.mean_latency_ci[0],
        "mean_latency_ci_high": result.mean_latency_ci[1],
        "min_latency_ns": result.min_latency_ns,
    }


@dataclass(frozen=True, eq=False)
class PathResult:
    """Packets through a path: loss, latency, jitter, retries, per hop.

    Latency is from a packet's first entry into the source queue to its last bit out of the
    destination's decoder. Percentiles use the nearest-rank definition; without raw latencies
    they come from a log-bucketed histogram and are within :data:`HISTOGRAM_RELATIVE_ERROR`
    (relative) of the exact value; min, max and the mean are exact.

    Attributes
    ----------
    n_packets, delivered, lost : int
    lost_tail_drop, lost_corrupted : int
        Losses by cause (after all recovery).
    llr_retries, e2e_retransmissions : int
    latency_percentiles_ns : dict
        p50, p90, p99, p99.9, p99.99 and max.
    mean_latency_ns : float
    mean_latency_ci : tuple of float
        Batch-means interval of the mean latency (nan when fewer than 2 batches completed).
    min_latency_ns : float
    pdv_percentiles_ns : dict
        RFC 5481 packet delay variation: latency minus the run's minimum latency.
    ipdv_percentiles_ns : dict
        RFC 3393 inter-packet delay variation D(n) - D(n-1), for packets delivered right after
        their predecessor in sequence: min, p0.1, p1, p50, p99, p99.9, max (within
        :data:`IPDV_RELATIVE_ERROR`; min and max exact).
    hops : tuple of HopStats
    goodput_gbps : float
        Delivered payload bits over the time from the first entry to the last delivery.
    duration_ns : float
    mode, recovery : str
    confidence : float
    seed_entropy : int or None
    latencies_ns : numpy.ndarray or None
        Raw latencies in delivery order, when asked for.
    """

    n_packets: int
    delivered: int
    lost: int
    lost_tail_drop: int
    lost_corrupted: int
    llr_retries: int
    e2e_retransmissions: int
    latency_percentiles_ns: Mapping[str, float]
    mean_latency_ns: float
    mean_latency_ci: tuple[float, float]
    min_latency_ns: float
    pdv_percentiles_ns: Mapping[str, float]
    ipdv_percentiles_ns: Mapping[str, float]
    hops: tuple
    goodput_gbps: float
    duration_ns: float
    mode: str
    recovery: str
    confidence: float = 0.95
    seed_entropy: int | None = None
    latencies_ns: np.ndarray | None = None
    _hist: np.ndarray = field(default=None, repr=False)
    _ipdv: tuple = field(default=None, repr=False)

    def __repr__(self) -> str:
        lo, hi = self.ci
        return (f"PathResult({self.n_packets} packets: loss {self.loss_ratio:.3g} [{lo:.3g}, {hi:.3g}], "
                f"mean latency {self.mean_latency_ns:.4g} ns, p99 "
                f"{self.latency_percentiles_ns.get('p99', float('nan')):.4g} ns, "
                f"{self.llr_retries} llr retries)")

    @property
    def loss_ratio(self) -> float:
        return self.lost / self.n_packets

    @property
    def ci(self) -> tuple[float, float]:
        """Clopper-Pearson interval of the loss ratio (upper bound ~3.7/n when nothing is lost)."""
        return clopper_pearson(self.lost, self.n_packets, self.confidence)

    @property
    def retries(self) -> int:
        """All resends: LLR retries plus end-to-end retransmissions."""
        return self.llr_retries + self.e2e_retransmissions

    @property
    def max_latency_ns(self) -> float:
        return self.latency_percentiles_ns["max"]

    def percentile(self, q: float) -> float:
        """Latency percentile ``q`` (0 to 100), ns: exact with raw latencies, else from the histogram."""
        q = v.real("q", q, lo=0.0, hi=100.0)
        if self.delivered == 0:
            return math.nan
        approx = _quantiles_from_counts(_Histogram.midpoints(), self._hist, [q], self.min_latency_ns,
                                        self.latency_percentiles_ns["max"])
        if self.latencies_ns is not None:
            return _raw_percentiles(self.latencies_ns, [q], approx)[0]
        return approx[0]

    def pdv_percentile(self, q: float) -> float:
        """RFC 5481 PDV percentile: latency percentile minus the minimum latency, ns."""
        return self.percentile(q) - self.min_latency_ns

    def ipdv_percentile(self, q: float) -> float:
        """RFC 3393 IPDV percentile ``q`` (0 to 100), ns (from the histogram)."""
        q = v.real("q", q, lo=0.0, hi=100.0)
        return _ipdv_quantiles(self._ipdv, [q])[0]

    def to_dict(self) -> dict:
        """Plain values (raw latencies left out)."""
        return {
            **loss_fields(self),
            "llr_retries": self.llr_retries, "e2e_retransmissions": self.e2e_retransmissions,
            "retries": self.retries,
            **latency_fields(self),
            **{f"pdv_{k}_ns": x for k, x in self.pdv_percentiles_ns.items()},
            **{f"ipdv_{k}_ns": x for k, x in self.ipdv_percentiles_ns.items()},
            "goodput_gbps": self.goodput_gbps, "duration_ns": self.duration_ns,
            "mode": self.mode, "recovery": self.recovery, "confidence": self.confidence,
            "seed_entropy": self.seed_entropy, "hops": [h.to_dict() for h in self.hops],
        }


def _raw_percentiles(raw: np.ndarray, qs, guesses=None) -> list[float]:
    """Nearest-rank percentiles of ``raw`` without copying it when ``guesses`` (the histogram's
    percentiles, within 0.05 %) bracket them: the order statistic is selected among the few
    values near its guess (exact whatever the guess; a wrong guess only falls back to a copy)."""
    n = raw.size
    if n == 0:
        return [math.nan] * len(qs)
    ranks = [_nearest_rank(q, n) - 1 for q in qs]
    out = []
    for i, r in enumerate(ranks):
        g = guesses[i] if guesses is not None else math.nan
        if math.isfinite(g):
            lo, hi = g - abs(g) * 2e-3 - 1e-6, g + abs(g) * 2e-3 + 1e-6
            below = int(np.count_nonzero(raw < lo))
            if below <= r:
                near = raw[(raw >= lo) & (raw <= hi)]
                if r - below < near.size:
                    out.append(float(np.partition(near, r - below)[r - below]))
                    continue
        out.append(float(np.partition(raw, r)[r]))
    return out


def _ipdv_quantiles(ipdv, qs) -> list[float]:
    pos, neg, zero, lo, hi = ipdv
    mid = _Histogram.midpoints(_path.IPDV_SUB_BITS)
    values = np.concatenate([-mid[::-1], [0.0], mid])
    counts = np.concatenate([neg[::-1], [zero], pos])
    return _quantiles_from_counts(values, counts, qs, lo, hi)


# --------------------------------------------------------------------------------------------
# the path

@dataclass(frozen=True, eq=False)
class Path:
    """An ordered path of links and switches from a source to a destination.

    Parameters
    ----------
    hops : sequence
        Links (:class:`photolink.links.model.LinkModel` or anything with a ``link_model()`` method, such
        as ``photolink.Link``) and :class:`Switch` es. The path starts and ends with a link and
        never has two switches in a row; two links in a row meet at an implicit
        store-and-forward node without latency or buffer limit.
    source_buffer_bytes : float
        Capacity of the source's queue in front of the first link (``math.inf``: unbounded).

    Examples
    --------
    >>> import photolink as pl
    >>> from photolink.links.model import LinkModel
    >>> path = pl.Path([LinkModel.ideal(100), pl.Switch(250), LinkModel.ideal(100)])
    >>> r = path.run(pl.traffic.Poisson(load=0.5, packet_bytes=1500), 10_000, seed=1)
    >>> r.delivered
    10000
    """

    hops: Sequence
    source_buffer_bytes: float = math.inf

    def __post_init__(self):
        if isinstance(self.hops, (str, bytes)) or not isinstance(self.hops, Sequence):
            raise TypeError(f"hops must be a sequence of links and switches, got {type(self.hops).__name__}")
        hops = tuple(self.hops)
        if not hops:
            raise ValueError("hops must not be empty: a path needs at least one link")
        models = []
        for i, h in enumerate(hops):
            if isinstance(h, Switch):
                if i == 0 or i == len(hops) - 1:
                    raise ValueError(f"hops[{i}] is a Switch: a path must start and end with a link")
                if isinstance(hops[i - 1], Switch):
                    raise ValueError(f"hops[{i - 1}] and hops[{i}] are both switches: put a link between them")
                models.append(None)
            else:
                models.append(_as_link_model(h, i))
        n_links = sum(m is not None for m in models)
        if n_links > _path.MAX_LINKS:
            raise ValueError(f"a path holds at most {_path.MAX_LINKS} links, got {n_links}")
        b = self.source_buffer_bytes
        if isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)) or \
                not (b == math.inf or (math.isfinite(b) and b >= 1)):
            raise ValueError(f"source_buffer_bytes must be a number >= 1 or math.inf, got {b!r}")
        object.__setattr__(self, "hops", hops)
        object.__setattr__(self, "source_buffer_bytes", float(b))
        object.__setattr__(self, "_models", tuple(models))

    # ---- structure ------------------------------------------------------------------------

    @property
    def links(self) -> tuple[LinkModel, ...]:
        """The links' hop models, in order."""
        return tuple(m for m in self._models if m is not None)

    @property
    def bottleneck_gbps(self) -> float:
        """The slowest link's rate."""
        return min(m.rate_gbps for m in self.links)

    def _nodes(self):
        """For each link: (hop index, model, switch in front or None)."""
        out, prev = [], None
        for i, (h, m) in enumerate(zip(self.hops, self._models)):
            if m is None:
                prev = h
            else:
                out.append((i, m, prev))
                prev = None
        return out

    def _queue_buffers(self):
        return [self.source_buffer_bytes if k == 0 else (sw.buffer_bytes if sw else math.inf)
                for k, (_, _, sw) in enumerate(self._nodes())]

    def zero_load_latency_ns(self, packet_bytes: float) -> float:
        """Latency of one packet through the empty path, ns (the sum of its components)."""
        size = v.real("packet_bytes", packet_bytes, lo=1e-9, hi=1e9)
        nodes = self._nodes()
        t = 0.0
        for k, (_, m, _) in enumerate(nodes):
            start = t
            fin = start + 8.0 * size / m.rate_gbps
            first = start + m.fixed_latency_ns + m.fec_hold_ns
            last = fin + m.fixed_latency_ns + m.fec_hold_ns
            if k + 1 == len(nodes):
                return last
            _, nxt, sw = nodes[k + 1]
            if sw is not None and sw.cut_through:
                t = max(first, last - 8.0 * size / nxt.rate_gbps) + sw.latency_ns
            else:
                t = last + (sw.latency_ns if sw else 0.0)
        return t  # pragma: no cover

    # ---- running ---------------------------------------------------------------------------

    def _check_load(self, traffic: Traffic):
        load = traffic.offered_load(self.bottleneck_gbps)
        buffers = self._queue_buffers()
        for k, (i, m, _) in enumerate(self._nodes()):
            rho = load * self.bottleneck_gbps / m.rate_gbps
            if rho > 1 or (rho == 1 and not isinstance(traffic, Trace)):
                if buffers[k] == math.inf:
                    msg = (f"offered load {rho:.4g} of hops[{i}] ({m.name}, {m.rate_gbps} Gb/s) is >= 1 and "
                           f"its queue is unbounded: the queue would grow without bound. Lower the "
                           f"load or give the queue a finite buffer_bytes (the Switch in front of the "
                           f"link, or Path(source_buffer_bytes=...) for the first link)")
                    if isinstance(traffic, Trace):
                        warnings.warn(msg, RuntimeWarning, stacklevel=3)
                    else:
                        raise ValueError(msg)
                break

    def _kernel_links(self, mode: str, policy):
        out = []
        for k, (_, m, sw) in enumerate(self._nodes()):
            if m.cwer == 0 and (mode == "statistical" or m.codeword_failures is None):
                errors = 0
            else:
                errors = 2 if mode == "exact" else 1
            replay = 0.0
            if isinstance(policy, LLR):
                replay = policy.replay_for(m.fixed_latency_ns, m.fec_hold_ns)
            out.append({
                "rate_gbps": float(m.rate_gbps),
                "fixed_ns": m.fixed_latency_ns, "hold_ns": float(m.fec_hold_ns),
                "codeword_bits": float(m.codeword_bits), "cwer": float(m.cwer),
                "errors": errors, "replay_ns": replay,
                "node_latency_ns": sw.latency_ns if sw else 0.0,
                "buffer_bytes": self._queue_buffers()[k],
                "cut_through": int(bool(sw and sw.cut_through)),
            })
        return out

    def run(self, traffic: Traffic, n_packets: int, *, seed: _rng.SeedLike, mode: str = "statistical",
            recovery: str = "drop", n_threads: int = 1, return_latencies: bool = False,
            confidence: float = 0.95) -> PathResult:
        """Send ``n_packets`` packets of ``traffic`` through the path.

        Parameters
        ----------
        traffic : photolink.net.traffic.Traffic
            Arrivals and sizes; ``load`` is a fraction of :attr:`bottleneck_gbps`.
        n_packets : int
            Fresh packets (1 to 1e13; with ``return_latencies`` at most
            :data:`MAX_PACKETS_WITH_LATENCIES`, 2.7e8, whose latencies fill
            :data:`MAX_LATENCY_BYTES`, 2 GiB); memory stays constant unless raw latencies are
            asked for.
        seed : int, SeedSequence, Generator or None
            The result depends on it alone.
        mode : {"statistical", "exact"}
        recovery : {"drop", "llr", "e2e"} or LLR or E2E
        n_threads : int
            Threads (1 to 256) generating traffic ahead of the kernel; no effect on the result.
        return_latencies : bool
            Keep every latency (``latencies_ns``, delivery order); percentiles are then exact.
        confidence : float
            Coverage of the intervals.

        Returns
        -------
        PathResult

        Raises
        ------
        ValueError
            When a link's offered load is >= 1 with an unbounded queue in front of it (for a
            trace: a RuntimeWarning), or for any argument out of range.
        """
        return self._run(traffic, n_packets, seed=seed, mode=mode, recovery=recovery,
                         n_threads=n_threads, return_latencies=return_latencies, confidence=confidence)

    def _run(self, traffic: Traffic, n_packets: int, *, seed, mode: str = "statistical",
             recovery="drop", n_threads: int = 1, return_latencies: bool = False,
             confidence: float = 0.95, call_packets: int | None = None, link_major: bool = True,
             chunk_packets: int = CHUNK_PACKETS, exact_block: int = EXACT_BLOCK) -> PathResult:
        """:meth:`run` with private knobs for tests and benchmarks.

        ``call_packets`` (1 to ``chunk_packets``, default ``chunk_packets``) splits each chunk
        into kernel calls of that many packets and ``link_major`` picks the kernel's loop order:
        neither changes the result. ``chunk_packets`` (default :data:`CHUNK_PACKETS`) is the
        packets per chunk and ``exact_block`` (default :data:`EXACT_BLOCK`) the codeword
        outcomes asked of a link at a time in exact mode; each chunk and each block has its own
        random stream, so these change which numbers are drawn (not their statistics).
        """
        if not isinstance(traffic, Traffic):
            raise TypeError(f"traffic must be a photolink.net.traffic object (Poisson, ConstantRate, "
                            f"OnOff, Trace), got {type(traffic).__name__}")
        if not isinstance(return_latencies, (bool, np.bool_)):
            raise TypeError(f"return_latencies must be a bool, got {return_latencies!r}")
        n = v.integer("n_packets", n_packets, lo=1, hi=MAX_PACKETS)
        if return_latencies:
            v.within_result_cap("n_packets", n, 8, "latencies with return_latencies=True",
                                "leave return_latencies off (percentiles from the histogram are "
                                "within 0.05 %) or run fewer packets")
        mode = v.choice("mode", mode, MODES)
        policy = _policy(recovery)
        n_threads = v.integer("n_threads", n_threads, lo=1, hi=256)
        confidence = v.real("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        chunk_packets = v.integer("chunk_packets", chunk_packets, lo=1, hi=1 << 24)
        exact_block = v.integer("exact_block", exact_block, lo=1, hi=1 << 24)
        call = chunk_packets if call_packets is None else \
            v.integer("call_packets", call_packets, lo=1, hi=chunk_packets)
        source = traffic._source(self.bottleneck_gbps, n)
        self._check_load(traffic)
        gap = getattr(traffic, "_mean_gap_ns", None)
        if gap is not None and not n * gap(self.bottleneck_gbps) <= MAX_TIME_NS:
            raise ValueError(f"n_packets={n} at load={traffic.load!r} would span about "
                             f"{n * gap(self.bottleneck_gbps):.3g} ns of arrivals; at most {MAX_TIME_NS:g} ns "
                             f"(the range of Trace times): raise the load or lower n_packets")

        recovery = "drop" if policy is None else ("llr" if isinstance(policy, LLR) else "e2e")
        timeout = 0.0
        if isinstance(policy, E2E):
            timeout = policy.timeout_ns if policy.timeout_ns is not None else \
                8.0 * self.zero_load_latency_ns(traffic.mean_packet_bytes)
        max_retries = 0 if policy is None else policy.max_retries
        links = self._kernel_links(mode, policy)

        ss = _rng.seed_sequence(seed)
        ss_times, ss_sizes, ss_errors, ss_exact = (_rng.child(ss, i) for i in range(4))
        ss_links = [_rng.child(ss_errors, i) if d["errors"] == 1 else None for i, d in enumerate(links)]

        def error_streams(c):   # chunk c's failure stream of each statistical link
            return [None if s is None else _rng.chunk_bit_generator(s, c) for s in ss_links]

        batch_len = max(1, n // N_BATCHES)
        error_bgs = error_streams(0)
        kernel = _path.PathKernel(links, recovery=recovery, max_retries=max_retries, timeout_ns=timeout,
                                  batch_len=batch_len, batch_cap=N_BATCHES + 1,
                                  raw_cap=n if return_latencies else 0, bit_generators=error_bgs,
                                  link_major=link_major)
        exact = _Exact(self, ss_exact, exact_block) if mode == "exact" else None

        chunks = _chunks(source, n, ss_times, ss_sizes, n_threads, chunk_packets)
        for c, last, (times, sizes) in chunks:
            if c > 0:
                error_bgs = error_streams(c)
            m = times.size
            for a in range(0, m, call):
                b = min(a + call, m)
                _feed(kernel, exact, times[a:b], source.gaps, None if sizes is None else sizes[a:b],
                      source.fixed_size, error_bgs, last and b == m)
        return self._result(kernel, n, mode, recovery, confidence, ss, return_latencies)

    def _result(self, kernel, n, mode, recovery, confidence, ss, return_latencies) -> PathResult:
        tot = kernel.totals()
        delivered = int(tot["delivered"])
        lost = int(tot["lost_tail_drop"] + tot["lost_corrupted"])
        if delivered + lost != n or tot["pending"]:  # pragma: no cover - an invariant of the kernel
            raise RuntimeError(f"path kernel lost count of packets: {delivered} + {lost} != {n}")
        lo, hi = tot["latency_min"], tot["latency_max"]
        raw = None
        if return_latencies:          # the kernel's own buffer (a copy only when mostly empty)
            raw = kernel.raw[:tot["n_raw"]]
            if raw.size < kernel.raw.size // 2:
                raw = raw.copy()
        hist = kernel.hist.astype(np.int64)
        qs = list(LATENCY_QUANTILES.values())
        if delivered == 0:
            lat = [math.nan] * len(qs)
            lo = hi = mean = math.nan
        elif raw is not None:
            guess = _quantiles_from_counts(_Histogram.midpoints(), hist, qs, lo, hi)
            lat = _raw_percentiles(raw, qs, guess)
            mean = tot["latency_sum"] / delivered
        else:
            lat = _quantiles_from_counts(_Histogram.midpoints(), hist, qs, lo, hi)
            mean = tot["latency_sum"] / delivered
        latency = dict(zip(LATENCY_QUANTILES, lat))
        pdv = {k: x - lo for k, x in latency.items()}
        ipdv_state = (kernel.ipdv_pos.astype(np.int64), kernel.ipdv_neg.astype(np.int64),
                      int(tot["ipdv_zero"]), tot["ipdv_min"], tot["ipdv_max"])
        ipdv = dict(zip(IPDV_QUANTILES, _ipdv_quantiles(ipdv_state, IPDV_QUANTILES.values())))

        mean_ci = batch_means_interval(mean, kernel.batch_means[:tot["n_batches"]], confidence)

        duration = tot["last_delivery"] - tot["first_arrival"] if delivered else math.nan
        goodput = 8.0 * tot["delivered_bytes"] / duration if delivered and duration > 0 else math.nan
        hops = self._hop_stats(kernel.link_stats(), duration)
        return PathResult(
            n_packets=n, delivered=delivered, lost=lost,
            lost_tail_drop=int(tot["lost_tail_drop"]), lost_corrupted=int(tot["lost_corrupted"]),
            llr_retries=int(tot["llr_retries"]), e2e_retransmissions=int(tot["e2e_retransmissions"]),
            latency_percentiles_ns=latency, mean_latency_ns=mean, mean_latency_ci=mean_ci,
            min_latency_ns=lo, pdv_percentiles_ns=pdv, ipdv_percentiles_ns=ipdv, hops=hops,
            goodput_gbps=goodput, duration_ns=duration, mode=mode, recovery=recovery,
            confidence=confidence, seed_entropy=ss.entropy if not ss.spawn_key else None,
            latencies_ns=raw, _hist=hist, _ipdv=ipdv_state)

    def _hop_stats(self, stats, duration) -> tuple:
        out = [None] * len(self.hops)
        for (i, m, sw), s in zip(self._nodes(), stats):
            queue = {
                "packets": int(s["packets"]), "tail_drops": int(s["tail_drops"]),
                "mean_wait_ns": s["wait_sum"] / s["packets"] if s["packets"] else 0.0,
                "max_wait_ns": max(s["wait_max"], 0.0),
            }
            sent = s["packets"] - s["tail_drops"]
            link = {
                "transmissions": int(s["transmissions"]),
                "failed_transmissions": int(s["failed_transmissions"]), "retries": int(s["retries"]),
                "corrupted_packets": int(s["lost_corrupted"]),
                "mean_serialisation_ns": s["service_sum"] / sent if sent else 0.0,
                "fixed_latency_ns": m.fixed_latency_ns, "fec_hold_ns": float(m.fec_hold_ns),
                "utilisation": s["busy_ns"] / duration if duration and duration > 0 else math.nan,
            }
            if sw is None:
                out[i] = HopStats(name=m.name, element="link", **queue, **link)
            else:
                out[i] = HopStats(name=m.name, element="link", **link)
                out[i - 1] = HopStats(name=sw.name, element="switch", latency_ns=sw.latency_ns, **queue)
        return tuple(out)


class _Exact:
    """Exact-mode codeword outcomes of each link, block by block from its own seed."""

    def __init__(self, path: Path, ss, block_size: int = EXACT_BLOCK):
        self.ss = ss
        self.block_size = block_size
        self.blocks = {}
        self.functions = {}
        for k, (_, m, _) in enumerate(path._nodes()):
            f = m.codeword_failures
            if f is None and m.cwer > 0:
                f = _bernoulli(m.cwer)
            self.functions[k] = f

    def refill(self, kernel, link: int):
        f = self.functions[link]
        block = self.blocks.get(link, 0)
        consumed, known, rest = kernel.exact_state(link)
        need = kernel.need_count
        if known - consumed + need > MAX_EXACT_OUTCOMES:
            raise ValueError(f"exact mode: a packet needs {known - consumed + need} codeword outcomes of link "
                             f"{link} (its codewords times its LLR attempts), more than {MAX_EXACT_OUTCOMES}: "
                             f"use mode='statistical', smaller packets or fewer max_retries")
        # the blocks the packet needs, fetched at once (the same blocks one refill each would give)
        size = self.block_size
        n_blocks = max(1, -(-need // size))
        parts = [rest]
        for b in range(block, block + n_blocks):
            out = np.asarray(f(size, _rng.child(_rng.child(self.ss, link), b)))
            if out.shape != (size,):
                raise ValueError(f"codeword_failures of link {link} must return {size} outcomes, got shape {out.shape}")
            parts.append(np.flatnonzero(out).astype(np.int64) + known + (b - block) * size)
        kernel.refill(link, np.concatenate(parts), known + n_blocks * size)
        self.blocks[link] = block + n_blocks


def _bernoulli(cwer: float):
    def failures(n, seed):
        return np.random.Generator(_rng.BitGenerator(seed)).random(n) < cwer
    return failures


def _chunks(source, n, ss_times, ss_sizes, n_threads, chunk_packets=CHUNK_PACKETS):
    """Yield (index, is_last, (times, sizes)) of each chunk of ``chunk_packets`` packets,
    generated ahead by a thread pool."""
    n_chunks = -(-n // chunk_packets)

    def make(c):
        start = c * chunk_packets
        times, sizes = source.chunk(ss_times, ss_sizes, c, start, min(chunk_packets, n - start))
        return (np.ascontiguousarray(times, dtype=np.float64),
                None if sizes is None else np.ascontiguousarray(sizes, dtype=np.float64))

    if n_threads == 1 or n_chunks == 1:
        for c in range(n_chunks):
            yield c, c == n_chunks - 1, make(c)
        return
    with ThreadPoolExecutor(n_threads) as pool:
        ahead = deque()
        for c in range(n_chunks):
            while len(ahead) < 2 * n_threads and c + len(ahead) < n_chunks:
                ahead.append(pool.submit(make, c + len(ahead)))
            yield c, c == n_chunks - 1, ahead.popleft().result()


def _feed(kernel, exact, times, gaps, sizes, fixed_size, bit_generators, drain):
    done = 0
    while True:
        d, need = kernel.run(times[done:], gaps, None if sizes is None else sizes[done:], fixed_size,
                             bit_generators, drain)
        done += d
        if need < 0:
            return
        exact.refill(kernel, need)
