"""Coherent links: OSNR and SNR, laser phase noise, carrier recovery, FEC thresholds.

SNR = OSNR * B_ref / R_s, with B_ref the OSNR reference bandwidth (12.5 GHz for 0.1 nm at
1550 nm) and R_s the symbol rate; OSNR counts the signal power of both polarisations and the
noise of both polarisations in B_ref, so the result is the per-polarisation symbol SNR
([ref:osnr-to-snr]).

Laser phase noise is a Wiener process: the carrier phase takes a Gaussian step of variance
2 pi (linewidth x symbol period) per symbol, with the combined linewidth of transmitter and
local-oscillator lasers. A feedforward carrier-phase recovery (:class:`CarrierRecovery`)
estimates it over a centred window of symbols; its estimate is ambiguous by multiples of
pi/2 (the square constellations' symmetry) and is unwrapped symbol to symbol. A *cycle slip*
is a jump of that unwrapped estimate by a quadrant relative to the true phase: without
differential coding every later symbol of the polarisation is rotated (a burst up to the next
slip), with quadrant differential coding a slip costs one symbol.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import clopper_pearson
from .carrier import CarrierRecovery
from .formats import QAM
from .stream import simulate_ber


def snr_from_osnr(osnr_db: ArrayLike, symbol_rate_gbd: float, ref_bw_ghz: float = 12.5
                  ) -> float | np.ndarray:
    """Symbol SNR in dB from OSNR in dB (scalar or array)."""
    osnr = v.real_array("osnr_db", osnr_db, lo=-50.0, hi=100.0)
    rs = v.real("symbol_rate_gbd", symbol_rate_gbd, lo=1e-3, hi=1e4)
    bw = v.real("ref_bw_ghz", ref_bw_ghz, lo=1e-3, hi=1e4)
    out = osnr + 10 * np.log10(bw / rs)
    return float(out) if out.ndim == 0 else out


def osnr_from_snr(snr_db: ArrayLike, symbol_rate_gbd: float, ref_bw_ghz: float = 12.5
                  ) -> float | np.ndarray:
    """OSNR in dB (in ``ref_bw_ghz``) giving symbol SNR ``snr_db`` (scalar or array)."""
    snr = v.real_array("snr_db", snr_db, lo=-50.0, hi=100.0)
    rs = v.real("symbol_rate_gbd", symbol_rate_gbd, lo=1e-3, hi=1e4)
    bw = v.real("ref_bw_ghz", ref_bw_ghz, lo=1e-3, hi=1e4)
    out = snr - 10 * np.log10(bw / rs)
    return float(out) if out.ndim == 0 else out


def required_osnr_db(fmt: QAM, symbol_rate_gbd: float, pre_fec_ber: object, ref_bw_ghz: float = 12.5,
                     penalty_db: float = 0.0) -> float | np.ndarray:
    """OSNR (dB in ``ref_bw_ghz``) at which ``fmt`` over AWGN reaches ``pre_fec_ber``.

    The SNR of the exact Gray BER (:meth:`photolink.QAM.snr_db_for_ber`) plus ``penalty_db``
    (implementation or phase-noise penalty, e.g. from :func:`phase_noise_penalty`), converted
    with :func:`osnr_from_snr`. ``pre_fec_ber`` is a number or a FEC with a ``threshold_ber``
    (e.g. :data:`photolink.fec.CFEC_400ZR`, 1.25e-2, or :data:`photolink.fec.OFEC`, 2.0e-2).

    >>> from photolink import DP_16QAM, fec
    >>> round(required_osnr_db(DP_16QAM, 59.84, fec.CFEC_400ZR), 2)
    20.35
    """
    if not isinstance(fmt, QAM):
        raise TypeError(f"fmt must be a photolink QAM format, got {type(fmt).__name__} {fmt!r}")
    pre_fec_ber = getattr(pre_fec_ber, "threshold_ber", pre_fec_ber)
    if np.ndim(pre_fec_ber) > 0:                                       # elementwise
        ber = v.real_array("pre_fec_ber", pre_fec_ber, lo=1e-15, hi=0.2)
        if np.any(ber >= 0.2):
            raise ValueError(f"pre_fec_ber must hold values in [1e-15, 0.2), got {pre_fec_ber!r}")
    else:
        ber = v.real("pre_fec_ber", pre_fec_ber, lo=1e-15, hi=0.2, hi_open=True)
    penalty = v.real("penalty_db", penalty_db, lo=0.0, hi=30.0)
    return osnr_from_snr(fmt.snr_db_for_ber(ber) + penalty, symbol_rate_gbd, ref_bw_ghz)


@dataclass(frozen=True)
class PhaseNoisePenalty:
    """Extra SNR that laser phase noise and carrier recovery cost at a target BER.

    Attributes
    ----------
    penalty_db : float
        ``snr_db - snr_db_awgn`` (inf when the target is not reached below ``snr_db_awgn + 10``:
        an error floor).
    penalty_ci_db : (float, float)
        Interval of the penalty from the BER interval at the solution and the local slope.
    snr_db, snr_db_awgn : float
        SNR reaching the target with and without the impairment (closed form, ideal carrier,
        no differential coding).
    ber, ber_ci : float, (float, float)
        Monte-Carlo BER at ``snr_db`` and its interval.
    symbols : int
        Dual-polarisation symbols per evaluated SNR (the same seed at every SNR).
    cycle_slips : int
        Cycle slips counted at ``snr_db``.
    """

    format: str
    linewidth_symbol_period: float
    target_ber: float
    carrier_recovery: CarrierRecovery | None
    differential: bool
    penalty_db: float
    penalty_ci_db: tuple
    snr_db: float
    snr_db_awgn: float
    ber: float
    ber_ci: tuple
    symbols: int
    cycle_slips: int
    confidence: float = 0.95

    def to_dict(self) -> dict:
        return {"format": self.format, "linewidth_symbol_period": self.linewidth_symbol_period,
                "target_ber": self.target_ber,
                "carrier_recovery": self.carrier_recovery.to_dict() if self.carrier_recovery else None,
                "differential": self.differential, "penalty_db": self.penalty_db,
                "penalty_ci_low_db": self.penalty_ci_db[0], "penalty_ci_high_db": self.penalty_ci_db[1],
                "snr_db": self.snr_db, "snr_db_awgn": self.snr_db_awgn, "ber": self.ber,
                "ber_ci_low": self.ber_ci[0], "ber_ci_high": self.ber_ci[1], "symbols": self.symbols,
                "cycle_slips": self.cycle_slips, "confidence": self.confidence}


def phase_noise_penalty(fmt: QAM, linewidth_symbol_period: float, target_ber: float = 1e-3, *,
                        carrier_recovery: CarrierRecovery | None = None, differential: bool = False,
                        n_symbols: int | None = None, seed=0, n_threads: int = 1,
                        tol_db: float = 0.01, confidence: float = 0.95) -> PhaseNoisePenalty:
    """SNR penalty of laser phase noise plus carrier recovery at a target BER, by Monte Carlo.

    The BER is simulated with the same seed at every SNR (common random numbers, so it falls
    smoothly with SNR) and the SNR reaching ``target_ber`` is found by bracketing and
    log-BER interpolation (Illinois false position). The penalty is measured against the
    closed form of an ideal coherent receiver (:meth:`photolink.QAM.snr_db_for_ber`), so it
    includes the cost of the recovery itself (finite window, test-phase grid) and, with
    ``differential=True``, that of differential decoding.

    Reference figure: Pfau, Hoffmann, Noe, "Hardware-efficient coherent digital receiver
    concept with feedforward carrier recovery for M-QAM constellations", IEEE JLT 27(8),
    989-999, 2009: a 1 dB penalty at BER 1e-3 is reached at linewidth x symbol period of
    4.1e-4 (QPSK), 1.4e-4 (16-QAM), 4.0e-5 (64-QAM), 8.0e-6 (256-QAM) with blind phase search.

    Parameters
    ----------
    fmt : QAM
    linewidth_symbol_period : float
        Combined linewidth x symbol period, 0 to 0.1.
    target_ber : float
        1e-6 to 0.1.
    carrier_recovery : CarrierRecovery, optional
        Default :meth:`CarrierRecovery.for_format` for the linewidth.
    differential : bool
        Quadrant differential coding.
    n_symbols : int, optional
        Dual-polarisation symbols per SNR; default enough for ~4000 bit errors at the target.
    seed : int, SeedSequence or Generator
    n_threads : int
    tol_db : float
        SNR tolerance of the search (0.001 to 0.5 dB).
    confidence : float

    Returns
    -------
    PhaseNoisePenalty
    """
    if not isinstance(fmt, QAM):
        raise TypeError(f"fmt must be a photolink QAM format, got {type(fmt).__name__} {fmt!r}")
    lw = v.real("linewidth_symbol_period", linewidth_symbol_period, lo=0.0, hi=0.1)
    target = v.real("target_ber", target_ber, lo=1e-6, hi=0.1)
    cr = CarrierRecovery.for_format(fmt, lw) if carrier_recovery is None else carrier_recovery
    if not isinstance(cr, CarrierRecovery):
        raise TypeError(f"carrier_recovery must be a CarrierRecovery or None, got {cr!r}")
    cr.check_format(fmt)
    tol = v.real("tol_db", tol_db, lo=1e-3, hi=0.5)
    confidence = v.real("confidence", confidence, lo=0.5, hi=0.9999)
    if n_symbols is None:
        n_symbols = min(int(4000 / (target * fmt.bits_per_symbol)) + 1, 10**8)
    n = v.integer("n_symbols", n_symbols, lo=1000, hi=10**10)
    # one SeedSequence for every SNR (common random numbers): a None or a Generator passed on
    # as is gave each SNR fresh entropy, a noisy BER curve and intervals down to -60 dB
    ss_seed = _rng.seed_sequence(seed)

    results = {}

    def run(snr):
        r = simulate_ber(fmt, snr, n, seed=ss_seed, linewidth_symbol_period=lw, carrier_recovery=cr,
                         differential=differential, n_threads=n_threads)
        results[snr] = r
        return r

    def f(snr):   # log(BER / target), decreasing in SNR; zero errors count as half an error
        r = run(snr)
        return math.log(max(r.bit_errors, 0.5) / r.bits / target)

    s_awgn = fmt.snr_db_for_ber(target)
    lo, hi = s_awgn - 0.5, s_awgn + 0.5
    f_lo = f(lo)
    while f_lo < 0 and lo > s_awgn - 3:       # only MC noise can put the ideal curve's SNR too high
        hi, lo = lo, lo - 0.5
        f_lo = f(lo)
    f_hi = f(hi)
    while f_hi > 0 and hi < s_awgn + 10:
        lo, f_lo = hi, f_hi
        hi = min(hi + max(1.0, 2 * (hi - s_awgn)), s_awgn + 10)
        f_hi = f(hi)
    if f_hi > 0:
        r = results[hi]
        return PhaseNoisePenalty(fmt.name, lw, target, cr, bool(differential), math.inf, (math.inf, math.inf),
                                 math.inf, s_awgn, r.ber, clopper_pearson(r.bit_errors, r.bits, confidence),
                                 n, int(r.cycle_slips), confidence)
    # Illinois false position on log BER
    side = 0
    s = hi
    for _ in range(40):
        s = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        fs = f(s)
        if fs > 0:
            lo, f_lo = s, fs
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi = s, fs
            if side == 1:
                f_lo *= 0.5
            side = 1
        if hi - lo < tol or abs(fs) < 1e-3:
            break
    r = results[s]
    ber_ci = clopper_pearson(r.bit_errors, r.bits, confidence)
    # local slope d log(BER) / d SNR: a fit to the evaluated SNRs within 0.3 dB of s (1 dB if
    # they spread less than 0.1 dB). (A fit to the three nearest, often a few mdB apart once the
    # search has converged, gave a slope of pure Monte Carlo noise: intervals of 0.002 dB or of
    # -60 dB.) Without such a spread, the ideal curve's slope at the target.
    for width in (0.3, 1.0):
        near = [x for x in results if abs(x - s) <= width and results[x].bit_errors > 0]
        if len(near) >= 2 and max(near) - min(near) >= 0.1:
            ys = [math.log(results[x].bit_errors / results[x].bits) for x in near]
            slope = float(np.polyfit(np.array(near), np.array(ys), 1)[0])
            break
    else:
        slope = (math.log(fmt.ber_awgn(s_awgn + 0.05)) - math.log(fmt.ber_awgn(s_awgn - 0.05))) / 0.1
    slope = min(slope, -1e-3)
    # SNR where the true BER meets the target, for the MC BER and its interval ends at s
    floor = 0.5 / r.bits
    at = lambda b: s + (math.log(target) - math.log(max(b, floor))) / slope  # noqa: E731
    snr = at(r.ber)
    ends = sorted((at(ber_ci[0]), at(ber_ci[1])))
    return PhaseNoisePenalty(fmt.name, lw, target, cr, bool(differential), snr - s_awgn,
                             (ends[0] - s_awgn, ends[1] - s_awgn), snr, s_awgn,
                             r.ber, ber_ci, n, int(r.cycle_slips), confidence)
