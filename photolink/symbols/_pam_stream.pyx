# cython: language_level=3, boundscheck=False, wraparound=False
"""Bridge to the PAM stream kernel (csrc/pam_stream.c): a PamKernel per configuration, one
chunk per call, GIL released.

Arguments are validated by :mod:`photolink.stream`; this layer only checks what C needs
(buffer presence and sizes) and turns status codes into exceptions.
"""
from libc.stdint cimport int64_t, uint64_t
from numpy.random cimport bitgen_t

from .._pl_common cimport bitgen_of, check_status, pl_error_tally, tally_close, tally_open


cdef extern from "pam_stream.h":
    int PL_MAX_TAPS, PL_MAX_LEVELS

    ctypedef struct pl_pam_config:
        int levels
        double noise_sigma
        const double *channel
        int n_channel
        const double *ffe
        int n_ffe
        const double *dfe
        int n_dfe
        int delay
        double slicer_gain
        int precode
        int ideal_feedback

    int pl_pam_stream(const pl_pam_config *cfg, bitgen_t *rng, int64_t chunk_symbols,
                      int64_t count_from, int64_t count_to, int64_t index_offset,
                      pl_error_tally *tally) noexcept nogil


MAX_TAPS = PL_MAX_TAPS
MAX_LEVELS = PL_MAX_LEVELS


cdef class PamKernel:
    """The PAM stream kernel for one configuration (``pl_pam_config``), run chunk by chunk.

    Holds the C config and references to the tap arrays it points to. Arguments are validated
    by :mod:`photolink.stream`; ``channel``, ``ffe`` and ``dfe`` are float64 arrays or None
    (ideal channel, no FFE, no DFE). :meth:`run_chunk` may be called from several threads at
    once (each with its own bit generator): the kernel is not changed by a run.
    """

    cdef pl_pam_config cfg
    cdef readonly object channel, ffe, dfe       # kept alive: cfg points into them

    def __init__(self, *, int levels, double noise_sigma, channel=None, ffe=None, dfe=None,
                 int delay=0, double slicer_gain=1.0, bint precode=False,
                 bint ideal_feedback=False):
        cdef const double[::1] ch_view, ffe_view, dfe_view
        self.channel, self.ffe, self.dfe = channel, ffe, dfe
        self.cfg.levels = levels                                  # IN
        self.cfg.noise_sigma = noise_sigma                        # IN
        self.cfg.channel, self.cfg.n_channel = NULL, 0            # IN
        self.cfg.ffe, self.cfg.n_ffe = NULL, 0                    # IN
        self.cfg.dfe, self.cfg.n_dfe = NULL, 0                    # IN
        if channel is not None:
            ch_view = channel
            self.cfg.n_channel = ch_view.shape[0]
            if ch_view.shape[0]:
                self.cfg.channel = &ch_view[0]
        if ffe is not None:
            ffe_view = ffe
            self.cfg.n_ffe = ffe_view.shape[0]
            if ffe_view.shape[0]:
                self.cfg.ffe = &ffe_view[0]
        if dfe is not None:
            dfe_view = dfe
            self.cfg.n_dfe = dfe_view.shape[0]
            if dfe_view.shape[0]:
                self.cfg.dfe = &dfe_view[0]
        self.cfg.delay = delay                                    # IN
        self.cfg.slicer_gain = slicer_gain                        # IN
        self.cfg.precode = precode                                # IN
        self.cfg.ideal_feedback = ideal_feedback                  # IN

    def run_chunk(self,
                  object bit_generator,        # IN: the chunk's own stream
                  int64_t chunk_symbols,       # IN
                  int64_t count_from,          # IN: counted symbols [count_from, count_to)
                  int64_t count_to,            # IN
                  int64_t index_offset,        # IN: added to the recorded error indices
                  uint64_t[::1] burst_hist,    # IN/OUT: accumulated in place
                  bint want_errors):           # IN
        """Simulate one chunk; return (symbols, symbol_errors, bit_errors, cycle_slips, index, bits).

        ``index``/``bits`` are None unless ``want_errors``.
        """
        cdef pl_error_tally tally
        cdef bitgen_t *rng = bitgen_of(bit_generator)
        cdef int status
        index, bits = tally_open(&tally, burst_hist, want_errors, count_to - count_from)
        with bit_generator.lock, nogil:
            status = pl_pam_stream(&self.cfg, rng, chunk_symbols, count_from, count_to, index_offset,
                                   &tally)
        check_status(status, "PamKernel.run_chunk")
        return tally_close(&tally, index, bits)
