"""Forward error correction: Reed-Solomon codes over GF(2^m) and what they leave uncorrected.

A bounded-distance RS(n, k) decoder corrects up to t = (n - k) / 2 wrong symbols per codeword
and fails beyond. With independent bit errors at rate p, a 10-bit RS symbol is wrong with
probability 1 - (1 - p)^m and the codeword error ratio is the binomial tail P[X > t].
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize
from scipy import stats as _st

from . import _rs
from .._util import validate as v


def ber_at_cwer(cwer_from_ber, target_cwer: float, lowest_ber: float, highest_ber: float) -> float:
    """The BER at which a rising ``cwer_from_ber`` curve reaches ``target_cwer`` (log-scale root)."""
    target = v.real("target_cwer", target_cwer, lo=1e-30, hi=0.5)
    f = lambda lb: math.log(cwer_from_ber(10.0**lb)) - math.log(target)  # noqa: E731
    return 10.0 ** optimize.brentq(f, math.log10(lowest_ber), math.log10(highest_ber), xtol=1e-12)


@dataclass(frozen=True)
class RS:
    """A (shortened) Reed-Solomon code RS(n, k) over GF(2^symbol_bits).

    Parameters
    ----------
    n, k : int
        Codeword and message length in symbols; n - k even and positive, n < 2^symbol_bits.
    symbol_bits : int
        Bits per RS symbol (10 for the IEEE 802.3 codes).
    name : str
        Display name.
    decode_ns : float
        Decoder pipeline latency after the codeword has arrived, ns.
    source : str
        Where the figures come from (docs/references.md rows).
    """

    n: int
    k: int
    symbol_bits: int = 10
    name: str = ""
    decode_ns: float = 0.0
    source: str = ""

    def __post_init__(self):
        m = v.integer("symbol_bits", self.symbol_bits, lo=3, hi=16)
        n = v.integer("n", self.n, lo=2, hi=(1 << m) - 1)
        k = v.integer("k", self.k, lo=1, hi=n)
        if n <= k or (n - k) % 2:
            raise ValueError(f"n - k must be positive and even (n > k), got n={n}, k={k}")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "symbol_bits", m)
        object.__setattr__(self, "decode_ns", v.real("decode_ns", self.decode_ns, lo=0, hi=1e7))
        if not self.name:
            object.__setattr__(self, "name", f"RS({n},{k})")

    @property
    def t(self) -> int:
        """Symbols corrected per codeword."""
        return (self.n - self.k) // 2

    @property
    def overhead(self) -> float:
        """Redundancy over payload, n / k - 1."""
        return self.n / self.k - 1

    @property
    def codeword_bits(self) -> int:
        return self.n * self.symbol_bits

    @property
    def message_bits(self) -> int:
        return self.k * self.symbol_bits

    def symbol_error_rate(self, ber):
        """RS symbol error probability 1 - (1 - ber)^m for independent bit errors."""
        ber = v.real_array("ber", ber, lo=0.0, hi=1.0)
        return -np.expm1(self.symbol_bits * np.log1p(-np.minimum(ber, 1 - 1e-16)))

    def cwer_from_ber(self, ber):
        """Codeword error ratio P[Binomial(n, ps) > t] for independent bit errors at ``ber``.

        Accurate to far below 1e-30 (regularised incomplete beta function, no cancellation).
        """
        ps = self.symbol_error_rate(ber)
        out = _st.binom.sf(self.t, self.n, ps)
        return float(out) if np.ndim(out) == 0 else out

    def max_ber(self, target_cwer: float = 1e-12) -> float:
        """Largest independent pre-FEC BER whose codeword error ratio is at most ``target_cwer``."""
        return ber_at_cwer(self.cwer_from_ber, target_cwer, lowest_ber=1e-12, highest_ber=0.5)

    @property
    def threshold_ber(self) -> float:
        """Design pre-FEC BER: the BER that leaves a codeword error ratio of 1e-12.

        KP4 gives ~2.5e-4, the IEEE 802.3 design point of 2.4e-4 ([ref:kp4-design-ber]).
        """
        return self.max_ber(1e-12)

    def codewords_per_frame(self, frame_bytes, interleave: int = 1) -> float:
        """Mean number of codewords a frame touches, for a random start offset.

        Without interleaving 1 + (8L - 1)/K; with I-way symbol interleaving the message bits
        are spread over groups of I codewords, so a frame touches I + (8L - 1)/K of them.
        """
        frame_bytes = v.real("frame_bytes", frame_bytes, lo=1, hi=1e9)
        interleave = v.integer("interleave", interleave, lo=1, hi=64)
        return interleave + (8 * frame_bytes - 1) / self.message_bits

    def frame_loss_ratio(self, cwer, frame_bytes, interleave: int = 1):
        """Probability that a frame touches a failed codeword, from the codeword error ratio
        (independent codeword failures).

        KP4 at a pre-FEC BER of 2.4e-4 gives 9.0e-13 for 64-byte frames, 1.7e-12 with 2-way and
        3.4e-12 with 4-way interleaving: the figures of [ref:kp4-frame-loss-interleave].
        """
        cwer = v.real_array("cwer", cwer, lo=0.0, hi=1.0)
        per = self.codewords_per_frame(frame_bytes, interleave)
        out = -np.expm1(per * np.log1p(-np.minimum(cwer, 1 - 1e-16)))
        return float(out) if out.ndim == 0 else out

    def latency_ns(self, lane_rate_gbps: float, lanes: int = 1) -> float:
        """Codeword accumulation at the line rate over ``lanes`` lanes plus the decode pipeline.

        ``lane_rate_gbps`` is the serial line rate of one lane (FEC overhead included).
        """
        rate = v.real("lane_rate_gbps", lane_rate_gbps, lo=0.001, hi=1e5)
        lanes = v.integer("lanes", lanes, lo=1, hi=1024)
        return self.codeword_bits / (rate * lanes) + self.decode_ns

    # ---- encoder and decoder (C, GF(2^10) only) ----------------------------------------

    @property
    def generator(self) -> np.ndarray:
        """Generator polynomial g(x) = prod_{j<2t} (x - alpha^j), coefficients highest degree
        first, over GF(2^10) with primitive polynomial x^10 + x^3 + 1 (IEEE 802.3 clause 91)."""
        return _codec(self).generator

    def encode(self, messages) -> np.ndarray:
        """Systematic encoding: (batch, k) message symbols -> (batch, n) codewords (uint16).

        Symbol 0 is sent first and is the coefficient of x^(n-1); the 2t parity symbols follow
        the message. A single message of shape (k,) gives one codeword of shape (n,).
        """
        msg, single = _symbols("messages", messages, self.k)
        out = _codec(self).encode(msg)
        return out[0] if single else out

    def decode(self, words, sent=None) -> "DecodeResult":
        """Decode received words with the bounded-distance decoder.

        Parameters
        ----------
        words : array of shape (batch, n) or (n,)
            Received symbols (0..1023). Not modified.
        sent : array like ``words``, optional
            The transmitted codewords: then miscorrections (a wrong codeword returned as
            correct) are counted.

        Returns
        -------
        DecodeResult
        """
        w, single = _symbols("words", words, self.n)
        w = w.copy()
        corrected, failed = _codec(self).decode_inplace(w)
        mis = None
        if sent is not None:
            s, _ = _symbols("sent", sent, self.n)
            if s.shape != w.shape:
                raise ValueError(f"sent must have the shape of words {w.shape}, got {s.shape}")
            mis = ~failed & np.any(w != s, axis=1)
        if single:
            return DecodeResult(w[0], corrected[:1], failed[:1], None if mis is None else mis[:1])
        return DecodeResult(w, corrected, failed, mis)

    def is_codeword(self, words) -> np.ndarray:
        """True for each word with a zero remainder modulo g(x)."""
        w, single = _symbols("words", words, self.n)
        ok = ~_codec(self).check(w)
        return ok[0] if single else ok

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class DecodeResult:
    """Outcome of :meth:`RS.decode`.

    Attributes
    ----------
    codewords : numpy.ndarray
        Decoded words (uint16); a failed word is returned as received.
    corrected : numpy.ndarray
        Symbols corrected per word (int32; 0 for failed words).
    failed : numpy.ndarray
        Decoder-detected failure per word (bool).
    miscorrected : numpy.ndarray or None
        Word returned as a codeword other than the one sent (bool), when ``sent`` was given.
    """

    codewords: np.ndarray
    corrected: np.ndarray
    failed: np.ndarray
    miscorrected: np.ndarray | None = None

    @property
    def n_failed(self) -> int:
        return int(np.count_nonzero(self.failed))

    @property
    def n_miscorrected(self) -> int | None:
        return None if self.miscorrected is None else int(np.count_nonzero(self.miscorrected))

    def to_dict(self) -> dict:
        return {"words": int(self.failed.size), "failed": self.n_failed,
                "miscorrected": self.n_miscorrected,
                "corrected_symbols": int(self.corrected.sum())}


def _codec(code: RS):
    if code.symbol_bits != 10:
        raise ValueError(f"the C codec works over GF(2^10): symbol_bits must be 10, got {code.symbol_bits}")
    return _codec_for(code.n, code.k)


@lru_cache(maxsize=16)
def _codec_for(n: int, k: int):
    if n - k > _rs.MAX_ROOTS:
        raise ValueError(f"the C codec handles n - k <= {_rs.MAX_ROOTS} parity symbols, got {n - k}")
    return _rs.Codec(n, k)


#: Most symbols one encode/decode call takes (2 GiB of uint16): larger batches are refused
#: up front; split them.
MAX_BATCH_SYMBOLS = 1 << 30


def _symbols(name: str, value, length: int) -> tuple[np.ndarray, bool]:
    """A C-contiguous (batch, length) uint16 array of symbols in [0, 1023]."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an integer array, got {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a rectangular integer array, got {type(value).__name__}") from None
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise TypeError(f"{name} must hold integer symbols, got dtype {arr.dtype}")
    single = arr.ndim == 1
    if single:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != length:
        shape = arr.shape[1:] if single else arr.shape
        raise ValueError(f"{name} must have shape (batch, {length}) or ({length},), got {shape}")
    if arr.size > MAX_BATCH_SYMBOLS:
        raise ValueError(f"{name} must hold at most {MAX_BATCH_SYMBOLS // length} words of {length} "
                         f"symbols per call, got {arr.shape[0]}: split the batch")
    if arr.size and ((arr.dtype.kind == "i" and arr.min() < 0) or arr.max() > 1023):
        bad = arr[(arr < 0) | (arr > 1023)].flat[0]
        raise ValueError(f"{name} must hold symbols in [0, 1023], got {int(bad)}")
    return np.ascontiguousarray(arr, dtype=np.uint16), single


#: IEEE 802.3 clause 91 RS(528,514), t = 7. Decode figure: AMD/Xilinx PG203 RX ~115 ns at 100G
#: less the 5280-bit accumulation at 4 x 25.78 Gb/s (~51 ns).
KR4 = RS(528, 514, name="KR4 RS(528,514)", decode_ns=64.0,
         source="[ref:kr4-code] IEEE 802.3 clause 91; [ref:kr4-latency] KR4 latency AMD PG203 (D)")
#: IEEE 802.3 clauses 91/119 RS(544,514), t = 15. Decode: ~3 ns encode + ~31 ns correction
#: (802.3dj slide, E).
KP4 = RS(544, 514, name="KP4 RS(544,514)", decode_ns=34.0,
         source="[ref:kp4-code] IEEE 802.3 clauses 91/119 (S); [ref:kp4-latency] latency 802.3dj slide (E)")
#: Ethernet Consortium low-latency RS(272,257+1), t = 7: about half of KP4's latency (P).
RS272 = RS(272, 258, name="LL RS(272,258)", decode_ns=17.0,
           source="[ref:rs272-low-latency] 25G/50G Ethernet Consortium (P)")
