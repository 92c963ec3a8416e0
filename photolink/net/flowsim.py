"""Flow-level mode: max-min fair rate sharing, recomputed whenever a flow starts or ends.

Each flow takes one minimal route (the ECMP candidate picked by a fixed hash of (source,
node)). Between events every active flow is sent at its max-min fair rate
([ref:coll-maxmin]), computed by progressive filling over all links at once in vectorised
numpy (:mod:`photolink.net.maxmin`): raise every unfrozen flow's rate together until a link
saturates or a flow reaches its own cap (``load`` x its host link rate), freeze the flows through
it, repeat. A flow's end is when its last byte has been sent plus its route's unloaded
latency (links' fixed latency and FEC hold, switches' latency; plus a packet's serialisation
per store-and-forward switch).

Link capacity is derated by the goodput left by FEC failures and retries
(:mod:`photolink.net.goodput`): ``goodput="llr"``: each link resends failed packets itself and
stalls for the replay time (the fabric's default ``LLR``: twice the link's fixed latency plus FEC
hold) before each resend ([ref:photolink-llr-goodput]); ``"e2e"``: a failed packet is resent from
the source over the whole route, the flow's bytes x 1 / prod over its route of (1 - P) (the
timeouts' idle time is not modelled: flow mode underestimates an end-to-end recovery's tail);
``"none"``: no derating. Rates come from :func:`photolink.net.maxmin.max_min_weighted` (weight 1
per flow).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from .._util import rng as _rng
from .._util import validate as v
from . import goodput as goodput_mod
from .fabric import Fabric
from .goodput import GOODPUT
from .maxmin import max_min_weighted, send_times
from .path import LLR

__all__ = ["GOODPUT", "ecmp_salt", "max_min_rates", "packet_failure", "route_latency_ns", "route_links", "run_step"]



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


def _per_link_fixed_ns(fabric: Fabric) -> np.ndarray:
    topo = fabric.topology
    return np.array([m.fixed_latency_ns + m.fec_hold_ns for m in topo.tiers])[topo.link_tier]


def _per_link_latency_ns(fabric: Fabric) -> np.ndarray:
    topo = fabric.topology
    return _per_link_fixed_ns(fabric) + np.where(topo.is_host[topo.link_src], 0.0, fabric.switch.latency_ns)


def route_latency_ns(fabric: Fabric, src, dst) -> np.ndarray:
    """Unloaded fixed latency of each flow's route, ns."""
    per = _per_link_latency_ns(fabric)
    return np.array([per[r].sum() for r in route_links(fabric, src, dst)])


def packet_failure(fabric: Fabric, packet_bytes: float) -> np.ndarray:
    """Probability that a packet fails on each directed link (:func:`photolink.net.goodput.packet_failure`)."""
    return goodput_mod.packet_failure(fabric.topology, packet_bytes)


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
    return max_min_weighted(flow_of, inc.indices.astype(np.int64), np.ones(inc.indices.size), inc.shape[0],
                            np.asarray(capacity, np.float64), np.asarray(cap, np.float64))


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
        replay = LLR().replay_for(_per_link_fixed_ns(fabric), 0.0)
        capacity = goodput_mod.llr_capacity(rate_bpns, pf, packet_bytes, replay)
    if goodput == "e2e":
        keep = np.exp(inc @ goodput_mod.keep_log(pf))
        b = b / keep
    host_rate = rate_bpns[topo.host_links(src)]
    cap = np.broadcast_to(np.asarray(load, np.float64), (n,)) * host_rate
    per = _per_link_latency_ns(fabric)
    lat = inc @ per
    if not fabric.switch.cut_through:
        lat = lat + (lens - 1) * 8.0 * packet_bytes / (topo.link_rate_gbps[[r[-1] for r in routes]])
    busy = (inc.T @ b) / capacity
    sent_at = send_times(flow_of, link_of, np.ones(link_of.size), n, capacity, cap, b, start)
    return sent_at + lat, busy
