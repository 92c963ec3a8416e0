# cython: language_level=3, boundscheck=False, wraparound=False
"""Bridge to the coherent QAM stream kernel (csrc/qam_stream.c): a QamKernel per configuration,
one chunk per call, GIL released.

Arguments are validated by :mod:`photolink.stream` and :mod:`photolink.coherent`; this layer
only checks what C needs (buffer presence and sizes) and turns status codes into exceptions.
"""
from libc.stdint cimport int64_t, uint64_t
from numpy.random cimport bitgen_t

from .._pl_common cimport PL_EINVAL, bitgen_of, check_status, pl_error_tally, tally_close, tally_open

import numpy as np


cdef extern from "qam_stream.h":
    int PL_QAM_MAX_WINDOW, PL_QAM_MAX_TEST_PHASES, PL_QAM_MAX_PILOT_PERIOD, PL_QAM_MAX_PILOT_AVERAGE
    int PL_CPR_NONE, PL_CPR_VV, PL_CPR_BPS

    ctypedef struct pl_qam_config:
        int m
        int polarizations
        double noise_sigma
        double phase_sigma
        int cpr
        int window
        int test_phases
        int differential
        int pilot_period
        int pilot_average

    int64_t pl_qam_workspace(const pl_qam_config *cfg) noexcept nogil
    int pl_qam_stream(const pl_qam_config *cfg, bitgen_t *rng, int64_t chunk_symbols,
                      int64_t count_from, int64_t count_to, int64_t index_offset,
                      double *work, int64_t work_len, pl_error_tally *tally) noexcept nogil


MAX_WINDOW = PL_QAM_MAX_WINDOW
MAX_TEST_PHASES = PL_QAM_MAX_TEST_PHASES
MAX_PILOT_PERIOD = PL_QAM_MAX_PILOT_PERIOD
MAX_PILOT_AVERAGE = PL_QAM_MAX_PILOT_AVERAGE
#: Carrier-recovery codes of the C kernel.
CPR_CODES = {None: PL_CPR_NONE, "viterbi-viterbi": PL_CPR_VV, "blind-phase-search": PL_CPR_BPS}


cdef class QamKernel:
    """The coherent QAM stream kernel for one configuration (``pl_qam_config``), run chunk by chunk.

    Owns the workspace C needs for the configuration (one per thread that runs chunks at the
    same time, kept for reuse). Arguments are validated by :mod:`photolink.stream` and
    :mod:`photolink.coherent`; ``cpr`` is a value of :data:`CPR_CODES`.
    """

    cdef pl_qam_config cfg
    cdef readonly int64_t workspace_len
    cdef list free_work                         # workspaces not in use by a running chunk

    def __init__(self, *, int m, int polarizations, double noise_sigma, double phase_sigma=0.0,
                 int cpr=PL_CPR_NONE, int window=1, int test_phases=1, bint differential=False,
                 int pilot_period=0, int pilot_average=1):
        self.cfg.m = m                                  # IN
        self.cfg.polarizations = polarizations          # IN
        self.cfg.noise_sigma = noise_sigma              # IN
        self.cfg.phase_sigma = phase_sigma              # IN
        self.cfg.cpr = cpr                              # IN
        self.cfg.window = window                        # IN
        self.cfg.test_phases = test_phases              # IN
        self.cfg.differential = differential            # IN
        self.cfg.pilot_period = pilot_period            # IN: 0 = no pilots
        self.cfg.pilot_average = pilot_average          # IN
        self.workspace_len = pl_qam_workspace(&self.cfg)
        if self.workspace_len < 0:
            check_status(PL_EINVAL, "QamKernel", "its configuration")
        self.free_work = [np.empty(self.workspace_len, dtype=np.float64)]

    def run_chunk(self,
                  object bit_generator,        # IN: the chunk's own stream
                  int64_t chunk_symbols,       # IN
                  int64_t count_from,          # IN: counted symbols [count_from, count_to)
                  int64_t count_to,            # IN
                  int64_t index_offset,        # IN: added to the recorded error indices
                  uint64_t[::1] burst_hist,    # IN/OUT: accumulated in place
                  bint want_errors):           # IN
        """Simulate one chunk; return (symbols, symbol_errors, bit_errors, cycle_slips, index, bits).

        ``index``/``bits`` are None unless ``want_errors``. Safe to call from several threads
        at once: each running call takes a workspace of its own.
        """
        cdef pl_error_tally tally
        cdef bitgen_t *rng = bitgen_of(bit_generator)
        cdef int status
        cdef double[::1] work
        try:
            buf = self.free_work.pop()          # atomic: no two calls share a workspace
        except IndexError:
            buf = np.empty(self.workspace_len, dtype=np.float64)
        work = buf
        index, bits = tally_open(&tally, burst_hist, want_errors, count_to - count_from)
        try:
            with bit_generator.lock, nogil:
                status = pl_qam_stream(&self.cfg, rng, chunk_symbols, count_from, count_to,
                                       index_offset, &work[0], work.shape[0], &tally)
        finally:
            self.free_work.append(buf)
        check_status(status, "QamKernel.run_chunk")
        return tally_close(&tally, index, bits)
