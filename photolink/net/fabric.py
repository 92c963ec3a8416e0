"""Fabrics: many flows through a topology of hosts, switches and links, run in C.

The C kernel (csrc/fabric.c) keeps one global event queue (a binary heap ordered by time, ties
by creation order) over packet-hop events. Each directed link is the link model of
:mod:`photolink.net.path`: a FIFO output port with a byte buffer and tail drop, serialisation,
fixed latency, FEC hold, the codeword grid and its failures, link-level retry, and the
cut-through or store-and-forward switch at its far end with its latency. A fabric of one chain
and one flow reproduces ``Path.run`` exactly (same seed, same error streams). Routing tables
come from :func:`photolink.net.routing.build_routes`; flows from :mod:`photolink.net.flows`.
A flow may wait for earlier flows to be delivered (:meth:`Flows.after`): a whole collective then
runs in one call, its steps sharing queues. Each flow's completion time is attributed (source
pacing, and its last-delivered packet's queueing, retries, serialisation, link latency, FEC
hold, switch latency: ``FabricResult.flows``).

Errors are statistical (geometric skips over each link's codeword grid, as ``Path``'s
``mode="statistical"``) or exact (each touched codeword's outcome taken in order from the link's
``LinkModel.codeword_failures``, fetched block by block as ``Path``'s ``mode="exact"``); recovery is ``drop``, ``llr`` or ``e2e`` (the source retransmits a
lost packet ``timeout_ns`` after the lost copy entered its queue). Seeds: a run's ``SeedSequence`` has
children 0 (Poisson arrivals), 2 (link l's failures: child l of it, chunk 0, the same stream as
link l of a ``Path``), 3 (spraying, Valiant and UGAL draws: its chunk 0; exact mode: block b of
link l's outcomes from child b of child l, as in a ``Path``) and 4 (the ECMP hash salt).
"""
from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import batch_means_interval, clopper_pearson
from . import _fabric
from .flows import Flows, _gaps
from .path import (
    E2E,
    EXACT_BLOCK,
    IPDV_QUANTILES,
    LATENCY_QUANTILES,
    LLR,
    MODES,
    N_BATCHES,
    Switch,
    _bernoulli,
    _Exact,
    _Histogram,
    _ipdv_quantiles,
    _quantiles_from_counts,
    _raw_percentiles,
    latency_fields,
    loss_fields,
)
from .routing import ROUTINGS, Routes, build_routes
from .topology import Topology

#: The switch of a Fabric unless told otherwise: cut-through, no latency, unbounded buffers.
DEFAULT_SWITCH = Switch()

__all__ = ["LATENCY_PARTS", "QUEUE_QUANTILES", "Fabric", "FabricResult"]

QUEUE_QUANTILES = {"p50": 50.0, "p99": 99.0, "max": 100.0}
#: The parts of a packet's latency kept for each flow's last-delivered packet (``FabricResult.flows``).
LATENCY_PARTS = _fabric.PARTS
#: Largest run (packets offered).
MAX_PACKETS = 10**12


def _qhist_values() -> np.ndarray:
    """A representative backlog (bytes) of each queue-depth bucket: 0, then bucket midpoints."""
    sub = _fabric.QHIST_SUB_BITS
    i = np.arange(1, _fabric.QHIST_BUCKETS)
    e, m = (i - 1) >> sub, (i - 1) & ((1 << sub) - 1)
    lo = 2.0 ** e * (1 + m / (1 << sub))
    hi = 2.0 ** e * (1 + (m + 1) / (1 << sub))
    return np.concatenate([[0.0], 0.5 * (lo + hi)])


def _queue_quantiles(qhist: np.ndarray, n_links: int) -> dict:
    """Per-link queue-depth percentiles (bytes seen by arriving packets) from the histograms."""
    h = qhist.reshape(n_links, _fabric.QHIST_BUCKETS).astype(np.int64)
    cum = np.cumsum(h, axis=1)
    total = cum[:, -1]
    vals = _qhist_values()
    out = {}
    for name, q in QUEUE_QUANTILES.items():
        rank = np.maximum(np.ceil(q / 100.0 * total), 1)
        idx = np.argmax(cum >= rank[:, None], axis=1)
        out[name] = np.where(total > 0, vals[idx], np.nan)
    return out


