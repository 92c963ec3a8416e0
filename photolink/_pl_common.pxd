# cython: language_level=3
"""What every Cython bridge shares: status codes, numpy bit generators, stream error tallies."""
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport int64_t, uint16_t, uint64_t
from numpy.random cimport bitgen_t


cdef extern from "pl_status.h":
    int PL_OK, PL_EINVAL, PL_ENOMEM, PL_ERANGE, PL_EMORE


cdef extern from "pl_tally.h":
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


cdef inline bitgen_t *bitgen_of(object bit_generator) except NULL:
    """The C state of a numpy BitGenerator (kept alive by the caller)."""
    return <bitgen_t *> PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")


cdef inline int check_status(int status, str what, str rejected="its arguments",
                             str why=None) except -1:
    """Turn a kernel status code into an exception; PL_OK passes.

    ``what`` names the kernel, ``rejected`` what an EINVAL refers to; ``why``, when given, says
    what the status means for this kernel (for example which computed value left its range)
    and is appended to the message.
    """
    if status == PL_OK:
        return 0
    cdef str tail = f": {why}" if why else ""
    if status == PL_EINVAL:
        raise ValueError(f"{what}: the C kernel rejected {rejected} (a validation gap){tail}")
    if status == PL_ENOMEM:
        raise MemoryError(f"{what}: a caller-provided buffer is too small{tail}")
    if status == PL_ERANGE:
        raise ValueError(f"{what}: a value computed from valid arguments left the range the "
                         f"C kernel handles{tail}")
    if status == PL_EMORE:
        raise RuntimeError(f"{what}: input fed in pieces ran short and was not refilled (a bridge "
                           f"gap){tail}")
    raise RuntimeError(f"{what}: unknown status code {status} from the C kernel{tail}")


cdef inline tuple tally_open(pl_error_tally *tally, uint64_t[::1] burst_hist, bint want_errors,
                             int64_t room):
    """Zero ``tally`` around ``burst_hist``; with ``want_errors``, give it room for ``room`` errors.

    Returns the (index, bits) arrays the kernel fills, or (None, None).
    """
    import numpy as np
    cdef int64_t[::1] index_view
    cdef uint16_t[::1] bits_view
    tally.symbols = tally.symbol_errors = tally.bit_errors = tally.cycle_slips = 0
    tally.burst_hist = &burst_hist[0]
    tally.n_burst_bins = burst_hist.shape[0]
    tally.error_index = NULL
    tally.error_bits = NULL
    tally.error_capacity = 0
    tally.n_errors_stored = 0
    if not want_errors:
        return None, None
    index = np.empty(room, dtype=np.int64)
    bits = np.empty(room, dtype=np.uint16)
    if room > 0:
        index_view = index
        bits_view = bits
        tally.error_index = &index_view[0]
        tally.error_bits = &bits_view[0]
        tally.error_capacity = room
    return index, bits


cdef inline tuple tally_close(pl_error_tally *tally, object index, object bits):
    """Counts of a finished tally: (symbols, symbol_errors, bit_errors, cycle_slips, index, bits)."""
    if index is not None:
        index = index[:tally.n_errors_stored].copy()
        bits = bits[:tally.n_errors_stored].copy()
    return (tally.symbols, tally.symbol_errors, tally.bit_errors, tally.cycle_slips, index, bits)


cdef extern from "pl_link.h":
    # The link model shared by the path and fabric kernels.
    ctypedef struct pl_link:
        # IN: filled here
        double rate_gbps
        double fixed_ns
        double hold_ns
        double codeword_bits
        double cwer
        int errors
        double replay_ns
        double node_latency_ns
        double buffer_bytes
        int cut_through
        # the other fields are derived by pl_path_init / pl_fabric_init (pl_link_derive)

    ctypedef struct pl_link_state:
        double free_at
        int64_t consumed
        int64_t last_codeword
        int last_failed
        int64_t next_fail
        double fail_bit
        const int64_t *fail_pos
        int64_t n_fail_pos
        int64_t fail_idx
        int64_t known
        uint64_t packets
        uint64_t tail_drops
        uint64_t transmissions
        uint64_t failed_transmissions
        uint64_t retries
        uint64_t lost_corrupted
        double wait_sum
        double wait_max
        double busy_ns
        double service_sum
