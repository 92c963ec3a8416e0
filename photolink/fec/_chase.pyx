# cython: language_level=3, boundscheck=False, wraparound=False
"""Bridge to the Chase-2 inner decoder (csrc/chase.c).

Arguments are validated by :mod:`photolink.fec.inner`; this layer checks shapes, runs C
without the GIL and turns status codes into exceptions.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t

import numpy as np

from .._pl_common cimport check_status


cdef extern from "chase.h":
    int PL_CHASE_N, PL_CHASE_MAX_TEST_BITS

    ctypedef struct pl_chase_code:
        int test_bits

    int pl_chase_init(pl_chase_code *code, int test_bits) noexcept nogil
    int pl_chase_decode(const pl_chase_code *code, const uint8_t *hard, const double *reliability,
                        int64_t batch, uint8_t *out, int32_t *changed) noexcept nogil


N = PL_CHASE_N
MAX_TEST_BITS = PL_CHASE_MAX_TEST_BITS


cdef class ChaseDecoder:
    """Chase-2 decoder of the extended Hamming(128,120) code flipping ``test_bits`` bits."""

    cdef pl_chase_code _c
    cdef readonly int test_bits

    def __cinit__(self, int test_bits):
        check_status(pl_chase_init(&self._c, test_bits), f"ChaseDecoder(test_bits={test_bits})")
        self.test_bits = test_bits

    def decode(self, hard, reliability):
        """(decided words uint8 (batch, 128), bits changed per word int32 (batch,))."""
        cdef const uint8_t[:, ::1] h = np.ascontiguousarray(hard, dtype=np.uint8)
        cdef const double[:, ::1] r = np.ascontiguousarray(reliability, dtype=np.float64)
        if h.shape[1] != PL_CHASE_N or r.shape[0] != h.shape[0] or r.shape[1] != PL_CHASE_N:
            raise ValueError(f"hard and reliability must both have shape (batch, {PL_CHASE_N})")
        out = np.empty((h.shape[0], PL_CHASE_N), np.uint8)
        changed = np.empty(h.shape[0], np.int32)
        cdef uint8_t[:, ::1] o = out
        cdef int32_t[::1] c = changed
        cdef int64_t batch = h.shape[0]
        cdef int status
        if batch == 0:
            return out, changed
        with nogil:
            status = pl_chase_decode(&self._c, &h[0, 0], &r[0, 0], batch, &o[0, 0], &c[0])
        check_status(status, "ChaseDecoder.decode")
        return out, changed
