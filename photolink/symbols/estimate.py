"""Bit-error rates too small for plain Monte Carlo.

Three methods, one result type:

* ``"importance"``: importance sampling. Symbols and residual ISI are drawn as they are;
  the slicer noise is drawn from a mixture of the true noise and Gaussians shifted onto the two
  nearest decision thresholds, and each outcome carries the likelihood ratio. Unbiased, with a CLT interval.
* ``"statistical-eye"``: semi-analytic (COM-style). The residual-ISI distribution is
  computed exactly by convolution on a fine grid and the Gaussian noise tail is integrated in
  closed form, for every level and every decision region (exact Gray bit counts).
* ``"montecarlo"``: :func:`photolink.simulate_ber` in growing batches until the interval is tight.

All three assume correct DFE feedback (the error-free-feedback bound); error propagation is
only seen by the Monte-Carlo stream.

Coherent QAM over AWGN: each rail is an independent sqrt(M)-PAM at the symbol SNR, so
``"importance"`` and ``"statistical-eye"`` estimate the rail PAM's BER, which is the QAM BER.
Laser phase noise, carrier recovery and differential coding are covered by ``"montecarlo"``
only (the stream of :func:`photolink.simulate_ber`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import mean_interval, relative_half_width
from .carrier import CarrierRecovery
from .channel import Channel, Equalizer, decision_point
from .formats import PAM, QAM, _hamming_matrix
from .stream import SymbolStream

METHODS = ("importance", "statistical-eye", "montecarlo")
#: Grid points of the residual-ISI distribution in the statistical eye.
EYE_GRID = 1 << 16


@dataclass(frozen=True)
class BerEstimate:
    """A BER estimate with its confidence interval.

    Attributes
    ----------
    ber : float
    ci : (float, float)
        Confidence interval (the grid-exact statistical eye reports ``(ber, ber)``).
    method : str
    samples : int
        Noise samples (importance), symbols (Monte Carlo) or 0 (statistical eye).
    format, snr_db, confidence
    """

    ber: float
    ci: tuple
    method: str
    samples: int
    format: str
    snr_db: float
    confidence: float = 0.95

    def to_dict(self) -> dict:
        return {"ber": self.ber, "ber_ci_low": self.ci[0], "ber_ci_high": self.ci[1],
                "method": self.method, "samples": self.samples, "format": self.format,
                "snr_db": self.snr_db, "confidence": self.confidence}


def estimate_ber(fmt: PAM | QAM, snr_db: float, *, seed: _rng.SeedLike = None,
                 method: str = "importance", rel_ci: float = 0.1, channel: Channel | None = None,
                 equalizer: Equalizer | None = None, confidence: float = 0.95,
                 max_samples: int = 10**8, linewidth_symbol_period: float = 0.0,
                 carrier_recovery: CarrierRecovery | None = None,
                 differential: bool = False) -> BerEstimate:
    """Estimate a BER from 1e-2 down to 1e-15 and below.

    Parameters
    ----------
    fmt : PAM or QAM
        Modulation format.
    snr_db : float
        SNR in dB, as for :func:`photolink.simulate_ber`.
    seed : int, SeedSequence, Generator or None
        For the sampling methods.
    method : {"importance", "statistical-eye", "montecarlo"}
    rel_ci : float
        Stop once the interval's half-width is below ``rel_ci * ber`` (0.001 to 1).
    channel : Channel, optional
    equalizer : Equalizer, optional
    confidence : float
        Interval coverage (0.5 to 0.9999).
    max_samples : int
        Upper bound on samples or symbols; the estimate stops there with a wider interval.
    linewidth_symbol_period, carrier_recovery, differential
        QAM only, ``method="montecarlo"`` only; see :class:`photolink.SymbolStream`.

    Returns
    -------
    BerEstimate
    """
    if not isinstance(fmt, (PAM, QAM)):
        raise TypeError(f"fmt must be a photolink PAM or QAM format, got {type(fmt).__name__} {fmt!r}")
    if isinstance(fmt, QAM):
        return _estimate_qam(fmt, snr_db, seed, method, rel_ci, channel, equalizer, confidence,
                             max_samples, linewidth_symbol_period, carrier_recovery, differential)
    for name, value in (("linewidth_symbol_period", linewidth_symbol_period),
                        ("carrier_recovery", carrier_recovery), ("differential", differential)):
        if not v.unset(value):
            raise ValueError(f"{name} applies to QAM formats only, got {value!r} with {fmt}")
    snr_db = v.real("snr_db", snr_db, lo=-30, hi=80)
    v.choice("method", method, METHODS)
    rel_ci = v.real("rel_ci", rel_ci, lo=1e-3, hi=1.0)
    confidence = v.real("confidence", confidence, lo=0.5, hi=0.9999)
    max_samples = v.integer("max_samples", max_samples, lo=1000, hi=10**12)
    if channel is not None and not isinstance(channel, Channel):
        raise TypeError(f"channel must be a photolink.Channel or None, got {type(channel).__name__}")
    if equalizer is not None and not isinstance(equalizer, Equalizer):
        raise TypeError(f"equalizer must be a photolink.Equalizer or None, got {type(equalizer).__name__}")
    if method == "montecarlo":
        return _montecarlo(fmt, snr_db, seed, rel_ci, channel, equalizer, confidence, max_samples)
    cursor, isi, sigma = _scaled_decision_point(fmt, snr_db, channel, equalizer)
    if method == "statistical-eye":
        ber = _statistical_eye(fmt, cursor, isi, sigma)
        return BerEstimate(ber, (ber, ber), method, 0, fmt.name, snr_db, confidence)
    return _importance(fmt, cursor, isi, sigma, _rng.seed_sequence(seed), rel_ci,
                       confidence, max_samples, snr_db)


def _scaled_decision_point(fmt: PAM, snr_db: float, channel, equalizer):
    """Main cursor (1.0), residual ISI and noise sigma at the slicer, relative to the cursor.

    Only ratios matter, so the figures are divided by the equalised main cursor, and the FFE's
    noise gain is taken as a scaled norm (``math.hypot``): FFE taps of 1e-170 or 1e170 give
    the BER of the same taps at unit scale instead of underflowing to sigma = 0 (BER 0 or NaN).
    """
    dp = decision_point(channel, equalizer)
    ffe = equalizer.ffe if equalizer is not None else (1.0,)
    main = channel.main if channel is not None else 1.0
    # dp.cursor = sum_k ffe_k * h_(d-k), so noise_gain / cursor is formed without squaring taps.
    peak = max(abs(t) for t in ffe)
    gain_rel = math.hypot(*(t / peak for t in ffe)) / (dp.cursor / peak)
    sigma = fmt.noise_sigma(snr_db) * main * gain_rel
    return 1.0, np.asarray(dp.residual_isi, dtype=np.float64) / dp.cursor, sigma


def _estimate_qam(fmt, snr_db, seed, method, rel_ci, channel, equalizer, confidence, max_samples,
                  linewidth_symbol_period, carrier_recovery, differential) -> BerEstimate:
    v.choice("method", method, METHODS)
    for name, value in (("channel", channel), ("equalizer", equalizer)):
        if value is not None:
            raise ValueError(f"{name} applies to PAM formats only, got {value!r} with {fmt}")
    if method == "montecarlo":
        snr_db = v.real("snr_db", snr_db, lo=-30, hi=80)
        rel_ci = v.real("rel_ci", rel_ci, lo=1e-3, hi=1.0)
        confidence = v.real("confidence", confidence, lo=0.5, hi=0.9999)
        max_samples = v.integer("max_samples", max_samples, lo=1000, hi=10**12)
        return _montecarlo(fmt, snr_db, seed, rel_ci, None, None, confidence, max_samples,
                           linewidth_symbol_period=linewidth_symbol_period,
                           carrier_recovery=carrier_recovery, differential=differential)
    if not (v.unset(linewidth_symbol_period) and carrier_recovery is None and v.unset(differential)):
        raise ValueError(f"method {method!r} covers QAM over AWGN only; use method='montecarlo' with "
                         f"linewidth_symbol_period, carrier_recovery or differential")
    rail = estimate_ber(fmt.rail, snr_db, seed=seed, method=method, rel_ci=rel_ci,
                        confidence=confidence, max_samples=max_samples)
    return BerEstimate(rail.ber, rail.ci, rail.method, rail.samples, fmt.name, rail.snr_db,
                       rail.confidence)


def _thresholds(fmt: PAM, cursor: float) -> np.ndarray:
    return cursor * np.arange(-fmt.M + 2, fmt.M - 1, 2, dtype=np.float64)


def _isi_pmf(fmt: PAM, isi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and probabilities of sum(isi_j * a_j) with a_j independent, uniform levels.

    Each tap's contribution is rounded to a grid of EYE_GRID steps over the ISI's reach; the
    grid keeps a margin of one step per tap so that rounding never pushes mass off its ends.
    """
    if isi.size == 0:
        return np.zeros(1), np.ones(1)
    reach = float(np.sum(np.abs(isi))) * (fmt.M - 1)
    step = reach / (EYE_GRID // 2)
    half = EYE_GRID // 2 + isi.size + 1
    pmf = np.zeros(2 * half + 1)
    pmf[half] = 1.0
    for tap in isi:
        new = np.zeros_like(pmf)
        for shift in np.rint(tap * fmt.levels / step).astype(int):
            new[max(shift, 0):pmf.size + min(shift, 0)] += pmf[max(-shift, 0):pmf.size - max(shift, 0)]
        pmf = new / fmt.M
    keep = pmf > 0
    values = (np.arange(pmf.size) - half) * step
    return values[keep], pmf[keep]


def _region_probs(fmt: PAM, x: np.ndarray, thresholds: np.ndarray, sigma: float,
                  sent: int) -> np.ndarray:
    """P[decide j] for slicer inputs ``x`` (noise-free) of level ``sent``: shape x.shape + (M,)."""
    lo = np.concatenate([[-np.inf], thresholds])
    hi = np.concatenate([thresholds, [np.inf]])
    j = np.arange(fmt.M)
    below = special.ndtr((hi - x[:, None]) / sigma) - special.ndtr((lo - x[:, None]) / sigma)
    above = special.ndtr((x[:, None] - lo) / sigma) - special.ndtr((x[:, None] - hi) / sigma)
    return np.where(j < sent, below, above)


def _statistical_eye(fmt: PAM, cursor: float, isi: np.ndarray, sigma: float) -> float:
    values, probs = _isi_pmf(fmt, isi)
    t = _thresholds(fmt, cursor)
    ham = _hamming_matrix(fmt.bits_per_symbol)
    total = 0.0
    for i, level in enumerate(fmt.levels):
        p = _region_probs(fmt, cursor * level + values, t, sigma, i)
        wrong = np.delete(np.arange(fmt.M), i)
        total += float(probs @ (p[:, wrong] @ ham[i, wrong]))
    return total / (fmt.M * fmt.bits_per_symbol)


def _importance(fmt, cursor, isi, sigma, ss, rel_ci, confidence, max_samples, snr_db):
    t = _thresholds(fmt, cursor)
    ham = _hamming_matrix(fmt.bits_per_symbol)
    # Weights are formed in log space and accumulated relative to exp(-z0^2 / 2), z0 the worst
    # eye half-opening in noise sigmas: sums of squares stay in range down to BER ~1e-300
    # (they used to underflow below BER ~1e-154, collapsing the interval to zero width).
    z0 = max(cursor - float(np.sum(np.abs(isi))) * (fmt.M - 1), 0.0) / sigma
    log_ref = 0.5 * z0 * z0
    scale = math.exp(-log_ref)
    batch = 1 << 15
    total = total_sq = 0.0
    n = 0
    c = 0
    ci = (0.0, math.inf)
    while n < max_samples:
        rng = np.random.Generator(_rng.chunk_bit_generator(ss, c))
        c += 1
        m = min(batch, max_samples - n)
        sent = rng.integers(0, fmt.M, m)
        x0 = cursor * fmt.levels[sent]
        if isi.size:
            x0 = x0 + fmt.levels[rng.integers(0, fmt.M, (m, isi.size))] @ isi
        # Proposal: an equal mixture of the true noise and the noise shifted onto the nearest
        # threshold above and below (where they exist). Keeping the unshifted component bounds
        # every weight by the number of components ("defensive" mixture, Hesterberg 1995),
        # so a closed eye or a sample already past a threshold cannot blow up the variance.
        comps = np.stack([np.zeros(m),
                          np.where(sent < fmt.M - 1, t[np.minimum(sent, fmt.M - 2)] - x0, np.nan),
                          np.where(sent > 0, t[np.maximum(sent - 1, 0)] - x0, np.nan)])
        valid = ~np.isnan(comps)
        n_comps = valid.sum(axis=0)
        # Pick a valid component uniformly: rank among the valid ones.
        pick = np.minimum((rng.random(m) * n_comps).astype(int), n_comps - 1)
        order = np.cumsum(valid, axis=0) - 1
        chosen = np.where(valid & (order == pick), comps, 0.0).sum(axis=0)
        noise = chosen + sigma * rng.standard_normal(m)
        log_dens = np.where(valid, -0.5 * ((noise - np.nan_to_num(comps)) / sigma) ** 2, -np.inf)
        log_weight = (-0.5 * (noise / sigma) ** 2 + np.log(n_comps)
                      - special.logsumexp(log_dens, axis=0) + log_ref)
        weight = np.exp(np.minimum(log_weight, 700.0))
        decided = np.searchsorted(t, x0 + noise)
        contrib = weight * ham[sent, decided] / fmt.bits_per_symbol
        total += float(contrib.sum())
        total_sq += float(np.square(contrib).sum())
        n += m
        mean = total / n
        var = max(total_sq / n - mean**2, 0.0)
        ci = mean_interval(mean, math.sqrt(var / n), confidence)
        if n >= 4 * batch and mean > 0 and relative_half_width(ci, mean) <= rel_ci:
            break
    ber = total / n * scale
    ci = (ci[0] * scale, ci[1] * scale)
    return BerEstimate(ber, ci, "importance", n, fmt.name, snr_db, confidence)


def _montecarlo(fmt, snr_db, seed, rel_ci, channel, equalizer, confidence, max_samples, **options):
    stream = SymbolStream(fmt, snr_db, seed=seed, channel=channel, equalizer=equalizer, **options)
    result = None
    step = 1 << 20
    while result is None or result.symbols < max_samples:
        part = stream.run(min(step, max_samples - (result.symbols if result else 0)))
        result = part if result is None else result + part
        if result.bit_errors >= 10 and relative_half_width(result.ci, result.ber) <= rel_ci:
            break
        step = min(step * 2, 1 << 27)
    r = result.__class__(**{**result.__dict__, "confidence": confidence})
    return BerEstimate(r.ber, r.ci, "montecarlo", r.symbols, fmt.name, snr_db, confidence)
