# cython: language_level=3, boundscheck=False, wraparound=False
"""Bridge to the fabric kernel (csrc/fabric.c): the run state lives here, the C code runs nogil.

Arguments are validated by :mod:`photolink.net.fabric`; this layer holds the C structs and the
arrays they point to, grows the event heap and the packet pool when C asks, and turns status
codes into exceptions. No physics here.
"""
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.string cimport memset
from numpy.random cimport bitgen_t

from .._pl_common cimport (PL_EMORE, PL_ENOMEM, PL_ERANGE, PL_OK, bitgen_of, check_status, pl_link,
                          pl_link_state)

import numpy as np


cdef extern from "fabric.h":
    int PL_HIST_BUCKETS, PL_IPDV_BUCKETS, PL_QHIST_BUCKETS, PL_QHIST_SUB_BITS, PL_QHIST_MAX_EXP
    int PL_FABRIC_MAX_NODES, PL_FABRIC_MAX_HOPS, PL_N_PARTS

    ctypedef struct pl_flow:
        int32_t src, dst
        int arrivals
        double start_ns, gap_ns, packet_bytes, last_bytes
        int64_t n_packets
        const double *times
        const double *sizes
        double spacing_ns, idle_ns, p_start

    ctypedef struct pl_fabric_config:
        int32_t n_nodes, n_links, n_flows, n_targets
        pl_link *links
        const int32_t *link_src
        const int32_t *link_dst
        const int32_t *target_of
        const int32_t *is_host
        const int32_t *route_off
        const int32_t *route_link
        int64_t n_route
        const int32_t *hops
        int choice
        int paths
        const int32_t *via
        int32_t n_via
        double ugal_threshold_bytes
        int recovery
        int max_retries
        double timeout_ns
        pl_flow *flows
        uint64_t hash_salt
        const int64_t *dep_off
        const int32_t *dep_on

    ctypedef struct pl_fevent:
        uint64_t key
        uint64_t seq
        int32_t id

    ctypedef struct pl_fpacket:
        double arrival

    ctypedef struct pl_flow_state:
        int64_t sent
        uint64_t delivered, lost_tail_drop, lost_corrupted, lost_no_route, e2e_retransmissions
        double delivered_bytes, latency_sum, latency_min, latency_max
        double first_arrival, last_delivery
        int64_t waiting
        double ready
        int32_t released_by
        int32_t last_worst_link
        double last_entry
        double last_part[6]

    ctypedef struct pl_fabric_state:
        pl_link_state *links
        pl_flow_state *flows
        int64_t *succ_off
        int32_t *succ
        double *busy_retry
        pl_fevent *heap
        int64_t heap_len, heap_cap
        int32_t *fifo_head
        int32_t *fifo_tail
        pl_fevent *retx
        int64_t retx_len
        pl_fpacket *packets
        int32_t *free_packets
        int64_t packet_cap, n_free
        uint64_t offered, delivered, lost_tail_drop, lost_corrupted, lost_no_route, llr_retries
        uint64_t packet_hops, valiant_packets, e2e_retransmissions
        double delivered_bytes, latency_sum, latency_min, latency_max
        double first_arrival, last_delivery
        int64_t max_in_flight
        uint64_t *hist
        uint64_t *ipdv_pos
        uint64_t *ipdv_neg
        uint64_t ipdv_zero
        double ipdv_min, ipdv_max
        uint64_t *qhist
        int64_t batch_len, batch_count
        double batch_sum
        double *batch_means
        int64_t batch_cap, n_batches
        double *raw
        int32_t *raw_flow
        int64_t raw_cap, n_raw
        int stalled
        int32_t need_link
        int64_t need_count

    int pl_fabric_init(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t **rngs) noexcept nogil
    int pl_fabric_run(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t **rngs,
                      bitgen_t *route_rng, bitgen_t *arrival_rng) noexcept nogil
    int64_t pl_qhist_index(double bytes) noexcept nogil
    int pl_fabric_refill(const pl_fabric_config *cfg, pl_fabric_state *st, int32_t link,
                         const int64_t *fail_pos, int64_t n_fail_pos, int64_t known) noexcept nogil


