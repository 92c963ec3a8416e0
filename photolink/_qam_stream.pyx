# cython: language_level=3, boundscheck=False, wraparound=False
"""Bridge to the coherent QAM stream kernel (csrc/qam_stream.c): one chunk per call, GIL released.

Arguments are validated by :mod:`photolink.stream` and :mod:`photolink.coherent`; this layer
only checks what C needs (buffer presence and sizes) and turns status codes into exceptions.
"""
from libc.stdint cimport int64_t, uint64_t
from numpy.random cimport bitgen_t

from ._pl_common cimport bitgen_of, check_status, pl_error_tally, tally_close, tally_open

import numpy as np


cdef extern from "qam_stream.h":
    int PL_QAM_MAX_WINDOW, PL_QAM_MAX_TEST_PHASES
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

    int64_t pl_qam_workspace(const pl_qam_config *cfg) noexcept nogil
    int pl_qam_stream(const pl_qam_config *cfg, bitgen_t *rng, int64_t chunk_symbols,
                      int64_t count_from, int64_t count_to, int64_t index_offset,
                      double *work, int64_t work_len, pl_error_tally *tally) noexcept nogil


MAX_WINDOW = PL_QAM_MAX_WINDOW
MAX_TEST_PHASES = PL_QAM_MAX_TEST_PHASES
#: Carrier-recovery codes of the C kernel.
CPR_CODES = {None: PL_CPR_NONE, "viterbi-viterbi": PL_CPR_VV, "blind-phase-search": PL_CPR_BPS}


def qam_chunk(int m, int polarizations, double noise_sigma, double phase_sigma, int cpr,
              int window, int test_phases, bint differential, object bit_generator,
              int64_t chunk_symbols, int64_t count_from, int64_t count_to, int64_t index_offset,
              uint64_t[::1] burst_hist, bint want_errors):
    """Simulate one chunk; return (symbols, symbol_errors, bit_errors, cycle_slips, index, bits).

    ``burst_hist`` is accumulated in place. ``index``/``bits`` are None unless ``want_errors``.
    """
    cdef pl_qam_config cfg
    cdef pl_error_tally tally
    cdef bitgen_t *rng = bitgen_of(bit_generator)
    cdef int status
    cdef int64_t need
    cdef double[::1] work

    cfg.m = m
    cfg.polarizations = polarizations
    cfg.noise_sigma = noise_sigma
    cfg.phase_sigma = phase_sigma
    cfg.cpr = cpr
    cfg.window = window
    cfg.test_phases = test_phases
    cfg.differential = differential
    need = pl_qam_workspace(&cfg)
    if need < 0:
        raise ValueError("qam_chunk: the C kernel rejected its configuration (a validation gap)")
    work = np.empty(need, dtype=np.float64)

    index, bits = tally_open(&tally, burst_hist, want_errors, count_to - count_from)
    with bit_generator.lock, nogil:
        status = pl_qam_stream(&cfg, rng, chunk_symbols, count_from, count_to, index_offset,
                               &work[0], need, &tally)
    check_status(status, "qam_chunk")
    return tally_close(&tally, index, bits)
