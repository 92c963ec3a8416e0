"""Collectives over a fabric: flow schedules, their completion time, its tail and what set it.

A collective is a :class:`Schedule`: a sequence of steps, each a set of point-to-point flows
between ranks (rank i is host ``hosts[i]`` of the topology). Steps are dependent: a rank starts
its flows of step k when every flow of step k - 1 that it sent or received has been delivered
(the data it forwards has arrived and its previous sends are done). The fabric engine has no
hook for flows that start when others finish, so a collective runs **step by step**: each step
is one :meth:`Fabric.run` (packet mode) or one max-min fair flow-level solve
(:mod:`photolink.net.flowsim`, flow mode: one ECMP route per flow;
:mod:`photolink.net.flowscale`, fluid mode: flow classes on routes split over equal-cost next
hops, for 1e4 - 1e5 endpoints) whose flows enter at their source rank's ready time.
Flows of different steps therefore never share a queue (a step's packets are all delivered
before the next step's enter); the dependency is per endpoint, not a global barrier.

The fluid mode solves a step that the schedule repeats (the same :class:`Step` object: a
ring's 2(p - 1) steps) once, and once every rank advances by the same time per repetition
(steady state, checked every :data:`FLUID_STEADY_CHECK` steps) adds that time for the remaining
repetitions (exact: shifting every start by a time shifts every end by it). It keeps the
critical path while the schedule lists at most :data:`FLUID_PATH_FLOWS` flows, else the last
step's critical flow only.

Schedules ([ref:coll-ring-allreduce], [ref:coll-rhd], [ref:coll-alltoall]):

- :func:`ring_reduce_scatter`, :func:`ring_all_gather`: p - 1 steps of S/p bytes to the next rank;
- :func:`ring_all_reduce`: reduce-scatter then all-gather, 2(p - 1) steps;
- :func:`double_binary_tree_all_reduce`: two complementary binary trees, each reducing then
  broadcasting half the message (no chunk pipelining);
- :func:`halving_doubling_all_reduce`: recursive halving reduce-scatter then recursive doubling
  all-gather, 2 log2 p steps (p a power of two);
- :func:`hierarchical_all_reduce`: rail-optimised clusters, ring reduce-scatter within each
  server, ring all-reduce across servers per rail, ring all-gather within each server;
- :func:`pairwise_all_to_all`: p - 1 steps, step k rank r to rank r + k;
- :func:`direct_all_to_all`: one step, every pair at once, each flow paced at 1/(p - 1) of the
  host link (MoE dispatch / combine), with an optional expert-load skew; an
  :class:`AllPairsStep`, whose p(p - 1) flows are listed only when a mode needs them.

Closed forms on an ideal non-blocking fabric (alpha: one flow's latency, B: host link rate):
ring all-reduce 2(p - 1)(alpha + S/(pB)), reduce-scatter and all-gather (p - 1)(alpha + S/(pB)),
direct all-to-all (p - 1)/p x S/B + alpha (:func:`closed_form_ns`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import clopper_pearson
from . import flowscale, flowsim
from .fabric import Fabric
from .flows import Flows
from .path import E2E, LLR, Switch
from .topology import Topology

__all__ = ["AllPairsStep", "CollectiveResult", "CompletionStats", "Schedule", "Step", "closed_form_ns", "completion_stats",
           "degrade", "degrade_fraction", "direct_all_to_all", "double_binary_tree_all_reduce", "halving_doubling_all_reduce", "hierarchical_all_reduce", "pairwise_all_to_all",
           "ring_all_gather", "ring_all_reduce", "ring_reduce_scatter", "run"]

#: Most steps in a schedule (a ring of 100k ranks has 2e5).
MAX_STEPS = 1 << 20


@dataclass(frozen=True, eq=False)
class Step:
    """One step of a collective: flows ``src[i] -> dst[i]`` (ranks) of ``bytes_[i]`` bytes, each
    sent at ``load`` of its source host link's rate (1: back to back). ``phase`` (packet mode):
    each flow enters ``phase[i]`` full packets' serialisation times after its rank is ready, so
    that paced flows interleave instead of bursting together."""

    src: np.ndarray
    dst: np.ndarray
    bytes_: np.ndarray
    load: float = 1.0
    phase: np.ndarray | None = None

    @property
    def n_flows(self) -> int:
        return int(self.src.size)

    @cached_property
    def total_bytes(self) -> float:
        return float(np.sum(self.bytes_))

    def to_dict(self) -> dict:
        return {"src": self.src.tolist(), "dst": self.dst.tolist(), "bytes": self.bytes_.tolist(), "load": self.load}


@dataclass(frozen=True, eq=False)
class AllPairsStep:
    """A step of every ordered pair of ranks at once (rank r -> rank d, r != d), carrying
    ``bytes_to[d]`` bytes, each flow sent at ``load`` of its source host link's rate.

    Held without listing its p(p - 1) flows: the flow mode at scale (``mode="fluid"``) solves it
    by host-group classes; ``src``, ``dst``, ``bytes_`` and ``phase`` (as :class:`Step`: rank r's
    flow to d enters (d - r - 1) mod p packet times late) are listed on first use.
    """

    n_ranks: int
    bytes_to: np.ndarray
    load: float = 1.0

    @cached_property
    def _pairs(self):
        p = self.n_ranks
        v.within_result_cap("n_ranks * (n_ranks - 1)", p * (p - 1), 16, "listed flows of an all-pairs step",
                            "run it with mode='fluid', which does not list them")
        i = np.repeat(np.arange(p), p - 1)
        j = np.arange(p * (p - 1)) % (p - 1)
        return i, j + (j >= i)

    @property
    def src(self) -> np.ndarray:
        return self._pairs[0]

    @property
    def dst(self) -> np.ndarray:
        return self._pairs[1]

    @cached_property
    def bytes_(self) -> np.ndarray:
        return np.asarray(self.bytes_to, np.float64)[self.dst]

    @cached_property
    def phase(self) -> np.ndarray:
        return ((self.dst - self.src - 1) % self.n_ranks).astype(np.float64)

    @property
    def n_flows(self) -> int:
        return self.n_ranks * (self.n_ranks - 1)

    @property
    def total_bytes(self) -> float:
        b = np.asarray(self.bytes_to, np.float64)
        return float((self.n_ranks - 1) * b.sum())

    def to_dict(self) -> dict:
        return {"all_pairs": True, "n_ranks": self.n_ranks, "bytes_to": np.asarray(self.bytes_to).tolist(),
                "load": self.load}


@dataclass(frozen=True, eq=False)
class Schedule:
    """A collective as dependent steps of flows between ranks.

    Attributes
    ----------
    name : str
    n_ranks : int
    message_bytes : float
        S: the per-rank buffer (all-reduce, reduce-scatter input, all-gather output, all-to-all
        send buffer).
    steps : tuple of Step
    """

    name: str
    n_ranks: int
    message_bytes: float
    steps: tuple

    @property
    def n_flows(self) -> int:
        return sum(s.n_flows for s in self.steps)

    @property
    def total_bytes(self) -> float:
        """Bytes carried by the network (every flow of every step)."""
        return float(sum(s.total_bytes for s in self.steps))

    def to_dict(self) -> dict:
        return {"name": self.name, "n_ranks": self.n_ranks, "message_bytes": self.message_bytes,
                "n_steps": len(self.steps), "n_flows": self.n_flows, "total_bytes": self.total_bytes}


def _p(n_ranks) -> int:
    return v.integer("n_ranks", n_ranks, lo=2, hi=1 << 20)


def _s(message_bytes) -> float:
    return v.real("message_bytes", message_bytes, lo=1.0, hi=1e15)


def _ring_steps(p: int, chunk: float, n: int) -> list:
    r = np.arange(p)
    step = Step(r, (r + 1) % p, np.full(p, chunk))
    return [step] * n                   # one immutable step, repeated (the fluid mode solves it once)


def ring_reduce_scatter(n_ranks: int, message_bytes: float) -> Schedule:
    """Ring reduce-scatter: p - 1 steps, each rank sends S/p bytes to the next rank."""
    p, s = _p(n_ranks), _s(message_bytes)
    return Schedule("ring-reduce-scatter", p, s, tuple(_ring_steps(p, s / p, p - 1)))


def ring_all_gather(n_ranks: int, message_bytes: float) -> Schedule:
    """Ring all-gather: p - 1 steps, each rank forwards S/p bytes to the next rank."""
    p, s = _p(n_ranks), _s(message_bytes)
    return Schedule("ring-all-gather", p, s, tuple(_ring_steps(p, s / p, p - 1)))


def ring_all_reduce(n_ranks: int, message_bytes: float) -> Schedule:
    """Ring all-reduce = ring reduce-scatter + ring all-gather: 2(p - 1) steps of S/p bytes."""
    p, s = _p(n_ranks), _s(message_bytes)
    return Schedule("ring-all-reduce", p, s, tuple(_ring_steps(p, s / p, 2 * (p - 1))))


def halving_doubling_all_reduce(n_ranks: int, message_bytes: float) -> Schedule:
    """Recursive halving (reduce-scatter) then doubling (all-gather), Rabenseifner / Thakur et al.

    Step k of the halving exchanges S/2^(k+1) bytes with rank r XOR p/2^(k+1); the doubling
    mirrors it. p must be a power of two.
    """
    p, s = _p(n_ranks), _s(message_bytes)
    if p & (p - 1):
        raise ValueError(f"n_ranks must be a power of two for halving-doubling, got {p}")
    r = np.arange(p)
    m = p.bit_length() - 1
    half = [Step(r, r ^ (p >> (k + 1)), np.full(p, s / 2 ** (k + 1))) for k in range(m)]
    return Schedule("halving-doubling-all-reduce", p, s, tuple(half + half[::-1]))


def hierarchical_all_reduce(n_servers: int, gpus_per_server: int, message_bytes: float) -> Schedule:
    """Hierarchical ring all-reduce for rail-optimised clusters: intra-server then inter-server.

    Ranks numbered server by server (as :func:`photolink.net.topology.rail_optimised` numbers
    its hosts). A ring reduce-scatter among the G GPUs of each server (G - 1 steps of S/G), a
    ring all-reduce among the N servers of each rail (local rank g of every server: 2(N - 1)
    steps of S/(G N), staying on rail leaf g), a ring all-gather within each server. Closed form
    on a non-blocking fabric: 2(G - 1)(alpha + S/(G B)) + 2(N - 1)(alpha + S/(G N B)).
    The topology's links carry the intra-server steps (a fabric without NVLink sends them through
    the rail leaves).
    """
    n = v.integer("n_servers", n_servers, lo=1, hi=1 << 20)
    g = v.integer("gpus_per_server", gpus_per_server, lo=1, hi=1 << 12)
    s = _s(message_bytes)
    p = _p(n * g)
    r = np.arange(p)
    server, local = r // g, r % g
    intra = Step(r, server * g + (local + 1) % g, np.full(p, s / g))
    inter = Step(r, ((server + 1) % n) * g + local, np.full(p, s / (g * n)))
    steps = ([intra] * (g - 1) if g > 1 else []) + ([inter] * (2 * (n - 1)) if n > 1 else []) + \
        ([intra] * (g - 1) if g > 1 else [])
    return Schedule("hierarchical-all-reduce", p, s, tuple(steps))


def _inorder_tree(lo: int, hi: int, parent: np.ndarray, up: int = -1) -> int:
    """A balanced binary tree over ranks lo .. hi - 1 in in-order (root: the middle)."""
    if lo >= hi:
        return -1
    mid = (lo + hi) // 2
    parent[mid] = up
    _inorder_tree(lo, mid, parent, mid)
    _inorder_tree(mid + 1, hi, parent, mid)
    return mid


def _heights(parent: np.ndarray) -> np.ndarray:
    """Height of each node (leaves 0) of a tree given by its parent array."""
    h = np.zeros(parent.size, np.int64)
    for _ in range(parent.size):
        child = np.flatnonzero(parent >= 0)
        new = h.copy()
        np.maximum.at(new, parent[child], h[child] + 1)
        if np.array_equal(new, h):
            break
        h = new
    return h


def double_binary_tree_all_reduce(n_ranks: int, message_bytes: float) -> Schedule:
    """Double binary tree all-reduce ([ref:coll-dbt]), without pipelining.

    Two balanced in-order binary trees, the second the first shifted by one rank (a leaf of one
    is mostly an inner node of the other), each reducing then broadcasting half of the message:
    reduce step j sends S/2 from every node of height j to its parent, broadcast step j from
    every node of depth j to its children; the two trees' step j run together. No chunk
    pipelining within a tree (so not bandwidth-optimal; NCCL pipelines many chunks).
    """
    p, s = _p(n_ranks), _s(message_bytes)
    base = np.full(p, -1, np.int64)
    _inorder_tree(0, p, base)
    trees = [base, np.where(base >= 0, (base + 1) % p, -1)[(np.arange(p) - 1) % p]]
    up_steps, down_steps = [], []
    for parent in trees:
        h = _heights(parent)
        depth = np.zeros(p, np.int64)
        for _ in range(p):
            nd = np.where(parent >= 0, depth[np.maximum(parent, 0)] + 1, 0)
            if np.array_equal(nd, depth):
                break
            depth = nd
        child = np.flatnonzero(parent >= 0)
        up_steps.append([(child[h[child] == j], parent[child[h[child] == j]]) for j in range(h.max())])
        down_steps.append([(parent[child[depth[child] == j + 1]], child[depth[child] == j + 1])
                           for j in range(depth.max())])
    steps = []
    for phase in (up_steps, down_steps):
        for j in range(max(len(t) for t in phase)):
            pairs = [t[j] for t in phase if j < len(t)]
            src = np.concatenate([a for a, _ in pairs])
            dst = np.concatenate([b for _, b in pairs])
            steps.append(Step(src, dst, np.full(src.size, s / 2)))
    return Schedule("double-binary-tree-all-reduce", p, s, tuple(steps))


def _expert_weights(p: int, skew: float) -> np.ndarray:
    """Relative load of each destination (expert): (d + 1)^-skew, mean 1 (0: uniform)."""
    w = (np.arange(p) + 1.0) ** -skew
    return w / w.mean()


def pairwise_all_to_all(n_ranks: int, message_bytes: float, *, skew: float = 0.0) -> Schedule:
    """Pairwise-exchange all-to-all: step k (1 .. p - 1) rank r sends to rank (r + k) mod p.

    Each rank sends S/p x w_d bytes to destination d, w_d = (d + 1)^-skew normalised to mean 1
    (``skew`` 0: the balanced all-to-all; > 0: MoE experts with uneven load).
    """
    p, s = _p(n_ranks), _s(message_bytes)
    w = _expert_weights(p, v.real("skew", skew, lo=0.0, hi=10.0))
    r = np.arange(p)
    steps = tuple(Step(r, (r + k) % p, s / p * w[(r + k) % p]) for k in range(1, p))
    return Schedule("pairwise-all-to-all", p, s, steps)


def direct_all_to_all(n_ranks: int, message_bytes: float, *, skew: float = 0.0) -> Schedule:
    """Direct all-to-all: one step, every ordered pair, each flow paced at 1/(p - 1) of the host
    link (so a rank's p - 1 flows together fill its link); bytes as :func:`pairwise_all_to_all`.

    Rank r's flow to rank d starts (d - r - 1) mod p packet times late: a sender's flows, and
    a receiver's, then take turns packet by packet (no synchronised bursts).
    """
    p, s = _p(n_ranks), _s(message_bytes)
    w = _expert_weights(p, v.real("skew", skew, lo=0.0, hi=10.0))
    return Schedule("direct-all-to-all", p, s, (AllPairsStep(p, s / p * w, load=1.0 / (p - 1)),))


def closed_form_ns(name: str, n_ranks: int, message_bytes: float, rate_gbps: float, alpha_ns: float) -> float:
    """Completion time of a collective on an ideal non-blocking fabric, ns (alpha-beta model)."""
    p, s = _p(n_ranks), _s(message_bytes)
    b = v.real("rate_gbps", rate_gbps, lo=1e-3, hi=1e6)
    a = v.real("alpha_ns", alpha_ns, lo=0.0, hi=1e12)
    beta = 8.0 / b  # ns per byte
    forms = {
        "ring-all-reduce": 2 * (p - 1) * (a + s / p * beta),
        "ring-reduce-scatter": (p - 1) * (a + s / p * beta),
        "ring-all-gather": (p - 1) * (a + s / p * beta),
        "halving-doubling-all-reduce": 2 * math.log2(p) * a + 2 * (p - 1) / p * s * beta,
        "direct-all-to-all": (p - 1) / p * s * beta + a,
        "pairwise-all-to-all": (p - 1) * (a + s / p * beta),
    }
    return forms[v.choice("name", name, set(forms))]


def degrade(topology: Topology, links, model, name: str = "degraded") -> Topology:
    """The topology with the directed ``links`` (ids) moved to a new tier of link ``model``.

    ``model``: a :class:`~photolink.links.model.LinkModel` or anything with ``link_model()``
    (e.g. a ``photolink.Link`` past its reach, an aged laser, an LPO link at low margin).
    """
    if not isinstance(topology, Topology):
        raise TypeError(f"topology must be a photolink.net.topology.Topology, got {type(topology).__name__}")
    ids = np.atleast_1d(np.asarray(links, np.int64))
    if ids.size == 0 or ids.min() < 0 or ids.max() >= topology.n_links:
        raise ValueError(f"links must be directed link ids in [0, {topology.n_links}), got {links!r}")
    tier = topology.link_tier.copy()
    tier[ids] = len(topology.tiers)
    return Topology(topology.name, topology.is_host, topology.link_src, topology.link_dst, tier,
                    topology.tiers + (model,), topology.tier_names + (name,), topology.link_cost,
                    topology.link_dim, topology.group, topology.valiant_nodes, topology.host_side,
                    topology.bisection_closed_form_gbps, dict(topology.params))


def degrade_fraction(topology: Topology, tier: int, fraction: float, link, length_m: tuple, *,
                     seed: _rng.SeedLike) -> tuple[Topology, np.ndarray]:
    """A random ``fraction`` of the cables of ``tier`` rebuilt as ``link`` at random lengths.

    Each chosen cable (both its directed links) gets ``link.with_length(L)``, L uniform in
    ``length_m`` = (low, high) metres (e.g. a spread around a copper link's reach). ``link``
    needs a ``with_length`` method and a ``link_model()`` (a ``photolink.Link``).

    Returns
    -------
    topology : Topology
    cables : numpy.ndarray
        The directed link ids changed (pairs: a link, then its reverse).
    """
    if not isinstance(topology, Topology):
        raise TypeError(f"topology must be a photolink.net.topology.Topology, got {type(topology).__name__}")
    t = v.integer("tier", tier, lo=0, hi=len(topology.tiers) - 1)
    f = v.real("fraction", fraction, lo=0.0, hi=1.0)
    if not callable(getattr(link, "with_length", None)):
        raise TypeError(f"link must have a with_length(metres) method (a photolink.Link), got {type(link).__name__}")
    lo, hi = (v.real("length_m[0]", length_m[0], lo=0.0, hi=1e7), v.real("length_m[1]", length_m[1], lo=0.0, hi=1e7))
    if hi < lo:
        raise ValueError(f"length_m must be (low, high) with low <= high, got {length_m!r}")
    src, dst = topology.link_src, topology.link_dst
    ids = np.flatnonzero((topology.link_tier == t) & (src < dst))   # one direction per cable
    g = np.random.Generator(_rng.BitGenerator(_rng.seed_sequence(seed)))
    chosen = np.sort(g.choice(ids, size=int(round(f * ids.size)), replace=False))
    lengths = g.uniform(lo, hi, chosen.size)
    out = topology
    changed = []
    key = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(src, dst))}
    for c, length in zip(chosen.tolist(), lengths.tolist()):
        rev = key[(int(dst[c]), int(src[c]))]
        out = degrade(out, [c, rev], link.with_length(round(length, 3)), f"{topology.tier_names[t]} {length:.3g} m")
        changed += [c, rev]
    return out, np.array(changed, np.int64)


@dataclass(frozen=True, eq=False)
class CollectiveResult:
    """One run of a collective.

    Attributes
    ----------
    schedule : str
    mode : {"packet", "flow"}
    completion_ns : float
        When the last flow of the last step was delivered (nan if a flow lost packets).
    complete : bool
        Every packet delivered.
    step_end_ns : numpy.ndarray
        Last delivery of each step.
    critical_path : list of dict
        The chain of flows that set the completion time, last step first: step, flow index in
        its step, src and dst ranks, start, end, duration, and its excess over serialisation
        plus the unloaded route latency (queueing, retries, FEC hold and sharing).
    bottleneck : dict
        The directed link busiest (serialisation + retries) in the critical flow's step: link id,
        src/dst node, tier, busy ns, retries, tail drops.
    llr_retries, e2e_retransmissions, lost : int
    network_bytes : float
    """

    schedule: str
    mode: str
    completion_ns: float
    complete: bool
    step_end_ns: np.ndarray
    critical_path: list
    bottleneck: dict
    llr_retries: int = 0
    e2e_retransmissions: int = 0
    lost: int = 0
    network_bytes: float = 0.0
    link_busy_ns: np.ndarray = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"schedule": self.schedule, "mode": self.mode, "completion_ns": self.completion_ns,
                "complete": self.complete, "step_end_ns": self.step_end_ns.tolist(),
                "critical_path": self.critical_path, "bottleneck": self.bottleneck,
                "llr_retries": self.llr_retries, "e2e_retransmissions": self.e2e_retransmissions,
                "lost": self.lost, "network_bytes": self.network_bytes}


def _hosts(topology: Topology, schedule: Schedule, hosts) -> np.ndarray:
    topo_hosts = topology.hosts
    if hosts is None:
        if schedule.n_ranks > topo_hosts.size:
            raise ValueError(f"schedule has {schedule.n_ranks} ranks, the topology {topo_hosts.size} hosts")
        return topo_hosts[: schedule.n_ranks]
    h = np.asarray(hosts, np.int64)
    if h.shape != (schedule.n_ranks,) or not np.all(np.isin(h, topo_hosts)) or np.unique(h).size != h.size:
        raise ValueError(f"hosts must be {schedule.n_ranks} distinct host node ids of the topology")
    return h


def _step_packet(fabric, step, hosts, start_ns, ss, recovery, packet_bytes):
    src, dst = hosts[step.src], hosts[step.dst]
    b = np.asarray(step.bytes_, np.float64)
    topo = fabric.topology
    if step.phase is not None:
        rate = topo.link_rate_gbps[[topo.host_link(int(x)) for x in np.unique(src)]]
        rate_of = dict(zip(np.unique(src).tolist(), rate.tolist()))
        start_ns = start_ns + step.phase * 8.0 * packet_bytes / np.array([rate_of[int(x)] for x in src])
    go = np.isfinite(start_ns)
    if not np.all(go):  # a rank that never became ready (lost packets upstream) sends nothing
        end = np.full(b.size, np.nan)
        if np.any(go):
            sub = Step(step.src[go], step.dst[go], b[go], step.load)
            end[go], _, busy, counters = _step_packet(fabric, sub, hosts, start_ns[go], ss, recovery, packet_bytes)
        else:
            busy, counters = np.zeros(topo.n_links), (0, 0, 0, np.zeros(topo.n_links), np.zeros(topo.n_links))
        return end, np.isfinite(end), busy, counters
    n = np.ceil(b / packet_bytes).astype(np.int64)
    flows = Flows(src, dst, "constant", step.load, packet_bytes, b - (n - 1) * packet_bytes, n, start_ns)
    res = fabric.run(flows, seed=ss, recovery=recovery, queue_histograms=False)
    done = res.flows["delivered"] == n
    end = np.where(done, start_ns + res.flows["completion_time_ns"], np.nan)
    busy = res.links["mean_serialisation_ns"] * res.links["transmissions"]
    counters = (res.llr_retries, res.e2e_retransmissions, res.lost, res.links["retries"], res.links["tail_drops"])
    return end, done, busy, counters


def _advance(ready, setter, src, dst, end, k):
    """A rank is ready when everything it sent or received in step k has been delivered; its
    setter is the (step, flow) that made it so."""
    ranks = np.concatenate([src, dst])
    idx = np.concatenate([np.arange(end.size)] * 2)
    e = np.concatenate([end, end])
    e = np.where(np.isfinite(e), e, math.inf)
    order = np.lexsort((e, ranks))                 # by rank, then end: each rank's last is its max
    last = np.flatnonzero(np.r_[ranks[order][1:] != ranks[order][:-1], True])
    r_last, i_last, e_last = ranks[order][last], idx[order][last], e[order][last]
    new_ready, new_setter = ready.copy(), setter.copy()
    upd = e_last >= ready[r_last]
    new_ready[r_last[upd]] = e_last[upd]
    new_setter[r_last[upd]] = np.stack([np.full(upd.sum(), k), i_last[upd]], axis=1)
    return new_ready, new_setter


def run(fabric: Fabric | Topology, schedule: Schedule, *, seed: _rng.SeedLike, mode: str = "packet",
        recovery: str | LLR | E2E = "drop", hosts=None,
        packet_bytes: float = 4096.0, goodput: str = "llr") -> CollectiveResult:
    """Run a collective over a fabric, step by step (see the module docstring).

    Parameters
    ----------
    fabric : Fabric or Topology
        A Topology (fluid mode only: no routing table is built) runs with the default switch.
    schedule : Schedule
    seed : int, SeedSequence or None
        Step k of the packet mode runs with child k of its SeedSequence (the fluid mode is
        deterministic).
    mode : {"packet", "flow", "fluid"}
        ``"packet"``: each step a :meth:`Fabric.run`; ``"flow"``: max-min fair rates per flow on
        its ECMP route (:func:`photolink.net.flowsim.run_step`); ``"fluid"``: max-min fair rates
        over flow classes with routes split over equal-cost next hops, for fabrics of 1e4 - 1e5
        endpoints (:mod:`photolink.net.flowscale`).
    recovery : {"drop", "llr"}, LLR or E2E
        Packet mode's recovery (a step with lost packets leaves the collective incomplete).
    hosts : array of int, optional
        Host node id of each rank (default: the first n_ranks hosts).
    packet_bytes : float
        MTU: flows are cut into packets of this size (the last one shorter).
    goodput : {"llr", "e2e", "none"}
        Flow mode's capacity derating (see :mod:`photolink.net.flowsim`).

    Returns
    -------
    CollectiveResult
    """
    v.choice("mode", mode, {"packet", "flow", "fluid"})
    if not isinstance(fabric, Fabric) and not (mode == "fluid" and isinstance(fabric, Topology)):
        raise TypeError(f"fabric must be a photolink.net.Fabric (or a Topology with mode='fluid'), "
                        f"got {type(fabric).__name__}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a photolink.net.collectives.Schedule, got {type(schedule).__name__}")
    packet_bytes = v.real("packet_bytes", packet_bytes, lo=64.0, hi=1e7)
    if not isinstance(recovery, (LLR, E2E)):
        v.choice("recovery", recovery, {"drop", "llr"})
    if mode == "fluid":
        if isinstance(fabric, Fabric) and fabric.routing not in ("ecmp", "spray", "minimal"):
            raise ValueError(f"mode='fluid' splits every flow over all least-cost next hops; a fabric with "
                             f"routing={fabric.routing!r} needs mode 'packet' or 'flow'")
        topo, switch = (fabric.topology, fabric.switch) if isinstance(fabric, Fabric) else (fabric, Switch())
        model = flowscale.FluidModel(topo, switch, packet_bytes=packet_bytes, goodput=goodput)
        return _run_fluid(model, schedule, _hosts(topo, schedule, hosts))
    h = _hosts(fabric.topology, schedule, hosts)
    ss = _rng.seed_sequence(seed)
    topo = fabric.topology
    p = schedule.n_ranks
    ready = np.zeros(p)
    # for each rank: (step, flow) of the flow that last set its ready time
    setter = np.full((p, 2), -1, np.int64)
    history = []
    busy_total = np.zeros(topo.n_links)
    step_busy = []
    retries = e2e = lost = 0
    complete = True
    for k, step in enumerate(schedule.steps):
        start = ready[step.src]
        if mode == "packet":
            end, done, busy, (r1, r2, r3, lretry, ldrop) = _step_packet(
                fabric, step, h, start, _rng.child(ss, k), recovery, packet_bytes)
            retries, e2e, lost = retries + r1, e2e + r2, lost + r3
            extra = {"retries": lretry, "tail_drops": ldrop}
        else:
            end, busy = flowsim.run_step(fabric, h[step.src], h[step.dst], step.bytes_, start,
                                         load=step.load, packet_bytes=packet_bytes, goodput=goodput,
                                         salt=flowsim.ecmp_salt(_rng.child(ss, k)))
            done = np.ones(end.size, bool)
            extra = {"retries": np.zeros(topo.n_links), "tail_drops": np.zeros(topo.n_links)}
        if not np.all(done):
            complete = False
            end = np.where(done, end, np.nan)
        busy_total += busy
        step_busy.append((busy, extra))
        history.append((start, end, setter[step.src].copy()))
        ready, setter = _advance(ready, setter, step.src, step.dst, end, k)
    step_end = np.array([np.nanmax(e) if np.any(np.isfinite(e)) else math.nan for _, e, _ in history])
    completion = float(np.max(ready)) if complete else math.nan
    path, bottleneck = _critical_path(fabric, schedule, h, history, step_busy, complete)
    return CollectiveResult(schedule.name, mode, completion, complete, step_end, path, bottleneck,
                            int(retries), int(e2e), int(lost), schedule.total_bytes, busy_total)


#: The fluid mode keeps each step's starts and ends (for the critical path) while the schedule
#: lists at most this many flows; beyond, the path holds the last step's critical flow only.
FLUID_PATH_FLOWS = 1 << 22
#: The fluid mode checks every this many steps whether a repeated step has reached its steady
#: state (every rank advancing by the same time a step).
FLUID_STEADY_CHECK = 16


def _repeats(steps) -> np.ndarray:
    """Per step: how many times it is repeated right after itself (the same Step object)."""
    m = np.zeros(len(steps), np.int64)
    for k in range(len(steps) - 2, -1, -1):
        if steps[k + 1] is steps[k]:
            m[k] = m[k + 1] + 1
    return m


def _rotation(src: np.ndarray, dst: np.ndarray, p: int) -> int | None:
    """k when the step is rank r -> r + k mod p for every rank r in order (a ring step), else None."""
    if src.size != p or not np.array_equal(src, np.arange(p)):
        return None
    k = int(dst[0]) % p
    return k if k and np.array_equal(dst, (src + k) % p) else None


class _Listed:
    """A listed step solved once by the fluid model, reused wherever the schedule repeats it."""

    def __init__(self, model, step, hosts, p):
        self.step = step
        self.sol = model.listed_step(hosts[step.src], hosts[step.dst], step.bytes_, step.load)
        self.solo = self.sol.n_classes == 0 or np.bincount(self.sol.component).max() == 1
        self.rot = _rotation(step.src, step.dst, p)
        self.uses = 0

    def end(self, start):
        return start + self.sol.duration_ns if self.solo else self.sol.end_ns(start)

    def advance(self, ready):
        """The ranks' ready times after this step (no critical path), and the step's ends."""
        if self.rot is not None:                        # ring step: start = ready, no gathers
            end = self.end(ready)
            k, new = self.rot, np.empty_like(end)
            np.maximum(end[k:], end[:-k], out=new[k:])
            np.maximum(end[:k], end[-k:], out=new[:k])
            return new, end
        src, dst = self.step.src, self.step.dst
        end = self.end(ready[src])
        new = ready.copy()
        np.maximum.at(new, src, end)
        np.maximum.at(new, dst, end)
        return new, end


def _all_pairs_setters(p, group, gs, gd, end_c, k):
    """Per rank: the (step, flow) of an all-pairs step that made it ready (flow = src * p + dst)."""
    G = int(group.max()) + 1
    g_of = np.concatenate([gs, gd])
    c_of = np.concatenate([np.arange(gs.size)] * 2)
    order = np.lexsort((end_c[c_of], g_of))
    last = np.flatnonzero(np.r_[g_of[order][1:] != g_of[order][:-1], True])
    best = np.full(G, -1, np.int64)
    best[g_of[order][last]] = c_of[order][last]
    members = np.argsort(group, kind="stable")
    first = np.searchsorted(group[members], np.arange(G))
    second = np.minimum(first + 1, p - 1)
    r = np.arange(p)
    c = best[group]
    sends = gs[c] == group
    other = np.where(sends, gd[c], gs[c])
    peer = members[first[other]]
    peer = np.where(peer == r, members[second[other]], peer)
    flow = np.where(sends, r * p + peer, peer * p + r)
    return np.stack([np.full(p, k), flow], axis=1)


def _run_fluid(model, schedule: Schedule, h: np.ndarray) -> CollectiveResult:
    """The fluid flow-level mode (:mod:`photolink.net.flowscale`), step by step as :func:`run`."""
    topo = model.topology
    p = schedule.n_ranks
    ready = np.zeros(p)
    track = schedule.n_flows <= FLUID_PATH_FLOWS
    setter = np.full((p, 2), -1, np.int64)
    cache: dict = {}
    history = []
    step_end = np.empty(len(schedule.steps))
    busy_total = np.zeros(topo.n_links)
    last = None
    steps = schedule.steps
    repeats = _repeats(steps)
    k = 0
    while k < len(steps):
        step = steps[k]
        if isinstance(step, AllPairsStep):
            sol, group, gs, gd, gstart = model.all_pairs_step(h, step.bytes_to, step.load, ready)
            end_c = sol.end_ns(gstart[gs])
            gend = np.full(int(group.max()) + 1, -np.inf)
            np.maximum.at(gend, gs, end_c)
            np.maximum.at(gend, gd, end_c)
            new = np.maximum(ready, gend[group])
            setter = np.where((gend[group] >= ready)[:, None], _all_pairs_setters(p, group, gs, gd, end_c, k), setter)
            busy_total += sol.busy_ns
            record = ("pairs", sol, group, gs, gd, gstart, end_c)
            step_end[k] = float(end_c.max())
        else:
            entry = cache.get(id(step))
            if entry is None or entry.step is not step:
                entry = cache[id(step)] = _Listed(model, step, h, p)
            entry.uses += 1
            if track:
                start = ready[step.src]
                end = entry.end(start)
                new, setter = _advance(ready, setter, step.src, step.dst, end, k)
                record = ("listed", entry.sol, start, end)
            else:
                new, end = entry.advance(ready)
                record = ("listed", entry.sol, ("ready", ready), end)   # starts gathered when needed
            step_end[k] = float(end.max()) if end.size else math.nan
            m = int(repeats[k]) if not track and k % FLUID_STEADY_CHECK == 0 else 0
            if m:
                gap = new - ready
                lam = float(gap[0])
                if np.ptp(gap) <= 1e-9 * abs(lam) + 4 * np.finfo(float).eps * float(np.abs(new).max()):
                    # steady state: every rank advances by lam a step, so the m repeats of this
                    # step that follow each add lam (max-plus linearity; exact)
                    step_end[k + 1:k + 1 + m] = step_end[k] + lam * np.arange(1, m + 1)
                    entry.uses += m
                    record = ("listed", entry.sol, ("ready", new + (m - 1) * lam), end + m * lam)
                    new = new + m * lam
                    k += m
        if track:
            history.append((record, setter.copy()))
        last = (k, record)
        ready = new
        k += 1
    for entry in cache.values():
        busy_total += entry.uses * entry.sol.busy_ns
    path, bottleneck = _fluid_critical_path(model, schedule, h, history, last, ready)
    return CollectiveResult(schedule.name, "fluid", float(ready.max()), True, step_end, path, bottleneck,
                            0, 0, 0, schedule.total_bytes, busy_total)


def _fluid_flow(model, schedule, h, k, record, flow):
    """One flow of a recorded fluid step as a critical-path entry, and its source and destination."""
    step = schedule.steps[k]
    p = schedule.n_ranks
    if record[0] == "pairs":
        _, sol, group, gs, gd, gstart, end_c = record
        src, dst = divmod(int(flow), p)
        c = int(np.flatnonzero((gs == group[src]) & (gd == group[dst]))[0])
        start, end, nbytes = float(gstart[gs[c]]), float(end_c[c]), float(step.bytes_to[dst])
    else:
        _, sol, starts, ends = record
        c = int(flow)
        src, dst = int(step.src[c]), int(step.dst[c])
        start = float(starts[1][src]) if isinstance(starts, tuple) else float(starts[c])
        end, nbytes = float(ends[c]), float(step.bytes_[c])
    lat = float(sol.latency_ns[c])
    rate = float(model.rate_bpns[model.up_link[h[src]]]) * 8.0
    ser = 8.0 * nbytes / (rate * step.load)
    return {"step": k, "flow": int(flow), "src": src, "dst": dst, "start_ns": start, "end_ns": end,
            "duration_ns": end - start, "serialisation_ns": ser, "route_latency_ns": lat,
            "excess_ns": end - start - ser - lat}


def _fluid_critical_path(model, schedule, h, history, last, ready):
    if last is None:
        return [], {}
    topo = model.topology
    path = []
    if history:
        r = int(np.argmax(ready))
        k, flow = (int(x) for x in history[-1][1][r])
        while k >= 0 and flow >= 0:
            entry = _fluid_flow(model, schedule, h, k, history[k][0], flow)
            path.append(entry)
            prev = history[k - 1][1] if k > 0 else None
            if prev is None:
                break
            k, flow = (int(x) for x in prev[entry["src"]])
    else:
        k, record = last
        flow = int(np.argmax(record[-1]))
        if record[0] == "pairs":
            _, _, group, gs, gd, _, end_c = record
            c = int(np.argmax(end_c))
            a = int(np.flatnonzero(group == gs[c])[0])
            b = next(int(x) for x in np.flatnonzero(group == gd[c])[:2] if x != a)
            flow = a * schedule.n_ranks + b
        path.append(_fluid_flow(model, schedule, h, k, record, flow))
    crit = path[0]["step"]
    sol = history[crit][0][1] if history else last[1][1]
    busy = sol.busy_ns
    link = int(np.argmax(busy))
    bottleneck = {"link": link, "src": int(topo.link_src[link]), "dst": int(topo.link_dst[link]),
                  "tier": topo.tier_names[topo.link_tier[link]], "rate_gbps": float(topo.link_rate_gbps[link]),
                  "busy_ns": float(busy[link]), "retries": 0, "tail_drops": 0, "step": crit}
    return path, bottleneck


def _critical_path(fabric, schedule, hosts, history, step_busy, complete):
    if not complete or not history:
        return [], {}
    k = len(history) - 1
    i = int(np.nanargmax(history[k][1]))
    path = []
    topo = fabric.topology
    while k >= 0 and i >= 0:
        step = schedule.steps[k]
        start, end, setters = history[k]
        src, dst = int(step.src[i]), int(step.dst[i])
        lat = float(flowsim.route_latency_ns(fabric, hosts[[src]], hosts[[dst]])[0])
        rate = topo.link_rate_gbps[topo.host_link(int(hosts[src]))]
        ser = 8.0 * float(step.bytes_[i]) / (rate * step.load)
        dur = float(end[i] - start[i])
        path.append({"step": k, "flow": i, "src": src, "dst": dst, "start_ns": float(start[i]),
                     "end_ns": float(end[i]), "duration_ns": dur, "serialisation_ns": ser,
                     "route_latency_ns": lat, "excess_ns": dur - ser - lat})
        k, i = (int(x) for x in setters[i])
    crit = path[0]["step"]
    busy, extra = step_busy[crit]
    link = int(np.argmax(busy))
    bottleneck = {"link": link, "src": int(topo.link_src[link]), "dst": int(topo.link_dst[link]),
                  "tier": topo.tier_names[topo.link_tier[link]], "rate_gbps": float(topo.link_rate_gbps[link]),
                  "busy_ns": float(busy[link]), "retries": int(extra["retries"][link]),
                  "tail_drops": int(extra["tail_drops"][link]), "step": crit}
    return path, bottleneck


@dataclass(frozen=True)
class CompletionStats:
    """Completion time over independent seeds: percentiles with distribution-free CIs.

    ``ci[name]`` is the order-statistic interval of the percentile (exact binomial, at least
    ``confidence``; an end is nan where n runs cannot bound it); ``incomplete`` runs (lost
    packets) count as infinite.
    """

    n_runs: int
    incomplete: int
    p50_ns: float
    p99_ns: float
    max_ns: float
    mean_ns: float
    ci: dict
    incomplete_ci: tuple
    samples_ns: tuple = ()

    def to_dict(self) -> dict:
        return {"n_runs": self.n_runs, "incomplete": self.incomplete, "p50_ns": self.p50_ns,
                "p99_ns": self.p99_ns, "max_ns": self.max_ns, "mean_ns": self.mean_ns,
                "ci": {k: list(x) for k, x in self.ci.items()}, "incomplete_ci": list(self.incomplete_ci)}


def _order_ci(x: np.ndarray, q: float, confidence: float) -> tuple:
    """Distribution-free interval of the q-quantile from sorted samples (binomial order statistics)."""
    from scipy import stats as st  # noqa: PLC0415 - scipy is heavy; only here
    n = x.size
    a = (1 - confidence) / 2
    lo = int(st.binom.ppf(a, n, q)) - 1
    hi = int(st.binom.ppf(1 - a, n, q))
    return (float(x[lo]) if lo >= 0 else math.nan, float(x[hi]) if hi < n else math.nan)


def completion_stats(fabric: Fabric, schedule: Schedule, *, n_runs: int, seed: _rng.SeedLike,
                     confidence: float = 0.95,
                     **kwargs) -> CompletionStats:
    """Run ``schedule`` ``n_runs`` times (children of ``seed``) and summarise its completion time."""
    n = v.integer("n_runs", n_runs, lo=1, hi=1 << 20)
    confidence = v.real("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    ss = _rng.seed_sequence(seed)
    t = np.array([run(fabric, schedule, seed=_rng.child(ss, i), **kwargs).completion_ns for i in range(n)])
    bad = int(np.sum(~np.isfinite(t)))
    x = np.sort(np.where(np.isfinite(t), t, math.inf))

    def pct(q):
        return float(x[min(n - 1, max(0, math.ceil(q * n) - 1))])

    ci = {"p50": _order_ci(x, 0.5, confidence), "p99": _order_ci(x, 0.99, confidence)}
    return CompletionStats(n, bad, pct(0.5), pct(0.99), float(x[-1]), float(np.mean(x)), ci,
                           clopper_pearson(bad, n, confidence), tuple(t.tolist()))
