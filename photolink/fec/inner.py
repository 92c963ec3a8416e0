"""Inner code for 200 Gb/s per lane: extended Hamming(128,120) over KP4 (IEEE 802.3dj style).

The inner code carries 120 bits = 12 RS symbols, each from a different KP4 codeword, plus 8
parity bits ([ref:dj-inner-code], S draft). This module models the
hard-decision single-error-correct / double-error-detect (SEC-DED) decoder; 802.3dj allows soft
decision, which does better, so the figures here are conservative: the Chase-2 decoder of
:mod:`photolink.fec.chase` measures a ~3.5x higher channel BER threshold ([ref:dj-inner-code-soft]).

Code used here (systematic): data bits 0..119, Hamming parity bits 120..126, overall parity 127.
The 7-bit Hamming column of a data bit is the (j+1)-th 7-bit value that is not a power of two
(in increasing order); parity bit 120+i has column 2^i; bit 127 has column 0. The overall
parity row is all ones. SEC-DED decoding of a received word with syndrome s (7 bits) and
overall parity p:

- p = 1: flip the bit whose column is s (a single error is corrected; 3, 5, ... errors gain one);
- p = 0, s != 0: a detected double (even) error: the word is passed on uncorrected;
- p = 0, s = 0: accepted as is.

Because every KP4 symbol of a codeword sits in a different inner codeword, a KP4 codeword sees
independent symbol errors of probability :meth:`ExtendedHamming.symbol_error_rate` after the
inner decoder, and its codeword error ratio is the binomial tail of that rate.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from scipy import stats as _st

from .._util import validate as v
from .rs import KP4, ber_at_cwer

#: Inner decoders a :class:`ConcatenatedCode` offers.
INNER_DECODERS = ("hard", "chase")
#: Line BER at which Chase-2 decoding (6 test bits, max-log reliabilities, PAM4 over AWGN) of the
#: inner code leaves KP4 at a 1e-12 codeword error ratio: measured by
#: :func:`photolink.fec.chase.measured_threshold` ([ref:dj-inner-code-soft], E).
CHASE_THRESHOLD_BER = 4.9e-3


def _hamming_columns() -> np.ndarray:
    """7-bit Hamming column of each of the 128 bit positions (see the module docstring)."""
    data = [c for c in range(1, 128) if c & (c - 1)]
    return np.array(data + [1 << i for i in range(7)] + [0], dtype=np.int64)


@dataclass(frozen=True)
class ExtendedHamming:
    """Extended Hamming(128,120) SEC-DED inner code with hard decisions.

    Parameters
    ----------
    symbol_bits : int
        Bits of the outer RS symbols carried (10): the 120 data bits hold 12 of them.
    decode_ns : float
        Inner decoder latency, ns (photolink estimate [ref:photolink-fec-decode-latency], E: a syndrome and one bit flip).
    """

    symbol_bits: int = 10
    decode_ns: float = 2.0

    n = 128
    k = 120

    @property
    def overhead(self) -> float:
        """128/120 - 1 = 6.67 %."""
        return self.n / self.k - 1

    @property
    def symbols_per_codeword(self) -> int:
        return self.k // self.symbol_bits

    @cached_property
    def columns(self) -> np.ndarray:
        return _hamming_columns()

    # ---- hard-decision decoder on error patterns (the code is linear) ---------------------

    def decode_errors(self, errors) -> np.ndarray:
        """Residual error pattern after SEC-DED decoding of each 128-bit error pattern.

        Parameters
        ----------
        errors : array of shape (batch, 128), 0/1
            Channel error pattern of each inner codeword (bit j set = bit j received wrong).

        Returns
        -------
        numpy.ndarray of uint8, shape (batch, 128)
            Error pattern left after the decoder.
        """
        e = np.asarray(errors)
        if e.ndim != 2 or e.shape[1] != self.n:
            raise ValueError(f"errors must have shape (batch, {self.n}), got {e.shape}")
        if e.size and (e.min() < 0 or e.max() > 1):
            raise ValueError("errors must hold 0/1 values")
        e = e.astype(np.uint8, copy=True)
        cols = self.columns
        syn = np.bitwise_xor.reduce(np.where(e.astype(bool), cols[None, :], 0), axis=1)
        par = e.sum(axis=1) & 1
        flip = par == 1
        pos_of_col = np.empty(128, np.int64)
        pos_of_col[cols] = np.arange(128)
        rows = np.nonzero(flip)[0]
        e[rows, pos_of_col[syn[rows]]] ^= 1
        return e

    # ---- analytic model for independent bit errors ----------------------------------------

    @cached_property
    def _symbol_hit_after_3(self) -> float:
        """Mean probability that one data symbol is wrong after decoding 3 random bit errors.

        Exact enumeration: 3 errors plus the decoder's wrong flip make a weight-4 pattern.
        """
        cols = self.columns
        pos_of_col = np.empty(128, np.int64)
        pos_of_col[cols] = np.arange(128)
        i, j, k = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(self.n), 3)),
                              dtype=np.int64).reshape(-1, 3).T
        fourth = pos_of_col[cols[i] ^ cols[j] ^ cols[k]]
        sym = lambda p: np.where(p < self.k, p // self.symbol_bits, -1)  # noqa: E731
        s = np.stack([sym(i), sym(j), sym(k), sym(fourth)], axis=1)
        hits = 0
        for q in range(self.symbols_per_codeword):
            hits += np.count_nonzero((s == q).any(axis=1))
        return hits / (i.size * self.symbols_per_codeword)

    def _symbol_hit_uniform(self, w: int) -> float:
        """P[a given 10-bit data symbol holds at least one of w uniformly placed bit errors]."""
        if w <= 0:
            return 0.0
        w = min(w, self.n)
        return 1.0 - math.comb(self.n - self.symbol_bits, w) / math.comb(self.n, w)

    def symbol_error_rate(self, ber):
        """Outer (RS) symbol error probability after the inner decoder, for independent bit errors.

        Sum over the number w of bit errors in the 128-bit word: w = 1 is corrected, w = 2 and
        even w pass through (detected), w = 3 is enumerated exactly (the decoder adds a fourth
        error), odd w >= 5 is counted as w + 1 uniformly placed errors (an upper bound, terms of
        order ber^5).
        """
        ber = v.real_array("ber", ber, lo=0.0, hi=0.5)
        w = np.arange(self.n + 1)
        hit = np.array([0.0, 0.0, self._symbol_hit_uniform(2), self._symbol_hit_after_3]
                       + [self._symbol_hit_uniform(x if x % 2 == 0 else x + 1) for x in w[4:]])
        pw = _st.binom.pmf(w[None, :], self.n, ber.reshape(-1, 1))
        out = (pw * hit[None, :]).sum(axis=1).reshape(ber.shape)
        return float(out) if out.ndim == 0 else out

    def output_ber(self, ber):
        """Bit error ratio of the data bits after the inner decoder (same model)."""
        ber = v.real_array("ber", ber, lo=0.0, hi=0.5)
        w = np.arange(self.n + 1)
        # expected data-bit errors given w channel errors (uniform placement; w=3 -> 4 errors)
        out_w = np.where(w <= 1, 0.0, np.where(w % 2 == 1, w + 1.0, w.astype(float)))
        out_w = np.minimum(out_w, self.n) * self.k / self.n
        pw = _st.binom.pmf(w[None, :], self.n, ber.reshape(-1, 1))
        out = ((pw * out_w[None, :]).sum(axis=1) / self.k).reshape(ber.shape)
        return float(out) if out.ndim == 0 else out


@lru_cache(maxsize=8)
def _hard_threshold(outer, inner) -> float:
    """Line BER of a 1e-12 outer codeword error ratio with the hard inner decoder."""
    return ConcatenatedCode(outer, inner, name="hard").threshold_ber


@dataclass(frozen=True)
class ConcatenatedCode:
    """An outer RS code over an inner code whose codewords each carry symbols of distinct
    outer codewords (so outer symbol errors are independent after the inner decoder).

    Offers the interface of :class:`photolink.fec.RS` where it applies: ``name``, ``overhead``,
    ``cwer_from_ber``, ``frame_loss_ratio``, ``latency_ns``, ``threshold_ber``, ``max_ber``,
    ``message_bits``, ``codeword_bits`` (line bits per outer codeword), ``n``, ``k``, ``t``,
    ``symbol_bits`` (of the outer code), ``source``. ``ber`` is always the line (pre-inner) BER.

    ``inner_decoder="chase"`` models Chase-2 soft decoding of the inner code by its measured
    threshold: the hard decoder's map evaluated at the equivalent BER
    ``ber x (hard threshold / CHASE_THRESHOLD_BER)``, so the code's threshold is the measured
    :data:`CHASE_THRESHOLD_BER` ([ref:dj-inner-code-soft]); the curve's shape away from the
    threshold is the hard decoder's (an approximation). Soft decisions need the channel's
    reliabilities, so links map the line BER through this model (no burst model, no error
    pattern decoding: :meth:`ExtendedHamming.decode_errors` stays the hard decoder).

    Parameters
    ----------
    outer : photolink.fec.RS
    inner : ExtendedHamming
    name, source : str
    inner_decoder : {"hard", "chase"}
    """

    outer: object
    inner: ExtendedHamming
    name: str = ""
    source: str = ""
    inner_decoder: str = "hard"

    def __post_init__(self):
        v.choice("inner_decoder", self.inner_decoder, INNER_DECODERS)
        if not self.name:
            object.__setattr__(self, "name", f"{self.outer.name} + Hamming(128,120)")

    n = property(lambda self: self.outer.n)
    k = property(lambda self: self.outer.k)
    t = property(lambda self: self.outer.t)
    symbol_bits = property(lambda self: self.outer.symbol_bits)
    message_bits = property(lambda self: self.outer.message_bits)

    @property
    def overhead(self) -> float:
        """Total redundancy over payload: (n/k) (128/120) - 1 (12.9 % for KP4)."""
        return (1 + self.outer.overhead) * (1 + self.inner.overhead) - 1

    @property
    def codeword_bits(self) -> float:
        """Line bits per outer codeword, inner parity included (5802.7 for KP4)."""
        return self.outer.codeword_bits * self.inner.n / self.inner.k

    @property
    def soft(self) -> bool:
        """True with a soft-decision (Chase-2) inner decoder."""
        return self.inner_decoder == "chase"

    def _hard_equivalent_ber(self, ber):
        """The line BER at which the hard decoder does what this code's decoder does at ``ber``."""
        ber = v.real_array("ber", ber, lo=0.0, hi=0.5)
        if not self.soft:
            return ber
        return np.minimum(ber * (_hard_threshold(self.outer, self.inner) / CHASE_THRESHOLD_BER), 0.5)

    def symbol_error_rate(self, ber):
        """Outer symbol error rate at the outer decoder's input (after the inner decoder)."""
        return self.inner.symbol_error_rate(self._hard_equivalent_ber(ber))

    def outer_input_ber(self, ber):
        """Bit error ratio at the outer (KP4) decoder's input, after the inner decoder."""
        return self.inner.output_ber(self._hard_equivalent_ber(ber))

    def cwer_from_ber(self, ber):
        """Outer codeword error ratio for independent line bit errors at ``ber``."""
        ps = np.minimum(np.asarray(self.symbol_error_rate(ber)), 1.0)
        out = _st.binom.sf(self.outer.t, self.outer.n, ps)
        return float(out) if np.ndim(out) == 0 else out

    def max_ber(self, target_cwer: float = 1e-12) -> float:
        """Largest line BER whose outer codeword error ratio is at most ``target_cwer``."""
        return ber_at_cwer(self.cwer_from_ber, target_cwer, lowest_ber=1e-8, highest_ber=0.2)

    @property
    def threshold_ber(self) -> float:
        """Line BER that leaves an outer codeword error ratio of 1e-12."""
        return self.max_ber(1e-12)

    def codewords_per_frame(self, frame_bytes, interleave: int = 1) -> float:
        return self.outer.codewords_per_frame(frame_bytes, interleave)

    def frame_loss_ratio(self, cwer, frame_bytes, interleave: int = 1):
        """Probability that a frame touches a failed outer codeword."""
        return self.outer.frame_loss_ratio(cwer, frame_bytes, interleave)

    def latency_ns(self, lane_rate_gbps: float, lanes: int = 1) -> float:
        """Outer codeword accumulation at the line rate (inner parity included), outer decode
        and inner decode."""
        rate = v.real("lane_rate_gbps", lane_rate_gbps, lo=0.001, hi=1e5)
        lanes = v.integer("lanes", lanes, lo=1, hi=1024)
        return self.codeword_bits / (rate * lanes) + self.outer.decode_ns + self.inner.decode_ns

    def __str__(self) -> str:
        return self.name


