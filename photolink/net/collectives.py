"""Collectives over a fabric: flow schedules, their completion time, its tail and what set it.

A collective is a :class:`Schedule`: a sequence of steps, each a set of point-to-point flows
between ranks (rank i is host ``hosts[i]`` of the topology), and the dependencies between its
flows (:func:`dependencies`). By default a rank starts its flows of step k when every flow it
sent or received before has been delivered (the data it forwards has arrived and its previous
sends are done): flow (k, i) waits for the flows of rank ``src[i]``'s last step, and, where the
rank only received there, for what those waited for (no global barrier). A schedule may also
carry its own dependencies (the chunk-pipelined double binary tree: each chunk forwarded as soon
as it has arrived).

Packet mode runs the whole schedule in **one** :meth:`Fabric.run`: the fabric engine starts a
flow when its dependencies have been delivered, so flows of successive steps share queues (a
rank that is done early moves on while others still send). Flow mode
(:mod:`photolink.net.flowsim`: one ECMP route per flow) and fluid mode
(:mod:`photolink.net.flowscale`: flow classes on routes split over equal-cost next hops, for 1e4 -
1e5 endpoints) run step by step, one max-min fair solve per step whose flows enter at their source
rank's ready time.

Attribution (packet mode): the critical path is the chain of flows that set the completion
time, each released by the dependency delivered last; each flow's time is split into the
entry gap after its release (a paced flow's phase), its source pacing (the entries of its earlier
packets), and, for its last-delivered packet, queueing, retries, serialisation, link latency
(propagation and fixed parts), FEC hold and switch latency (:attr:`CollectiveResult.attribution`:
their sum over the path is the completion time).

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
  broadcasting half the message cut into ``n_chunks`` chunks, each forwarded as soon as it has
  arrived (pipelined; one chunk in flight per tree edge);
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
direct all-to-all (p - 1)/p x S/B + alpha, the chunk-pipelined double binary tree
2H alpha + (2H - 1) S/(nB) + (n - 1) max(2S/(nB), alpha + S/(nB)) ([ref:photolink-dbt-pipelined];
:func:`closed_form_ns`).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import clopper_pearson
from . import flowscale, flowsim
from .fabric import LATENCY_PARTS, Fabric
from .flows import Flows
from .path import E2E, LLR, Switch
from .topology import Topology

__all__ = ["ATTRIBUTION_PARTS", "AllPairsStep", "CollectiveResult", "CompletionStats", "Schedule", "Step", "closed_form_ns",
           "completion_stats", "dbt_height", "degrade", "degrade_fraction", "dependencies", "direct_all_to_all", "double_binary_tree_all_reduce", "halving_doubling_all_reduce", "hierarchical_all_reduce", "pairwise_all_to_all",
           "ring_all_gather", "ring_all_reduce", "ring_reduce_scatter", "run"]

#: Most steps in a schedule (a ring of 100k ranks has 2e5).
MAX_STEPS = 1 << 20
#: Parts of a critical path's time (packet mode), in order; their sum is the completion time.
ATTRIBUTION_PARTS = ("gap_ns", "source_ns") + LATENCY_PARTS


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
    deps : tuple of numpy.ndarray, optional
        Explicit dependencies ``(offsets, indices)`` over the flows of all steps in order: flow
        j waits for ``indices[offsets[j]:offsets[j + 1]]`` (earlier flows); None: the rank rule
        of :func:`dependencies`.
    n_chunks : int
        Chunks the message is cut into (pipelined schedules; 1 otherwise).
    """

    name: str
    n_ranks: int
    message_bytes: float
    steps: tuple
    deps: tuple | None = None
    n_chunks: int = 1

    @property
    def n_flows(self) -> int:
        return sum(s.n_flows for s in self.steps)

    @property
    def total_bytes(self) -> float:
        """Bytes carried by the network (every flow of every step)."""
        return float(sum(s.total_bytes for s in self.steps))

    def to_dict(self) -> dict:
        return {"name": self.name, "n_ranks": self.n_ranks, "message_bytes": self.message_bytes,
                "n_steps": len(self.steps), "n_flows": self.n_flows, "total_bytes": self.total_bytes,
                "n_chunks": self.n_chunks}


