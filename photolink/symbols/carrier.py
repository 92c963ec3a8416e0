"""Carrier-phase recovery and laser phase noise: the stream kernels' coherent settings.

Laser phase noise is a Wiener process: the carrier phase takes a Gaussian step of variance
2 pi (combined linewidth) (symbol period) per symbol. :class:`CarrierRecovery` describes the
receiver's feedforward phase estimator (Viterbi-Viterbi or blind phase search) that the QAM
stream kernel runs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .._util import validate as v
from .formats import QAM

#: Largest carrier-recovery window and test-phase count (those of the C kernel).
MAX_WINDOW = 1023
MAX_TEST_PHASES = 256
#: Longest pilot period and most pilots averaged (those of the C kernel).
MAX_PILOT_PERIOD = 65536
MAX_PILOT_AVERAGE = 64
#: Pilot period of the OIF 400ZR DSP frame: one QPSK pilot every 32 symbols (3712-symbol
#: sub-frames, 49 to a super-frame) [ref:zr-dsp-frame-pilots].
ZR_PILOT_PERIOD = 32
CPR_METHODS = ("viterbi-viterbi", "blind-phase-search")
#: Linewidth x symbol period up to which :meth:`CarrierRecovery.for_format` picks the long 16-QAM
#: window: 400ZR/800ZR-class lasers (combined linewidth up to ~1 MHz at 60-120 GBd: <= 1.7e-5).
LONG_WINDOW_MAX_LINEWIDTH = 2e-5
#: Blind-phase-search window of 16-QAM at such linewidths: at the 400ZR operating SNR (the
#: cFEC threshold, 13.5 dB) the 21-symbol window cycle-slips ~290 times per 1e6 symbols, this one
#: none in 1e6 (tests/symbols/test_coherent.py).
LONG_WINDOW_16QAM = 61


def linewidth_symbol_period(combined_linewidth_khz: float, symbol_rate_gbd: float) -> float:
    """Linewidth x symbol period from the combined (Tx + LO) linewidth and the symbol rate.

    >>> linewidth_symbol_period(200.0, 60.0)   # two 100 kHz lasers at 60 GBd
    3.3333333333333333e-06
    """
    lw = v.real("combined_linewidth_khz", combined_linewidth_khz, lo=0.0, hi=1e7)
    rs = v.real("symbol_rate_gbd", symbol_rate_gbd, lo=1e-3, hi=1e4)
    return lw * 1e3 / (rs * 1e9)


def phase_step_sigma(linewidth_symbol_period: float) -> float:
    """Standard deviation (rad) of the Wiener phase step per symbol, sqrt(2 pi dnu Ts)."""
    x = v.real("linewidth_symbol_period", linewidth_symbol_period, lo=0.0, hi=0.1)
    return math.sqrt(2.0 * math.pi * x)


@dataclass(frozen=True)
class CarrierRecovery:
    """Feedforward carrier-phase recovery over a centred window of symbols, per polarisation.

    * ``"viterbi-viterbi"`` (QPSK only): the 4th powers of the received samples are summed
      over the window; the phase estimate is a quarter of the sum's angle (less pi/4).
    * ``"blind-phase-search"`` (any square QAM; Pfau, Hoffmann, Noe, IEEE JLT 27(8) 2009):
      each sample is rotated by ``test_phases`` angles spread over [-pi/4, pi/4), decided, and
      the squared distances to the decisions are summed over the window; the angle with the
      least sum is the estimate.

    With ``pilot_period`` > 0 the estimate is also *pilot-aided*: every ``pilot_period``-th
    symbol of each polarisation is a known QPSK pilot on the outer corners of the constellation
    (as the OIF 400ZR DSP frame inserts one every 32 symbols, [ref:zr-dsp-frame-pilots]); at each
    pilot the residual phasor r s* exp(-j estimate) is averaged over the last ``pilot_average``
    pilots and, when the average's angle leaves [-pi/4, pi/4], the estimate's quadrant count is
    corrected. A cycle slip then costs the symbols up to its detection (about ``pilot_average``/2
    pilot periods) instead of a burst up to the next slip, without the BER doubling of
    differential decoding (Magarini et al., pilot-symbols-aided carrier-phase recovery, IEEE PTL
    2012, [ref:pilot-aided-cpr]). Pilots are neither decided nor counted as data.

    The estimate is unwrapped symbol to symbol (Pfau's unwrapping, ambiguity pi/2); a genie
    (a preamble) sets the start of every chunk of the stream (:data:`photolink.symbols.stream.CHUNK_SYMBOLS`
    symbols, the default of the stream's private ``_chunk_symbols``) to the true phase. Chunk edges shorten the window.

    Parameters
    ----------
    method : {"viterbi-viterbi", "blind-phase-search"}
    window : int
        Odd number of symbols averaged, 1 to 1023 (Pfau's 2N + 1).
    test_phases : int
        Blind phase search only: number of test angles B, 2 to 256.
    pilot_period : int
        0 (blind, the default) or 2 to 65536: one known pilot symbol every ``pilot_period`` symbols.
    pilot_average : int
        Pilots averaged by the slip correction, 1 to 64 (default 2). Too few at a low SNR make
        false repairs (each a slip): one QPSK pilot alone at 9 dB does, four do not
        (tests/symbols/test_pilots.py); outer-corner 16-QAM pilots at 13.5 dB are safe with two.
    """

    method: str = "blind-phase-search"
    window: int = 21
    test_phases: int = 32
    pilot_period: int = 0
    pilot_average: int = 2

    def __post_init__(self):
        v.choice("method", self.method, CPR_METHODS)
        w = v.integer("window", self.window, lo=1, hi=MAX_WINDOW)
        if w % 2 == 0:
            raise ValueError(f"window must be odd (a centred window of 2N+1 symbols), got {self.window!r}")
        b = v.integer("test_phases", self.test_phases, lo=2, hi=MAX_TEST_PHASES)
        p = v.integer("pilot_period", self.pilot_period, lo=0, hi=MAX_PILOT_PERIOD)
        if p == 1:
            raise ValueError("pilot_period must be 0 (no pilots) or in [2, 65536], got 1")
        a = v.integer("pilot_average", self.pilot_average, lo=1, hi=MAX_PILOT_AVERAGE)
        object.__setattr__(self, "window", w)
        object.__setattr__(self, "test_phases", b)
        object.__setattr__(self, "pilot_period", p)
        object.__setattr__(self, "pilot_average", a)

    @property
    def pilot_overhead(self) -> float:
        """Share of the symbols spent on pilots (0 without pilots)."""
        return 1.0 / self.pilot_period if self.pilot_period else 0.0

    @classmethod
    def for_format(cls, fmt: QAM, linewidth_symbol_period: float | None = None) -> "CarrierRecovery":
        """A reasonable default: Viterbi-Viterbi over 31 symbols for QPSK; blind phase search
        with 32 (16-QAM) or 64 (64/256-QAM) test phases over 21, 33 or 41 symbols. Each costs
        about 0.1 dB at zero linewidth (BER 1e-3) and about 1 dB, with differential coding, at
        the linewidths Pfau et al. (2009) report for a 1 dB penalty.

        Given a ``linewidth_symbol_period`` of at most :data:`LONG_WINDOW_MAX_LINEWIDTH` (the
        narrow lasers of 400ZR/800ZR), 16-QAM gets the longer :data:`LONG_WINDOW_16QAM`-symbol
        window: the short one cycle-slips every few thousand symbols at the low SNR a
        soft-decision FEC runs at, the long one averages the noise out while the phase barely
        moves over it."""
        if not isinstance(fmt, QAM):
            raise TypeError(f"fmt must be a photolink QAM format, got {type(fmt).__name__} {fmt!r}")
        if linewidth_symbol_period is not None:
            linewidth_symbol_period = v.real("linewidth_symbol_period", linewidth_symbol_period, lo=0.0, hi=0.1)
        if fmt.M == 4:
            return cls("viterbi-viterbi", 31)
        if fmt.M == 16:
            narrow = linewidth_symbol_period is not None and linewidth_symbol_period <= LONG_WINDOW_MAX_LINEWIDTH
            return cls("blind-phase-search", LONG_WINDOW_16QAM if narrow else 21, 32)
        return cls("blind-phase-search", 33 if fmt.M == 64 else 41, 64)

    def check_format(self, fmt: QAM) -> None:
        """Raise ValueError if this recovery cannot serve ``fmt``."""
        if self.method == "viterbi-viterbi" and fmt.M != 4:
            raise ValueError(f"carrier_recovery method 'viterbi-viterbi' needs QPSK (M=4), got {fmt}; "
                             f"use 'blind-phase-search'")

    def to_dict(self) -> dict:
        return {"method": self.method, "window": self.window, "test_phases": self.test_phases,
                "pilot_period": self.pilot_period, "pilot_average": self.pilot_average}