#: 200 Gb/s-per-lane scheme: KP4 outer code over an extended Hamming(128,120) inner code with
#: hard-decision SEC-DED (802.3dj allows soft decision: this is the conservative case).
KP4_INNER_HAMMING = ConcatenatedCode(
    KP4, ExtendedHamming(), name="KP4 RS(544,514) + Hamming(128,120) SEC-DED",
    source="[ref:dj-inner-code] 802.3dj 200G/lane inner code extended Hamming(128,120), 12 RS symbols "
           "from 12 KP4 codewords per inner codeword, ~6.7 % / ~12.9 % overhead (S draft); [ref:kp4-code] [ref:kp4-latency] KP4 rows "
           "(S, latency E); inner decode latency [ref:photolink-fec-decode-latency] E (photolink estimate)")

#: The same scheme with Chase-2 soft decoding of the inner code, as 802.3dj intends for 200G/lane
#: optics: threshold 4.9e-3 measured by simulation (against 1.46e-3 hard) [ref:dj-inner-code-soft].
KP4_INNER_CHASE = ConcatenatedCode(
    KP4, ExtendedHamming(), name="KP4 RS(544,514) + Hamming(128,120) Chase-2", inner_decoder="chase",
    source=KP4_INNER_HAMMING.source + "; Chase-2 soft decoding (6 test bits), threshold 4.9e-3 measured by "
           "photolink.fec.chase.measured_threshold [ref:dj-inner-code-soft] E")