def dependencies(schedule: Schedule) -> tuple[np.ndarray, np.ndarray]:
    """The dependencies of a schedule's flows (all steps in order) as ``(offsets, indices)``.

    A schedule's own ``deps`` if it has them; otherwise the rank rule: flow (k, i) waits for every
    flow its source rank r sent or received before, reduced to a frontier: the flows of r's last
    step, plus, when r only received there, the frontier those flows left (a flow that r sent
    started after r's earlier flows had been delivered, so waiting for it covers them).
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a photolink.net.collectives.Schedule, got {type(schedule).__name__}")
    if schedule.deps is not None:
        return schedule.deps
    p = schedule.n_ranks
    fr_off, fr_on = np.zeros(p + 1, np.int64), np.zeros(0, np.int64)   # each rank's frontier (CSR)
    offs, ons, base, total = [np.zeros(1, np.int64)], [], 0, 0
    for step in schedule.steps:
        src, dst = np.asarray(step.src, np.int64), np.asarray(step.dst, np.int64)
        m = src.size
        cnt = np.diff(fr_off)[src]
        off = np.cumsum(cnt)
        gather = np.repeat(fr_off[src] - (off - cnt), cnt) + np.arange(off[-1] if m else 0)
        ons.append(fr_on[gather])
        offs.append(total + off)
        total += int(off[-1]) if m else 0
        # the new frontier: this step's flows of each rank involved, plus the old one of ranks
        # that did not send in this step
        sends = np.zeros(p, bool)
        sends[src] = True
        old_rank = np.repeat(np.arange(p), np.diff(fr_off))
        keep = ~sends[old_rank]
        gid = base + np.arange(m)
        ranks = np.concatenate([old_rank[keep], src, dst])
        flows = np.concatenate([fr_on[keep], gid, gid])
        order = np.argsort(ranks, kind="stable")
        fr_on = flows[order]
        fr_off = np.zeros(p + 1, np.int64)
        np.cumsum(np.bincount(ranks, minlength=p), out=fr_off[1:])
        base += m
    return np.concatenate(offs), (np.concatenate(ons) if ons else np.zeros(0, np.int64))


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


def _dbt_trees(p: int) -> list:
    """The two trees of a double binary tree over p ranks, as parent arrays (root: -1).

    The first alternates leaves and inner nodes: rank r > 0 with lowest set bit b hangs below
    (r - b) + 2b, or below r - b where that is past the last rank; rank 0 is the root (one
    child). Every odd rank is a leaf, every even rank an inner node. The second tree is the
    first mirrored (rank r plays p - 1 - r) for even p, shifted by one rank (r plays r - 1) for
    odd p: its leaves are the even ranks, so each rank is an inner node of at most one tree
    (odd p: but rank 0) and a port carries about 2S, the bandwidth bound ([ref:coll-dbt]).
    """
    r = np.arange(1, p)
    low = r & -r
    up = (r ^ low) | (low << 1)
    first = np.r_[-1, np.where(up < p, up, r ^ low)]
    role = p - 1 - np.arange(p) if p % 2 == 0 else (np.arange(p) - 1) % p   # rank -> its place in the first
    rank_of = np.argsort(role)                                                 # place -> rank
    second = np.where(first[role] >= 0, rank_of[np.maximum(first[role], 0)], -1)
    return [first, second]


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


def _tree_shape(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Height (leaves 0) and depth (root 0) of each node of a tree given by its parent array."""
    p = parent.size
    depth = np.zeros(p, np.int64)
    for _ in range(p):
        nd = np.where(parent >= 0, depth[np.maximum(parent, 0)] + 1, 0)
        if np.array_equal(nd, depth):
            break
        depth = nd
    return _heights(parent), depth


