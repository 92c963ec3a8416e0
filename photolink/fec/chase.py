"""Soft-decision (Chase-2) decoding of the extended Hamming(128,120) inner code, and its threshold.

IEEE 802.3dj's inner code is meant for soft decoding ([ref:dj-inner-code], S draft). Chase-2
(Chase, IEEE Trans. Inf. Theory 1972) takes the ``test_bits`` least reliable bits of a word,
flips every combination of them, decodes each test word with the hard SEC-DED decoder and keeps
the codeword closest to the received word in the soft metric (sum of the reliabilities of the
bits it changes); the hard decoder (:meth:`photolink.fec.ExtendedHamming.decode_errors`) remains
the default of the link models. The decoder is C (csrc/chase.c).

:func:`simulate_inner` streams random codewords as PAM symbols over AWGN (ISI-free), with bit
reliabilities from the slicer input (the distance to the nearest decision threshold across which
that bit changes: the max-log LLR up to a scale), and counts the RS symbols left wrong after the
inner decoder. :func:`measured_threshold` finds the channel BER at which that RS symbol error
ratio is what KP4 tolerates at its 1e-12 codeword error target: for the hard decoder it
reproduces the analytic threshold of :data:`photolink.fec.KP4_INNER_HAMMING` (a check of both).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import clopper_pearson
from ..symbols.formats import PAM, gray
from ._chase import MAX_TEST_BITS, ChaseDecoder
from .inner import ExtendedHamming, _hamming_columns
from .rs import KP4

#: Least reliable bits Chase-2 flips by default (64 test patterns).
CHASE_TEST_BITS = 6
DECODERS = ("hard", "chase")


@dataclass(frozen=True)
class InnerResult:
    """Channel errors and RS symbols left wrong after the inner decoder (Monte Carlo)."""

    decoder: str
    snr_db: float
    channel_bit_errors: int
    channel_bits: int
    symbol_errors: int
    symbols: int

    @property
    def channel_ber(self) -> float:
        return self.channel_bit_errors / self.channel_bits

    @property
    def symbol_error_ratio(self) -> float:
        return self.symbol_errors / self.symbols

    @property
    def symbol_error_ci(self) -> tuple[float, float]:
        return clopper_pearson(self.symbol_errors, self.symbols)

    def to_dict(self) -> dict:
        return {"decoder": self.decoder, "snr_db": self.snr_db, "channel_ber": self.channel_ber,
                "symbol_error_ratio": self.symbol_error_ratio, "symbol_error_ci": list(self.symbol_error_ci),
                "channel_bit_errors": self.channel_bit_errors, "channel_bits": self.channel_bits,
                "symbol_errors": self.symbol_errors, "symbols": self.symbols}


def decode_chase(hard, reliability, test_bits: int = CHASE_TEST_BITS) -> np.ndarray:
    """Chase-2 decisions (uint8, (batch, 128)) from hard bits and their reliabilities."""
    test_bits = v.integer("test_bits", test_bits, lo=0, hi=MAX_TEST_BITS)
    h = np.asarray(hard)
    r = np.asarray(reliability, dtype=np.float64)
    if h.ndim != 2 or h.shape[1] != 128 or r.shape != h.shape:
        raise ValueError(f"hard and reliability must have the same shape (batch, 128), got {h.shape} and {r.shape}")
    if h.size and (h.min() < 0 or h.max() > 1):
        raise ValueError("hard must hold 0/1 values")
    if r.size and not (np.all(np.isfinite(r)) and r.min() >= 0):
        raise ValueError("reliability must hold finite values >= 0")
    return ChaseDecoder(test_bits).decode(h.astype(np.uint8), r)[0]


def _encode(data: np.ndarray) -> np.ndarray:
    """Systematic extended Hamming codewords (batch, 128) of data bits (batch, 120)."""
    cols = _hamming_columns()
    syn = np.bitwise_xor.reduce(np.where(data.astype(bool), cols[None, :120], 0), axis=1)
    parity = (syn[:, None] >> np.arange(7)[None, :]) & 1
    word = np.concatenate([data, parity.astype(np.uint8)], axis=1)
    return np.concatenate([word, (word.sum(axis=1, keepdims=True) & 1).astype(np.uint8)], axis=1)


def simulate_inner(fmt: PAM, snr_db: float, n_words: int, *, seed, decoder: str = "chase",
                   test_bits: int = CHASE_TEST_BITS, batch_words: int = 1 << 14) -> InnerResult:
    """Random inner codewords as ``fmt`` symbols over AWGN through the ``decoder``.

    Parameters
    ----------
    fmt : PAM
        Its bits per symbol must divide 128.
    snr_db : float
    n_words : int
    seed : int or numpy.random.SeedSequence
    decoder : {"hard", "chase"}
    test_bits : int
        Chase-2 test bits (0 is hard decoding by the same kernel).
    """
    if not isinstance(fmt, PAM):
        raise TypeError(f"fmt must be a photolink PAM format, got {fmt!r}")
    bps = fmt.bits_per_symbol
    if 128 % bps:
        raise ValueError(f"{fmt.name} symbols of {bps} bits do not tile 128-bit words")
    sigma = fmt.noise_sigma(snr_db)
    n_words = v.integer("n_words", n_words, lo=1, hi=10**9)
    v.choice("decoder", decoder, DECODERS)
    test_bits = v.integer("test_bits", test_bits, lo=0, hi=MAX_TEST_BITS)
    ss = _rng.seed_sequence(seed)
    m, top = fmt.M, fmt.M - 1
    level_of_label = np.argsort(gray(np.arange(m)))                     # inverse Gray
    thresholds = np.arange(-m + 2, m - 1, 2, dtype=np.float64)
    flips = (gray(np.arange(m - 1)) ^ gray(np.arange(1, m)))             # label bits changing at each threshold
    shifts = np.arange(bps - 1, -1, -1)
    changes = ((flips[None, :] >> shifts[:, None]) & 1).astype(bool)     # (bit, threshold)
    hard_decoder = ExtendedHamming()
    chase = ChaseDecoder(test_bits) if decoder == "chase" else None
    ch_err = sym_err = done = 0
    for i, start in enumerate(range(0, n_words, batch_words)):
        nb = min(batch_words, n_words - start)
        gen = np.random.Generator(_rng.BitGenerator(_rng.child(ss, i)))
        data = gen.integers(0, 2, size=(nb, 120), dtype=np.uint8)
        word = _encode(data)
        bits = word.reshape(nb, 128 // bps, bps)
        labels = (bits.astype(np.int64) << shifts).sum(axis=2)
        y = 2.0 * level_of_label[labels] - top + sigma * gen.standard_normal(labels.shape)
        idx = np.clip(np.floor((y + m) * 0.5), 0, top).astype(np.int64)
        hard = ((gray(idx)[..., None] >> shifts) & 1).astype(np.uint8).reshape(nb, 128)
        dist = np.abs(y[..., None] - thresholds)                        # (nb, sym, threshold)
        rel = np.where(changes[None, None, :, :], dist[:, :, None, :], np.inf).min(axis=3).reshape(nb, 128)
        ch_err += int(np.count_nonzero(hard != word))
        if chase is None:
            out = word ^ hard_decoder.decode_errors(hard ^ word)
        else:
            out = chase.decode(hard, rel)[0]
        wrong = (out[:, :120] != word[:, :120]).reshape(nb, 12, 10).any(axis=2)
        sym_err += int(np.count_nonzero(wrong))
        done += nb
    return InnerResult(decoder, float(snr_db), ch_err, done * 128, sym_err, done * 12)


def kp4_symbol_error_target(target_cwer: float = 1e-12) -> float:
    """RS symbol error ratio at which KP4 (independent symbol errors) fails ``target_cwer``."""
    f = lambda ps: math.log(stats.binom.sf(KP4.t, KP4.n, ps)) - math.log(target_cwer)  # noqa: E731
    return float(optimize.brentq(f, 1e-8, 0.1, xtol=1e-12))


def measured_threshold(fmt: PAM, decoder: str, snrs_db, n_words: int, *, seed,
                       test_bits: int = CHASE_TEST_BITS) -> tuple[float, list[InnerResult]]:
    """Channel BER at which the post-inner RS symbol error ratio meets KP4's 1e-12 target.

    Simulates at each SNR of ``snrs_db`` and interpolates log(symbol error ratio) against
    log(channel BER) between the two points that bracket the target. Returns the threshold and
    the simulation points.
    """
    target = kp4_symbol_error_target()
    pts = [simulate_inner(fmt, s, n_words, seed=_rng.child(_rng.seed_sequence(seed), i), decoder=decoder,
                          test_bits=test_bits) for i, s in enumerate(snrs_db)]
    pts.sort(key=lambda p: p.channel_ber)
    for a, b in zip(pts, pts[1:]):
        if a.symbol_error_ratio <= target <= b.symbol_error_ratio and a.symbol_errors and b.symbol_errors:
            xa, xb = math.log(a.channel_ber), math.log(b.channel_ber)
            ya, yb = math.log(a.symbol_error_ratio), math.log(b.symbol_error_ratio)
            x = xa + (math.log(target) - ya) * (xb - xa) / (yb - ya)
            return float(math.exp(x)), pts
    raise ValueError(f"the SNRs {list(snrs_db)} do not bracket the target symbol error ratio {target:.3g}")
