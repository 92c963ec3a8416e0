# cython: language_level=3, boundscheck=False, wraparound=False
"""Bridge to the PAM stream kernel (csrc/pam_stream.c): one chunk per call, GIL released.

Arguments are validated by :mod:`photolink.stream`; this layer only checks what C needs
(buffer presence and sizes) and turns status codes into exceptions.
"""
from libc.stdint cimport int64_t, uint64_t
from numpy.random cimport bitgen_t

from ._pl_common cimport bitgen_of, check_status, pl_error_tally, tally_close, tally_open


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


def pam_chunk(int levels, double noise_sigma, const double[::1] channel, const double[::1] ffe,
              const double[::1] dfe, int delay, double slicer_gain, bint precode,
              bint ideal_feedback, object bit_generator, int64_t chunk_symbols,
              int64_t count_from, int64_t count_to, int64_t index_offset,
              uint64_t[::1] burst_hist, bint want_errors):
    """Simulate one chunk; return (symbols, symbol_errors, bit_errors, cycle_slips, index, bits).

    ``burst_hist`` is accumulated in place. ``index``/``bits`` are None unless
    ``want_errors``.
    """
    cdef pl_pam_config cfg
    cdef pl_error_tally tally
    cdef bitgen_t *rng = bitgen_of(bit_generator)
    cdef int status

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

    index, bits = tally_open(&tally, burst_hist, want_errors, count_to - count_from)
    with bit_generator.lock, nogil:
        status = pl_pam_stream(&cfg, rng, chunk_symbols, count_from, count_to, index_offset, &tally)
    check_status(status, "pam_chunk")
    return tally_close(&tally, index, bits)
