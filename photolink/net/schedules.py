"""Collectives as schedules: dependent steps of point-to-point flows between ranks.

A collective is a :class:`Schedule`: a sequence of steps, each a set of point-to-point flows
between ranks (rank i is host ``hosts[i]`` of the topology), and the dependencies between its
flows (:func:`dependencies`). By default a rank starts its flows of step k when every flow it
sent or received before has been delivered (the data it forwards has arrived and its previous
sends are done): flow (k, i) waits for the flows of rank ``src[i]``'s last step, and, where the
rank only received there, for what those waited for (no global barrier). A schedule may also
carry its own dependencies (the chunk-pipelined double binary tree: each chunk forwarded as soon
as it has arrived).

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
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .._util import validate as v

__all__ = ["AllPairsStep", "Schedule", "Step", "closed_form_ns", "dbt_height", "dependencies", "direct_all_to_all",
           "double_binary_tree_all_reduce", "halving_doubling_all_reduce", "hierarchical_all_reduce",
           "pairwise_all_to_all", "ring_all_gather", "ring_all_reduce", "ring_reduce_scatter"]

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
