"""Collectives over a fabric: their completion time, its tail and what set it.

A collective is a :class:`~photolink.net.schedules.Schedule` (:mod:`photolink.net.schedules`: the
schedules, their dependencies and closed forms, re-exported here), run on a fabric by :func:`run`.

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
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import clopper_pearson
from . import flowscale, flowsim
from .fabric import LATENCY_PARTS, Fabric
from .flows import Flows
from .path import E2E, LLR, Switch
from .schedules import (
    AllPairsStep,
    Schedule,
    Step,
    closed_form_ns,
    dbt_height,
    dependencies,
    direct_all_to_all,
    double_binary_tree_all_reduce,
    halving_doubling_all_reduce,
    hierarchical_all_reduce,
    pairwise_all_to_all,
    ring_all_gather,
    ring_all_reduce,
    ring_reduce_scatter,
)
from .topology import Topology

__all__ = ["ATTRIBUTION_PARTS", "AllPairsStep", "CollectiveResult", "CompletionStats", "Schedule", "Step", "closed_form_ns",
           "completion_stats", "dbt_height", "degrade", "degrade_fraction", "dependencies", "direct_all_to_all", "double_binary_tree_all_reduce", "halving_doubling_all_reduce", "hierarchical_all_reduce", "pairwise_all_to_all",
           "ring_all_gather", "ring_all_reduce", "ring_reduce_scatter", "run"]

#: Parts of a critical path's time (packet mode), in order; their sum is the completion time.
ATTRIBUTION_PARTS = ("gap_ns", "source_ns") + LATENCY_PARTS


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
    bottleneck = _bottleneck(topo, link, busy, int(step_of[through[0]]) if through.size else -1,
                             retries=int(res.links["retries"][link]),
                             tail_drops=int(res.links["tail_drops"][link]), critical_ns=float(on_link[link]))
    return path, bottleneck, attribution


def _bottleneck(topo: Topology, link: int, busy_ns: np.ndarray, step: int, *, retries: int = 0,
                tail_drops: int = 0, **more) -> dict:
    """The :attr:`CollectiveResult.bottleneck` entry of directed link ``link``."""
    return {"link": link, "src": int(topo.link_src[link]), "dst": int(topo.link_dst[link]),
            "tier": topo.tier_names[topo.link_tier[link]], "rate_gbps": float(topo.link_rate_gbps[link]),
            **more, "busy_ns": float(busy_ns[link]), "retries": retries, "tail_drops": tail_drops, "step": step}


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
        busy_total += busy
        step_busy.append(busy)
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
    return path, _bottleneck(topo, int(np.argmax(sol.busy_ns)), sol.busy_ns, crit)


def _critical_path(fabric, schedule, hosts, history, step_busy, complete):
    if not complete or not history:
        return [], {}
    k = int(np.argmax([np.max(e) for _, e, _ in history]))
    i = int(np.argmax(history[k][1]))
    chain = []
    while k >= 0 and i >= 0:
        chain.append((k, i))
        k, i = (int(x) for x in history[k][2][i])
    topo = fabric.topology
    src = np.array([schedule.steps[k].src[i] for k, i in chain])
    dst = np.array([schedule.steps[k].dst[i] for k, i in chain])
    lat = flowsim.route_latency_ns(fabric, hosts[src], hosts[dst])        # one call for the chain
    rate = topo.link_rate_gbps[topo.host_links(hosts[src])]
    path = []
    for n, (k, i) in enumerate(chain):
        step = schedule.steps[k]
        start, end, _ = history[k]
        ser = 8.0 * float(step.bytes_[i]) / (float(rate[n]) * step.load)
        dur = float(end[i] - start[i])
        path.append({"step": k, "flow": i, "src": int(src[n]), "dst": int(dst[n]), "start_ns": float(start[i]),
                     "end_ns": float(end[i]), "duration_ns": dur, "serialisation_ns": ser,
                     "route_latency_ns": float(lat[n]), "excess_ns": dur - ser - float(lat[n])})
    crit = path[0]["step"]
    busy = step_busy[crit]
    return path, _bottleneck(topo, int(np.argmax(busy)), busy, crit)


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
