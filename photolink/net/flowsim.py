"""Flow-level mode: max-min fair rate sharing, recomputed whenever a flow starts or ends.

Each flow takes one minimal route (the ECMP candidate picked by a fixed hash of (source,
node)). Between events every active flow is sent at its max-min fair rate
([ref:coll-maxmin]), computed by progressive filling over all links at once in vectorised
numpy (a sparse flow x link incidence matrix): raise every unfrozen flow's rate together until a
link saturates or a flow reaches its own cap (``load`` x its host link rate), freeze the flows
through it, repeat. A flow's end is when its last byte has been sent plus its route's unloaded
latency (links' fixed latency and FEC hold, switches' latency; plus a packet's serialisation
per store-and-forward switch).

Link capacity is derated by the goodput left by FEC failures and retries: a packet of
``packet_bytes`` spans n codewords and fails with P = 1 - (1 - CWER)^n. ``goodput="llr"``: each
link resends failed packets itself and stalls for the replay time r (the fabric's default
``LLR``: twice the link's fixed latency plus FEC hold) before each resend, so a packet of
serialisation time s holds the link s + P/(1 - P) x (s + r) on average: capacity x s / that;
([ref:photolink-llr-goodput]); ``"e2e"``: a failed packet is resent from the source over the whole route, the flow's bytes x
1 / prod over its route of (1 - P) (the timeouts' idle time is not modelled: flow mode
underestimates an end-to-end recovery's tail); ``"none"``: no derating.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.sparse import csr_matrix

from .._util import rng as _rng
from .._util import validate as v
from .fabric import Fabric

__all__ = ["GOODPUT", "ecmp_salt", "max_min_rates", "packet_failure", "route_latency_ns", "route_links", "run_step"]

GOODPUT = ("llr", "e2e", "none")
_EPS = 1e-9


def _mix64(x: np.ndarray) -> np.ndarray:
    """The fabric kernel's 64-bit mixer (splitmix64 finaliser), on uint64 arrays."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def ecmp_salt(seed) -> int:
    """The ECMP hash salt :meth:`Fabric.run` draws from ``seed`` (child 4 of its SeedSequence)."""
    return int(_rng.child(_rng.seed_sequence(seed), 4).generate_state(1, np.uint64)[0])


def route_links(fabric: Fabric, src, dst, salt: int | None = None) -> list:
    """One minimal route (list of directed link ids) per flow between host node ids.

    With ``salt`` (:func:`ecmp_salt`), flow i picks at node u the candidate the fabric kernel's
    ECMP hash of (salt, i, u) picks, so packet and flow modes use the same routes; without, a
    fixed hash of (source, node).
    """
    r = fabric.routes
    topo = fabric.topology
    nt = r.n_targets
    src = np.asarray(src, np.int64)
    dst = np.asarray(dst, np.int64)
    n = src.size
    k = r.target_of[dst].astype(np.int64)
    u = src.copy()
    hops = []
    live = np.flatnonzero(u != dst)
    salt_u = np.uint64(salt) if salt is not None else None
    for _ in range(topo.n_nodes):
        if live.size == 0:
            break
        row = u[live] * nt + k[live]
        a, cnt = r.route_off[row].astype(np.int64), (r.route_off[row + 1] - r.route_off[row]).astype(np.int64)
        if np.any(cnt == 0):
            bad = live[cnt == 0][0]
            raise ValueError(f"no route from node {src[bad]} to node {dst[bad]}")
        if salt_u is None:
            pick = (src[live] * 7919 + u[live]) % cnt
        else:
            h = _mix64(salt_u ^ (live.astype(np.uint64) << np.uint64(32)) ^ u[live].astype(np.uint64)) >> np.uint64(32)
            pick = (((h & np.uint64(0xFFFFFFFF)) * cnt.astype(np.uint64)) >> np.uint64(32)).astype(np.int64)
        pick = np.where(cnt == 1, 0, pick)
        link = r.route_link[a + pick].astype(np.int64)
        hops.append((live, link))
        u[live] = topo.link_dst[link]
        live = live[u[live] != dst[live]]
    if not hops:
        return [[] for _ in range(n)]
    f = np.concatenate([h[0] for h in hops])
    l = np.concatenate([h[1] for h in hops])
    order = np.argsort(f, kind="stable")                # hop order kept within a flow
    return np.split(l[order], np.cumsum(np.bincount(f, minlength=n))[:-1])