def double_binary_tree_all_reduce(n_ranks: int, message_bytes: float, n_chunks: int = 1) -> Schedule:
    """Double binary tree all-reduce ([ref:coll-dbt]), chunk-pipelined.

    Two binary trees (:func:`_dbt_trees`: the second the first mirrored or shifted, so that a
    leaf of one is an inner node of the other), each reducing then broadcasting half of the message,
    cut into ``n_chunks`` chunks of S/(2 n_chunks) bytes. Dependencies (explicit, per chunk):
    a node sends chunk c up its tree when chunk c has arrived from each of its children (the data
    it reduces), the root sends chunk c down as soon as it has it from its children, an inner
    node forwards chunk c down when it has arrived from its parent; and on every tree edge chunk
    c waits for chunk c - 1 to be delivered (one chunk in flight per edge, so each chunk hop
    costs alpha plus its serialisation, the pipelined alpha-beta model). ``n_chunks`` = 1: no
    pipelining. Steps group the flows by wavefront (chunk c up from a node of height h: step
    c + h; down to a node of depth d: c + H + d, H the larger tree height) for flow mode and
    per-step reports. Closed form on an ideal switch: :func:`closed_form_ns` with ``n_chunks``.
    """
    p, s = _p(n_ranks), _s(message_bytes)
    n = v.integer("n_chunks", n_chunks, lo=1, hi=1 << 16)
    trees = _dbt_trees(p)
    shapes = [_tree_shape(t) for t in trees]
    top = max(int(h.max()) for h, _ in shapes)
    chunk = s / (2 * n)
    # flows keyed (tree, phase, chunk, node): up = node -> parent, down = parent -> node
    keys, step, src, dst = [], [], [], []
    for t, parent in enumerate(trees):
        h, d = shapes[t]
        nodes = np.flatnonzero(parent >= 0)
        for c in range(n):
            for phase, st in ((0, c + h[nodes]), (1, c + top + d[nodes])):
                keys.append(np.stack([np.full(nodes.size, t), np.full(nodes.size, phase), np.full(nodes.size, c),
                                      nodes], axis=1))
                step.append(st)
                src.append(nodes if phase == 0 else parent[nodes])
                dst.append(parent[nodes] if phase == 0 else nodes)
    keys, step = np.concatenate(keys), np.concatenate(step)
    src, dst = np.concatenate(src), np.concatenate(dst)
    order = np.argsort(step, kind="stable")
    index = {tuple(k): j for j, k in enumerate(keys[order].tolist())}
    deps = []
    for t_, ph, c, u in keys[order].tolist():
        parent = trees[t_]
        children = np.flatnonzero(parent == u).tolist()
        if ph == 0:
            dd = [index[(t_, 0, c, w)] for w in children]
        elif parent[parent[u]] < 0:                       # the root's child: the root's chunk c
            dd = [index[(t_, 0, c, w)] for w in np.flatnonzero(parent == parent[u]).tolist()]
        else:
            dd = [index[(t_, 1, c, int(parent[u]))]]
        if c > 0:
            dd.append(index[(t_, ph, c - 1, u)])
        deps.append(dd)
    off = np.zeros(len(deps) + 1, np.int64)
    np.cumsum([len(x) for x in deps], out=off[1:])
    on = np.array([j for x in deps for j in x], np.int64)
    step, src, dst = step[order], src[order], dst[order]
    bounds = np.flatnonzero(np.r_[True, step[1:] != step[:-1], True])
    steps = tuple(Step(src[i:j], dst[i:j], np.full(j - i, chunk)) for i, j in itertools.pairwise(bounds))
    return Schedule("double-binary-tree-all-reduce", p, s, steps, deps=(off, on), n_chunks=n)


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


def dbt_height(n_ranks: int) -> int:
    """H: the height of the taller of the double binary tree's two trees (edges, root to leaf)."""
    p = _p(n_ranks)
    return max(int(_heights(t).max()) for t in _dbt_trees(p))


