"""From a symbol stream's errors to RS symbol errors, codeword outcomes and frame loss.

Line bit order: label bit j (0 = LSB) of stream symbol s is line bit ``s * b + j`` (b bits per
symbol); line bit ``i`` is bit ``i % 10`` of RS symbol ``q = i // 10`` (RS symbols go on the line
LSB first, as in IEEE 802.3 clause 91). With I-way symbol interleaving (clauses 119/172), the
line's RS symbols go round-robin to a group of I codewords: symbol ``q`` belongs to codeword
``(q // (n I)) I + q % I`` at position ``(q // I) % n``, so a burst of length B symbols on the
lane spreads over I codewords with about B/I symbols each. The simulated stream is one lane.

Counting path (C): a bounded-distance decoder fails exactly when a codeword holds more than t
wrong symbols, so outcomes follow from error positions without decoding. Only the codewords
that fail are decoded (by linearity, the decoder's output on ``sent + e`` is ``sent`` plus its
output on ``e``), which tells a detected failure from a miscorrection exactly.
Full mode encodes random messages, adds the errors and decodes every codeword with the C
decoder, and checks that it agrees with the counting path on every codeword.

With the concatenated inner code (:data:`photolink.fec.KP4_INNER_HAMMING`) the line carries
128-bit inner codewords (120 data bits = 12 RS symbols, one from each of 12 outer codewords,
at position ``w % n`` of codeword ``(w // n) 12 + s`` for inner word ``w`` and data symbol ``s``);
each errored inner word is SEC-DED decoded and only what it leaves reaches the RS code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import _rs
from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import clopper_pearson
from ..symbols import stream
from ..symbols.formats import PAM, QAM
from ..symbols.stream import CHUNK_SYMBOLS, SymbolStream
from .inner import ConcatenatedCode
from .rs import RS, _codec

#: Line bits per piece of a run (about 6000 KP4 codewords): memory stays constant. Default of
#: the private keyword ``_piece_bits`` of :func:`simulate` and :func:`codeword_failures`.
PIECE_BITS = 1 << 25
#: Largest run, in codewords.
MAX_CODEWORDS = 10**10
#: Largest run whose per-codeword flags are returned (one byte each).
MAX_CODEWORD_FLAGS = 10**9
#: Interleave depths accepted (IEEE 802.3 clauses 91, 119, 172).
INTERLEAVES = (1, 2, 4)


@dataclass(frozen=True, eq=False)
class FecResult:
    """Codeword outcomes of a simulated stream, with confidence intervals.

    Attributes
    ----------
    code, format : str
    snr_db : float
    interleave : int
    codewords : int
        Codewords simulated (the trials behind :attr:`cwer`).
    uncorrectable : int
        Codewords the decoder flagged as uncorrectable (> t wrong symbols, detected).
    miscorrected : int
        Codewords with > t wrong symbols that the decoder turned into another codeword.
    line_bits, line_bit_errors : int
        Pre-FEC bits on the line and their errors (before any inner code).
    message_bits, residual_bit_errors : int
        Payload bits and the bit errors left in them after decoding.
    rs_symbol_errors : int
        Wrong RS symbols at the RS decoder's input.
    mean_burst_length : float
        Mean run of consecutive symbol errors in the stream (1 for independent errors).
    failed_index : numpy.ndarray
        Index of every failed codeword (int64), for frame loss.
    message_bits_per_codeword : int
    mode : str
        ``"count"`` or ``"full"``.
    disagreements : int
        Full mode only: codewords where the decoder and the counting path disagree (other
        than miscorrections). Always 0 unless something is broken.
    confidence : float
    """

    code: str
    format: str
    snr_db: float
    interleave: int
    codewords: int
    uncorrectable: int
    miscorrected: int
    line_bits: int
    line_bit_errors: int
    message_bits: int
    residual_bit_errors: int
    rs_symbol_errors: int
    mean_burst_length: float
    failed_index: np.ndarray = field(repr=False)
    message_bits_per_codeword: int = 0
    mode: str = "count"
    disagreements: int = 0
    seed_entropy: int | None = None
    confidence: float = 0.95

    @property
    def failed(self) -> int:
        """Codewords delivered wrong: uncorrectable + miscorrected."""
        return self.uncorrectable + self.miscorrected

    @property
    def cwer(self) -> float:
        return self.failed / self.codewords

    @property
    def ci(self) -> tuple[float, float]:
        """Clopper-Pearson interval of :attr:`cwer` (an upper bound when nothing failed)."""
        return clopper_pearson(self.failed, self.codewords, self.confidence)

    @property
    def pre_fec_ber(self) -> float:
        return self.line_bit_errors / self.line_bits

    @property
    def pre_fec_ber_ci(self) -> tuple[float, float]:
        return clopper_pearson(self.line_bit_errors, self.line_bits, self.confidence)

    @property
    def post_fec_ber(self) -> float:
        return self.residual_bit_errors / self.message_bits

    @property
    def post_fec_ber_ci(self) -> tuple[float, float]:
        """Interval treating residual bit errors as independent (they are not: it is narrow)."""
        return clopper_pearson(self.residual_bit_errors, self.message_bits, self.confidence)

    def _frames(self, frame_bytes) -> tuple[int, int]:
        frame_bits = 8 * v.real("frame_bytes", frame_bytes, lo=1, hi=1e9)
        group_bits = self.interleave * self.message_bits_per_codeword
        n_groups = self.codewords // self.interleave
        frames = int(n_groups * group_bits // frame_bits)
        if frames == 0:
            raise ValueError(f"frame_bytes={frame_bytes!r} is longer than the simulated payload")
        groups = np.unique(self.failed_index // self.interleave)
        groups = groups[groups < n_groups]
        if groups.size == 0:
            return 0, frames
        first = (groups * group_bits) // frame_bits
        last = ((groups + 1) * group_bits - 1) // frame_bits
        first, last = first.astype(np.int64), np.minimum(last.astype(np.int64), frames - 1)
        # union of the frame ranges [first, last] touched by failed groups
        order = np.argsort(first)
        first, last = first[order], last[order]
        reach = np.maximum.accumulate(last)
        new = np.ones(first.size, bool)
        new[1:] = first[1:] > reach[:-1]
        starts = first[new]
        ends = np.append(reach[np.nonzero(new)[0][1:] - 1], reach[-1])
        lost = int(np.sum(ends[ends >= starts] - starts[ends >= starts] + 1))
        return min(lost, frames), frames

    def frame_loss_ratio(self, frame_bytes) -> float:
        """Share of back-to-back frames of ``frame_bytes`` touching a failed codeword.

        Measured on the simulated codeword sequence, so correlated failures (bursts) count as
        they happen; frames tile the payload of each interleave group in order.
        """
        lost, frames = self._frames(frame_bytes)
        return lost / frames

    def frame_loss_ci(self, frame_bytes) -> tuple[float, float]:
        """Clopper-Pearson interval of :meth:`frame_loss_ratio` (frames taken as independent)."""
        lost, frames = self._frames(frame_bytes)
        return clopper_pearson(lost, frames, self.confidence)

    def to_dict(self) -> dict:
        return {
            "code": self.code, "format": self.format, "snr_db": self.snr_db,
            "interleave": self.interleave, "mode": self.mode, "codewords": self.codewords,
            "failed": self.failed, "uncorrectable": self.uncorrectable,
            "miscorrected": self.miscorrected, "cwer": self.cwer, "cwer_ci_low": self.ci[0],
            "cwer_ci_high": self.ci[1], "pre_fec_ber": self.pre_fec_ber,
            "post_fec_ber": self.post_fec_ber, "line_bits": self.line_bits,
            "line_bit_errors": self.line_bit_errors, "rs_symbol_errors": self.rs_symbol_errors,
            "residual_bit_errors": self.residual_bit_errors,
            "mean_burst_length": self.mean_burst_length, "disagreements": self.disagreements,
            "seed_entropy": self.seed_entropy,
        }


# ---- pipeline ------------------------------------------------------------------------------

def _check_code(code):
    if isinstance(code, ConcatenatedCode):
        outer = code.outer
    elif isinstance(code, RS):
        outer = code
    else:
        raise TypeError(f"code must be a photolink.fec.RS or ConcatenatedCode, got {type(code).__name__}")
    if outer.symbol_bits != 10:
        raise ValueError(f"simulation needs 10-bit RS symbols, got symbol_bits={outer.symbol_bits}")
    return outer


#: Extra SymbolStream options simulate() passes on.
STREAM_OPTIONS = ("ideal_feedback", "linewidth_symbol_period", "carrier_recovery", "differential")


def _stream(fmt, snr_db, seed, channel, equalizer, precode, *, chunk_symbols=CHUNK_SYMBOLS,
            **options):
    """A reproducible stream of ``fmt`` that can report error positions and bit patterns.

    ``chunk_symbols`` is the stream's private ``_chunk_symbols`` (PAM and QAM streams only).
    """
    if isinstance(fmt, (PAM, QAM)):
        return SymbolStream(fmt, snr_db, seed=seed, channel=channel, equalizer=equalizer,
                            precode=precode, _chunk_symbols=chunk_symbols, **options)
    # Other formats: either the format offers a stream with SymbolStream's contract
    # (``fmt.stream(snr_db, seed=..., channel=..., equalizer=..., precode=...)`` with ``run`` and
    # ``position``), or ``photolink.simulate_ber`` accepts it (then the run is done in one go).
    if not hasattr(fmt, "bits_per_symbol"):
        raise TypeError(f"fmt must be a photolink format, got {type(fmt).__name__} {fmt!r}")
    if callable(getattr(fmt, "stream", None)):
        return fmt.stream(snr_db, seed=seed, channel=channel, equalizer=equalizer, precode=precode,
                          **options)
    return _OneShotStream(fmt, snr_db, seed, channel, equalizer, precode,
                          chunk_symbols=chunk_symbols, **options)


class _OneShotStream:
    """SymbolStream's ``run``/``position`` over one call of ``photolink.simulate_ber``."""

    def __init__(self, fmt, snr_db, seed, channel, equalizer, precode, *,
                 chunk_symbols=CHUNK_SYMBOLS, **options):
        self.args = (fmt, snr_db)
        self.kwargs = dict(seed=seed, channel=channel, equalizer=equalizer, precode=precode,
                           _chunk_symbols=chunk_symbols, **options)
        self.position = 0
        self.total = None
        self.result = None

    def run(self, n, *, n_threads=1, return_errors=True):
        if self.result is None:
            try:
                self.result = stream.simulate_ber(*self.args, self.total, n_threads=n_threads,
                                                  return_errors=True, **self.kwargs)
            except TypeError as exc:
                raise TypeError(f"fmt {self.args[0]!r}: no stream simulator accepts this format "
                                f"({exc})") from None
        r = self.result
        lo, hi = self.position, self.position + n
        sel = (r.error_index >= lo) & (r.error_index < hi)
        idx, bits = r.error_index[sel], r.error_bits[sel]
        bit_errors = int(_popcount16(bits).sum()) if bits.size else 0
        runs = int(np.count_nonzero(np.diff(idx) != 1)) + 1 if idx.size else 0
        self.position = hi
        return _Piece(idx.size, bit_errors, runs, idx, bits)