def _host_links(topo) -> np.ndarray:
    """The link out of each host node (-1 for switches)."""
    out = np.full(topo.n_nodes, -1, np.int64)
    from_host = np.flatnonzero(topo.is_host[topo.link_src])
    out[topo.link_src[from_host[::-1]]] = from_host[::-1]       # the first such link wins
    return out


def _per_link_fixed_ns(fabric: Fabric) -> np.ndarray:
    topo = fabric.topology
    return np.array([m.fixed_latency_ns + m.fec_hold_ns for m in topo.tiers])[topo.link_tier]


def _per_link_latency_ns(fabric: Fabric) -> np.ndarray:
    topo = fabric.topology
    fixed = np.array([m.fixed_latency_ns + m.fec_hold_ns for m in topo.tiers])[topo.link_tier]
    return fixed + np.where(topo.is_host[topo.link_src], 0.0, fabric.switch.latency_ns)


def route_latency_ns(fabric: Fabric, src, dst) -> np.ndarray:
    """Unloaded fixed latency of each flow's route, ns."""
    per = _per_link_latency_ns(fabric)
    return np.array([per[r].sum() for r in route_links(fabric, src, dst)])


def packet_failure(fabric: Fabric, packet_bytes: float) -> np.ndarray:
    """Probability that a packet fails on each directed link: 1 - (1 - CWER)^codewords."""
    topo = fabric.topology
    out = []
    for m in topo.tiers:
        n = math.ceil(8.0 * packet_bytes / m.codeword_bits) if m.codeword_bits else 1
        out.append(-math.expm1(n * math.log1p(-m.cwer)) if m.cwer < 1 else 1.0)
    return np.array(out)[topo.link_tier]