QHIST_BUCKETS = PL_QHIST_BUCKETS
QHIST_SUB_BITS = PL_QHIST_SUB_BITS
MAX_NODES = PL_FABRIC_MAX_NODES
MAX_HOPS = PL_FABRIC_MAX_HOPS
CHOICE = {"hash": 0, "spray": 1}
PATHS = {"minimal": 0, "valiant": 1, "ugal": 2}
ARRIVALS = {"poisson": 0, "constant": 1, "listed": 2, "onoff": 3}
RECOVERY = {"drop": 0, "llr": 1, "e2e": 2}
#: Per-link input arrays (csrc/pl_link.h: pl_link); the kernel derives the rest.
LINK_FIELDS = ("rate_gbps", "fixed_ns", "hold_ns", "codeword_bits", "cwer", "errors", "replay_ns",
               "node_latency_ns", "buffer_bytes", "cut_through")
#: Per-flow input arrays (csrc/fabric.h: pl_flow); listed flows also give times/sizes.
FLOW_FIELDS = ("src", "dst", "arrivals", "start_ns", "gap_ns", "packet_bytes", "last_bytes", "n_packets")
#: The parts of a packet's latency kept for the last-delivered packet of each flow (PL_PART_*).
PARTS = ("queueing_ns", "retries_ns", "serialisation_ns", "link_latency_ns", "fec_hold_ns", "switch_ns")

cdef int64_t INITIAL_PACKETS = 4096
#: Most packets in flight at once (pool and heap then take ~2 GB): a run that needs more is
#: refused rather than let grow without bound.
MAX_PACKETS_IN_FLIGHT = 1 << 26


def qhist_index(double x):
    """Bucket of a backlog (bytes) in the kernel's per-port queue-depth histogram."""
    return pl_qhist_index(x)


