"""Flow level at scale: max-min fair sharing over flow classes with fluid routes.

The per-flow mode (:mod:`photolink.net.flowsim`) keeps one route and one rate per flow and
needs the fabric's host-by-host routing table: a 16,384-endpoint all-to-all (2.7e8 flows) or a
100k-endpoint fabric does not fit. This module keeps the same fluid model (max-min fair rates by
progressive filling [ref:coll-maxmin], re-solved when a flow starts or ends, link capacity
derated by goodput after FEC and retry, a flow ends when its last byte is sent plus its route's
unloaded latency) and changes two things, exactly in the cases stated:

**Fluid routes.** A flow's bytes split equally over the equal-cost next hops at every switch
(the fluid limit of packet spraying; ECMP hashing of many flows per uplink averages to the same
link loads, not flow by flow: [ref:photolink-fluid-routes]). Routes are computed between
switches only (hosts never transit), from each destination switch's least-cost distances, so
nothing of size nodes x hosts is built. A flow loads each link l of its route with a weight w_l
(the share of its bytes crossing l) and link l saturates when sum over flows of w_l x rate =
capacity. Its latency is that of its slowest equal-cost route.

**Classes.** Flows with the same source and destination host group, bytes, start time and cap
get the same max-min rate (the allocation is unique and symmetric), so they are solved once as a
class with a multiplicity m. A host group is a set of hosts on the same switch with the same
host-link tiers (a degraded host cable makes its host a group of its own, so a straggler
shows). For an all-pairs step (:class:`~photolink.net.collectives.AllPairsStep`) each host of a
group sends and receives the same number of flows of each class, so the group's host links are
aggregated into one resource of n x their capacity: the per-flow max-min allocation satisfies
the same bottleneck conditions, hence equals the class solution (exact,
[ref:photolink-fluid-classes]). Listed steps (rings, trees) keep one class per flow and one
resource per host link.

**Independent components.** Classes that share no link never interact: a step's classes are
split into connected components once, solved together from a common start, and a component
whose classes all start together (at any time) reuses that solution shifted in time; only
components with staggered starts are re-solved, with their own start times (exact in a
deterministic fluid model). A ring step's flows share no link, so the 2(p - 1) steps of a ring
of 100k ranks cost one solve and a vector update of the ready times per step.

Not modelled here (the per-flow and packet modes do): per-flow ECMP collisions, queueing,
flows of successive steps sharing links. ``goodput="e2e"`` divides a flow's bytes by
exp(sum_l w_l log(1 - P_l)), exact when its equal-cost routes fail alike. Cost: an all-pairs
step is G^2 classes for G host groups (an all-to-all with an expert-load skew puts every rank in
its own group: refused beyond 4,096 groups); a component whose flows start at many different
times (a pairwise all-to-all on a shared spine) is re-solved at each start, as the per-flow mode.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, shortest_path

from .._util import validate as v
from .goodput import GOODPUT, keep_log, llr_capacity, packet_failure
from .maxmin import send_times
from .path import LLR, Switch
from .topology import Topology

__all__ = ["FluidModel", "StepSolution"]

_EPS = 1e-9
#: Largest class x link incidence of one step (entries).
MAX_INCIDENCE = 1 << 27


@dataclass(frozen=True, eq=False)
class StepSolution:
    """A step's classes, their incidence and their solution from a common start.

    Attributes
    ----------
    cls, link, weight : numpy.ndarray
        Incidence triples (links beyond the topology's are aggregated host-link resources).
    capacity : numpy.ndarray
        Per resource (derated).
    cap, bytes_, latency_ns : numpy.ndarray
        Per class: a flow's rate cap, its bytes (inflated by end-to-end resends), its route's
        unloaded latency.
    duration_ns : numpy.ndarray
        Per class, all classes entering together: last byte delivered minus start.
    component : numpy.ndarray
        Per class: its connected component (classes sharing links, transitively).
    busy_ns : numpy.ndarray
        Per directed link of the topology: time spent sending this step's bytes.
    """

    cls: np.ndarray
    link: np.ndarray
    weight: np.ndarray
    capacity: np.ndarray
    cap: np.ndarray
    bytes_: np.ndarray
    latency_ns: np.ndarray
    duration_ns: np.ndarray
    component: np.ndarray
    busy_ns: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(self.cap.size)

    def end_ns(self, start_ns: np.ndarray) -> np.ndarray:
        """Per class: last byte delivered when it enters at ``start_ns`` (exact)."""
        start = np.asarray(start_ns, np.float64)
        comp = self.component
        lo = np.full(comp.max() + 1 if comp.size else 0, np.inf)
        hi = np.full(lo.size, -np.inf)
        np.minimum.at(lo, comp, start)
        np.maximum.at(hi, comp, start)
        same = (hi - lo <= _EPS * np.maximum(np.abs(hi), 1.0))[comp]
        end = start + self.duration_ns
        if not np.all(same):
            redo = np.flatnonzero(~same)
            local = np.cumsum(~same) - 1
            sub = ~same[self.cls]
            sent = send_times(local[self.cls[sub]], self.link[sub], self.weight[sub], redo.size, self.capacity,
                               self.cap[redo], self.bytes_[redo], start[redo])
            end[redo] = sent + self.latency_ns[redo]
        return end


class FluidModel:
    """A topology's links and switch-level fluid routes, ready to solve steps of flows.

    Parameters
    ----------
    topology : Topology
        Every host single-homed (one link out, one link in, to the same switch).
    switch : Switch
        Latency (and cut-through or store-and-forward) of every switch.
    packet_bytes : float
        For the goodput derating and store-and-forward switches.
    goodput : {"llr", "e2e", "none"}
        Capacity derating as :mod:`photolink.net.flowsim`.
    """

    def __init__(self, topology: Topology, switch: Switch | None = None, *, packet_bytes: float = 4096.0,
                 goodput: str = "llr"):
        if not isinstance(topology, Topology):
            raise TypeError(f"topology must be a photolink.net.topology.Topology, got {type(topology).__name__}")
        switch = Switch() if switch is None else switch
        if not isinstance(switch, Switch):
            raise TypeError(f"switch must be a photolink.net.Switch, got {type(switch).__name__}")
        self.goodput = v.choice("goodput", goodput, set(GOODPUT))
        self.packet_bytes = v.real("packet_bytes", packet_bytes, lo=64.0, hi=1e7)
        self.topology, self.switch = topology, switch
        t = topology
        src, dst = t.link_src, t.link_dst
        host_src, host_dst = t.is_host[src], t.is_host[dst]
        if np.any(host_src & host_dst):
            raise ValueError("fluid mode needs hosts cabled to switches only (a host-to-host link was found)")
        n = t.n_nodes
        n_out = np.bincount(src[host_src], minlength=n)
        n_in = np.bincount(dst[host_dst], minlength=n)
        hosts = t.hosts
        if np.any(n_out[hosts] != 1) or np.any(n_in[hosts] != 1):
            bad = hosts[(n_out[hosts] != 1) | (n_in[hosts] != 1)][0]
            raise ValueError(f"fluid mode needs single-homed hosts (one link out, one in); host {bad} has "
                             f"{n_out[bad]} out and {n_in[bad]} in")
        up = np.full(n, -1, np.int64)
        down = np.full(n, -1, np.int64)
        up[src[host_src]] = np.flatnonzero(host_src)
        down[dst[host_dst]] = np.flatnonzero(host_dst)
        if np.any(dst[up[hosts]] != src[down[hosts]]):
            raise ValueError("fluid mode needs each host's links out and in to reach the same switch")
        self.up_link, self.down_link = up, down
        self.attach = np.full(n, -1, np.int64)
        self.attach[hosts] = dst[up[hosts]]
        # link figures
        tiers = t.tiers
        col = lambda f: np.array([f(m) for m in tiers], np.float64)[t.link_tier]
        rate_bpns = col(lambda m: m.rate_gbps) / 8.0
        fixed = col(lambda m: m.fixed_latency_ns + m.fec_hold_ns)
        self.rate_bpns = rate_bpns
        self.latency_ns = fixed + np.where(host_src, 0.0, switch.latency_ns)
        pf = packet_failure(t, packet_bytes) if goodput != "none" else np.zeros(t.n_links)
        self.log_keep = keep_log(pf)
        self.capacity = llr_capacity(rate_bpns, pf, packet_bytes, LLR().replay_for(fixed, 0.0)) if goodput == "llr" else rate_bpns.copy()
        # switch-level graph (hosts never transit): distances to a destination switch are
        # computed when a route to it is first needed, a block of destinations at a time
        sw_link = np.flatnonzero(~host_src & ~host_dst)
        self._sw_link = sw_link
        self._switches = np.flatnonzero(~t.is_host)
        self._sw_index = np.full(n, -1, np.int64)
        self._sw_index[self._switches] = np.arange(self._switches.size)
        a, b = self._sw_index[src[sw_link]], self._sw_index[dst[sw_link]]
        n_sw = self._switches.size
        pairs = b * n_sw + a
        order = np.lexsort((t.link_cost[sw_link], pairs))
        first = np.ones(order.size, bool)
        first[1:] = pairs[order][1:] != pairs[order][:-1]
        keep = order[first]
        self._reverse = csr_matrix((t.link_cost[sw_link][keep].astype(np.float64), (b[keep], a[keep])),
                                   shape=(n_sw, n_sw))
        # switch links by source switch (CSR), for the expansion of routes
        by_src = sw_link[np.argsort(a, kind="stable")]
        self._out_link = by_src
        self._out_off = np.zeros(n_sw + 1, np.int64)
        np.cumsum(np.bincount(a, minlength=n_sw), out=self._out_off[1:])
        self._out_cost = t.link_cost
        self._routes: dict = {}

    def _distances(self, targets: np.ndarray) -> np.ndarray:
        """Least route cost from every switch (compact index) to each target switch:
        (targets, switches), -1 unreachable."""
        d = shortest_path(self._reverse, method="D", directed=True, indices=self._sw_index[targets])
        return np.where(np.isfinite(d), d, -1).astype(np.int64)

    # ---- routes ----------------------------------------------------------------------------

    def _expand_to(self, t_node: int, d: np.ndarray, sources: np.ndarray):
        """Fluid routes from switches ``sources`` to switch ``t_node`` (``d``: each switch's least
        cost to it, by compact switch index): per source, the links and shares of its bytes, the
        slowest route's latency and its hop count."""
        t = self.topology
        n = t.n_nodes
        out_link, off, cost = self._out_link, self._out_off, self._out_cost
        sw = self._sw_index
        n_s = sources.size
        p = np.arange(n_s)
        u = sources.astype(np.int64)
        f = np.ones(n_s)
        lat = np.zeros(n_s)
        hops = np.zeros(n_s, np.int64)
        out_p, out_l, out_f = [], [], []
        lat_end = np.zeros(n_s)
        hops_end = np.zeros(n_s, np.int64)
        cand = cand_off = None
        for step in range(n):
            there = u == t_node
            np.maximum.at(lat_end, p[there], lat[there])
            np.maximum.at(hops_end, p[there], hops[there])
            go = ~there
            p, u, f, lat, hops = p[go], u[go], f[go], lat[go], hops[go]
            if p.size == 0:
                break
            # the links out of each frontier switch that start a least-cost route to t_node:
            # tested link by link for a small frontier, else from all links' test at once
            cu = sw[u]
            deg = off[cu + 1] - off[cu]
            if cand is None and int(deg.sum()) > out_link.size // 8:
                dst_d = d[sw[t.link_dst[out_link]]]
                src_d = np.repeat(d, np.diff(off))
                good = (dst_d >= 0) & (src_d == cost[out_link] + dst_d)
                cand = out_link[good]
                cand_off = np.zeros(off.size, np.int64)
                np.cumsum(np.bincount(sw[t.link_src[cand]], minlength=off.size - 1), out=cand_off[1:])
            lo, hi = (off, out_link) if cand is None else (cand_off, cand)
            deg = lo[cu + 1] - lo[cu]
            rep = np.repeat(np.arange(p.size), deg)
            lk = hi[lo[cu][rep] + np.arange(rep.size) - np.repeat(np.cumsum(deg) - deg, deg)]
            if cand is None:
                dw = d[sw[t.link_dst[lk]]]
                ok = (dw >= 0) & (d[cu][rep] == cost[lk] + dw)
                rep, lk = rep[ok], lk[ok]
            c = np.bincount(rep, minlength=p.size)
            if np.any(c == 0):
                raise ValueError(f"no route from switch {u[c == 0][0]} to switch {t_node}")
            p2, f2 = p[rep], (f / c)[rep]
            out_p.append(p2)
            out_l.append(lk)
            out_f.append(f2)
            lat2 = lat[rep] + self.latency_ns[lk]
            key = p2 * n + t.link_dst[lk]
            uk, inv = np.unique(key, return_inverse=True)
            p, u = uk // n, uk % n
            f = np.bincount(inv, weights=f2)
            lat = np.full(uk.size, -np.inf)
            np.maximum.at(lat, inv, lat2)
            hops = np.full(uk.size, step + 1, np.int64)     # every candidate link is one hop
        if not out_p:
            return [np.zeros(0, np.int64)] * n_s, [np.zeros(0)] * n_s, lat_end, hops_end
        pp, ll, ff = np.concatenate(out_p), np.concatenate(out_l), np.concatenate(out_f)
        key = pp * t.n_links + ll
        uk, inv = np.unique(key, return_inverse=True)
        ff = np.bincount(inv, weights=ff)
        pp, ll = uk // t.n_links, uk % t.n_links
        bounds = np.cumsum(np.bincount(pp, minlength=n_s))[:-1]
        return np.split(ll, bounds), np.split(ff, bounds), lat_end, hops_end

    def routes(self, src_sw: np.ndarray, dst_sw: np.ndarray):
        """Fluid routes between switch pairs (cached): per pair, (links, shares, latency, hops)."""
        src_sw, dst_sw = np.asarray(src_sw, np.int64), np.asarray(dst_sw, np.int64)
        need = {}
        for s, d in zip(src_sw.tolist(), dst_sw.tolist()):
            if (s, d) not in self._routes and s != d:
                need.setdefault(d, set()).add(s)
        dests = sorted(need)
        block = max(1, (1 << 24) // self._switches.size)             # distance rows of <= 128 MB
        for i in range(0, len(dests), block):
            dist = self._distances(np.array(dests[i:i + block], np.int64))
            for row, d in enumerate(dests[i:i + block]):
                srcs = np.array(sorted(need[d]), np.int64)
                links, shares, lat, hops = self._expand_to(d, dist[row], srcs)
                for j, s in enumerate(srcs.tolist()):
                    self._routes[(s, d)] = (links[j], shares[j], float(lat[j]), int(hops[j]))
        empty = (np.zeros(0, np.int64), np.zeros(0), 0.0, 0)
        return [self._routes[(s, d)] if s != d else empty for s, d in zip(src_sw.tolist(), dst_sw.tolist())]

    # ---- steps -----------------------------------------------------------------------------

    def _solve(self, src_sw, dst_sw, up_res, down_res, up_link, down_link, mult, bytes_, cap, extra_capacity,
               members=None) -> StepSolution:
        """Build the incidence of classes and solve them from a common start."""
        t = self.topology
        n_c = src_sw.size
        pair = src_sw * t.n_nodes + dst_sw
        upair, pinv = np.unique(pair, return_inverse=True)
        rts = self.routes(upair // t.n_nodes, upair % t.n_nodes)
        plen = np.array([r[0].size for r in rts], np.int64)
        plat = np.array([r[2] for r in rts])
        phops = np.array([r[3] for r in rts], np.int64)
        nnz = int(plen[pinv].sum()) + 2 * n_c
        if nnz > MAX_INCIDENCE:
            raise ValueError(f"a step of {n_c} flow classes crosses {nnz} class-link pairs, more than "
                             f"{MAX_INCIDENCE}: group symmetric hosts (an all-pairs step) or use fewer ranks")
        plinks = np.concatenate([r[0] for r in rts]) if rts else np.zeros(0, np.int64)
        pshare = np.concatenate([r[1] for r in rts]) if rts else np.zeros(0)
        poff = np.concatenate([[0], np.cumsum(plen)])
        k = plen[pinv]
        rep = np.repeat(np.arange(n_c), k)
        within = np.arange(rep.size) - np.repeat(np.cumsum(k) - k, k)
        sw_l = plinks[poff[pinv][rep] + within]
        sw_w = pshare[poff[pinv][rep] + within]
        cls = np.concatenate([np.arange(n_c), rep, np.arange(n_c)])
        link = np.concatenate([up_res, sw_l, down_res]).astype(np.int64)
        share = np.concatenate([np.ones(n_c), sw_w, np.ones(n_c)])
        capacity = np.concatenate([self.capacity, extra_capacity])
        b = np.asarray(bytes_, np.float64)
        if self.goodput == "e2e":
            real = link < t.n_links
            lk = np.zeros(n_c)
            np.add.at(lk, cls[real], share[real] * self.log_keep[link[real]])
            b = b / np.exp(lk)
        weight = share * mult[cls]
        lat = self.latency_ns[up_link] + plat[pinv] + self.latency_ns[down_link]
        if not self.switch.cut_through:
            hops = phops[pinv] + 1                       # switches on the route
            lat = lat + hops * self.packet_bytes / self.rate_bpns[down_link]
        sent = send_times(cls, link, weight, n_c, capacity, cap, b, np.zeros(n_c))
        n_res = capacity.size
        bip = csr_matrix((np.ones(2 * cls.size), (np.concatenate([cls, n_c + link]), np.concatenate([n_c + link, cls]))),
                         shape=(n_c + n_res, n_c + n_res))
        _, lab = connected_components(bip, directed=False)
        busy_res = np.bincount(link, weights=weight * b[cls], minlength=n_res) / capacity
        busy = busy_res[: t.n_links].copy()
        if members is not None:                          # an aggregated resource's busy time is each member's
            for res, real_links in members:
                busy[real_links] = busy_res[res]
        return StepSolution(cls, link, weight, capacity, np.asarray(cap, np.float64), b, lat, sent + lat,
                            lab[:n_c], busy)

    def listed_step(self, src, dst, bytes_, load=1.0) -> StepSolution:
        """One class per flow ``src[i] -> dst[i]`` (host node ids) of ``bytes_[i]`` bytes, capped
        at ``load`` x its source host link's rate."""
        t = self.topology
        src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
        if not (np.all(t.is_host[src]) and np.all(t.is_host[dst])):
            raise ValueError("flows must run between hosts of the topology")
        if np.any(src == dst):
            raise ValueError("a flow must not run from a host to itself")
        n = src.size
        b = np.broadcast_to(np.asarray(bytes_, np.float64), (n,))
        up, down = self.up_link[src], self.down_link[dst]
        cap = np.broadcast_to(np.asarray(load, np.float64), (n,)) * self.rate_bpns[up]
        return self._solve(self.attach[src], self.attach[dst], up, down, up, down, np.ones(n), b, cap, np.zeros(0))

    def all_pairs_step(self, hosts, bytes_to, load, start_ns=None):
        """Every ordered pair of ``hosts`` (rank i -> rank j, i != j) with ``bytes_to[j]`` bytes,
        each flow capped at ``load`` x its source host link's rate, solved as host-group classes.

        Ranks are grouped by (switch, host-link tiers, bytes received, start time); each group's
        host links become one resource of n x their capacity (exact: see the module docstring).

        Returns
        -------
        solution : StepSolution
        group : numpy.ndarray
            Group of each rank.
        class_src, class_dst : numpy.ndarray
            Source and destination group of each class.
        group_start_ns : numpy.ndarray
            Start time of each group.
        """
        t = self.topology
        h = np.asarray(hosts, np.int64)
        p = h.size
        start = np.zeros(p) if start_ns is None else np.asarray(start_ns, np.float64)
        up, down = self.up_link[h], self.down_link[h]
        key = np.stack([self.attach[h], t.link_tier[up], t.link_tier[down]], axis=1).astype(np.float64)
        key = np.concatenate([key, np.asarray(bytes_to, np.float64)[:, None], start[:, None]], axis=1)
        _, first, group = np.unique(key, axis=0, return_index=True, return_inverse=True)
        group = group.ravel()
        G = first.size
        if G * G > MAX_INCIDENCE // 8:
            raise ValueError(f"an all-pairs step over {G} host groups has {G * G} classes, more than "
                             f"{MAX_INCIDENCE // 8}: hosts group by switch, host-link tiers, bytes received and "
                             f"start time (a skewed all-to-all gives every rank its own group)")
        n_g = np.bincount(group, minlength=G).astype(np.float64)
        gs, gd = np.meshgrid(np.arange(G), np.arange(G), indexing="ij")
        gs, gd = gs.ravel(), gd.ravel()
        mult = n_g[gs] * n_g[gd] - np.where(gs == gd, n_g[gs], 0.0)
        keep = mult > 0
        gs, gd, mult = gs[keep], gd[keep], mult[keep]
        rep = h[first]
        cap = load * self.rate_bpns[self.up_link[rep[gs]]]
        extra = np.concatenate([n_g * self.capacity[self.up_link[rep]], n_g * self.capacity[self.down_link[rep]]])
        by_group = np.split(np.argsort(group, kind="stable"), np.cumsum(n_g.astype(np.int64))[:-1])
        members = [(t.n_links + g, up[m]) for g, m in enumerate(by_group)] + \
                  [(t.n_links + G + g, down[m]) for g, m in enumerate(by_group)]
        sol = self._solve(self.attach[rep[gs]], self.attach[rep[gd]], t.n_links + gs, t.n_links + G + gd,
                          self.up_link[rep[gs]], self.down_link[rep[gd]], mult,
                          np.asarray(bytes_to, np.float64)[first][gd], cap, extra, members)
        return sol, group, gs, gd, start[first]