def max_min_rates(incidence: csr_matrix, capacity: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Max-min fair rates by progressive filling.

    Parameters
    ----------
    incidence : scipy.sparse.csr_matrix
        Flows x links, non-zero where a flow crosses a link.
    capacity : numpy.ndarray
        Per link.
    cap : numpy.ndarray
        Per flow: its own largest rate (``inf``: none).

    Returns
    -------
    numpy.ndarray
        Per flow rate.
    """
    inc = csr_matrix(incidence)
    flow_of = np.repeat(np.arange(inc.shape[0]), np.diff(inc.indptr))
    return _max_min(flow_of, inc.indices.astype(np.int64), inc.shape[0], np.asarray(capacity, np.float64),
                    np.asarray(cap, np.float64))


def _max_min(flow_of: np.ndarray, link_of: np.ndarray, n_f: int, capacity: np.ndarray,
             cap: np.ndarray) -> np.ndarray:
    """Progressive filling on the (flow, link) pairs of the incidence (flat arrays)."""
    n_l = capacity.size
    rate = np.zeros(n_f)
    free = np.ones(n_f, bool)
    used = np.zeros(n_l)
    finite_cap = np.isfinite(cap)
    level = 0.0
    while np.any(free):
        live = free[flow_of]
        cnt = np.bincount(link_of[live], minlength=n_l)
        on = cnt > 0
        room = (capacity[on] - used[on]) / cnt[on]
        delta = min(float(room.min()) if room.size else math.inf, float((cap[free] - level).min()))
        if not math.isfinite(delta):
            raise ValueError("a flow crosses no link and has no cap: its rate is unbounded")
        delta = max(delta, 0.0)
        level += delta
        used += cnt * delta
        sat = on & (capacity - used <= _EPS * capacity)
        hit = np.bincount(flow_of[live & sat[link_of]], minlength=n_f) > 0
        frozen = free & (hit | (finite_cap & (cap - level <= _EPS * np.maximum(cap, 1.0))))
        if not np.any(frozen):  # pragma: no cover - rounding; freeze the tightest
            frozen = free.copy()
        rate[frozen] = level
        free &= ~frozen
    return rate


def run_step(fabric: Fabric, src, dst, bytes_, start_ns, *, load=1.0, packet_bytes: float = 4096.0,
             goodput: str = "llr", salt: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Flows between host node ids, each entering at ``start_ns``, at max-min fair rates.

    Parameters
    ----------
    fabric : Fabric
    src, dst : array of int
    bytes_ : array of float
    start_ns : array of float
    load : float or array
        Each flow's cap as a fraction of its source host link's rate.
    packet_bytes : float
        For the goodput derating and store-and-forward switches.
    goodput : {"llr", "e2e", "none"}
    salt : int, optional
        ECMP hash salt (:func:`route_links`).

    Returns
    -------
    end_ns : numpy.ndarray
        Per flow: last byte delivered.
    busy_ns : numpy.ndarray
        Per directed link: time spent sending (bytes over its rate, retries included).
    """
    v.choice("goodput", goodput, set(GOODPUT))
    topo = fabric.topology
    src = np.asarray(src, np.int64)
    dst = np.asarray(dst, np.int64)
    n = src.size
    b = np.broadcast_to(np.asarray(bytes_, np.float64), (n,)).copy()
    start = np.broadcast_to(np.asarray(start_ns, np.float64), (n,)).copy()
    routes = route_links(fabric, src, dst, salt)
    lens = np.array([len(r) for r in routes])
    link_of = np.concatenate(routes).astype(np.int64)
    flow_of = np.repeat(np.arange(n), lens)
    inc = csr_matrix((np.ones(lens.sum()), link_of, np.concatenate([[0], np.cumsum(lens)])), shape=(n, topo.n_links))
    rate_bpns = topo.link_rate_gbps / 8.0  # bytes per ns
    pf = packet_failure(fabric, packet_bytes) if goodput != "none" else np.zeros(topo.n_links)
    capacity = rate_bpns.copy()
    if goodput == "llr":
        ser = packet_bytes / rate_bpns
        replay = 2.0 * _per_link_fixed_ns(fabric)
        capacity = rate_bpns * ser / (ser + pf / (1.0 - np.minimum(pf, 1 - 1e-15)) * (ser + replay))
    if goodput == "e2e":
        keep = np.exp(inc @ np.log1p(-np.minimum(pf, 1 - 1e-15)))
        b = b / keep
    host_rate = rate_bpns[_host_links(topo)[src]]
    cap = np.broadcast_to(np.asarray(load, np.float64), (n,)) * host_rate
    per = _per_link_latency_ns(fabric)
    lat = inc @ per
    if not fabric.switch.cut_through:
        lat = lat + (lens - 1) * 8.0 * packet_bytes / (topo.link_rate_gbps[[r[-1] for r in routes]])
    busy = (inc.T @ b) / capacity
    # event loop
    left = b.copy()
    sent_at = np.full(n, np.nan)
    order = np.argsort(start, kind="stable")
    nxt = 0
    active = np.zeros(n, bool)
    t = float(start[order[0]]) if n else 0.0
    rate = np.zeros(n)
    while nxt < n or np.any(active):
        while nxt < n and start[order[nxt]] <= t * (1 + _EPS):
            active[order[nxt]] = True
            nxt += 1
        idx = np.flatnonzero(active)
        rate[:] = 0.0
        if idx.size:
            sub = active[flow_of]
            local = np.cumsum(active) - 1
            rate[idx] = _max_min(local[flow_of[sub]], link_of[sub], idx.size, capacity, cap[idx])
        t_start = float(start[order[nxt]]) if nxt < n else math.inf
        with np.errstate(divide="ignore"):
            t_end = t + left[idx] / rate[idx] if idx.size else np.array([math.inf])
        t_next = min(t_start, float(t_end.min()))
        left[idx] -= rate[idx] * (t_next - t)
        done = idx[(t_end <= t_next * (1 + _EPS)) | (left[idx] <= _EPS * b[idx])]
        sent_at[done] = t_next
        active[done] = False
        left[done] = 0.0
        t = t_next
    return sent_at + lat, busy