@dataclass(frozen=True, eq=False)
class FabricResult:
    """What a fabric run did: loss, latency, per flow and per link.

    Attributes
    ----------
    n_packets, delivered, lost : int
        Packets offered, delivered, lost (tail drop + corrupted + no route).
    not_started : int
        Packets of flows that never started because a flow they depend on lost packets (not
        in ``n_packets``).
    lost_tail_drop, lost_corrupted, lost_no_route, llr_retries, e2e_retransmissions : int
    latency_percentiles_ns : dict
        p50 .. max over all delivered packets (histogram, within
        ``photolink.net.path.HISTOGRAM_RELATIVE_ERROR``, or exact with raw latencies).
    mean_latency_ns : float
    mean_latency_ci : tuple of float
        Batch-means interval (nan with fewer than 2 batches).
    min_latency_ns : float
    ipdv_percentiles_ns : dict
        RFC 3393 IPDV between consecutive packets of a flow.
    throughput_gbps : float
        Delivered bits over the time from the first entry to the last delivery.
    offered_gbps : float
        Offered bits over the same time.
    duration_ns : float
    packet_hops : int
        Packets offered to a link queue (the work done).
    max_in_flight : int
    valiant_packets : int
        Packets sent through a Valiant intermediate (Valiant, UGAL).
    flows : dict of numpy.ndarray
        One entry per flow: src, dst, sent, delivered, lost_*, mean/min/max latency,
        completion_time_ns (first entry to last delivery), throughput_gbps, end_ns (last
        delivery); with dependencies ready_ns (when they were delivered) and released_by (the
        one that set it, -1: none). Attribution of the packet delivered last: source_ns (its
        entry after the flow's first: the pacing of the flow's earlier packets), worst_link (where
        it spent longest) and its latency by part: queueing_ns, retries_ns (LLR resend cycles,
        end-to-end resends), serialisation_ns, link_latency_ns (propagation and fixed parts),
        fec_hold_ns, switch_ns; source_ns plus the parts is completion_time_ns.
    links : dict of numpy.ndarray
        One entry per directed link: src, dst, tier, packets, tail_drops, transmissions,
        failed_transmissions, retries, corrupted_packets, mean/max wait, utilisation, queue
        depth percentiles (bytes found by arriving packets: p50, p99, max).
    routing, recovery : str
    confidence : float
    seed_entropy : int or None
    latencies_ns, latency_flows : numpy.ndarray or None
        Raw latencies in delivery order and their flows, when asked for.
    """

    n_packets: int
    delivered: int
    lost: int
    lost_tail_drop: int
    lost_corrupted: int
    lost_no_route: int
    llr_retries: int
    e2e_retransmissions: int
    latency_percentiles_ns: Mapping[str, float]
    mean_latency_ns: float
    mean_latency_ci: tuple
    min_latency_ns: float
    ipdv_percentiles_ns: Mapping[str, float]
    throughput_gbps: float
    offered_gbps: float
    duration_ns: float
    packet_hops: int
    max_in_flight: int
    valiant_packets: int
    flows: Mapping[str, np.ndarray]
    links: Mapping[str, np.ndarray]
    routing: str
    recovery: str
    confidence: float = 0.95
    seed_entropy: int | None = None
    latencies_ns: np.ndarray | None = None
    latency_flows: np.ndarray | None = None
    not_started: int = 0
    _hist: np.ndarray = field(default=None, repr=False)

    @property
    def loss_ratio(self) -> float:
        return self.lost / self.n_packets

    @property
    def ci(self) -> tuple[float, float]:
        """Clopper-Pearson interval of the loss ratio."""
        return clopper_pearson(self.lost, self.n_packets, self.confidence)

    def percentile(self, q: float) -> float:
        """Latency percentile ``q`` (0 to 100) over all flows, ns."""
        q = v.real("q", q, lo=0.0, hi=100.0)
        if self.delivered == 0:
            return math.nan
        if self.latencies_ns is not None:
            return _raw_percentiles(self.latencies_ns, [q])[0]
        return _quantiles_from_counts(_Histogram.midpoints(), self._hist, [q], self.min_latency_ns,
                                      self.latency_percentiles_ns["max"])[0]

    def flow_percentiles(self, q: float) -> np.ndarray:
        """Latency percentile ``q`` (0 to 100, nearest rank) of each flow, ns (nan for a flow with
        nothing delivered); needs a run with ``return_latencies=True``."""
        q = v.real("q", q, lo=0.0, hi=100.0)
        if self.latencies_ns is None:
            raise ValueError("flow_percentiles needs the raw latencies: run with return_latencies=True")
        n_flows = self.flows["src"].size
        order = np.lexsort((self.latencies_ns, self.latency_flows))
        counts = np.bincount(self.latency_flows, minlength=n_flows)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.clip(np.ceil(q / 100.0 * counts).astype(np.int64), 1, None)
        out = np.full(n_flows, np.nan)
        has = counts > 0
        out[has] = self.latencies_ns[order][(starts + rank - 1)[has]]
        return out

    def flow_loss_ci(self, flow: int) -> tuple[float, float]:
        """Clopper-Pearson interval of one flow's loss ratio."""
        f = v.integer("flow", flow, lo=0, hi=self.flows["src"].size - 1)
        sent = int(self.flows["sent"][f])
        return clopper_pearson(sent - int(self.flows["delivered"][f]), sent, self.confidence)

    def hot_spots(self, n: int = 10, by: str = "utilisation") -> list[dict]:
        """The ``n`` links with the highest ``by`` (a key of :attr:`links`), as table rows."""
        n = v.integer("n", n, lo=1, hi=1 << 30)
        v.choice("by", by, set(self.links))
        key = np.nan_to_num(np.asarray(self.links[by], np.float64), nan=-np.inf)
        order = np.argsort(-key, kind="stable")[:n]
        return [self._row(self.links, i) | {"link": int(i)} for i in order]

    @staticmethod
    def _row(table, i) -> dict:
        return {k: (a[i].item() if hasattr(a[i], "item") else a[i]) for k, a in table.items()}

    def flow_table(self) -> list[dict]:
        """One row (dict of plain values) per flow: ``pandas.DataFrame(result.flow_table())``."""
        return [self._row(self.flows, i) | {"flow": i} for i in range(self.flows["src"].size)]

    def link_table(self) -> list[dict]:
        """One row per directed link."""
        return [self._row(self.links, i) | {"link": i} for i in range(self.links["src"].size)]

    def write_csv(self, path, table: str = "links") -> None:
        """Write the ``"links"`` or ``"flows"`` table to a CSV file."""
        rows = {"links": self.link_table, "flows": self.flow_table}[v.choice("table", table, {"links", "flows"})]()
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)

    def to_dict(self) -> dict:
        """Plain values (JSON-ready): totals, percentiles, and the flow and link tables."""
        return {
            **loss_fields(self),
            "lost_no_route": self.lost_no_route, "not_started": self.not_started, "llr_retries": self.llr_retries,
            "e2e_retransmissions": self.e2e_retransmissions,
            **latency_fields(self),
            **{f"ipdv_{k}_ns": x for k, x in self.ipdv_percentiles_ns.items()},
            "throughput_gbps": self.throughput_gbps, "offered_gbps": self.offered_gbps,
            "duration_ns": self.duration_ns, "packet_hops": self.packet_hops,
            "max_in_flight": self.max_in_flight, "valiant_packets": self.valiant_packets,
            "routing": self.routing, "recovery": self.recovery, "confidence": self.confidence,
            "seed_entropy": self.seed_entropy,
            "flows": {k: a.tolist() for k, a in self.flows.items()},
            "links": {k: a.tolist() for k, a in self.links.items()},
        }


