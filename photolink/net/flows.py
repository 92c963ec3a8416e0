"""Traffic for fabrics: who sends to whom (patterns) and how packets arrive within a flow.

Patterns return ``(src, dst)`` arrays of host node ids of a
:class:`~photolink.net.topology.Topology`: :func:`permutation`, :func:`uniform_random`,
:func:`incast`, :func:`all_to_all`, :func:`dragonfly_adversarial` (group i to group i + 1).
:class:`Flows` adds the arrivals: Poisson or constant gaps at a load (a fraction of the source
host's link rate), on/off bursts (as :class:`photolink.net.traffic.OnOff`), listed times and
sizes (a trace), or :func:`flow_list` (start time, src, dst, bytes: each flow cut into packets
sent back to back).

Dependencies (:meth:`Flows.after`): a flow may wait for earlier flows to be fully delivered; it
is then timed from that moment (its ``start_ns`` or listed times count from there), so the
flows of a whole collective run in one engine call and share queues.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._util import rng as _rng
from .._util import validate as v
from .topology import Topology

__all__ = ["Flows", "all_to_all", "dragonfly_adversarial", "flow_list", "incast", "permutation",
           "uniform_random"]

ARRIVALS = ("poisson", "constant", "listed", "onoff")
MAX_FLOWS = 1 << 24


def _generator(seed) -> np.random.Generator:
    return np.random.Generator(_rng.BitGenerator(_rng.seed_sequence(seed)))


def _topo(topo):
    if not isinstance(topo, Topology):
        raise TypeError(f"topo must be a photolink.net.topology.Topology, got {type(topo).__name__}")
    return topo


def permutation(topo: Topology, *, seed) -> tuple[np.ndarray, np.ndarray]:
    """Every host sends to one other host and receives from one: a random derangement."""
    hosts = _topo(topo).hosts
    g = _generator(seed)
    while True:
        p = g.permutation(hosts.size)
        if not np.any(p == np.arange(hosts.size)):
            return hosts, hosts[p]


def uniform_random(topo: Topology, flows_per_host: int = 1, *, seed) -> tuple[np.ndarray, np.ndarray]:
    """Each host sends ``flows_per_host`` flows, each to a uniformly random other host."""
    hosts = _topo(topo).hosts
    k = v.integer("flows_per_host", flows_per_host, lo=1, hi=4096)
    g = _generator(seed)
    src = np.repeat(np.arange(hosts.size), k)
    dst = (src + 1 + g.integers(0, hosts.size - 1, src.size)) % hosts.size
    return hosts[src], hosts[dst]


def incast(topo: Topology, n_senders: int, receiver: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """N to 1: hosts ``receiver + 1 .. receiver + n_senders`` (by host index, wrapping) to host
    ``receiver``."""
    hosts = _topo(topo).hosts
    r = v.integer("receiver", receiver, lo=0, hi=hosts.size - 1)
    n = v.integer("n_senders", n_senders, lo=1, hi=hosts.size - 1)
    src = hosts[(r + 1 + np.arange(n)) % hosts.size]
    return src, np.full(n, hosts[r])


def all_to_all(topo: Topology) -> tuple[np.ndarray, np.ndarray]:
    """Every host to every other host (n (n - 1) flows)."""
    hosts = _topo(topo).hosts
    i, j = np.nonzero(~np.eye(hosts.size, dtype=bool))
    return hosts[i], hosts[j]


def dragonfly_adversarial(topo: Topology, shift: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Dragonfly worst case for minimal routing: every host of group i sends to the host at the
    same position in group i + shift (all of a group's traffic on one global link)."""
    topo = _topo(topo)
    if topo.name != "dragonfly":
        raise ValueError(f"dragonfly_adversarial needs a dragonfly topology, got {topo.name!r}")
    g = topo.params["groups"]
    s = v.integer("shift", shift, lo=1, hi=g - 1)
    hosts = topo.hosts
    per_group = hosts.size // g
    return hosts, hosts[(np.arange(hosts.size) + s * per_group) % hosts.size]


