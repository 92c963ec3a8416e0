# cython: language_level=3, boundscheck=False, wraparound=False
"""Bridge to the Reed-Solomon kernels (csrc/rs.c): GF(2^10) codec and counting path.

Arguments are validated by :mod:`photolink.fec` and :mod:`photolink.fec_sim`; this layer
checks shapes and buffer sizes, runs C without the GIL and turns status codes into exceptions.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport free, malloc

import numpy as np

from .._pl_common cimport check_status


cdef extern from "rs.h":
    int PL_OK
    int PL_RS_MAX_ROOTS, PL_RS_ORDER

    ctypedef struct pl_rs_code:
        int n, k, nroots, t, words
        uint16_t gen[65]

    int pl_rs_init(pl_rs_code *code, int n, int k) noexcept nogil
    int pl_rs_encode(const pl_rs_code *code, const uint16_t *msg, int64_t batch,
                     uint16_t *out) noexcept nogil
    int pl_rs_check(const pl_rs_code *code, const uint16_t *words, int64_t batch,
                    uint8_t *nonzero) noexcept nogil
    int pl_rs_syndromes(const pl_rs_code *code, const uint16_t *words, int64_t batch,
                        uint16_t *out) noexcept nogil
    int pl_rs_decode(const pl_rs_code *code, uint16_t *words, int64_t batch,
                     int32_t *corrected, uint8_t *failed) noexcept nogil
    int pl_fec_symbol_errors(const int64_t *err_index, const uint16_t *err_bits, int64_t n_err,
                             int bits_per_symbol, int64_t *q_out, uint16_t *val_out,
                             int64_t capacity, int64_t *n_out) noexcept nogil
    int pl_fec_count(const int64_t *q, const uint16_t *val, int64_t n_q, int n, int k,
                     int interleave, int64_t n_codewords, uint16_t *wrong,
                     uint32_t *msg_bits) noexcept nogil


MAX_ROOTS = PL_RS_MAX_ROOTS
ORDER = PL_RS_ORDER


cdef class Codec:
    """Tables of one RS(n, k) code over GF(2^10) (about 1.2 MB, built once per code)."""

    cdef void *_raw
    cdef pl_rs_code *_c
    cdef readonly int n, k, t

    def __cinit__(self, int n, int k):
        cdef int status
        self._raw = malloc(sizeof(pl_rs_code) + 64)
        if self._raw == NULL:
            raise MemoryError("Codec: cannot allocate the code tables")
        self._c = <pl_rs_code *> ((<uintptr_t> self._raw + 63) & ~(<uintptr_t> 63))
        with nogil:                 # 0.25 ms (RS(544,514)) to 0.75 ms of table building
            status = pl_rs_init(self._c, n, k)
        check_status(status, f"Codec(n={n}, k={k})")
        self.n = n
        self.k = k
        self.t = (n - k) // 2

    def __dealloc__(self):
        free(self._raw)

    @property
    def generator(self):
        """g(x) coefficients, highest degree first (g[0] = 1)."""
        return np.array([self._c.gen[i] for i in range(self.n - self.k, -1, -1)], dtype=np.int64)

    def encode(self, const uint16_t[:, ::1] msg):
        if msg.shape[1] != self.k:
            raise ValueError(f"messages must have {self.k} symbols, got {msg.shape[1]}")
        out = np.empty((msg.shape[0], self.n), dtype=np.uint16)
        cdef uint16_t[:, ::1] o = out
        cdef int status = PL_OK
        if msg.shape[0]:
            with nogil:
                status = pl_rs_encode(self._c, &msg[0, 0], msg.shape[0], &o[0, 0])
        check_status(status, "encode")
        return out

    def check(self, const uint16_t[:, ::1] words):
        """Boolean array: True where the word is not a codeword."""
        if words.shape[1] != self.n:
            raise ValueError(f"words must have {self.n} symbols, got {words.shape[1]}")
        out = np.zeros(words.shape[0], dtype=np.uint8)
        cdef uint8_t[::1] o = out
        cdef int status = PL_OK
        if words.shape[0]:
            with nogil:
                status = pl_rs_check(self._c, &words[0, 0], words.shape[0], &o[0])
        check_status(status, "check")
        return out.view(bool)

    def syndromes(self, const uint16_t[:, ::1] words):
        if words.shape[1] != self.n:
            raise ValueError(f"words must have {self.n} symbols, got {words.shape[1]}")
        out = np.zeros((words.shape[0], self.n - self.k), dtype=np.uint16)
        cdef uint16_t[:, ::1] o = out
        cdef int status = PL_OK
        if words.shape[0]:
            with nogil:
                status = pl_rs_syndromes(self._c, &words[0, 0], words.shape[0], &o[0, 0])
        check_status(status, "syndromes")
        return out

    def decode_inplace(self, uint16_t[:, ::1] words):
        """Decode in place; return (corrected int32, failed bool)."""
        if words.shape[1] != self.n:
            raise ValueError(f"words must have {self.n} symbols, got {words.shape[1]}")
        cdef int64_t b = words.shape[0]
        corrected = np.zeros(b, dtype=np.int32)
        failed = np.zeros(b, dtype=np.uint8)
        cdef int32_t[::1] cv = corrected
        cdef uint8_t[::1] fv = failed
        cdef int status = PL_OK
        if b:
            with nogil:
                status = pl_rs_decode(self._c, &words[0, 0], b, &cv[0], &fv[0])
        check_status(status, "decode")
        return corrected, failed.view(bool)


def symbol_errors(const int64_t[::1] err_index, const uint16_t[::1] err_bits, int bits_per_symbol):
    """RS symbol errors (q int64, value uint16) of a stream's symbol errors."""
    cdef int64_t n_err = err_index.shape[0]
    if err_bits.shape[0] != n_err:
        raise ValueError("error_index and error_bits must have the same length")
    cdef int64_t cap = n_err * ((bits_per_symbol + 9) // 10 + 1)
    q = np.empty(cap, dtype=np.int64)
    val = np.empty(cap, dtype=np.uint16)
    cdef int64_t[::1] qv = q
    cdef uint16_t[::1] vv = val
    cdef int64_t n_out = 0
    cdef int status
    with nogil:
        status = pl_fec_symbol_errors(&err_index[0] if n_err else NULL,
                                      &err_bits[0] if n_err else NULL, n_err, bits_per_symbol,
                                      &qv[0] if cap else NULL, &vv[0] if cap else NULL, cap, &n_out)
    check_status(status, "symbol_errors")
    return q[:n_out], val[:n_out]


def count(const int64_t[::1] q, const uint16_t[::1] val, int n, int k, int interleave,
          uint16_t[::1] wrong, uint32_t[::1] msg_bits):
    """Accumulate wrong symbols and wrong message bits per codeword (arrays updated in place)."""
    cdef int64_t n_q = q.shape[0]
    cdef int64_t n_cw = wrong.shape[0]
    if val.shape[0] != n_q or msg_bits.shape[0] != n_cw:
        raise ValueError("count: array lengths disagree")
    cdef int status
    with nogil:
        status = pl_fec_count(&q[0] if n_q else NULL, &val[0] if n_q else NULL, n_q, n, k,
                              interleave, n_cw, &wrong[0] if n_cw else NULL,
                              &msg_bits[0] if n_cw else NULL)
    check_status(status, "count")