@dataclass(frozen=True, eq=False)
class Fabric:
    """A topology with its switches and routing, ready to carry flows.

    Parameters
    ----------
    topology : Topology
    routing : str
        One of :data:`photolink.net.routing.ROUTINGS`.
    switch : Switch
        Every switch: latency, cut-through or store-and-forward, output buffer per port.
    host_buffer_bytes : float
        Each host's NIC queue (``math.inf``: unbounded).
    ugal_threshold_bytes : float
        UGAL: take the Valiant route only when its weighted backlog is lower by more than this.

    Examples
    --------
    >>> from photolink import net
    >>> topo = net.topology.leaf_spine(4, 4, 2)
    >>> fab = net.Fabric(topo, routing="ecmp", switch=net.Switch(250, buffer_bytes=1e6))
    >>> flows = net.Flows.poisson(net.flows.permutation(topo, seed=1), load=0.5, n_packets=1000)
    >>> r = fab.run(flows, seed=1)
    >>> r.delivered == r.n_packets
    True
    """

    topology: Topology
    routing: str = "ecmp"
    switch: Switch = DEFAULT_SWITCH
    host_buffer_bytes: float = math.inf
    ugal_threshold_bytes: float = 0.0

    def __post_init__(self):
        if not isinstance(self.topology, Topology):
            raise TypeError(f"topology must be a photolink.net.topology.Topology, got {type(self.topology).__name__}")
        v.choice("routing", self.routing, set(ROUTINGS))
        if not isinstance(self.switch, Switch):
            raise TypeError(f"switch must be a photolink.net.Switch, got {type(self.switch).__name__}")
        b = self.host_buffer_bytes
        if isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)) or \
                not (b == math.inf or (math.isfinite(b) and b >= 1)):
            raise ValueError(f"host_buffer_bytes must be a number >= 1 or math.inf, got {b!r}")
        object.__setattr__(self, "host_buffer_bytes", float(b))
        object.__setattr__(self, "ugal_threshold_bytes",
                           v.real("ugal_threshold_bytes", self.ugal_threshold_bytes, lo=0.0, hi=1e15))
        object.__setattr__(self, "_routes", build_routes(self.topology, self.routing))

    @property
    def routes(self) -> Routes:
        return self._routes

    def _kernel_links(self, llr: LLR | None, mode: str = "statistical") -> dict:
        topo = self.topology
        models = topo.tiers
        tier = topo.link_tier
        from_switch = ~topo.is_host[topo.link_src]
        col = lambda f: np.array([f(m) for m in models], np.float64)[tier]
        fixed = col(lambda m: m.fixed_latency_ns)
        hold = col(lambda m: float(m.fec_hold_ns))
        cwer = col(lambda m: float(m.cwer))
        if mode == "exact":   # as Path: a link with a failure process or a cwer draws outcomes
            errors = 2.0 * col(lambda m: m.cwer > 0 or m.codeword_failures is not None)
        else:
            errors = (cwer > 0).astype(np.float64)
        replay = np.zeros(tier.size)
        if llr is not None:
            replay = llr.replay_for(fixed, hold)
        return {
            "rate_gbps": col(lambda m: float(m.rate_gbps)), "fixed_ns": fixed, "hold_ns": hold,
            "codeword_bits": col(lambda m: float(m.codeword_bits)), "cwer": cwer,
            "errors": errors, "replay_ns": replay,
            "node_latency_ns": np.where(from_switch, self.switch.latency_ns, 0.0),
            "buffer_bytes": np.where(from_switch, self.switch.buffer_bytes, self.host_buffer_bytes),
            "cut_through": (from_switch & self.switch.cut_through).astype(np.float64),
        }

    def _kernel_flows(self, flows: Flows) -> dict:
        topo = self.topology
        if not (np.all(topo.is_host[flows.src]) and np.all(topo.is_host[flows.dst])):
            raise ValueError("flows must run between hosts of the topology")
        host_rate = topo.link_rate_gbps[topo.host_links(flows.src)]
        out = {
            "src": flows.src, "dst": flows.dst,
            "arrivals": np.full(flows.n_flows, _fabric.ARRIVALS[flows.arrivals]),
            "start_ns": flows.start_ns, "gap_ns": _gaps(flows, host_rate),
            "packet_bytes": flows.packet_bytes, "last_bytes": flows.last_bytes, "n_packets": flows.n_packets,
        }
        if flows.arrivals == "onoff":   # as photolink.net.traffic.OnOff
            spacing = 8.0 * flows.packet_bytes / (flows.peak_load * host_rate)
            out.update(spacing_ns=spacing, idle_ns=flows.burst_packets * np.maximum(out["gap_ns"] - spacing, 0.0),
                       p_start=1.0 / flows.burst_packets)
        if flows.arrivals == "listed":
            off = np.zeros(flows.n_flows + 1, np.int64)
            np.cumsum(flows.n_packets, out=off[1:])
            out.update(list_off=off, times=np.concatenate(flows.times_ns), sizes=np.concatenate(flows.sizes_bytes))
        if flows.dep_off is not None:
            out.update(dep_off=flows.dep_off, dep_on=flows.dep_on)
        return out

    def run(self, flows: Flows, *, seed: _rng.SeedLike, recovery: str | LLR | E2E = "drop",
            mode: str = "statistical", return_latencies: bool = False,
            queue_histograms: bool = True, confidence: float = 0.95) -> FabricResult:
        """Carry ``flows`` through the fabric until every packet is delivered or lost.

        Parameters
        ----------
        flows : Flows
        seed : int, SeedSequence, Generator or None
        recovery : {"drop", "llr"}, LLR or E2E
            ``E2E`` needs an explicit ``timeout_ns`` in a fabric (from a copy entering its
            source queue to its retransmission).
        mode : {"statistical", "exact"}
            Statistical: geometric skips over each link's codeword grid at its ``cwer``. Exact:
            every touched codeword's outcome from its tier's ``LinkModel.codeword_failures`` (a
            Bernoulli(cwer) draw where it has none), fetched ``EXACT_BLOCK`` outcomes at a time.
        return_latencies : bool
            Keep every latency and its flow (delivery order).
        queue_histograms : bool
            Per-port queue-depth histograms (percentiles in ``links``).
        confidence : float

        Returns
        -------
        FabricResult
        """
        if not isinstance(flows, Flows):
            raise TypeError(f"flows must be a photolink.net.flows.Flows, got {type(flows).__name__}")
        e2e = None
        if isinstance(recovery, LLR):
            llr = recovery
        elif isinstance(recovery, E2E):
            llr, e2e = None, recovery
            if e2e.timeout_ns is None:
                raise ValueError("recovery=E2E(...) needs timeout_ns in a fabric (no default: routes differ "
                                 "in length), e.g. E2E(timeout_ns=20_000)")
        else:
            v.choice("recovery", recovery, {"drop", "llr"})
            llr = LLR() if recovery == "llr" else None
        mode = v.choice("mode", mode, MODES)
        return_latencies = v.boolean("return_latencies", return_latencies)
        queue_histograms = v.boolean("queue_histograms", queue_histograms)
        confidence = v.real("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        total = flows.total_packets
        if total > MAX_PACKETS or (return_latencies and total > 10**9):
            raise ValueError(f"flows offer {total} packets; at most {MAX_PACKETS} (1e9 with return_latencies)")
        r = self._routes
        links = self._kernel_links(llr, mode)
        ss = _rng.seed_sequence(seed)
        ss_errors = _rng.child(ss, 2)
        bgs = [_rng.chunk_bit_generator(_rng.child(ss_errors, l), 0) if e == 1 else None
               for l, e in enumerate(links["errors"])]
        salt = int(_rng.child(ss, 4).generate_state(1, np.uint64)[0])
        kernel = _fabric.FabricKernel(
            links, self.topology.link_src, self.topology.link_dst, r.target_of, self.topology.is_host,
            r.route_off, r.route_link, r.hops, r.via, self._kernel_flows(flows), choice=r.choice,
            paths=r.paths, recovery="llr" if llr else ("e2e" if e2e else "drop"),
            max_retries=llr.max_retries if llr else (e2e.max_retries if e2e else 0),
            timeout_ns=e2e.timeout_ns if e2e else 0.0,
            ugal_threshold_bytes=self.ugal_threshold_bytes, hash_salt=salt,
            batch_len=max(1, total // N_BATCHES), batch_cap=N_BATCHES + 1,
            raw_cap=total if return_latencies else 0, queue_histograms=queue_histograms, bit_generators=bgs)
        exact = _FabricExact(self.topology, _rng.child(ss, 3)) if mode == "exact" else None
        kernel.run(_rng.chunk_bit_generator(_rng.child(ss, 3), 0),
                   _rng.chunk_bit_generator(_rng.child(ss, 0), 0), exact)
        recovery = "llr" if llr else ("e2e" if e2e else "drop")
        return self._result(kernel, flows, total, recovery, confidence, ss, return_latencies, queue_histograms)

    def _result(self, kernel, flows, total, recovery, confidence, ss, return_latencies, queue_histograms):
        tot = kernel.totals()
        delivered = int(tot["delivered"])
        lost = int(tot["lost_tail_drop"] + tot["lost_corrupted"] + tot["lost_no_route"])
        f = kernel.flow_stats()
        not_started = int(flows.n_packets[f["sent"] == 0].sum()) if flows.dep_off is not None else 0
        if delivered + lost + not_started != total or tot["in_flight"] or tot["offered"] != total - not_started:
            raise RuntimeError(  # pragma: no cover - a kernel invariant
                f"fabric kernel lost count of packets: {delivered} + {lost} + {not_started} != {total}")
        total -= not_started
        lo, hi = tot["latency_min"], tot["latency_max"]
        hist = kernel.hist.astype(np.int64)
        raw = kernel.raw[:tot["n_raw"]].copy() if return_latencies else None
        raw_flow = kernel.raw_flow[:tot["n_raw"]].copy() if return_latencies else None
        qs = list(LATENCY_QUANTILES.values())
        if delivered == 0:
            lat, lo, hi, mean = [math.nan] * len(qs), math.nan, math.nan, math.nan
        else:
            lat = _raw_percentiles(raw, qs) if raw is not None else \
                _quantiles_from_counts(_Histogram.midpoints(), hist, qs, lo, hi)
            mean = tot["latency_sum"] / delivered
        ipdv_state = (kernel.ipdv_pos.astype(np.int64), kernel.ipdv_neg.astype(np.int64),
                      int(tot["ipdv_zero"]), tot["ipdv_min"], tot["ipdv_max"])
        ipdv = dict(zip(IPDV_QUANTILES, _ipdv_quantiles(ipdv_state, IPDV_QUANTILES.values())))
        mean_ci = batch_means_interval(mean, kernel.batch_means[:tot["n_batches"]], confidence)
        duration = tot["last_delivery"] - tot["first_arrival"] if delivered else math.nan
        started = f["sent"] > 0
        offered_bytes = float(np.sum((flows.packet_bytes * (flows.n_packets - 1) + flows.last_bytes)[started])) \
            if flows.arrivals != "listed" else float(sum(s.sum() for s, go in zip(flows.sizes_bytes, started) if go))
        ok = delivered and duration > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            fct = f["last_delivery"] - f["first_arrival"]
            flow_table = {
                "src": flows.src, "dst": flows.dst, "sent": f["sent"], "delivered": f["delivered"],
                "lost_tail_drop": f["lost_tail_drop"], "lost_corrupted": f["lost_corrupted"],
                "lost_no_route": f["lost_no_route"], "e2e_retransmissions": f["e2e_retransmissions"],
                "mean_latency_ns": np.where(f["delivered"] > 0, f["latency_sum"] / f["delivered"], np.nan),
                "min_latency_ns": np.where(f["delivered"] > 0, f["latency_min"], np.nan),
                "max_latency_ns": np.where(f["delivered"] > 0, f["latency_max"], np.nan),
                "completion_time_ns": np.where(f["delivered"] > 0, fct, np.nan),
                "throughput_gbps": np.where((f["delivered"] > 0) & (fct > 0), 8.0 * f["delivered_bytes"] / fct, np.nan),
                "end_ns": np.where(f["delivered"] > 0, f["last_delivery"], np.nan),
            }
            att = kernel.flow_attribution()
            if flows.dep_off is not None:
                flow_table.update(ready_ns=att["ready_ns"], released_by=att["released_by"])
            flow_table["source_ns"] = np.where(f["delivered"] > 0, att["last_entry_ns"] - f["first_arrival"], np.nan)
            flow_table["worst_link"] = att["worst_link"]
            flow_table.update({k: np.where(f["delivered"] > 0, att[k], np.nan) for k in LATENCY_PARTS})
            s = kernel.link_stats()
            topo = self.topology
            sent = s["packets"] - s["tail_drops"]
            link_table = {
                "src": topo.link_src, "dst": topo.link_dst, "tier": topo.link_tier,
                "packets": s["packets"], "tail_drops": s["tail_drops"], "transmissions": s["transmissions"],
                "failed_transmissions": s["failed_transmissions"], "retries": s["retries"],
                "corrupted_packets": s["lost_corrupted"],
                "mean_wait_ns": np.where(s["packets"] > 0, s["wait_sum"] / np.maximum(s["packets"], 1), 0.0),
                "max_wait_ns": np.maximum(s["wait_max"], 0.0),
                "mean_serialisation_ns": np.where(sent > 0, s["service_sum"] / np.maximum(sent, 1), 0.0),
                "utilisation": s["busy_ns"] / duration if ok else np.full(topo.n_links, np.nan),
            }
        if queue_histograms:
            for name, arr in _queue_quantiles(kernel.qhist, self.topology.n_links).items():
                link_table[f"queue_{name}_bytes"] = arr
        return FabricResult(
            n_packets=total, delivered=delivered, lost=lost, lost_tail_drop=int(tot["lost_tail_drop"]),
            lost_corrupted=int(tot["lost_corrupted"]), lost_no_route=int(tot["lost_no_route"]),
            llr_retries=int(tot["llr_retries"]), e2e_retransmissions=int(tot["e2e_retransmissions"]),
            latency_percentiles_ns=dict(zip(LATENCY_QUANTILES, lat)),
            mean_latency_ns=mean, mean_latency_ci=mean_ci, min_latency_ns=lo, ipdv_percentiles_ns=ipdv,
            throughput_gbps=8.0 * tot["delivered_bytes"] / duration if ok else math.nan,
            offered_gbps=8.0 * offered_bytes / duration if ok else math.nan,
            duration_ns=duration, packet_hops=int(tot["packet_hops"]), max_in_flight=int(tot["max_in_flight"]),
            valiant_packets=int(tot["valiant_packets"]), flows=flow_table, links=link_table,
            routing=self.routing, recovery=recovery, confidence=confidence,
            seed_entropy=ss.entropy if not ss.spawn_key else None, latencies_ns=raw, latency_flows=raw_flow,
            not_started=not_started, _hist=hist)


class _FabricExact(_Exact):
    """Exact-mode outcomes of each directed link from its tier's ``codeword_failures``: the
    blocks and seeds of :class:`photolink.net.path._Exact`, with links numbered as the topology's."""

    def __init__(self, topology: Topology, ss, block_size: int = EXACT_BLOCK):
        self.ss = ss
        self.block_size = block_size
        self.blocks = {}
        self.functions = {}
        for l, t in enumerate(topology.link_tier.tolist()):
            m = topology.tiers[t]
            f = m.codeword_failures
            if f is None and m.cwer > 0:
                f = _bernoulli(m.cwer)
            self.functions[l] = f