def closed_form_ns(name: str, n_ranks: int, message_bytes: float, rate_gbps: float, alpha_ns: float,
                   n_chunks: int = 1) -> float:
    """Completion time of a collective on an ideal non-blocking fabric, ns (alpha-beta model).

    ``"double-binary-tree-all-reduce"`` ([ref:photolink-dbt-pipelined]; chunk-pipelined,
    ``n_chunks`` n, trees of height H (:func:`dbt_height`), p even, so that every rank is an
    inner node of exactly one tree): T = 2H alpha + (2H - 1) S/(n B) + (n - 1) max(2S/(n B),
    alpha + S/(n B)). The first chunk crosses 2H hops (reduce up, broadcast down), each costing
    alpha and two half-chunks of S/(2n) on one port (two children into their parent, a parent
    to its two children), but the two hops at the root, which has one child (one half-chunk
    each); every further chunk costs the busiest port's work for one chunk, four half-chunks
    (an inner node sends up in both trees and down to two children) = 2S/(n B), or the
    one-chunk-in-flight round alpha + S/(n B) where that is longer. n = 1 is exact. Pipelined,
    the form is first order: within 1 % at n = 64 for p = 16 .. 64 (alpha = S/(5 n B)), 1.5 %
    at p = 8, 3-5 % above the simulation at n = 16 (the first chunks stream before the
    broadcast loads the ports). Odd p (shifted second tree) is near it but not exact at n = 1.
    """
    p, s = _p(n_ranks), _s(message_bytes)
    b = v.real("rate_gbps", rate_gbps, lo=1e-3, hi=1e6)
    a = v.real("alpha_ns", alpha_ns, lo=0.0, hi=1e12)
    n = v.integer("n_chunks", n_chunks, lo=1, hi=1 << 16)
    beta = 8.0 / b  # ns per byte
    if name == "double-binary-tree-all-reduce":
        h = dbt_height(p)
        return 2 * h * a + (2 * h - 1) * s / n * beta + (n - 1) * max(2 * s / n * beta, a + s / n * beta)
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
        The chain of flows that set the completion time, last first, each released by the
        next: step, flow index in its step, src and dst ranks, start, end, duration, and its
        excess over serialisation plus the unloaded route latency (queueing, retries, FEC hold
        and sharing). Packet mode adds ``ready_ns`` (its dependencies delivered), the link
        where its last packet spent longest (``worst_link``) and its time by part
        (:data:`ATTRIBUTION_PARTS`: the entry gap after ``ready_ns``, source pacing of its earlier
        packets, and its last packet's queueing, retries, serialisation, link latency, FEC hold,
        switch latency), which sum to its ``end_ns - ready_ns``.
    bottleneck : dict
        Packet mode: the link that cost the critical path most beyond a healthy fabric (each
        flow's queueing and retries at its ``worst_link``, and its source pacing beyond what the
        fastest host link would take, at its first link): link id, src/dst node, tier, rate,
        ``critical_ns`` (that cost), busy ns over the run, retries, tail drops, and the last step
        whose critical flow went through it; on a healthy path, the link where it spent longest.
        Flow mode: the link busiest in the critical flow's step.
    attribution : dict
        Packet mode: the critical path's time by part (:data:`ATTRIBUTION_PARTS`), summed over its
        flows; the parts add up to ``completion_ns``. Empty in flow mode.
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
    attribution: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"schedule": self.schedule, "mode": self.mode, "completion_ns": self.completion_ns,
                "complete": self.complete, "step_end_ns": self.step_end_ns.tolist(),
                "critical_path": self.critical_path, "bottleneck": self.bottleneck,
                "attribution": self.attribution,
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


def _schedule_flows(fabric: Fabric, schedule: Schedule, hosts: np.ndarray, packet_bytes: float) -> Flows:
    """All flows of a schedule (steps in order) as fabric flows with their dependencies."""
    topo = fabric.topology
    src = np.concatenate([s.src for s in schedule.steps])
    dst = np.concatenate([s.dst for s in schedule.steps])
    b = np.concatenate([np.asarray(s.bytes_, np.float64) for s in schedule.steps])
    load = np.concatenate([np.full(s.src.size, s.load) for s in schedule.steps])
    phase = np.concatenate([s.phase if s.phase is not None else np.zeros(s.src.size) for s in schedule.steps])
    rate = topo.link_rate_gbps[topo.host_links(hosts[src])]
    n = np.ceil(b / packet_bytes).astype(np.int64)
    # a paced flow enters phase full packets' serialisation times after its dependencies
    gap = phase * 8.0 * packet_bytes / rate
    off, on = dependencies(schedule)
    return Flows(hosts[src], hosts[dst], "constant", load, packet_bytes, b - (n - 1) * packet_bytes, n, gap,
                 dep_off=off, dep_on=on)


def _run_packet(fabric, schedule, hosts, ss, recovery, packet_bytes):
    """The whole schedule in one fabric run; its critical path and attribution."""
    flows = _schedule_flows(fabric, schedule, hosts, packet_bytes)
    res = fabric.run(flows, seed=ss, recovery=recovery, queue_histograms=False)
    f = res.flows
    done = f["delivered"] == flows.n_packets
    complete = bool(np.all(done))
    end = np.where(done, f["end_ns"], np.nan)
    sizes = np.array([s.src.size for s in schedule.steps])
    bounds = np.r_[0, np.cumsum(sizes)]
    step_end = np.array([np.nanmax(end[i:j]) if np.any(np.isfinite(end[i:j])) else math.nan
                         for i, j in itertools.pairwise(bounds)])
    busy = res.links["mean_serialisation_ns"] * res.links["transmissions"]
    path, bottleneck, attribution = [], {}, {}
    if complete:
        path, bottleneck, attribution = _packet_critical_path(fabric, schedule, hosts, flows, res, bounds, busy)
    completion = float(np.max(end)) if complete else math.nan
    return CollectiveResult(schedule.name, "packet", completion, complete, step_end, path, bottleneck,
                            res.llr_retries, res.e2e_retransmissions, res.lost, schedule.total_bytes, busy,
                            attribution)