@dataclass(frozen=True, eq=False)
class Flows:
    """Flows and their packet arrivals.

    Build with :meth:`poisson`, :meth:`constant`, :meth:`onoff`, :meth:`listed` or :func:`flow_list`.

    Attributes
    ----------
    src, dst : numpy.ndarray
        Host node ids.
    arrivals : {"poisson", "constant", "listed", "onoff"}
    load : numpy.ndarray
        Per flow: offered rate as a fraction of the source host link's rate (not for listed).
    packet_bytes : numpy.ndarray
        Per flow: size of every packet but the last.
    last_bytes : numpy.ndarray
        Per flow: size of the last packet.
    n_packets : numpy.ndarray
    start_ns : numpy.ndarray
        Entry of each flow's first packet.
    times_ns, sizes_bytes : tuple of numpy.ndarray
        Listed flows: entry times (non-decreasing) and sizes of each flow's packets.
    burst_packets, peak_load : numpy.ndarray
        On/off flows: mean packets per burst (geometric, >= 1) and the rate within a burst as a
        fraction of the source host link's rate (>= load).
    dep_off, dep_on : numpy.ndarray or None
        Dependencies (see :meth:`after`): flow i waits for flows ``dep_on[dep_off[i]:dep_off[i + 1]]``.
    """

    src: np.ndarray
    dst: np.ndarray
    arrivals: str
    load: np.ndarray
    packet_bytes: np.ndarray
    last_bytes: np.ndarray
    n_packets: np.ndarray
    start_ns: np.ndarray
    times_ns: tuple = ()
    sizes_bytes: tuple = ()
    burst_packets: np.ndarray = 1.0
    peak_load: np.ndarray = 1.0
    dep_off: np.ndarray | None = None
    dep_on: np.ndarray | None = None

    def __post_init__(self):
        src = np.asarray(self.src, np.int64)
        dst = np.asarray(self.dst, np.int64)
        if src.ndim != 1 or src.shape != dst.shape or not 1 <= src.size <= MAX_FLOWS:
            raise ValueError(f"src and dst must be 1-d arrays of the same length (1 to {MAX_FLOWS} flows)")
        if np.any(src == dst):
            raise ValueError(f"flow {int(np.flatnonzero(src == dst)[0])} sends to itself (src == dst)")
        v.choice("arrivals", self.arrivals, set(ARRIVALS))
        n = src.size
        cols = {}
        for name, lo, lo_open in (("load", 0.0, True), ("packet_bytes", 0.0, True), ("last_bytes", 0.0, True),
                                  ("start_ns", 0.0, False)):
            a = np.broadcast_to(np.asarray(getattr(self, name), np.float64), (n,)).copy()
            if not np.all(np.isfinite(a)) or np.any(a <= lo if lo_open else a < lo):
                raise ValueError(f"{name} must be finite and {'>' if lo_open else '>='} {lo} for every flow")
            cols[name] = a
        if np.any(cols["load"] > 1e3):
            raise ValueError("load must be at most 1000 (a fraction of the host link rate)")
        for name in ("burst_packets", "peak_load"):
            cols[name] = np.broadcast_to(np.asarray(getattr(self, name), np.float64), (n,)).copy()
        if self.arrivals == "onoff":
            b, peak = cols["burst_packets"], cols["peak_load"]
            if not (np.all(np.isfinite(b)) and np.all(b >= 1) and np.all(b <= 1e9)):
                raise ValueError("burst_packets must be in [1, 1e9] for every flow")
            if not (np.all(np.isfinite(peak)) and np.all(peak <= 1e3)) or np.any(peak < cols["load"]):
                raise ValueError("peak_load must be finite, >= load and <= 1000 for every flow")
        npk = np.broadcast_to(np.asarray(self.n_packets), (n,)).astype(np.int64)
        if np.any(npk < 1) or np.any(npk > 10**12):
            raise ValueError("n_packets must be in [1, 1e12] for every flow")
        times, sizes = tuple(self.times_ns), tuple(self.sizes_bytes)
        if self.arrivals == "listed":
            if len(times) != n or len(sizes) != n:
                raise ValueError("listed flows need times_ns and sizes_bytes, one array per flow")
            times = tuple(np.ascontiguousarray(t, np.float64) for t in times)
            sizes = tuple(np.ascontiguousarray(s, np.float64) for s in sizes)
            for i, (t, s) in enumerate(zip(times, sizes)):
                if t.ndim != 1 or t.shape != s.shape or t.size != npk[i]:
                    raise ValueError(f"flow {i}: times_ns and sizes_bytes must hold n_packets entries")
                if not (np.all(np.isfinite(t)) and np.all(t >= 0) and np.all(np.diff(t) >= 0)):
                    raise ValueError(f"flow {i}: times_ns must be finite, >= 0 and non-decreasing")
                if not (np.all(np.isfinite(s)) and np.all(s > 0)):
                    raise ValueError(f"flow {i}: sizes_bytes must be finite and > 0")
        dep_off, dep_on = _check_dependencies(self.dep_off, self.dep_on, n)
        for k, val in (("src", src), ("dst", dst), ("n_packets", npk), ("times_ns", times),
                       ("sizes_bytes", sizes), ("dep_off", dep_off), ("dep_on", dep_on), *cols.items()):
            object.__setattr__(self, k, val)

    @property
    def n_flows(self) -> int:
        return int(self.src.size)

    def after(self, deps) -> Flows:
        """These flows, each waiting for other flows to be fully delivered.

        Parameters
        ----------
        deps : sequence of sequences of int, or (offsets, indices)
            ``deps[i]``: the flows flow i waits for, each an earlier flow (index < i, so there is
            no cycle); or the compressed form: flow i waits for ``indices[offsets[i]:offsets[i + 1]]``.
            A flow with dependencies is timed from the moment the last of them has delivered its
            last packet: its ``start_ns`` (a gap) or listed times count from there. A flow
            whose dependency loses a packet for good never starts.

        Returns
        -------
        Flows
        """
        if isinstance(deps, tuple) and len(deps) == 2 and all(isinstance(x, np.ndarray) for x in deps):
            off, on = deps
        else:
            deps = list(deps)
            if len(deps) != self.n_flows:
                raise ValueError(f"deps must hold one sequence per flow ({self.n_flows}), got {len(deps)}")
            lists = [np.asarray(d, np.int64).ravel() for d in deps]
            off = np.zeros(self.n_flows + 1, np.int64)
            np.cumsum([x.size for x in lists], out=off[1:])
            on = np.concatenate(lists) if lists else np.zeros(0, np.int64)
        return dataclasses.replace(self, dep_off=off, dep_on=on)

    @property
    def total_packets(self) -> int:
        return int(self.n_packets.sum())

    @classmethod
    def poisson(cls, pairs, *, load, packet_bytes=4096.0, n_packets, start_ns=0.0) -> Flows:
        """Poisson arrivals at ``load`` (fraction of the source host link's rate) per flow."""
        src, dst = pairs
        return cls(src, dst, "poisson", load, packet_bytes, packet_bytes, n_packets, start_ns)

    @classmethod
    def constant(cls, pairs, *, load=1.0, packet_bytes=4096.0, n_packets, start_ns=0.0) -> Flows:
        """Evenly spaced arrivals at ``load``; load 1 is back to back at the host link's rate."""
        src, dst = pairs
        return cls(src, dst, "constant", load, packet_bytes, packet_bytes, n_packets, start_ns)

    @classmethod
    def onoff(cls, pairs, *, load, packet_bytes=4096.0, n_packets, burst_packets=16.0, peak_load=1.0,
              start_ns=0.0) -> Flows:
        """Bursts within each flow, as :class:`photolink.net.traffic.OnOff`: a geometric number of
        packets (mean ``burst_packets``) spaced at ``peak_load`` of the source host link's rate,
        bursts separated by exponential idle times whose mean makes the long-run rate ``load``."""
        src, dst = pairs
        return cls(src, dst, "onoff", load, packet_bytes, packet_bytes, n_packets, start_ns,
                   burst_packets=burst_packets, peak_load=peak_load)

    @classmethod
    def listed(cls, pairs, times_ns, sizes_bytes) -> Flows:
        """Given entry times and sizes per flow (a trace)."""
        src, dst = pairs
        sizes = [np.broadcast_to(np.asarray(s, np.float64), np.shape(t)) for t, s in zip(times_ns, sizes_bytes)]
        n = [np.size(t) for t in times_ns]
        return cls(src, dst, "listed", 1.0, 1.0, 1.0, n, 0.0, tuple(times_ns), tuple(sizes))