@dataclass
class _Piece:
    symbol_errors: int
    bit_errors: int
    bursts: int
    error_index: np.ndarray
    error_bits: np.ndarray


@dataclass
class _Tally:
    wrong: list
    msg_bits: list
    uncorrectable: int = 0
    miscorrected: int = 0
    residual: int = 0
    rs_symbol_errors: int = 0
    disagreements: int = 0
    line_bit_errors: int = 0
    errors: int = 0
    bursts: int = 0
    failed_index: list = field(default_factory=list)


def _rs_positions(q_rel, n, interleave):
    span = n * interleave
    group = q_rel // span
    within = q_rel - group * span
    return group * interleave + within % interleave, within // interleave


def _inner_positions(code: ConcatenatedCode, bit_rel, bits_per_word=128):
    """SEC-DED decode the errored inner words; (codeword, position, value) of what is left."""
    inner, outer = code.inner, code.outer
    word = bit_rel // bits_per_word
    pos = (bit_rel - word * bits_per_word).astype(np.int64)
    # per errored inner word: syndrome (XOR of columns) and parity
    uw, start, counts = np.unique(word, return_index=True, return_counts=True)
    syn = np.bitwise_xor.reduceat(inner.columns[pos], start) if uw.size else np.zeros(0, np.int64)
    flip = (counts & 1) == 1
    pos_of_col = np.empty(128, np.int64)
    pos_of_col[inner.columns] = np.arange(128)
    # residual pattern = channel errors XOR the decoder's flip (which cancels a single error)
    res_word = np.concatenate([word, uw[flip]])
    res_pos = np.concatenate([pos, pos_of_col[syn[flip]]])
    key = res_word * bits_per_word + res_pos
    keys, cnt = np.unique(key, return_counts=True)
    keys = keys[(cnt & 1) == 1]
    res_word, res_pos = keys // bits_per_word, keys % bits_per_word
    data = res_pos < inner.k
    res_word, res_pos = res_word[data], res_pos[data]
    sym = res_pos // inner.symbol_bits
    per = inner.symbols_per_codeword
    cw = (res_word // outer.n) * per + sym
    cpos = res_word % outer.n
    val = (1 << (res_pos % inner.symbol_bits)).astype(np.int64)
    # merge bits of the same outer symbol
    k2 = cw * outer.n + cpos
    uk, inv = np.unique(k2, return_inverse=True)
    merged = np.zeros(uk.size, np.int64)
    np.bitwise_or.at(merged, inv, val)
    return uk // outer.n, uk % outer.n, merged.astype(np.uint16)


def _bit_muxed(r, bit0, bps, piece_symbols):
    """(absolute line bit index, 1) of every error bit, with the piece's bits regrouped by stream.

    Bit-muxing: bit j of every line symbol belongs to FEC stream j; stream j's bits, in symbol
    order, fill the j-th ``piece_symbols`` bits of the piece, so each codeword sits on one stream.
    """
    eidx, ebits = np.asarray(r.error_index, np.int64), np.asarray(r.error_bits, np.int64)
    hit = (ebits[:, None] >> np.arange(bps)[None, :]) & 1
    rows, cols = np.nonzero(hit)
    rel = cols * piece_symbols + (eidx[rows] - bit0 // bps)
    rel.sort()
    return np.ascontiguousarray(bit0 + rel, np.int64), np.ones(rel.size, np.uint16)


def _run(code, fmt, snr_db, n_codewords, *, seed, channel, equalizer, precode, interleave,
         n_threads, mode, want_flags, options, piece_bits=PIECE_BITS, chunk_symbols=CHUNK_SYMBOLS,
         progress=None, bit_mux=False):

    outer = _check_code(code)
    concatenated = isinstance(code, ConcatenatedCode)
    snr_db = v.real("snr_db", snr_db, lo=-30, hi=80)
    n_cw = v.integer("n_codewords", n_codewords, lo=1, hi=MAX_CODEWORDS)
    interleave = v.integer("interleave", interleave, lo=1, hi=4)
    if interleave not in INTERLEAVES:
        raise ValueError(f"interleave must be one of {INTERLEAVES}, got {interleave!r}")
    if concatenated and interleave != 1:
        raise ValueError(f"interleave must be 1 with a concatenated code (its inner code already "
                         f"spreads each outer codeword over {code.inner.symbols_per_codeword}-way "
                         f"groups), got {interleave!r}")
    v.choice("mode", mode, {"count", "full"})
    if not isinstance(bit_mux, (bool, np.bool_)):
        raise TypeError(f"bit_mux must be a bool, got {bit_mux!r}")
    if bit_mux and concatenated:
        raise ValueError("bit_mux applies to RS codes only (the inner code fixes its own bit mapping)")
    if not isinstance(precode, (bool, np.bool_)):
        raise TypeError(f"precode must be a bool, got {precode!r}")
    unknown = sorted(set(options) - set(STREAM_OPTIONS))
    if unknown:
        raise TypeError(f"unknown stream option(s) {unknown}; allowed: {list(STREAM_OPTIONS)}")
    piece_bits = v.integer("_piece_bits", piece_bits, lo=1 << 10, hi=1 << 40)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable progress(done, total) or None, got {progress!r}")
    ss = _rng.seed_sequence(seed)
    stream = _stream(fmt, snr_db, _rng.child(ss, 0), channel, equalizer, bool(precode),
                     chunk_symbols=chunk_symbols, **options)
    msg_ss = _rng.child(ss, 1)
    bps = fmt.bits_per_symbol
    n, k, t = outer.n, outer.k, outer.t
    codec = _codec(outer)

    if concatenated:
        group_cw = code.inner.symbols_per_codeword               # 12 outer codewords per group
        group_bits = outer.n * code.inner.n                        # 544 inner words of 128 bits
    else:
        group_cw = interleave
        group_bits = n * interleave * 10
    # groups per piece: a multiple of bps, so every piece ends on a stream-symbol boundary
    step = bps // math.gcd(bps, group_bits)
    if bit_mux:      # every stream's share of a piece holds whole groups
        step = bps
    groups_total = -(-n_cw // group_cw)
    per_piece = max(step, (piece_bits // group_bits) // step * step)
    if isinstance(stream, _OneShotStream):
        stream.total = -(-groups_total * group_bits // bps)
    tally = _Tally(wrong=[], msg_bits=[])
    flags = [] if want_flags else None
    burst_runs = 0
    g0 = 0
    piece = 0
    while g0 < groups_total:
        g1 = min(groups_total, g0 + per_piece)
        bit0, bit1 = g0 * group_bits, g1 * group_bits
        sym0, sym1 = bit0 // bps, -(-bit1 // bps)
        assert stream.position == sym0
        r = stream.run(sym1 - sym0, n_threads=n_threads, return_errors=True)
        tally.line_bit_errors += r.bit_errors
        tally.errors += r.symbol_errors
        burst_runs += r.bursts
        cw0 = g0 * group_cw
        cw_here = min(n_cw, g1 * group_cw) - cw0
        wrong = np.zeros(cw_here, np.uint16)
        msg_bits = np.zeros(cw_here, np.uint32)
        if concatenated:
            eidx, ebits = r.error_index, r.error_bits.astype(np.int64)
            # line bits of every error bit
            j = np.arange(bps)
            hit = (ebits[:, None] >> j[None, :]) & 1
            rows, cols = np.nonzero(hit)
            bit_rel = eidx[rows] * bps + cols - bit0
            cw_i, pos_i, val_i = _inner_positions(code, bit_rel)
            keep = cw_i < cw_here
            cw_i, pos_i, val_i = cw_i[keep], pos_i[keep], val_i[keep]
            np.add.at(wrong, cw_i, 1)
            msgm = pos_i < k
            np.add.at(msg_bits, cw_i[msgm], _popcount16(val_i[msgm]))
        else:
            if bit_mux and bps > 1:
                idx, bits = _bit_muxed(r, bit0, bps, (bit1 - bit0) // bps)
                q, val = _rs.symbol_errors(idx, bits, 1)
            else:
                q, val = _rs.symbol_errors(np.ascontiguousarray(r.error_index, np.int64),
                                            np.ascontiguousarray(r.error_bits, np.uint16), bps)
            q_rel = q - bit0 // 10
            inside = q_rel >= 0
            q_rel, val = np.ascontiguousarray(q_rel[inside]), np.ascontiguousarray(val[inside])
            _rs.count(q_rel, val, n, k, interleave, wrong, msg_bits)
            cw_i, pos_i = _rs_positions(q_rel, n, interleave)
            keep = cw_i < cw_here
            cw_i, pos_i, val_i = cw_i[keep], pos_i[keep], val[keep]
        tally.rs_symbol_errors += int(cw_i.size)
        fail = wrong > t
        fidx = np.nonzero(fail)[0]
        # decode the failed codewords' error patterns: detected or miscorrected?
        mis_local = np.zeros(fidx.size, bool)
        if fidx.size:
            slot = np.full(cw_here, -1, np.int64)
            slot[fidx] = np.arange(fidx.size)
            sel = slot[cw_i] >= 0
            e = np.zeros((fidx.size, n), np.uint16)
            e[slot[cw_i[sel]], pos_i[sel]] = val_i[sel]
            dec = e.copy()
            _, dfail = codec.decode_inplace(dec)
            mis_local = ~dfail
            # residual payload errors: the received errors (detected) or decoder output (mis)
            res = np.where(mis_local[:, None], dec, e)[:, :k]
            tally.residual += int(_popcount16(res).sum())
        tally.uncorrectable += int(fidx.size - mis_local.sum())
        tally.miscorrected += int(mis_local.sum())
        tally.failed_index.append(fidx + cw0)
        if flags is not None:
            flags.append(fail)
        if mode == "full":
            tally.disagreements += _full_check(codec, outer, _rng.child(msg_ss, piece), cw_here,
                                               cw_i, pos_i, val_i, fail, mis_local, fidx)
        g0 = g1
        piece += 1
        if progress is not None:
            progress(g1, groups_total)

    total_symbols = stream.position
    line_bits = total_symbols * bps
    mean_burst = tally.errors / burst_runs if burst_runs else 0.0
    return tally, flags, line_bits, mean_burst, ss, n_cw, interleave


def _full_check(codec, outer, ss, cw_here, cw_i, pos_i, val_i, fail, mis_local, fidx) -> int:
    """Encode random messages, add the errors, decode all: count disagreements with counting."""
    k = outer.k
    rng = np.random.Generator(_rng.BitGenerator(ss))
    bad = 0
    block = 2048
    mis_of = np.zeros(cw_here, bool)
    mis_of[fidx] = mis_local
    for b0 in range(0, cw_here, block):
        b1 = min(cw_here, b0 + block)
        msg = rng.integers(0, 1024, (b1 - b0, k), dtype=np.uint16)
        sent = codec.encode(msg)
        recv = sent.copy()
        sel = (cw_i >= b0) & (cw_i < b1)
        recv[cw_i[sel] - b0, pos_i[sel]] ^= val_i[sel]
        _, dfail = codec.decode_inplace(recv)
        wrong_out = np.any(recv != sent, axis=1)
        f = fail[b0:b1]
        # counting: failure iff > t; decoder: flagged, or returned a wrong codeword
        bad += int(np.count_nonzero(f != (dfail | wrong_out)))
        bad += int(np.count_nonzero((~dfail & wrong_out) != mis_of[b0:b1]))
    return bad


_POP = np.array([bin(i).count("1") for i in range(1 << 16)], np.uint8)


def _popcount16(x) -> np.ndarray:
    return _POP[np.asarray(x, np.uint16)].astype(np.int64)


# ---- public functions ----------------------------------------------------------------------

def simulate(code, fmt, snr_db, n_codewords, *, seed, channel=None, equalizer=None,
             precode=False, interleave=1, mode="count", n_threads=1, progress=None, bit_mux: bool = False,
             _piece_bits: int = PIECE_BITS, _chunk_symbols: int = CHUNK_SYMBOLS,
             **stream_options) -> FecResult:
    """Stream symbols, map their errors onto RS codewords and count the codewords that fail.

    Parameters
    ----------
    code : photolink.fec.RS or photolink.fec.ConcatenatedCode
        E.g. ``fec.KP4`` or ``fec.KP4_INNER_HAMMING``.
    fmt : photolink.PAM or photolink.QAM
        Modulation. QAM streams take no channel, equaliser or precoding here.
    snr_db : float
        SNR in dB (see :func:`photolink.simulate_ber`).
    n_codewords : int
        Codewords to simulate (1 to 1e10); memory does not grow with it.
    seed : int, SeedSequence, Generator or None
        The result depends on it alone (stream: child 0; messages of full mode: child 1).
    channel, equalizer, precode
        See :class:`photolink.SymbolStream`. A DFE makes error bursts.
    interleave : int
        1, 2 or 4-way symbol interleaving of codewords on the lane.
    bit_mux : bool
        PMA bit-muxing (RS codes, multi-bit symbols): bit j of every line symbol belongs to FEC
        stream j, and a codeword sits on one stream (so an RS symbol spans ``symbol_bits`` line
        symbols, one bit of each); False (default) is symbol-muxing, whole RS symbols on
        consecutive line bits.
    mode : {"count", "full"}
        ``"count"``: outcomes from error positions (C), decoding only failed codewords.
        ``"full"``: also encode random messages and decode every codeword; the result's
        ``disagreements`` counts codewords where the two paths disagree (should be 0).
    n_threads : int
        Threads of the stream simulation; results do not depend on it.
    progress : callable, optional
        Called as ``progress(done, total)`` after each piece of the run (a progress bar's hook;
        units are groups of codewords).
    **stream_options
        Passed to :class:`photolink.SymbolStream`: ``ideal_feedback`` (PAM),
        ``linewidth_symbol_period``, ``carrier_recovery``, ``differential`` (QAM; cycle slips
        make bursts).
    _piece_bits : int
        Private (tests): line bits per piece of the run (memory per piece); default
        :data:`PIECE_BITS`. The result does not depend on it.
    _chunk_symbols : int
        Private (tests): the stream's chunk size (see :class:`photolink.SymbolStream`); default
        :data:`photolink.symbols.stream.CHUNK_SYMBOLS`. The result depends on it.

    Returns
    -------
    FecResult

    Examples
    --------
    >>> import photolink as pl
    >>> from photolink import fec
    >>> r = fec.simulate(fec.KR4, pl.PAM4, 16.6, 2000, seed=1)
    >>> r.ci[0] <= fec.KR4.cwer_from_ber(r.pre_fec_ber) <= r.ci[1]
    True
    """
    tally, _, line_bits, mean_burst, ss, n_cw, interleave = _run(
        code, fmt, snr_db, n_codewords, seed=seed, channel=channel, equalizer=equalizer,
        precode=precode, interleave=interleave, n_threads=n_threads, mode=mode, want_flags=False,
        options=stream_options, piece_bits=_piece_bits, chunk_symbols=_chunk_symbols,
        progress=progress, bit_mux=bit_mux)
    outer = _check_code(code)
    return FecResult(
        code=code.name, format=fmt.name, snr_db=float(snr_db), interleave=interleave,
        codewords=n_cw, uncorrectable=tally.uncorrectable, miscorrected=tally.miscorrected,
        line_bits=int(line_bits), line_bit_errors=int(tally.line_bit_errors),
        message_bits=n_cw * outer.message_bits, residual_bit_errors=tally.residual,
        rs_symbol_errors=tally.rs_symbol_errors, mean_burst_length=float(mean_burst),
        failed_index=np.concatenate(tally.failed_index).astype(np.int64),
        message_bits_per_codeword=outer.message_bits, mode=mode,
        disagreements=tally.disagreements,
        seed_entropy=ss.entropy if not ss.spawn_key else None)


def codeword_failures(code, fmt, snr_db, n_codewords, *, seed, channel=None, equalizer=None,
                      precode=False, interleave=1, n_threads=1, bit_mux: bool = False,
                      _piece_bits: int = PIECE_BITS, _chunk_symbols: int = CHUNK_SYMBOLS,
                      **stream_options) -> np.ndarray:
    """Per-codeword failure flags (bool array of length ``n_codewords``) of a simulated stream.

    The same stream and mapping as :func:`simulate` with the same arguments (a failure is a
    codeword with more than t wrong symbols: detected or miscorrected). For a packet path's
    exact mode: ``functools.partial(codeword_failures, code, fmt, snr_db, ...)``. At most 1e9
    codewords (the flags take a byte each). The private ``_piece_bits`` and ``_chunk_symbols``
    are those of :func:`simulate` (defaults :data:`PIECE_BITS` and
    :data:`photolink.symbols.stream.CHUNK_SYMBOLS`).
    """
    v.integer("n_codewords", n_codewords, lo=1, hi=MAX_CODEWORD_FLAGS)
    _, flags, *_ = _run(code, fmt, snr_db, n_codewords, seed=seed, channel=channel,
                        equalizer=equalizer, precode=precode, interleave=interleave,
                        n_threads=n_threads, mode="count", want_flags=True, options=stream_options,
                        piece_bits=_piece_bits, chunk_symbols=_chunk_symbols, bit_mux=bit_mux)
    return np.concatenate(flags)