def _packet_critical_path(fabric, schedule, hosts, flows, res, bounds, busy):
    f = res.flows
    topo = fabric.topology
    j = int(np.argmax(f["end_ns"]))
    chain = []
    while j >= 0:
        chain.append(j)
        j = int(f["released_by"][j])
    chain = np.array(chain)
    step_of = np.searchsorted(bounds, chain, side="right") - 1
    src_rank = np.concatenate([s.src for s in schedule.steps])[chain]
    dst_rank = np.concatenate([s.dst for s in schedule.steps])[chain]
    lat = flowsim.route_latency_ns(fabric, hosts[src_rank], hosts[dst_rank])
    b = flows.packet_bytes[chain] * (flows.n_packets[chain] - 1) + flows.last_bytes[chain]
    first = topo.host_links(hosts[src_rank])
    rate = topo.link_rate_gbps[first]
    ser = 8.0 * b / (rate * flows.load[chain])
    start = f["end_ns"][chain] - f["completion_time_ns"][chain]
    ready = f["ready_ns"][chain]
    parts = {"gap_ns": start - ready, "source_ns": f["source_ns"][chain], **{k: f[k][chain] for k in LATENCY_PARTS}}
    path = []
    for n, g in enumerate(chain.tolist()):
        k = int(step_of[n])
        dur = float(f["completion_time_ns"][g])
        path.append({"step": k, "flow": g - int(bounds[k]), "src": int(src_rank[n]), "dst": int(dst_rank[n]),
                     "start_ns": float(start[n]), "end_ns": float(f["end_ns"][g]), "duration_ns": dur,
                     "serialisation_ns": float(ser[n]), "route_latency_ns": float(lat[n]),
                     "excess_ns": dur - float(ser[n]) - float(lat[n]), "ready_ns": float(ready[n]),
                     "worst_link": int(f["worst_link"][g]), **{p: float(x[n]) for p, x in parts.items()}})
    attribution = {p: float(np.sum(x)) for p, x in parts.items()}
    # the link that cost the path most beyond a healthy fabric: the queueing and retries of each
    # flow's last packet at its worst link, and its source pacing beyond the fastest host link's
    fastest = float(np.max(topo.link_rate_gbps[topo.host_links(hosts)]))
    slow_source = parts["source_ns"] - (flows.n_packets[chain] - 1) * 8.0 * flows.packet_bytes[chain] / \
        (fastest * flows.load[chain])
    on_link = np.bincount(f["worst_link"][chain], weights=parts["queueing_ns"] + parts["retries_ns"],
                          minlength=topo.n_links) + np.bincount(first, weights=np.maximum(slow_source, 0.0),
                                                                minlength=topo.n_links)
    if not np.max(on_link) > 0:          # a healthy path: the link where it spent longest
        on_link = np.bincount(f["worst_link"][chain], minlength=topo.n_links, weights=parts["source_ns"]
                              + parts["queueing_ns"] + parts["retries_ns"] + parts["serialisation_ns"])
    link = int(np.argmax(on_link))
    through = np.flatnonzero((f["worst_link"][chain] == link) | (first == link))
    bottleneck = {"link": link, "src": int(topo.link_src[link]), "dst": int(topo.link_dst[link]),
                  "tier": topo.tier_names[topo.link_tier[link]], "rate_gbps": float(topo.link_rate_gbps[link]),
                  "critical_ns": float(on_link[link]), "busy_ns": float(busy[link]),
                  "retries": int(res.links["retries"][link]), "tail_drops": int(res.links["tail_drops"][link]),
                  "step": int(step_of[through[0]]) if through.size else -1}
    return path, bottleneck, attribution


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
    """Run a collective over a fabric (see the module docstring).

    Parameters
    ----------
    fabric : Fabric or Topology
        A Topology (fluid mode only: no routing table is built) runs with the default switch.
    schedule : Schedule
    seed : int, SeedSequence or None
        Packet mode: the seed of the one :meth:`Fabric.run`; flow mode: step k's ECMP salt from
        child k (the fluid mode is deterministic).
    mode : {"packet", "flow", "fluid"}
        ``"packet"``: the whole schedule in one :meth:`Fabric.run`, each flow started by the
        fabric engine when its dependencies have been delivered; ``"flow"``: step by step,
        max-min fair rates per flow on its ECMP route (:func:`photolink.net.flowsim.run_step`);
        ``"fluid"``: step by step, max-min fair rates over flow classes with routes split over
        equal-cost next hops, for fabrics of 1e4 - 1e5 endpoints (:mod:`photolink.net.flowscale`).
    recovery : {"drop", "llr"}, LLR or E2E
        Packet mode's recovery (a flow with lost packets leaves the collective incomplete, and
        the flows waiting for it never start).
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
    if mode == "packet":
        return _run_packet(fabric, schedule, h, ss, recovery, packet_bytes)
    return _run_flow(fabric, schedule, h, ss, packet_bytes, goodput)


def _explicit_ready(schedule: Schedule, k: int, end_all: np.ndarray, bounds: np.ndarray):
    """Flow mode with a schedule's own dependencies: each flow of step k starts when its
    dependencies have ended; and the (step, flow) of the one that ended last (-1: none)."""
    off, on = schedule.deps
    i, j = int(bounds[k]), int(bounds[k + 1])
    o = off[i:j + 1]
    cnt = np.diff(o)
    dep = on[o[0]:o[-1]]
    seg = np.repeat(np.arange(j - i), cnt)
    e = end_all[dep]
    order = np.lexsort((e, seg))
    last = np.flatnonzero(np.r_[seg[order][1:] != seg[order][:-1], True]) if seg.size else np.zeros(0, np.int64)
    start = np.zeros(j - i)
    setter = np.full((j - i, 2), -1, np.int64)
    g = dep[order][last]
    start[seg[order][last]] = e[order][last]
    kk = np.searchsorted(bounds, g, side="right") - 1
    setter[seg[order][last]] = np.stack([kk, g - bounds[kk]], axis=1)
    return start, setter


def _run_flow(fabric, schedule, h, ss, packet_bytes, goodput):
    """Flow mode: step by step, each a max-min fair solve (:func:`flowsim.run_step`)."""
    topo = fabric.topology
    p = schedule.n_ranks
    explicit = schedule.deps is not None
    bounds = np.r_[0, np.cumsum([s.src.size for s in schedule.steps])]
    end_all = np.zeros(int(bounds[-1]))
    ready = np.zeros(p)
    # for each rank: (step, flow) of the flow that last set its ready time
    setter = np.full((p, 2), -1, np.int64)
    history = []
    busy_total = np.zeros(topo.n_links)
    step_busy = []
    for k, step in enumerate(schedule.steps):
        if explicit:
            start, step_setter = _explicit_ready(schedule, k, end_all, bounds)
        else:
            start, step_setter = ready[step.src], setter[step.src].copy()
        end, busy = flowsim.run_step(fabric, h[step.src], h[step.dst], step.bytes_, start,
                                     load=step.load, packet_bytes=packet_bytes, goodput=goodput,
                                     salt=flowsim.ecmp_salt(_rng.child(ss, k)))
        end_all[bounds[k]:bounds[k + 1]] = end
        extra = {"retries": np.zeros(topo.n_links), "tail_drops": np.zeros(topo.n_links)}
        busy_total += busy
        step_busy.append((busy, extra))
        history.append((start, end, step_setter))
        ready, setter = _advance(ready, setter, step.src, step.dst, end, k)
    step_end = np.array([np.max(e) for _, e, _ in history])
    completion = float(np.max(end_all))
    path, bottleneck = _critical_path(fabric, schedule, h, history, step_busy, True)
    return CollectiveResult(schedule.name, "flow", completion, True, step_end, path, bottleneck,
                            0, 0, 0, schedule.total_bytes, busy_total)


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
    k = int(np.argmax([np.max(e) for _, e, _ in history]))
    i = int(np.argmax(history[k][1]))
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
