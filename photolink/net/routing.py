"""Routing tables for fabrics, built once with array operations (never per packet in Python).

For every node u and target node t the table lists the candidate output links of u toward t:
the links that start a minimum-cost route (``Topology.link_cost``: 1 per hop, dragonfly global
links :data:`~photolink.net.topology.GLOBAL_COST`). The C kernel then picks one per packet:

- ``"ecmp"``: by a hash of (flow, node), so a flow keeps one route;
- ``"spray"``: at random per packet and hop (packet spraying);
- ``"dimension-order"``: only the candidates of the lowest dimension still to correct (tori,
  hypercubes: e-cube routing), by hash among equal directions;
- ``"minimal"``: the same table as ``"ecmp"`` (for dragonflies: one global hop at most);
- ``"valiant"``: to a random intermediate (``Topology.valiant_nodes``) minimally, then minimally
  to the destination;
- ``"ugal"``: UGAL-local at the first switch: minimal unless the backlog of the minimal output
  port times the minimal hop count exceeds that of a random Valiant route's port times its hop
  count (plus a threshold), as in BookSim2.

Targets are the hosts and, for Valiant and UGAL, the intermediates; the table has n_nodes x
n_targets rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from .._util import validate as v
from .topology import GLOBAL_COST, Topology

__all__ = ["ROUTINGS", "Routes", "build_routes"]

ROUTINGS = ("ecmp", "spray", "dimension-order", "minimal", "valiant", "ugal")
#: Largest routing table (rows n_nodes x n_targets).
MAX_ROWS = 1 << 26


@dataclass(frozen=True, eq=False)
class Routes:
    """A routing table in CSR form (see the module docstring).

    Attributes
    ----------
    routing : str
    target_of : numpy.ndarray
        Target index of each node (-1: not a target).
    route_off, route_link : numpy.ndarray
        Candidates of node u toward target k: ``route_link[route_off[u * n_targets + k]:
        route_off[u * n_targets + k + 1]]``.
    hops : numpy.ndarray or None
        Minimal hop count from each node to each target (UGAL), n_nodes x n_targets flattened.
    via : numpy.ndarray or None
        Valiant / UGAL intermediates.
    choice, paths : str
        The kernel's choice among candidates (``"hash"``, ``"spray"``) and route kind
        (``"minimal"``, ``"valiant"``, ``"ugal"``).
    """

    routing: str
    target_of: np.ndarray
    route_off: np.ndarray
    route_link: np.ndarray
    hops: np.ndarray | None
    via: np.ndarray | None
    choice: str
    paths: str

    @property
    def n_targets(self) -> int:
        return int((self.target_of >= 0).sum())

    def candidates(self, node: int, target: int) -> np.ndarray:
        """Candidate output links of ``node`` toward ``target`` (node ids)."""
        k = int(self.target_of[target])
        if k < 0:
            raise ValueError(f"node {target} is not a routing target")
        row = node * self.n_targets + k
        return self.route_link[self.route_off[row]:self.route_off[row + 1]]


def _distances(topo: Topology, targets: np.ndarray) -> np.ndarray:
    """Minimum route cost from every node to each target: (n_targets, n_nodes), int64."""
    n = topo.n_nodes
    # costs on the reversed graph (distance from the target back along links = cost to reach
    # it); parallel links would sum in a CSR matrix: keep the cheapest of each pair instead
    pairs = topo.link_dst.astype(np.int64) * n + topo.link_src
    order = np.lexsort((topo.link_cost, pairs))
    first = np.ones(order.size, bool)
    first[1:] = pairs[order][1:] != pairs[order][:-1]
    keep = order[first]
    g = csr_matrix((topo.link_cost[keep].astype(np.float64), (topo.link_dst[keep], topo.link_src[keep])), shape=(n, n))
    d = shortest_path(g, method="D", directed=True, indices=targets)
    d[~np.isfinite(d)] = -1
    return d.astype(np.int64)


def build_routes(topo: Topology, routing: str = "ecmp") -> Routes:
    """The routing table of ``topo`` for ``routing`` (one of :data:`ROUTINGS`)."""
    if not isinstance(topo, Topology):
        raise TypeError(f"topo must be a photolink.net.topology.Topology, got {type(topo).__name__}")
    routing = v.choice("routing", routing, set(ROUTINGS))
    n = topo.n_nodes
    paths = routing if routing in ("valiant", "ugal") else "minimal"
    via = topo.valiant_nodes if paths != "minimal" else None
    if via is not None and via.size == 0:
        raise ValueError(f"routing={routing!r} needs intermediate nodes (Topology.valiant_nodes is empty)")
    is_target = topo.is_host.copy()
    if via is not None:
        is_target[via] = True
    targets = np.flatnonzero(is_target)
    T = targets.size
    if n * T > MAX_ROWS:
        raise ValueError(f"a routing table of {n} nodes x {T} targets exceeds {MAX_ROWS} rows")
    target_of = np.full(n, -1, np.int64)
    target_of[targets] = np.arange(T)
    dist = _distances(topo, targets)                       # (T, n)
    src, dst, cost = topo.link_src, topo.link_dst, topo.link_cost
    # link l = (u, w) is a candidate of u toward t when d(u, t) = cost(l) + d(w, t)
    du, dw = dist[:, src], dist[:, dst]
    ok = (dw >= 0) & (du == cost[None, :] + dw)
    # never transit through a host: a host's links out only serve packets it starts
    ok &= ~(topo.is_host[dst][None, :] & (targets[:, None] != dst[None, :]))
    k, l = np.nonzero(ok)
    row = src[l] * T + k
    if routing == "dimension-order":
        if np.all(topo.link_dim < 0):
            raise ValueError(f"routing='dimension-order' needs links with a dimension (a torus or hypercube); "
                             f"{topo.name} has none")
        dim = np.where(topo.link_dim[l] >= 0, topo.link_dim[l], np.iinfo(np.int64).max)
        best = np.full(n * T, np.iinfo(np.int64).max, np.int64)
        np.minimum.at(best, row, dim)
        keep = dim == best[row]
        row, l = row[keep], l[keep]
    order = np.lexsort((l, row))
    row, l = row[order], l[order]
    if l.size >= 2**31 - 1:
        raise ValueError(f"a routing table of {l.size} candidates exceeds 2^31 - 1")
    off = np.zeros(n * T + 1, np.int64)
    np.cumsum(np.bincount(row, minlength=n * T), out=off[1:])
    off = off.astype(np.int32)
    hops = None
    if paths == "ugal":
        # hop counts of the minimal routes: global hops cost GLOBAL_COST, others 1
        dd = dist.T                                        # (n, T)
        hops = np.where(dd >= 0, dd // GLOBAL_COST + dd % GLOBAL_COST, 0).ravel()
    choice = "spray" if routing == "spray" else "hash"
    return Routes(routing=routing, target_of=target_of, route_off=off, route_link=l.astype(np.int32),
                  hops=hops, via=None if via is None else via.astype(np.int64), choice=choice, paths=paths)