cdef class FabricKernel:
    """The C state of one fabric run: links, flows, routing table, heap, packet pool, statistics.

    Parameters
    ----------
    links : mapping of str to numpy.ndarray
        The arrays of :data:`LINK_FIELDS`, one entry per directed link.
    link_src, link_dst, target_of, is_host, route_off, route_link : numpy.ndarray
        Topology and routing table (see csrc/fabric.h).
    hops, via : numpy.ndarray or None
        UGAL hop counts; Valiant/UGAL intermediates.
    flows : mapping of str to numpy.ndarray
        The arrays of :data:`FLOW_FIELDS`, plus ``list_off``, ``times``, ``sizes`` for listed flows,
        and optionally ``dep_off`` (n_flows + 1) and ``dep_on``: flow i waits for flows
        ``dep_on[dep_off[i]:dep_off[i + 1]]`` (each < i) to be delivered (see csrc/fabric.h).
    choice, paths, recovery : str
    max_retries : int
    ugal_threshold_bytes : float
    hash_salt : int
    batch_len, batch_cap, raw_cap : int
    queue_histograms : bool
    bit_generators : list
        One numpy BitGenerator (or None for error-free links) per link.
    """

    cdef pl_fabric_config cfg
    cdef pl_fabric_state st
    cdef pl_link *links
    cdef pl_flow *flows
    cdef bitgen_t **rngs
    cdef list keep
    cdef list bit_generators
    cdef list fail_arrays
    cdef readonly object hist, ipdv_pos, ipdv_neg, qhist, batch_means, raw, raw_flow
    cdef object link_states_buf, flow_states_buf

    def __cinit__(self):
        self.links = NULL
        self.flows = NULL
        self.rngs = NULL
        self.st.heap = NULL
        self.st.fifo_head = NULL
        self.st.fifo_tail = NULL
        self.st.retx = NULL
        self.st.packets = NULL
        self.st.free_packets = NULL
        self.st.links = NULL
        self.st.flows = NULL
        self.st.succ_off = NULL
        self.st.succ = NULL
        self.st.busy_retry = NULL

    def __init__(self, links, link_src, link_dst, target_of, is_host, route_off, route_link, hops, via,
                 flows, *, str choice, str paths, str recovery, int max_retries, double timeout_ns,
                 double ugal_threshold_bytes, uint64_t hash_salt, int64_t batch_len, int64_t batch_cap,
                 int64_t raw_cap, bint queue_histograms, list bit_generators):
        cdef int32_t n_links = len(link_src), n_flows = len(flows["src"]), i
        cdef int32_t n_nodes = len(target_of)
        cdef int status
        cdef const int32_t[::1] i32
        cdef const double[::1] f64, ts, ss
        cdef uint64_t[::1] u64
        cdef double[::1] d64
        cdef int32_t[::1] r32
        self.keep = []

        def arr(x, dtype):
            a = np.ascontiguousarray(x, dtype=dtype)
            self.keep.append(a)
            return a

        if len(bit_generators) != n_links:
            raise ValueError("one bit generator (or None) per link")
        self.links = <pl_link *> PyMem_Malloc(max(n_links, 1) * sizeof(pl_link))
        self.flows = <pl_flow *> PyMem_Malloc(max(n_flows, 1) * sizeof(pl_flow))
        self.rngs = <bitgen_t **> PyMem_Malloc(max(n_links, 1) * sizeof(bitgen_t *))
        self.st.links = <pl_link_state *> PyMem_Malloc(max(n_links, 1) * sizeof(pl_link_state))
        self.st.flows = <pl_flow_state *> PyMem_Malloc(max(n_flows, 1) * sizeof(pl_flow_state))
        if not (self.links and self.flows and self.rngs and self.st.links and self.st.flows):
            raise MemoryError()
        cols = {k: arr(links[k], np.float64) for k in LINK_FIELDS}
        for i in range(n_links):
            self.links[i].rate_gbps = cols["rate_gbps"][i]
            self.links[i].fixed_ns = cols["fixed_ns"][i]
            self.links[i].hold_ns = cols["hold_ns"][i]
            self.links[i].codeword_bits = cols["codeword_bits"][i]
            self.links[i].cwer = cols["cwer"][i]
            self.links[i].errors = <int> cols["errors"][i]
            self.links[i].replay_ns = cols["replay_ns"][i]
            self.links[i].node_latency_ns = cols["node_latency_ns"][i]
            self.links[i].buffer_bytes = cols["buffer_bytes"][i]
            self.links[i].cut_through = <int> cols["cut_through"][i]
        self.bit_generators = list(bit_generators)
        self.fail_arrays = [None] * n_links
        for i, bg in enumerate(self.bit_generators):
            self.rngs[i] = bitgen_of(bg) if bg is not None else NULL

        self.cfg.n_nodes = n_nodes
        self.cfg.n_links = n_links
        self.cfg.n_flows = n_flows
        self.cfg.links = self.links
        i32 = arr(link_src, np.int32); self.cfg.link_src = &i32[0]
        i32 = arr(link_dst, np.int32); self.cfg.link_dst = &i32[0]
        i32 = arr(target_of, np.int32); self.cfg.target_of = &i32[0]
        self.cfg.n_targets = int(np.count_nonzero(np.asarray(target_of) >= 0))
        i32 = arr(is_host, np.int32); self.cfg.is_host = &i32[0]
        ro = arr(route_off, np.int32)
        i32 = ro; self.cfg.route_off = &i32[0]
        rl = arr(route_link, np.int32)
        self.cfg.n_route = rl.shape[0]
        if rl.shape[0] == 0:
            rl = arr(np.zeros(1, np.int32), np.int32)
        i32 = rl; self.cfg.route_link = &i32[0]
        if ro.shape[0] != <int64_t> n_nodes * self.cfg.n_targets + 1:
            raise ValueError("route_off must have n_nodes * n_targets + 1 entries")
        self.cfg.hops = NULL
        if hops is not None:
            i32 = arr(hops, np.int32)
            if i32.shape[0] != <int64_t> n_nodes * self.cfg.n_targets:
                raise ValueError("hops must have n_nodes * n_targets entries")
            self.cfg.hops = &i32[0]
        self.cfg.via = NULL
        self.cfg.n_via = 0
        if via is not None and len(via) > 0:
            i32 = arr(via, np.int32)
            self.cfg.via = &i32[0]
            self.cfg.n_via = i32.shape[0]
        self.cfg.choice = CHOICE[choice]
        self.cfg.paths = PATHS[paths]
        self.cfg.ugal_threshold_bytes = ugal_threshold_bytes
        self.cfg.recovery = RECOVERY[recovery]
        self.cfg.max_retries = max_retries
        self.cfg.timeout_ns = timeout_ns
        self.cfg.hash_salt = hash_salt
        self.cfg.flows = self.flows

        fc = {k: flows[k] for k in FLOW_FIELDS}
        for k in FLOW_FIELDS:
            if len(fc[k]) != n_flows:
                raise ValueError(f"flow field {k} must have one entry per flow")
        cdef const int32_t[::1] f_src = arr(fc["src"], np.int32), f_dst = arr(fc["dst"], np.int32)
        cdef const int32_t[::1] f_arr = arr(fc["arrivals"], np.int32)
        cdef const int64_t[::1] f_np = arr(fc["n_packets"], np.int64)
        cdef const double[::1] f_start = arr(fc["start_ns"], np.float64), f_gap = arr(fc["gap_ns"], np.float64)
        cdef const double[::1] f_pb = arr(fc["packet_bytes"], np.float64), f_lb = arr(fc["last_bytes"], np.float64)
        cdef const double[::1] f_sp, f_idle, f_ps
        cdef const int64_t[::1] f_off, d_off
        cdef const int32_t[::1] d_on
        onoff = [arr(flows.get(k, np.zeros(n_flows)), np.float64) for k in ("spacing_ns", "idle_ns", "p_start")]
        if any(a.shape[0] != n_flows for a in onoff):
            raise ValueError("on/off fields must have one entry per flow")
        list_off = arr(flows.get("list_off", np.zeros(n_flows + 1, np.int64)), np.int64)
        times = arr(flows.get("times", np.zeros(1)), np.float64)
        sizes = arr(flows.get("sizes", np.zeros(1)), np.float64)
        if times.shape[0] == 0:
            times = arr(np.zeros(1), np.float64)
            sizes = arr(np.zeros(1), np.float64)
        ts = times
        ss = sizes
        f_sp, f_idle, f_ps = onoff[0], onoff[1], onoff[2]
        f_off = list_off
        cdef int listed = ARRIVALS["listed"]
        for i in range(n_flows):
            self.flows[i].src = f_src[i]
            self.flows[i].dst = f_dst[i]
            self.flows[i].arrivals = f_arr[i]
            self.flows[i].start_ns = f_start[i]
            self.flows[i].gap_ns = f_gap[i]
            self.flows[i].packet_bytes = f_pb[i]
            self.flows[i].last_bytes = f_lb[i]
            self.flows[i].n_packets = f_np[i]
            self.flows[i].times = NULL
            self.flows[i].sizes = NULL
            self.flows[i].spacing_ns = f_sp[i]
            self.flows[i].idle_ns = f_idle[i]
            self.flows[i].p_start = f_ps[i]
            if self.flows[i].arrivals == listed:
                if f_off[i + 1] - f_off[i] != f_np[i] or f_off[i + 1] > times.shape[0]:
                    raise ValueError(f"flow {i}: listed times must hold n_packets entries")
                self.flows[i].times = &ts[f_off[i]]
                self.flows[i].sizes = &ss[f_off[i]]
        self.cfg.dep_off = NULL
        self.cfg.dep_on = NULL
        if flows.get("dep_off") is not None:
            d_off = arr(flows["dep_off"], np.int64)
            on = arr(flows["dep_on"], np.int32)
            if d_off.shape[0] != n_flows + 1 or d_off[n_flows] != on.shape[0]:
                raise ValueError("dep_off must have n_flows + 1 entries ending at len(dep_on)")
            if on.shape[0] == 0:
                on = arr(np.zeros(1, np.int32), np.int32)
            d_on = on
            self.cfg.dep_off = &d_off[0]
            self.cfg.dep_on = &d_on[0]
            self.st.succ_off = <int64_t *> PyMem_Malloc((n_flows + 1) * sizeof(int64_t))
            self.st.succ = <int32_t *> PyMem_Malloc(max(d_off[n_flows], 1) * sizeof(int32_t))
            if not (self.st.succ_off and self.st.succ):
                raise MemoryError()

        self.hist = np.zeros(PL_HIST_BUCKETS, np.uint64)
        self.ipdv_pos = np.zeros(PL_IPDV_BUCKETS, np.uint64)
        self.ipdv_neg = np.zeros(PL_IPDV_BUCKETS, np.uint64)
        self.batch_means = np.zeros(max(batch_cap, 1), np.float64)
        self.qhist = np.zeros(n_links * PL_QHIST_BUCKETS if queue_histograms else 1, np.uint64)
        u64 = self.hist; self.st.hist = &u64[0]
        u64 = self.ipdv_pos; self.st.ipdv_pos = &u64[0]
        u64 = self.ipdv_neg; self.st.ipdv_neg = &u64[0]
        u64 = self.qhist; self.st.qhist = &u64[0] if queue_histograms else NULL
        d64 = self.batch_means; self.st.batch_means = &d64[0]
        self.st.batch_len = batch_len
        self.st.batch_cap = batch_cap
        self.raw = None
        self.raw_flow = None
        self.st.raw = NULL
        self.st.raw_flow = NULL
        self.st.raw_cap = 0
        if raw_cap > 0:
            self.raw = np.empty(raw_cap, np.float64)
            self.raw_flow = np.empty(raw_cap, np.int32)
            d64 = self.raw; self.st.raw = &d64[0]
            r32 = self.raw_flow; self.st.raw_flow = &r32[0]
            self.st.raw_cap = raw_cap

        self.st.packet_cap = INITIAL_PACKETS
        self.st.heap_cap = n_links + n_flows
        self.st.fifo_head = <int32_t *> PyMem_Malloc(max(n_links, 1) * sizeof(int32_t))
        self.st.fifo_tail = <int32_t *> PyMem_Malloc(max(n_links, 1) * sizeof(int32_t))
        self.st.busy_retry = <double *> PyMem_Malloc(max(n_links, 1) * sizeof(double))
        self.st.packets = <pl_fpacket *> PyMem_Malloc(self.st.packet_cap * sizeof(pl_fpacket))
        self.st.free_packets = <int32_t *> PyMem_Malloc(self.st.packet_cap * sizeof(int32_t))
        self.st.retx = <pl_fevent *> PyMem_Malloc(self.st.packet_cap * sizeof(pl_fevent))
        self.st.heap = <pl_fevent *> PyMem_Malloc(self.st.heap_cap * sizeof(pl_fevent))
        if not (self.st.packets and self.st.free_packets and self.st.heap and self.st.fifo_head and self.st.fifo_tail
                and self.st.retx and self.st.busy_retry):
            raise MemoryError()
        with nogil:
            status = pl_fabric_init(&self.cfg, &self.st, self.rngs)
        check_status(status, "fabric kernel", "its configuration")

    def __dealloc__(self):
        PyMem_Free(self.links)
        PyMem_Free(self.flows)
        PyMem_Free(self.rngs)
        PyMem_Free(self.st.links)
        PyMem_Free(self.st.flows)
        PyMem_Free(self.st.succ_off)
        PyMem_Free(self.st.busy_retry)
        PyMem_Free(self.st.succ)
        PyMem_Free(self.st.heap)
        PyMem_Free(self.st.fifo_head)
        PyMem_Free(self.st.fifo_tail)
        PyMem_Free(self.st.retx)
        PyMem_Free(self.st.packets)
        PyMem_Free(self.st.free_packets)

    cdef int _grow(self) except -1:
        """Double the packet pool (new slots free)."""
        cdef int64_t cap = self.st.packet_cap, k
        cdef pl_fpacket *p
        cdef int32_t *f
        cdef pl_fevent *r
        if 2 * cap > MAX_PACKETS_IN_FLIGHT:
            raise ValueError(f"more than {MAX_PACKETS_IN_FLIGHT} packets would be in flight at once: "
                             f"lower the load or give the switches finite buffers")
        p = <pl_fpacket *> PyMem_Realloc(self.st.packets, 2 * cap * sizeof(pl_fpacket))
        if p == NULL:
            raise MemoryError("fabric kernel: no memory for packets in flight")
        self.st.packets = p
        f = <int32_t *> PyMem_Realloc(self.st.free_packets, 2 * cap * sizeof(int32_t))
        if f == NULL:
            raise MemoryError("fabric kernel: no memory for packets in flight")
        self.st.free_packets = f
        r = <pl_fevent *> PyMem_Realloc(self.st.retx, 2 * cap * sizeof(pl_fevent))
        if r == NULL:
            raise MemoryError("fabric kernel: no memory for pending retransmissions")
        self.st.retx = r
        for k in range(2 * cap - 1, cap - 1, -1):
            self.st.free_packets[self.st.n_free] = <int32_t> k
            self.st.n_free += 1
        self.st.packet_cap = 2 * cap
        return 0

    def run(self, route_bit_generator=None, arrival_bit_generator=None, exact=None):
        """Process every event; ``exact`` (an object with
        ``refill(kernel, link)``) is asked for codeword outcomes when an exact-mode link runs short."""
        cdef bitgen_t *route_rng = bitgen_of(route_bit_generator)
        cdef bitgen_t *arrival_rng = bitgen_of(arrival_bit_generator)
        cdef int status
        while True:
            with nogil:
                status = pl_fabric_run(&self.cfg, &self.st, self.rngs, route_rng, arrival_rng)
            if status == PL_OK:
                return
            if status == PL_EMORE:
                if exact is None:
                    raise ValueError("fabric kernel: exact-mode links need an exact refill source")
                exact.refill(self, self.st.need_link)
                continue
            if status == PL_ENOMEM:
                if self.st.raw != NULL and self.st.n_raw + self.st.packet_cap - self.st.n_free + 1 > self.st.raw_cap:
                    raise MemoryError("fabric kernel: raw latency buffer full (a sizing gap)")
                self._grow()
                continue
            check_status(status, "fabric kernel", "its arguments (links leaving one node must share "
                         "node_latency_ns)", "a codeword index passed 2^62 (simulated time too long for "
                         "a link's codeword rate)" if status == PL_ERANGE else None)

    @property
    def need_count(self):
        """After a refill request: codeword outcomes the link lacks for the waiting packet."""
        return self.st.need_count

    def exact_state(self, int link):
        """``(consumed, known, remaining failure positions)`` of an exact-mode link."""
        if not 0 <= link < self.cfg.n_links:
            raise IndexError(f"link must be in [0, {self.cfg.n_links}), got {link}")
        cdef pl_link_state *s = &self.st.links[link]
        arr = self.fail_arrays[link]
        rest = arr[s.fail_idx:] if arr is not None else np.empty(0, np.int64)
        return s.consumed, s.known, rest

    def refill(self, int link, positions, int64_t known):
        """Hand an exact-mode link its failure positions below ``known`` (see csrc/fabric.h)."""
        if not 0 <= link < self.cfg.n_links:
            raise IndexError(f"link must be in [0, {self.cfg.n_links}), got {link}")
        arr = np.ascontiguousarray(positions, dtype=np.int64)
        cdef const int64_t[::1] pos = arr
        cdef int status
        status = pl_fabric_refill(&self.cfg, &self.st, link, &pos[0] if pos.shape[0] else NULL,
                                  pos.shape[0], known)
        check_status(status, "fabric kernel", "an exact-mode refill")
        self.fail_arrays[link] = arr      # C keeps a pointer into it

    def totals(self):
        """Run-wide counters as a dict of plain values."""
        s = self.st
        return {
            "offered": s.offered, "delivered": s.delivered, "lost_tail_drop": s.lost_tail_drop,
            "lost_corrupted": s.lost_corrupted, "lost_no_route": s.lost_no_route,
            "llr_retries": s.llr_retries, "packet_hops": s.packet_hops,
            "valiant_packets": s.valiant_packets, "e2e_retransmissions": s.e2e_retransmissions,
            "delivered_bytes": s.delivered_bytes,
            "latency_sum": s.latency_sum, "latency_min": s.latency_min, "latency_max": s.latency_max,
            "first_arrival": s.first_arrival, "last_delivery": s.last_delivery,
            "ipdv_zero": s.ipdv_zero, "ipdv_min": s.ipdv_min, "ipdv_max": s.ipdv_max,
            "n_batches": s.n_batches, "n_raw": s.n_raw, "max_in_flight": s.max_in_flight,
            "in_flight": s.packet_cap - s.n_free, "events_pending": s.heap_len,
        }

    def link_stats(self):
        """Per-link counters as a dict of numpy arrays."""
        cdef int32_t n = self.cfg.n_links, i
        names_u = ("packets", "tail_drops", "transmissions", "failed_transmissions", "retries", "lost_corrupted")
        names_d = ("wait_sum", "wait_max", "busy_ns", "service_sum")
        out = {k: np.zeros(n, np.int64) for k in names_u}
        out.update({k: np.zeros(n, np.float64) for k in names_d})
        cdef int64_t[::1] a0 = out["packets"], a1 = out["tail_drops"], a2 = out["transmissions"]
        cdef int64_t[::1] a3 = out["failed_transmissions"], a4 = out["retries"], a5 = out["lost_corrupted"]
        cdef double[::1] b0 = out["wait_sum"], b1 = out["wait_max"], b2 = out["busy_ns"], b3 = out["service_sum"]
        cdef pl_link_state *s
        for i in range(n):
            s = &self.st.links[i]
            a0[i] = s.packets; a1[i] = s.tail_drops; a2[i] = s.transmissions
            a3[i] = s.failed_transmissions; a4[i] = s.retries; a5[i] = s.lost_corrupted
            b0[i] = s.wait_sum; b1[i] = s.wait_max; b2[i] = s.busy_ns; b3[i] = s.service_sum
        return out

    def flow_stats(self):
        """Per-flow counters as a dict of numpy arrays."""
        cdef int32_t n = self.cfg.n_flows, i
        names_u = ("sent", "delivered", "lost_tail_drop", "lost_corrupted", "lost_no_route", "e2e_retransmissions")
        names_d = ("delivered_bytes", "latency_sum", "latency_min", "latency_max", "first_arrival",
                   "last_delivery")
        out = {k: np.zeros(n, np.int64) for k in names_u}
        out.update({k: np.zeros(n, np.float64) for k in names_d})
        cdef int64_t[::1] a0 = out["sent"], a1 = out["delivered"], a2 = out["lost_tail_drop"]
        cdef int64_t[::1] a3 = out["lost_corrupted"], a4 = out["lost_no_route"], a5 = out["e2e_retransmissions"]
        cdef double[::1] b0 = out["delivered_bytes"], b1 = out["latency_sum"], b2 = out["latency_min"]
        cdef double[::1] b3 = out["latency_max"], b4 = out["first_arrival"], b5 = out["last_delivery"]
        cdef pl_flow_state *f
        for i in range(n):
            f = &self.st.flows[i]
            a0[i] = f.sent; a1[i] = f.delivered; a2[i] = f.lost_tail_drop; a3[i] = f.lost_corrupted
            a4[i] = f.lost_no_route
            a5[i] = f.e2e_retransmissions
            b0[i] = f.delivered_bytes; b1[i] = f.latency_sum; b2[i] = f.latency_min
            b3[i] = f.latency_max; b4[i] = f.first_arrival; b5[i] = f.last_delivery
        return out

    def flow_attribution(self):
        """Per flow: ``ready_ns`` (when its dependencies were delivered; 0 without any),
        ``released_by`` (the dependency that set it, -1: none), ``last_entry_ns`` (entry of the
        packet delivered last), ``worst_link`` (the link where that packet spent longest) and that
        packet's latency by part (:data:`PARTS`), as numpy arrays."""
        cdef int32_t n = self.cfg.n_flows, i
        cdef int j
        out = {"ready_ns": np.zeros(n), "released_by": np.zeros(n, np.int32), "last_entry_ns": np.zeros(n),
               "worst_link": np.zeros(n, np.int32)}
        parts = np.zeros((PL_N_PARTS, n))
        cdef double[::1] r = out["ready_ns"], e = out["last_entry_ns"]
        cdef int32_t[::1] rb = out["released_by"], w = out["worst_link"]
        cdef double[:, ::1] pp = parts
        cdef pl_flow_state *f
        for i in range(n):
            f = &self.st.flows[i]
            r[i] = f.ready; rb[i] = f.released_by; e[i] = f.last_entry; w[i] = f.last_worst_link
            for j in range(PL_N_PARTS):
                pp[j, i] = f.last_part[j]
        out.update(zip(PARTS, parts))
        return out
