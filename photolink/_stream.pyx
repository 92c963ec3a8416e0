# cython: language_level=3, boundscheck=False, wraparound=False
"""Bridge to the PAM stream kernel (csrc/pam_stream.c): one chunk per call, GIL released.

Arguments are validated by :mod:`photolink.stream`; this layer only checks what C needs
(buffer presence and sizes) and turns status codes into exceptions.
"""
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport int64_t, uint16_t, uint64_t
from numpy.random cimport bitgen_t

import numpy as np


cdef extern from "pam_stream.h":
    int PL_OK, PL_EINVAL, PL_ENOMEM
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

    ctypedef struct pl_error_tally:
        uint64_t symbols
        uint64_t symbol_errors
        uint64_t bit_errors
        uint64_t cycle_slips
        uint64_t *burst_hist
        int n_burst_bins
        int64_t *error_index
        uint16_t *error_bits
        int64_t error_capacity
        int64_t n_errors_stored

    int pl_pam_stream(const pl_pam_config *cfg, bitgen_t *rng, int64_t chunk_symbols,
                      int64_t count_from, int64_t count_to, int64_t index_offset,
                      pl_error_tally *tally) noexcept nogil


MAX_TAPS = PL_MAX_TAPS
MAX_LEVELS = PL_MAX_LEVELS


cdef bitgen_t *_bitgen(object bit_generator) except NULL:
    return <bitgen_t *> PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")


def pam_chunk(int levels, double noise_sigma, const double[::1] channel, const double[::1] ffe,
              const double[::1] dfe, int delay, double slicer_gain, bint precode,
              bint ideal_feedback, object bit_generator, int64_t chunk_symbols,
              int64_t count_from, int64_t count_to, int64_t index_offset,
              uint64_t[::1] burst_hist, bint want_errors):
    """Simulate one chunk; return (symbols, symbol_errors, bit_errors, index, bits).

    ``burst_hist`` is accumulated in place. ``index``/``bits`` are None unless
    ``want_errors``.
    """
    cdef pl_pam_config cfg
    cdef pl_error_tally tally
    cdef bitgen_t *rng = _bitgen(bit_generator)
    cdef int status
    cdef int64_t[::1] index_view
    cdef uint16_t[::1] bits_view

    cfg.levels = levels
    cfg.noise_sigma = noise_sigma
    cfg.channel = &channel[0] if channel is not None and channel.shape[0] else NULL
    cfg.n_channel = channel.shape[0] if channel is not None else 0
    cfg.ffe = &ffe[0] if ffe is not None and ffe.shape[0] else NULL
    cfg.n_ffe = ffe.shape[0] if ffe is not None else 0
    cfg.dfe = &dfe[0] if dfe is not None and dfe.shape[0] else NULL
    cfg.n_dfe = dfe.shape[0] if dfe is not None else 0
    cfg.delay = delay
    cfg.slicer_gain = slicer_gain
    cfg.precode = precode
    cfg.ideal_feedback = ideal_feedback

    tally.symbols = tally.symbol_errors = tally.bit_errors = tally.cycle_slips = 0
    tally.burst_hist = &burst_hist[0]
    tally.n_burst_bins = burst_hist.shape[0]
    tally.error_index = NULL
    tally.error_bits = NULL
    tally.error_capacity = 0
    tally.n_errors_stored = 0
    index = bits = None
    if want_errors:
        index = np.empty(count_to - count_from, dtype=np.int64)
        bits = np.empty(count_to - count_from, dtype=np.uint16)
        index_view = index
        bits_view = bits
        if count_to > count_from:
            tally.error_index = &index_view[0]
            tally.error_bits = &bits_view[0]
            tally.error_capacity = count_to - count_from

    with bit_generator.lock, nogil:
        status = pl_pam_stream(&cfg, rng, chunk_symbols, count_from, count_to, index_offset, &tally)
    if status == PL_EINVAL:
        raise ValueError("pam_chunk: the C kernel rejected its arguments (a validation gap)")
    if status == PL_ENOMEM:
        raise MemoryError("pam_chunk: error buffer overflow")
    if want_errors:
        n = tally.n_errors_stored
        index = index[:n].copy()
        bits = bits[:n].copy()
    return tally.symbols, tally.symbol_errors, tally.bit_errors, index, bits
