# cython: language_level=3, boundscheck=False, wraparound=False
"""Bridge to the path kernel (csrc/path.c): the run state lives here, the C code runs nogil.

Arguments are validated by :mod:`photolink.path`; this layer holds the C structs and the
buffers they point to, grows the retransmission ring when C asks, and turns status codes into
exceptions. No physics here.
"""
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.string cimport memcpy, memset
from numpy.random cimport bitgen_t

from .._pl_common cimport (PL_EMORE, PL_ENOMEM, PL_ERANGE, PL_OK, bitgen_of, check_status, pl_link,
                          pl_link_state)

import numpy as np


cdef extern from "path.h":
    int64_t PL_PATH_MAX_INDEX
    int PL_PATH_MAX_LINKS, PL_HIST_SUB_BITS, PL_HIST_MIN_EXP, PL_HIST_MAX_EXP, PL_HIST_BUCKETS
    int PL_IPDV_SUB_BITS, PL_IPDV_BUCKETS

    ctypedef struct pl_path_config:
        int n_links
        pl_link *links
        int recovery
        int max_retries
        double timeout_ns

    ctypedef struct pl_pending:
        double time
        double arrival
        double size
        int64_t seq
        int64_t tries

    ctypedef struct pl_path_state:
        pl_link_state *links
        pl_pending *pending
        int64_t pending_cap, pending_head, pending_len
        int64_t next_seq
        double last_entry
        uint64_t offered, delivered, lost_tail_drop, lost_corrupted, llr_retries, e2e_retransmissions
        double delivered_bytes, latency_sum, latency_min, latency_max
        double first_arrival, last_delivery
        uint64_t *hist
        uint64_t *ipdv_pos
        uint64_t *ipdv_neg
        uint64_t ipdv_zero
        double ipdv_min, ipdv_max
        int64_t prev_seq
        double prev_latency
        int64_t batch_len, batch_count
        double batch_sum
        double *batch_means
        int64_t batch_cap, n_batches
        double *raw
        int64_t raw_cap, n_raw
        int need_link
        int64_t need_count
        double *work_entry
        double *work_t
        uint8_t *work_flag
        int64_t work_cap

    int pl_path_init(const pl_path_config *cfg, pl_path_state *st, bitgen_t **rngs) noexcept nogil
    int pl_path_run(const pl_path_config *cfg, pl_path_state *st, bitgen_t **rngs,
                    const double *times, int gaps, const double *sizes, double fixed_size,
                    int64_t n, int drain, int64_t *n_done) noexcept nogil
    int pl_path_refill(const pl_path_config *cfg, pl_path_state *st, int link,
                       const int64_t *fail_pos, int64_t n_fail_pos, int64_t known) noexcept nogil
    int64_t pl_hist_index(double x, int sub_bits) noexcept nogil


MAX_LINKS = PL_PATH_MAX_LINKS
HIST_SUB_BITS = PL_HIST_SUB_BITS
HIST_MIN_EXP = PL_HIST_MIN_EXP
HIST_MAX_EXP = PL_HIST_MAX_EXP
HIST_BUCKETS = PL_HIST_BUCKETS
IPDV_SUB_BITS = PL_IPDV_SUB_BITS
IPDV_BUCKETS = PL_IPDV_BUCKETS
RECOVERY = {"drop": 0, "llr": 1, "e2e": 2}
#: The inputs of a link (csrc/path.h: pl_link); the kernel derives the rest.
LINK_FIELDS = ("rate_gbps", "fixed_ns", "hold_ns", "codeword_bits", "cwer", "errors", "replay_ns",
               "node_latency_ns", "buffer_bytes", "cut_through")

cdef int64_t INITIAL_PENDING = 1024
#: Most end-to-end retransmissions pending at once (the ring then holds ~2.7 GB): a run that
#: needs more is refused rather than let grow without bound.
MAX_PENDING = 1 << 26
#: Packets per link-by-link batch (work buffers of ~36 kB stay in cache).
WORK_PACKETS = 4096


cdef int _fill_rngs(bitgen_t **rngs, list bit_generators) except -1:
    """One bit generator (or None) per link. They belong to the run alone, so no locks."""
    for i, bg in enumerate(bit_generators):
        rngs[i] = bitgen_of(bg) if bg is not None else NULL
    return 0


def hist_index(double x, int sub_bits=PL_HIST_SUB_BITS):
    """Bucket of a positive value in the kernel's latency (or IPDV) histogram."""
    return pl_hist_index(x, sub_bits)