def _check_dependencies(off, on, n: int):
    """Validated dependency arrays (int64 offsets, int32 indices) or (None, None)."""
    if off is None and on is None:
        return None, None
    if off is None or on is None:
        raise ValueError("dep_off and dep_on go together")
    off = np.asarray(off)
    on = np.asarray(on)
    if not (np.issubdtype(off.dtype, np.integer) and np.issubdtype(on.dtype, np.integer)):
        raise TypeError("dependencies must be integer flow indices")
    off = off.astype(np.int64)
    on = on.astype(np.int64).ravel()
    if off.shape != (n + 1,) or off[0] != 0 or np.any(np.diff(off) < 0) or off[-1] != on.size:
        raise ValueError(f"dep_off must be {n + 1} non-decreasing offsets from 0 to len(dep_on) = {on.size}")
    owner = np.repeat(np.arange(n), np.diff(off))
    bad = np.flatnonzero((on < 0) | (on >= owner))
    if bad.size:
        i, j = int(owner[bad[0]]), int(on[bad[0]])
        raise ValueError(f"flow {i} depends on flow {j}: a dependency must be an earlier flow, in [0, {i}) "
                         "(so that there is no cycle)")
    return off, on.astype(np.int32)


def flow_list(start_ns, src, dst, flow_bytes, *, packet_bytes: float = 4096.0, load: float = 1.0) -> Flows:
    """Flows given as (start time, src, dst, bytes): each cut into ``packet_bytes`` packets (the
    last one shorter) sent at ``load`` of the host link's rate (1: back to back)."""
    b = np.asarray(flow_bytes, np.float64)
    mtu = v.real("packet_bytes", packet_bytes, lo=1.0, hi=1e9)
    if b.ndim != 1 or not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ValueError("flow_bytes must be a 1-d array of finite sizes > 0")
    n = np.ceil(b / mtu).astype(np.int64)
    last = b - (n - 1) * mtu
    return Flows(src, dst, "constant", load, mtu, last, n, start_ns)


def _gaps(flows: Flows, host_rate_gbps: np.ndarray) -> np.ndarray:
    """Mean gap between a flow's entries, ns: a full-size packet over (load x source host link
    rate); a shorter last packet just ends the flow sooner."""
    return 8.0 * flows.packet_bytes / (flows.load * host_rate_gbps)
