"""Fabric topologies as plain arrays: nodes, directed links, and the link model of each tier.

A :class:`Topology` is data a user could write by hand: which nodes are hosts, the source and
destination node of every directed link, the tier of every link and one
:class:`~photolink.links.model.LinkModel` per tier (copper in the rack, pluggables or CPO to
the spine, ...). Every cable is two directed links. The generators below build the usual data
centre and HPC fabrics; :func:`from_networkx` takes any graph.

Each generator records the closed form of its bisection bandwidth (``bisection_closed_form_gbps``,
one direction, between the two halves of hosts in ``host_side``), which
:meth:`Topology.bisection_gbps` checks by a max-flow computation on the graph.

Nodes are numbered hosts first (0 .. n_hosts - 1), then switches.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from .._util import validate as v
from ..links.model import LinkModel

__all__ = [
    "DEFAULT_LINK",
    "Topology",
    "dragonfly",
    "fat_tree",
    "from_networkx",
    "hypercube",
    "leaf_spine",
    "rail_optimised",
    "torus",
]

#: The link every tier gets unless told otherwise: 100 Gb/s, 5 ns of propagation (~1 m).
DEFAULT_LINK = LinkModel.ideal(100.0, 5.0, name="ideal-100g")
#: Routing cost of a dragonfly global link against 1 for every other link: minimal routes take
#: the fewest global hops first, then the fewest local hops.
GLOBAL_COST = 1024


def _model(link, name: str) -> LinkModel:
    if isinstance(link, LinkModel):
        return link
    make = getattr(link, "link_model", None)
    if callable(make):
        m = make()
        if isinstance(m, LinkModel):
            return m
    raise TypeError(f"{name} must be a LinkModel or a link with a link_model() method, got "
                    f"{type(link).__name__} {link!r}")


@dataclass(frozen=True, eq=False)
class Topology:
    """A fabric: hosts, switches and directed links, each link of a tier with its LinkModel.

    Parameters
    ----------
    name : str
    is_host : numpy.ndarray of bool
        One entry per node.
    link_src, link_dst : numpy.ndarray of int
        Endpoints of each directed link.
    link_tier : numpy.ndarray of int
        Index into ``tiers`` of each link.
    tiers : tuple of LinkModel
    tier_names : tuple of str
    link_cost : numpy.ndarray of int, optional
        Routing cost of each link (minimal routes minimise its sum); default 1.
    link_dim : numpy.ndarray of int, optional
        Dimension of each link for dimension-order routing (-1: not a dimension link).
    group : numpy.ndarray of int, optional
        Group of each node (dragonfly groups, torus/hypercube: -1).
    valiant_nodes : numpy.ndarray of int, optional
        Intermediates for Valiant and UGAL routing; default every switch.
    host_side : numpy.ndarray of bool, optional
        The half of the hosts on one side of the bisection; default the first half.
    bisection_closed_form_gbps : float
        The generator's closed form (nan when unknown).
    params : dict
        The generator's arguments.
    """

    name: str
    is_host: np.ndarray
    link_src: np.ndarray
    link_dst: np.ndarray
    link_tier: np.ndarray
    tiers: tuple
    tier_names: tuple = ()
    link_cost: np.ndarray | None = None
    link_dim: np.ndarray | None = None
    group: np.ndarray | None = None
    valiant_nodes: np.ndarray | None = None
    host_side: np.ndarray | None = None
    bisection_closed_form_gbps: float = math.nan
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        is_host = np.asarray(self.is_host, dtype=bool)
        if is_host.ndim != 1 or is_host.size < 2:
            raise ValueError(f"is_host must be a 1-d array of at least 2 nodes, got shape {is_host.shape}")
        n = is_host.size
        src = np.asarray(self.link_src, dtype=np.int64)
        dst = np.asarray(self.link_dst, dtype=np.int64)
        tier = np.asarray(self.link_tier, dtype=np.int64)
        if src.ndim != 1 or src.shape != dst.shape or src.shape != tier.shape or src.size == 0:
            raise ValueError("link_src, link_dst and link_tier must be 1-d arrays of the same non-zero length")
        if src.min() < 0 or src.max() >= n or dst.min() < 0 or dst.max() >= n:
            raise ValueError(f"link endpoints must be node ids in [0, {n})")
        if np.any(src == dst):
            raise ValueError(f"link {int(np.flatnonzero(src == dst)[0])} is a self-loop")
        tiers = tuple(_model(t, f"tiers[{i}]") for i, t in enumerate(self.tiers))
        if not tiers or tier.min() < 0 or tier.max() >= len(tiers):
            raise ValueError(f"link_tier must index tiers (0 to {len(tiers) - 1})")
        cost = np.ones(src.size, np.int64) if self.link_cost is None else np.asarray(self.link_cost, np.int64)
        if cost.shape != src.shape or cost.min() < 1:
            raise ValueError("link_cost must hold one integer >= 1 per link")
        dim = np.full(src.size, -1, np.int64) if self.link_dim is None else np.asarray(self.link_dim, np.int64)
        group = np.full(n, -1, np.int64) if self.group is None else np.asarray(self.group, np.int64)
        valiant = np.flatnonzero(~is_host) if self.valiant_nodes is None else np.asarray(self.valiant_nodes, np.int64)
        hosts = np.flatnonzero(is_host)
        side = self.host_side
        if side is None:
            side = np.zeros(n, bool)
            side[hosts[: hosts.size // 2]] = True
        side = np.asarray(side, bool)
        if dim.shape != src.shape or group.shape != (n,) or side.shape != (n,):
            raise ValueError("link_dim needs one entry per link; group and host_side one per node")
        if valiant.size and (valiant.min() < 0 or valiant.max() >= n):
            raise ValueError("valiant_nodes must be node ids")
        names = tuple(self.tier_names) or tuple(f"tier{i}" for i in range(len(tiers)))
        for k, val in (("is_host", is_host), ("link_src", src), ("link_dst", dst), ("link_tier", tier),
                       ("tiers", tiers), ("tier_names", names), ("link_cost", cost), ("link_dim", dim),
                       ("group", group), ("valiant_nodes", valiant), ("host_side", side)):
            if isinstance(val, np.ndarray):
                val.setflags(write=False)
            object.__setattr__(self, k, val)

    # ---- structure ------------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return int(self.is_host.size)

    @property
    def n_links(self) -> int:
        return int(self.link_src.size)

    @property
    def hosts(self) -> np.ndarray:
        """Node ids of the hosts."""
        return np.flatnonzero(self.is_host)

    @property
    def n_hosts(self) -> int:
        return int(self.is_host.sum())

    @property
    def link_rate_gbps(self) -> np.ndarray:
        return np.array([m.rate_gbps for m in self.tiers])[self.link_tier]

    @functools.cached_property
    def first_link(self) -> np.ndarray:
        """The first link out of each node (a host's NIC), -1 for a node without one (read-only,
        computed once)."""
        out = np.full(self.n_nodes, -1, np.int64)
        nodes, first = np.unique(self.link_src, return_index=True)
        out[nodes] = first
        out.setflags(write=False)
        return out

    def host_link(self, host: int) -> int:
        """The first link out of a host (its NIC)."""
        return int(self.host_links(np.array([host]))[0])

    def host_links(self, hosts) -> np.ndarray:
        """The first link out of each of ``hosts`` (node ids), as :meth:`host_link` for many."""
        h = np.asarray(hosts, np.int64)
        if h.size and (h.min() < 0 or h.max() >= self.n_nodes):
            raise ValueError(f"hosts must be node ids in [0, {self.n_nodes}), got {int(h.min())} .. {int(h.max())}")
        out = self.first_link[h]
        if np.any(out < 0):
            raise ValueError(f"host {int(h[out < 0].flat[0])} has no link")
        return out

    def bisection_gbps(self, host_side=None) -> float:
        """Bisection bandwidth, Gb/s: the max flow from the hosts of one side to the others.

        Computed on the graph (scipy's maximum flow, integer capacities in Mb/s), one direction, with
        every link at its tier's rate. ``host_side``: bool per node (default ``self.host_side``).
        """
        side = self.host_side if host_side is None else np.asarray(host_side, bool)
        hosts = self.is_host
        a = np.flatnonzero(side & hosts)
        b = np.flatnonzero(~side & hosts)
        if a.size == 0 or b.size == 0:
            raise ValueError("host_side must leave hosts on both sides")
        n = self.n_nodes
        s, t = n, n + 1
        # integer capacities for scipy (int32): Mb/s, or Gb/s when the total would overflow
        unit = 1000 if self.link_rate_gbps.sum() * 1000 < 2**31 - 1 else 1
        cap = np.maximum(np.rint(self.link_rate_gbps * unit), 1).astype(np.int64)
        if cap.sum() >= 2**31 - 1:
            raise ValueError("bisection_gbps: the fabric's total link capacity is too large for an int32 max flow")
        big = int(cap.sum() + 1)
        rows = np.concatenate([self.link_src, np.full(a.size, s), b])
        cols = np.concatenate([self.link_dst, a, np.full(b.size, t)])
        vals = np.concatenate([cap, np.full(a.size + b.size, big)])
        g = csr_matrix((vals.astype(np.int32), (rows, cols)), shape=(n + 2, n + 2))
        return maximum_flow(g, s, t).flow_value / unit

    def to_dict(self) -> dict:
        """Plain values: the arrays as lists, the tiers by name and rate."""
        return {
            "name": self.name, "n_nodes": self.n_nodes, "n_hosts": self.n_hosts, "n_links": self.n_links,
            "is_host": self.is_host.tolist(), "link_src": self.link_src.tolist(),
            "link_dst": self.link_dst.tolist(), "link_tier": self.link_tier.tolist(),
            "tiers": [{"name": n, "link": m.name, "rate_gbps": m.rate_gbps} for n, m in zip(self.tier_names, self.tiers)],
            "bisection_closed_form_gbps": self.bisection_closed_form_gbps, "params": dict(self.params),
        }


class _Builder:
    """Collects bidirectional cables into directed-link arrays."""

    def __init__(self):
        self.src, self.dst, self.tier, self.cost, self.dim = [], [], [], [], []

    def cable(self, u, w, tier, cost=1, dim=-1):
        u, w = np.broadcast_arrays(np.asarray(u, np.int64), np.asarray(w, np.int64))
        for a, b in ((u, w), (w, u)):
            self.src.append(a.ravel())
            self.dst.append(b.ravel())
            self.tier.append(np.full(a.size, tier))
            self.cost.append(np.full(a.size, cost))
            self.dim.append(np.full(a.size, dim))

    def arrays(self):
        return {k: np.concatenate(getattr(self, k)) for k in ("src", "dst", "tier", "cost", "dim")}


def _topology(name, n_hosts, n_switches, b: _Builder, tiers, tier_names, closed, params, **kw):
    is_host = np.zeros(n_hosts + n_switches, bool)
    is_host[:n_hosts] = True
    a = b.arrays()
    return Topology(name=name, is_host=is_host, link_src=a["src"], link_dst=a["dst"], link_tier=a["tier"],
                    tiers=tuple(tiers), tier_names=tuple(tier_names), link_cost=a["cost"], link_dim=a["dim"],
                    bisection_closed_form_gbps=float(closed), params=params, **kw)


def _count(name, value, lo=1, hi=1 << 16):
    return v.integer(name, value, lo=lo, hi=hi)


def leaf_spine(n_leaves: int, hosts_per_leaf: int, n_spines: int, *, host_link=DEFAULT_LINK,
               spine_link=DEFAULT_LINK, uplinks_per_spine: int = 1) -> Topology:
    """Two-tier leaf-spine (folded Clos): every leaf cabled to every spine.

    Oversubscription = hosts_per_leaf x B_host / (n_spines x uplinks_per_spine x B_spine).
    Bisection (closed form, [ref:leaf-spine-bisection] (S)): min(N/2 x B_host, L x S x u x B_spine / 2),
    N = L x hosts_per_leaf.
    """
    L, H, S = _count("n_leaves", n_leaves, 2), _count("hosts_per_leaf", hosts_per_leaf), _count("n_spines", n_spines)
    u = _count("uplinks_per_spine", uplinks_per_spine, 1, 64)
    hl, sl = _model(host_link, "host_link"), _model(spine_link, "spine_link")
    N = L * H
    leaf = N + np.arange(L)
    spine = N + L + np.arange(S)
    b = _Builder()
    b.cable(np.arange(N), leaf[np.arange(N) // H], 0)
    for _ in range(u):
        b.cable(np.repeat(leaf, S), np.tile(spine, L), 1)
    closed = min(N / 2 * hl.rate_gbps, L * S * u * sl.rate_gbps / 2)
    params = {"n_leaves": L, "hosts_per_leaf": H, "n_spines": S, "uplinks_per_spine": u,
              "oversubscription": H * hl.rate_gbps / (S * u * sl.rate_gbps)}
    return _topology("leaf-spine", N, L + S, b, (hl, sl), ("host", "spine"), closed, params)


def fat_tree(k: int, *, hosts_per_edge: int | None = None, host_link=DEFAULT_LINK, agg_link=DEFAULT_LINK,
             core_link=DEFAULT_LINK) -> Topology:
    """Three-tier k-ary fat-tree ([ref:fat-tree-k-ary] (S)): k pods of k/2 edge and k/2 aggregation
    switches, (k/2)^2 core switches; k/2 hosts per edge switch unless ``hosts_per_edge`` says
    otherwise (more: oversubscribed at the edge).

    Bisection (closed form, halves = the first and last k/2 pods):
    min(N/2 x B_host, k^3/8 x B_agg, k^3/8 x B_core).
    """
    k = _count("k", k, 2, 128)
    if k % 2:
        raise ValueError(f"k must be even, got {k}")
    h = k // 2 if hosts_per_edge is None else _count("hosts_per_edge", hosts_per_edge)
    hl, al, cl = _model(host_link, "host_link"), _model(agg_link, "agg_link"), _model(core_link, "core_link")
    half = k // 2
    n_edge = k * half
    N = n_edge * h
    edge = N + np.arange(n_edge)                   # edge e of pod p: p * half + e
    agg = N + n_edge + np.arange(n_edge)
    core = N + 2 * n_edge + np.arange(half * half)  # core c: group c // half, attached to agg c // half
    b = _Builder()
    b.cable(np.arange(N), edge[np.arange(N) // h], 0)
    pod_e, pod_a = np.meshgrid(np.arange(half), np.arange(half), indexing="ij")
    for p in range(k):
        b.cable(edge[p * half + pod_e.ravel()], agg[p * half + pod_a.ravel()], 1)
        b.cable(agg[p * half + np.arange(half * half) // half], core[np.arange(half * half)], 2)
    closed = min(N / 2 * hl.rate_gbps, k**3 / 8 * al.rate_gbps, k**3 / 8 * cl.rate_gbps)
    params = {"k": k, "hosts_per_edge": h, "oversubscription": h / half}
    return _topology("fat-tree", N, 2 * n_edge + half * half, b, (hl, al, cl), ("host", "agg", "core"), closed, params)


def hypercube(n: int, *, hosts_per_node: int = 1, host_link=DEFAULT_LINK, link=DEFAULT_LINK) -> Topology:
    """Binary n-cube of 2^n switches (one per vertex) with hosts_per_node hosts each.

    Bisection (closed form, halves split on the top dimension, [ref:hypercube-bisection] (S)):
    min(N/2 x B_host, 2^(n-1) x B).
    """
    n = _count("n", n, 1, 16)
    c = _count("hosts_per_node", hosts_per_node)
    hl, ll = _model(host_link, "host_link"), _model(link, "link")
    V = 1 << n
    N = V * c
    sw = N + np.arange(V)
    b = _Builder()
    b.cable(np.arange(N), sw[np.arange(N) // c], 0)
    for d in range(n):
        lo = np.flatnonzero((np.arange(V) >> d) & 1 == 0)
        b.cable(sw[lo], sw[lo | (1 << d)], 1, dim=d)
    closed = min(N / 2 * hl.rate_gbps, (V // 2) * ll.rate_gbps)
    return _topology("hypercube", N, V, b, (hl, ll), ("host", "cube"), closed, {"n": n, "hosts_per_node": c})


def torus(k: int, n: int, *, hosts_per_node: int = 1, host_link=DEFAULT_LINK, link=DEFAULT_LINK) -> Topology:
    """k-ary n-cube: k^n switches in an n-dimensional torus (rings of k per dimension).

    Bisection (closed form, k even, halves split on the first dimension, [ref:torus-bisection] (S)):
    min(N/2 x B_host, 2 k^(n-1) x B) (k = 2: k^(n-1) x B).
    """
    k = _count("k", k, 2, 1 << 10)
    n = _count("n", n, 1, 8)
    c = _count("hosts_per_node", hosts_per_node)
    if k ** n > 1 << 20:
        raise ValueError(f"k^n must be at most 2^20 switches, got {k}^{n}")
    hl, ll = _model(host_link, "host_link"), _model(link, "link")
    V = k ** n
    N = V * c
    sw = N + np.arange(V)
    coords = np.array(np.unravel_index(np.arange(V), (k,) * n)).T     # last dimension fastest
    b = _Builder()
    b.cable(np.arange(N), sw[np.arange(N) // c], 0)
    for d in range(n):
        nxt = coords.copy()
        nxt[:, d] = (nxt[:, d] + 1) % k
        j = np.ravel_multi_index(nxt.T, (k,) * n)
        keep = np.ones(V, bool) if k > 2 else coords[:, d] == 0
        b.cable(sw[keep], sw[j[keep]], 1, dim=d)
    side = np.zeros(N + V, bool)
    side[:N] = coords[np.arange(N) // c, 0] < k // 2      # hosts of the first half of dimension 0
    closed = min(N / 2 * hl.rate_gbps, (2 if k > 2 else 1) * k ** (n - 1) * ll.rate_gbps) if k % 2 == 0 else math.nan
    return _topology("torus", N, V, b, (hl, ll), ("host", "torus"), closed, {"k": k, "n": n, "hosts_per_node": c},
                     host_side=side)


def dragonfly(a: int, p: int, h: int, *, groups: int | None = None, host_link=DEFAULT_LINK,
              local_link=DEFAULT_LINK, global_link=DEFAULT_LINK) -> Topology:
    """Dragonfly ([ref:dragonfly-topology] (S)): g groups of a routers, p hosts and h global links
    per router, routers of a group fully connected. By default g = a h + 1 and one global link
    joins each pair of groups; with fewer ``groups`` (g - 1 dividing a h) each pair of groups is
    joined by m = a h / (g - 1) global links ([ref:photolink-dragonfly-parallel-global] (E)).
    Group G's global port j (router j // h) goes to group G + (j mod (g - 1)) + 1 mod g, as its
    copy j // (g - 1): the m links of a pair leave from different ports, spread over the routers.

    Global links cost :data:`GLOBAL_COST` for routing (minimal = one global hop at most;
    [ref:photolink-dragonfly-global-cost] (E)).
    Bisection (closed form, halves = the first floor(g/2) groups and the rest):
    min(N/2 x B_host, floor(g/2) ceil(g/2) m x B_global).
    """
    a = _count("a", a, 1, 256)
    p = _count("p", p, 1, 256)
    h = _count("h", h, 1, 256)
    g = a * h + 1 if groups is None else _count("groups", groups, 2, a * h + 1)
    if (a * h) % (g - 1):
        raise ValueError(f"groups - 1 must divide a h = {a * h} (each pair of groups joined by the same "
                         f"number of global links), got groups={g}")
    m = (a * h) // (g - 1)
    if g * a > 1 << 18:
        raise ValueError(f"a dragonfly of {g * a} routers is too large (at most 2^18)")
    hl, ll, gl = _model(host_link, "host_link"), _model(local_link, "local_link"), _model(global_link, "global_link")
    R = g * a
    N = R * p
    router = N + np.arange(R)            # router r of group G: G * a + r
    b = _Builder()
    b.cable(np.arange(N), router[np.arange(N) // p], 0)
    if a > 1:
        ri, rj = np.triu_indices(a, 1)
        for G in range(g):
            b.cable(router[G * a + ri], router[G * a + rj], 1)
    G, j = np.meshgrid(np.arange(g), np.arange(a * h), indexing="ij")
    G, j = G.ravel(), j.ravel()
    d = j % (g - 1) + 1                  # group offset of port j
    G2 = (G + d) % g
    j2 = (j // (g - 1)) * (g - 1) + (g - d) - 1   # the same copy's port at G2, back by g - d
    keep = G < G2
    b.cable(router[G[keep] * a + j[keep] // h], router[G2[keep] * a + j2[keep] // h], 2, cost=GLOBAL_COST)
    group = np.concatenate([np.arange(N) // (a * p), np.arange(R) // a])
    side = np.zeros(N + R, bool)
    side[:N] = group[:N] < g // 2
    closed = min(N / 2 * hl.rate_gbps, (g // 2) * (g - g // 2) * m * gl.rate_gbps)
    return _topology("dragonfly", N, R, b, (hl, ll, gl), ("host", "local", "global"), closed,
                     {"a": a, "p": p, "h": h, "groups": g, "global_links_per_pair": m}, group=group,
                     host_side=side)


def rail_optimised(n_servers: int, gpus_per_server: int, n_spines: int, *, host_link=DEFAULT_LINK,
                   spine_link=DEFAULT_LINK, uplinks_per_spine: int = 1) -> Topology:
    """Rail-optimised GPU cluster: GPU r of every server on rail leaf r (the GPUs of a server on
    different rails), every rail leaf cabled to every spine.

    Hosts are numbered server by server. Bisection (closed form, halves = the first and last
    half of the servers, so that each rail leaf has hosts on both sides): N/2 x B_host, the
    traffic between the halves staying on its rail leaf.
    """
    S = _count("n_servers", n_servers, 2)
    G = _count("gpus_per_server", gpus_per_server)
    P = _count("n_spines", n_spines)
    u = _count("uplinks_per_spine", uplinks_per_spine, 1, 64)
    hl, sl = _model(host_link, "host_link"), _model(spine_link, "spine_link")
    N = S * G
    leaf = N + np.arange(G)
    spine = N + G + np.arange(P)
    b = _Builder()
    b.cable(np.arange(N), leaf[np.arange(N) % G], 0)
    for _ in range(u):
        b.cable(np.repeat(leaf, P), np.tile(spine, G), 1)
    side = np.zeros(N + G + P, bool)
    side[:N] = np.arange(N) // G < S // 2
    closed = (S // 2) * G * hl.rate_gbps
    params = {"n_servers": S, "gpus_per_server": G, "n_spines": P, "uplinks_per_spine": u}
    return _topology("rail-optimised", N, G + P, b, (hl, sl), ("host", "spine"), closed, params, host_side=side)


def from_networkx(graph, *, tiers: Sequence = (DEFAULT_LINK,), host_attr: str = "host",
                  tier_attr: str = "tier") -> Topology:
    """A topology from an undirected networkx graph: nodes with a true ``host_attr`` are hosts,
    each edge a cable of tier ``edge[tier_attr]`` (default 0) into ``tiers``.

    Requires networkx (``pip install networkx``); nodes are renumbered hosts first.
    """
    try:
        import networkx  # noqa: F401  (optional dependency: only this function needs it)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("from_networkx needs networkx: pip install networkx") from exc
    nodes = list(graph.nodes)
    hosts = [x for x in nodes if graph.nodes[x].get(host_attr, False)]
    switches = [x for x in nodes if not graph.nodes[x].get(host_attr, False)]
    index = {x: i for i, x in enumerate(hosts + switches)}
    b = _Builder()
    for u, w, d in graph.edges(data=True):
        b.cable(index[u], index[w], int(d.get(tier_attr, 0)))
    return _topology("networkx", len(hosts), len(switches), b, tuple(tiers),
                     tuple(f"tier{i}" for i in range(len(tiers))), math.nan, {})