cdef class PathKernel:
    """The C state of one run: queues, error processes, pending retransmissions, statistics.

    Parameters
    ----------
    links : sequence of mapping
        One mapping per link with exactly the keys of :data:`LINK_FIELDS` (the inputs of
        ``pl_link`` in csrc/path.h; the kernel derives the rest).
    recovery : str
        ``"drop"``, ``"llr"`` or ``"e2e"``.
    max_retries : int
    timeout_ns : float
    batch_len, batch_cap : int
        Latencies per batch mean, and room for batch means.
    raw_cap : int
        Room for raw latencies (0: not recorded).
    bit_generators : list of numpy BitGenerator or None
        One per link: draws each statistical link's first failure.
    link_major : bool
        Give the kernel work buffers, so that runs without retransmissions or exact links go
        link by link through batches of packets (same result, faster).
    """

    cdef pl_path_config cfg
    cdef pl_link *links
    cdef pl_link_state *lstates
    cdef pl_path_state st
    cdef bitgen_t **rngs
    cdef readonly object hist, ipdv_pos, ipdv_neg, batch_means, raw
    cdef object work_entry, work_t, work_flag
    cdef list fail_arrays

    def __cinit__(self):
        self.links = NULL
        self.lstates = NULL
        self.rngs = NULL
        self.st.pending = NULL

    def __init__(self, links, *, str recovery, int max_retries, double timeout_ns, int64_t batch_len,
                 int64_t batch_cap, int64_t raw_cap, list bit_generators, bint link_major=True):
        cdef int n = len(links)
        cdef int i, status
        cdef uint64_t[::1] h, ip, ineg
        cdef double[::1] bm, rw, we, wt
        cdef uint8_t[::1] wf
        if not 1 <= n <= PL_PATH_MAX_LINKS:
            raise ValueError(f"a path needs 1 to {PL_PATH_MAX_LINKS} links, got {n}")
        self.links = <pl_link *> PyMem_Malloc(n * sizeof(pl_link))
        self.lstates = <pl_link_state *> PyMem_Malloc(n * sizeof(pl_link_state))
        self.rngs = <bitgen_t **> PyMem_Malloc(n * sizeof(bitgen_t *))
        if self.links == NULL or self.lstates == NULL or self.rngs == NULL:
            raise MemoryError()
        if len(bit_generators) != n:
            raise ValueError("one bit generator (or None) per link")
        for i, d in enumerate(links):
            if set(d) != set(LINK_FIELDS):
                raise ValueError(f"links[{i}] must have exactly the fields {LINK_FIELDS}, got {tuple(d)}")
            self.links[i].rate_gbps = d["rate_gbps"]
            self.links[i].fixed_ns = d["fixed_ns"]
            self.links[i].hold_ns = d["hold_ns"]
            self.links[i].codeword_bits = d["codeword_bits"]
            self.links[i].cwer = d["cwer"]
            self.links[i].errors = d["errors"]
            self.links[i].replay_ns = d["replay_ns"]
            self.links[i].node_latency_ns = d["node_latency_ns"]
            self.links[i].buffer_bytes = d["buffer_bytes"]
            self.links[i].cut_through = d["cut_through"]
        self.cfg.n_links = n
        self.cfg.links = self.links
        self.cfg.recovery = RECOVERY[recovery]
        self.cfg.max_retries = max_retries
        self.cfg.timeout_ns = timeout_ns
        self.fail_arrays = [None] * n

        self.hist = np.zeros(PL_HIST_BUCKETS, np.uint64)
        self.ipdv_pos = np.zeros(PL_IPDV_BUCKETS, np.uint64)
        self.ipdv_neg = np.zeros(PL_IPDV_BUCKETS, np.uint64)
        self.batch_means = np.zeros(max(batch_cap, 1), np.float64)
        self.raw = np.empty(raw_cap, np.float64) if raw_cap > 0 else None
        h, ip, ineg, bm = self.hist, self.ipdv_pos, self.ipdv_neg, self.batch_means
        memset(&self.st, 0, sizeof(pl_path_state))
        self.st.links = self.lstates
        self.st.pending = <pl_pending *> PyMem_Malloc(INITIAL_PENDING * sizeof(pl_pending))
        if self.st.pending == NULL:
            raise MemoryError()
        self.st.pending_cap = INITIAL_PENDING
        self.st.hist = &h[0]
        self.st.ipdv_pos = &ip[0]
        self.st.ipdv_neg = &ineg[0]
        self.st.batch_len = batch_len
        self.st.batch_means = &bm[0]
        self.st.batch_cap = batch_cap
        self.st.raw = NULL
        self.st.raw_cap = 0
        if raw_cap > 0:
            rw = self.raw
            self.st.raw = &rw[0]
            self.st.raw_cap = raw_cap
        if link_major:
            self.work_entry = np.empty(WORK_PACKETS, np.float64)
            self.work_t = np.empty(WORK_PACKETS, np.float64)
            self.work_flag = np.empty(WORK_PACKETS, np.uint8)
            we, wt, wf = self.work_entry, self.work_t, self.work_flag
            self.st.work_entry = &we[0]
            self.st.work_t = &wt[0]
            self.st.work_flag = &wf[0]
            self.st.work_cap = WORK_PACKETS
        _fill_rngs(self.rngs, bit_generators)
        with nogil:
            status = pl_path_init(&self.cfg, &self.st, self.rngs)
        check_status(status, "path kernel", "its configuration")

    def __dealloc__(self):
        PyMem_Free(self.links)
        PyMem_Free(self.lstates)
        PyMem_Free(self.rngs)
        PyMem_Free(self.st.pending)

    cdef int _grow_pending(self) except -1:
        """Double the retransmission ring, unrolling it so that it starts at slot 0."""
        cdef int64_t cap = self.st.pending_cap, head = self.st.pending_head
        cdef pl_pending *new
        if 2 * cap > MAX_PENDING:
            raise ValueError(f"more than {MAX_PENDING} end-to-end retransmissions would be pending at "
                             f"once: shorten the E2E timeout_ns or lower the loss")
        new = <pl_pending *> PyMem_Malloc(2 * cap * sizeof(pl_pending))
        if new == NULL:
            raise MemoryError("path kernel: no memory for pending retransmissions")
        memcpy(new, self.st.pending + head, (cap - head) * sizeof(pl_pending))
        memcpy(new + (cap - head), self.st.pending, head * sizeof(pl_pending))
        PyMem_Free(self.st.pending)
        self.st.pending = new
        self.st.pending_head = 0
        self.st.pending_cap = 2 * cap
        return 0

    def run(self, const double[::1] times, bint gaps, object sizes, double fixed_size,
            list bit_generators, bint drain):
        """Process packets; return ``(n_done, need_link)``: need_link >= 0 asks for a refill."""
        cdef const double[::1] sz
        cdef const double *sizes_ptr = NULL
        cdef const double *times_ptr = NULL
        cdef int64_t n = times.shape[0], done = 0, n_done
        cdef int status
        _fill_rngs(self.rngs, bit_generators)
        if sizes is not None:
            sz = sizes
            if sz.shape[0] != n:
                raise ValueError("sizes and times differ in length")
        while True:
            times_ptr = &times[done] if done < n else NULL
            if sizes is not None and done < n:
                sizes_ptr = &sz[done]
            with nogil:
                status = pl_path_run(&self.cfg, &self.st, self.rngs, times_ptr, gaps,
                                     sizes_ptr if sizes is not None else NULL,
                                     fixed_size, n - done, drain, &n_done)
            done += n_done
            if status == PL_OK:
                return done, -1
            if status == PL_ENOMEM:
                if self.st.raw != NULL and self.st.n_raw == self.st.raw_cap:
                    raise MemoryError("path kernel: raw latency buffer full (a sizing gap)")
                self._grow_pending()
                continue
            if status == PL_EMORE:
                return done, self.st.need_link
            check_status(status, "path kernel", "its arguments",
                         f"a codeword index passed {PL_PATH_MAX_INDEX} (simulated time too long for a "
                         f"link's codeword rate); shorten the run, the timeouts or the retries"
                         if status == PL_ERANGE else None)

    @property
    def need_count(self):
        """After a refill request: codeword outcomes the link lacks for the next packet."""
        return self.st.need_count

    cdef int _check_link(self, int link) except -1:
        if not 0 <= link < self.cfg.n_links:
            raise IndexError(f"link must be in [0, {self.cfg.n_links}), got {link}")
        return 0

    def exact_state(self, int link):
        """``(consumed, known, remaining failure positions)`` of an exact-mode link."""
        self._check_link(link)
        cdef pl_link_state *s = &self.lstates[link]
        arr = self.fail_arrays[link]
        rest = arr[s.fail_idx:] if arr is not None else np.empty(0, np.int64)
        return s.consumed, s.known, rest

    def refill(self, int link, positions, int64_t known):
        """Hand an exact-mode link its failure positions below ``known`` (see csrc/path.h)."""
        self._check_link(link)
        arr = np.ascontiguousarray(positions, dtype=np.int64)
        cdef const int64_t[::1] pos = arr
        cdef int status
        self.fail_arrays[link] = arr      # C keeps a pointer into it
        status = pl_path_refill(&self.cfg, &self.st, link, &pos[0] if pos.shape[0] else NULL,
                                pos.shape[0], known)
        check_status(status, "path kernel", "an exact-mode refill")

    def totals(self):
        """Run-wide counters as a dict of plain values."""
        s = self.st
        return {
            "offered": s.offered, "delivered": s.delivered, "lost_tail_drop": s.lost_tail_drop,
            "lost_corrupted": s.lost_corrupted, "llr_retries": s.llr_retries,
            "e2e_retransmissions": s.e2e_retransmissions, "delivered_bytes": s.delivered_bytes,
            "latency_sum": s.latency_sum, "latency_min": s.latency_min,
            "latency_max": s.latency_max, "first_arrival": s.first_arrival,
            "last_delivery": s.last_delivery, "ipdv_zero": s.ipdv_zero, "ipdv_min": s.ipdv_min,
            "ipdv_max": s.ipdv_max, "n_batches": s.n_batches, "n_raw": s.n_raw,
            "pending": s.pending_len,
        }

    def link_stats(self):
        """Per-link counters, one dict per link."""
        out = []
        for i in range(self.cfg.n_links):
            s = self.lstates[i]
            out.append({
                "packets": s.packets, "tail_drops": s.tail_drops,
                "transmissions": s.transmissions, "failed_transmissions": s.failed_transmissions,
                "retries": s.retries, "lost_corrupted": s.lost_corrupted,
                "wait_sum": s.wait_sum, "wait_max": s.wait_max, "busy_ns": s.busy_ns,
                "service_sum": s.service_sum,
            })
        return out
