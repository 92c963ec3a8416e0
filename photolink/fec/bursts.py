"""Error bursts of a PAM receiver and the FEC codeword failures they cause (statistical).

A decision-feedback equaliser feeds its own decisions back: one wrong decision shifts the
slicer input of the next symbols by ``-sum_j dfe[j] * (a_hat - a)[n-1-j]``. Behind a 30 dB
copper channel the first tap is ~0.8, the next symbol is then wrong about three times in four,
and errors come in bursts of ~5 symbols; the FFE also colours the noise (neighbouring slicer
samples correlate by -0.3), which lengthens them further. Independent-error formulas
(``code.cwer_from_ber``) then miss the codeword error ratio by orders of magnitude. This module is
the statistical characterisation of that error process (DESIGN.md: importance-sampled tail,
fitted error process), consistent with the symbol-stream kernel that is the ground truth:

- **Episodes** (:func:`episodes`): an error *onset* (a wrong decision after correct ones)
  happens with probability ``onset_rate`` per symbol; what follows is sampled by importance
  sampling: the symbols around the onset are drawn at random, the slicer noise at the onset is
  drawn from its Gaussian tail beyond the decision threshold (each draw weighted by the onset
  probability of its symbols), the later noise samples from the exact conditional Gaussian of
  the FFE-coloured noise, and the DFE then runs on its own decisions for ``EPISODE_SYMBOLS``
  symbols. The model is that of :class:`photolink.SymbolStream` (white noise at the receiver
  input, channel, FFE, DFE, optional 1/(1+D) precoding), so no Monte-Carlo run is needed.
- **Codewords** (:func:`cwer`): onsets are a Poisson process (independent segments add up), each
  episode hits ``X`` RS symbols of a codeword (its error positions over the RS symbol grid, at a
  uniformly random alignment, with ``interleave``-way symbol interleaving), so the number of wrong
  RS symbols is compound Poisson and CWER = P[sum > t], summed from positive terms (accurate far
  below 1e-30). The far tail of ``X`` beyond what the samples resolve is extended geometrically.
  Codewords are walked symbol by symbol with a mask of symbols already hit ahead, so a symbol hit
  by two episodes (or two segments) counts once. With the concatenated inner code
  (``fec.KP4_INNER_HAMMING``) the step is a 128-bit inner word: the episodes starting in it
  (Poisson many, sampled together, since SEC-DED corrects one error but not two) are placed at
  random offsets, every word they touch is decoded exactly, and what is left hits the outer
  codewords (one symbol of each of 12 per word); segments outside the inner code (a DSP
  module's host AUIs) hit the outer RS symbols directly.

Assumptions (the figure is a model): episodes are a renewal process (a new one starts only
after the last has ended), errors past ``EPISODE_SYMBOLS`` are cut, an episode at a codeword
(or inner word) boundary is counted with the codeword (word) it starts in. Checked against the
decoder simulation at CWER 1e-3..1e-1 it is within its Monte-Carlo interval, ~5-10 % high for
the copper preset behind a DFE (tests/test_integration.py), ~20 % high with 1/(1+D) precoding;
far below measurable CWERs it is a model figure whose deep tail is the geometric extension.
The importance sample uses a fixed internal seed: the figure is deterministic. The Monte-Carlo
ground truth is :func:`photolink.fec.simulate` with the same channel and equaliser;
tests/test_integration.py checks that the two agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special
from scipy import stats as _st

from .._util import rng as _rng
from ..symbols.channel import Channel, Equalizer
from ..symbols.formats import PAM, gray

#: Importance samples of episodes used through the inner code's decoder.
INNER_SAMPLES = 4096
#: Symbols followed after an onset.
EPISODE_SYMBOLS = 48
#: Importance samples of episodes per lane.
EPISODE_SAMPLES = 1 << 14
#: Below this onset rate a lane's codeword failures are far below anything a report resolves
#: (< ~1e-30): fewer samples. (A higher switch point, 1e-9 before, made the CWER jump by decades
#: between neighbouring lengths: 2048 samples leave ~30 effective ones.)
RARE_ONSET_RATE, RARE_EPISODE_SAMPLES = 1e-15, 1 << 11
#: Samples of symbol patterns for the onset rate (blocks x block).
ONSET_BLOCK, ONSET_BLOCKS = 1 << 15, 8
#: Onset rates below this are taken as no errors at all (their codeword failures are < 1e-20).
MIN_ONSET_RATE = 1e-25
#: Smallest effective number of samples behind a tail value of X (rarer X are extrapolated).
MIN_TAIL_SAMPLES = 30
#: An episode ends after this many correct decisions in a row (plus the DFE's memory).
END_RUN = 3
_SEED = 0x5EED_B0257


@dataclass(frozen=True, eq=False)
class Episodes:
    """Error episodes of one lane: how often they start and what they look like.

    Attributes
    ----------
    bits_per_symbol : int
    onset_rate : float
        Episodes per line symbol: the error-free-feedback SER (the hazard of an episode starting
        while none runs) thinned by the time episodes keep the lane busy (a renewal process).
    error_bits : numpy.ndarray
        (samples, EPISODE_SYMBOLS) uint16: sent XOR decided data label of each symbol of each
        sampled episode (symbol 0 is the onset).
    weights : numpy.ndarray
        Normalised importance weights of the samples.
    """

    bits_per_symbol: int
    onset_rate: float
    error_bits: np.ndarray
    weights: np.ndarray

    @property
    def ser(self) -> float:
        """Symbol error ratio with error propagation: onsets times mean wrong symbols per episode."""
        return self.onset_rate * float(self.weights @ np.count_nonzero(self.error_bits, axis=1))

    @property
    def ber(self) -> float:
        """Bit error ratio with error propagation."""
        pop = _popcount(self.error_bits).sum(axis=1)
        return self.onset_rate * float(self.weights @ pop) / self.bits_per_symbol

    @property
    def mean_burst_symbols(self) -> float:
        """Mean wrong symbols per episode."""
        return float(self.weights @ np.count_nonzero(self.error_bits, axis=1))

    @property
    def effective_samples(self) -> float:
        return float(1.0 / np.sum(self.weights**2))

    def to_dict(self) -> dict:
        return {"onset_rate": self.onset_rate, "ser": self.ser, "ber": self.ber,
                "mean_errors_per_burst": self.mean_burst_symbols}


_POP = np.array([bin(i).count("1") for i in range(1 << 16)], np.uint8)


def _popcount(x) -> np.ndarray:
    return _POP[np.asarray(x, np.uint16)].astype(np.int64)


def episodes(fmt: PAM, snr_db: float, channel: Channel | None = None,
             equalizer: Equalizer | None = None, *, precode: bool = False) -> Episodes:
    """Importance-sampled error episodes of a PAM lane (see the module docstring).

    The arguments are those of :class:`photolink.SymbolStream` (``snr_db`` at the receiver
    input, before the FFE); the result is cached.
    """
    if not isinstance(fmt, PAM):
        raise TypeError(f"fmt must be a photolink PAM format, got {fmt!r}")
    return _episodes(fmt, float(snr_db), channel, equalizer, bool(precode))


@lru_cache(maxsize=256)
def _episodes(fmt, snr_db, channel, equalizer, precode) -> Episodes:
    m_levels, top = fmt.M, fmt.M - 1
    ch = channel or Channel((1.0,))
    eq = equalizer or Equalizer()
    q = eq.combined(ch)
    delay = eq.delay(ch)
    gain = float(q[delay])
    dfe = np.asarray(eq.dfe, np.float64)
    ffe = np.asarray(eq.ffe, np.float64)
    sigma_in = fmt.noise_sigma(snr_db) * ch.main
    acf = np.correlate(ffe, ffe, "full")[ffe.size - 1:] * sigma_in**2     # slicer noise autocovariance
    big_l, k = EPISODE_SYMBOLS, EPISODE_SAMPLES
    r = np.zeros(big_l)
    r[:min(acf.size, big_l)] = acf[:big_l]
    sigma = math.sqrt(r[0])
    ss = np.random.SeedSequence(_SEED)
    # Pulse taps that reach the decision of symbol m from symbol m + delay - i; the DFE cancels
    # taps delay+1 .. delay+len(dfe) while its feedback is right.
    post = q.size - 1 - delay
    past = max(post, dfe.size, 1)

    def onset_log_prob(gen, n, span):
        """Random symbols (``span`` of them after the past) around an onset, and the log
        probability that the decision at the onset is wrong (up, down, either)."""
        p = gen.integers(0, m_levels, size=(n, past + span), dtype=np.int8).astype(np.int64)
        p[:, past] = np.arange(n) % m_levels                             # stratified onset level
        a = 2.0 * p - top
        y0 = a[:, past - post:past + delay + 1] @ q[::-1]
        for j, b in enumerate(dfe):
            y0 -= b * a[:, past - 1 - j]
        lvl = p[:, past]
        up = np.where(lvl < top, gain * (2.0 * lvl - top + 1.0) - y0, np.inf)
        down = np.where(lvl > 0, y0 - gain * (2.0 * lvl - top - 1.0), np.inf)
        log_up, log_down = special.log_ndtr(-up / sigma), special.log_ndtr(-down / sigma)
        return p, a, log_up, log_down, np.logaddexp(log_up, log_down)

    # onset rate: the error-free-feedback SER, from a large stratified sample of symbol patterns
    gen = np.random.Generator(_rng.BitGenerator(_rng.child(ss, 0)))
    logs = [onset_log_prob(gen, ONSET_BLOCK, delay + 1)[4] for _ in range(ONSET_BLOCKS)]
    onset = float(np.exp(special.logsumexp(np.concatenate(logs)) - math.log(ONSET_BLOCK * ONSET_BLOCKS)))
    if not onset > MIN_ONSET_RATE:
        return Episodes(fmt.bits_per_symbol, 0.0, np.zeros((1, big_l), np.uint16), np.ones(1))

    if onset < RARE_ONSET_RATE:
        k = RARE_EPISODE_SAMPLES
    gen = np.random.Generator(_rng.BitGenerator(_rng.child(ss, 1)))
    p, a, log_up, log_down, log_w = onset_log_prob(gen, k, big_l + delay)
    win = np.lib.stride_tricks.sliding_window_view(a, q.size, axis=1)
    lin = win[:, past - post:past - post + big_l] @ q[::-1]                # y_m with correct feedback ...
    go_up = gen.random(k) < np.exp(log_up - log_w)
    u = np.log(gen.random(k))
    mag = -special.ndtri_exp(u + np.where(go_up, log_up, log_down))         # noise beyond the threshold
    noise0 = np.where(go_up, 1.0, -1.0) * mag * sigma
    # later noise given the onset's: the exact conditional of the stationary Gaussian process
    rho = r[1:] / r[0]
    cov = _toeplitz(r[:big_l - 1]) - np.outer(r[1:], r[1:]) / r[0]
    chol = np.linalg.cholesky(cov + 1e-12 * r[0] * np.eye(big_l - 1))
    noise = np.empty((k, big_l))
    noise[:, 0] = noise0
    noise[:, 1:] = noise0[:, None] * rho[None, :] + gen.standard_normal((k, big_l - 1)) @ chol.T

    # run the DFE on its own decisions (lin holds the feedback-free sum; subtract the DFE's)
    fb = np.concatenate([a[:, :past], np.zeros((k, big_l))], axis=1)
    p_hat = np.empty((k, big_l), np.int64)
    for mm in range(big_l):
        y = lin[:, mm] + noise[:, mm]
        for j, b in enumerate(dfe):
            y -= b * fb[:, past + mm - 1 - j]
        dec = np.clip(np.floor((y / gain + m_levels) * 0.5), 0, top).astype(np.int64)
        p_hat[:, mm] = dec
        fb[:, past + mm] = 2.0 * dec - top
    p_true = p[:, past:past + big_l]
    if precode:
        prev_t = np.concatenate([p[:, past - 1:past], p_true[:, :-1]], axis=1)
        prev_h = np.concatenate([p[:, past - 1:past], p_hat[:, :-1]], axis=1)
        d_true, d_hat = (p_true + prev_t) % m_levels, (p_hat + prev_h) % m_levels
    else:
        d_true, d_hat = p_true, p_hat
    err = (gray(d_hat) ^ gray(d_true)).astype(np.uint16)
    # the episode ends at the first run of END_RUN + len(dfe) correct decisions (at the first
    # correct one for a memoryless lane): later errors are new onsets of the background process
    # (counting them here would count them twice)
    memoryless = dfe.size == 0 and ffe.size == 1 and not precode
    quiet = 1 if memoryless else END_RUN + dfe.size + int(precode)
    ok = (p_hat == p_true).astype(np.int64)    # decisions, not data: with precoding a long run
    #                                            of wrong decisions shows data errors at its ends only
    run = np.zeros_like(ok)
    run[:, 0] = ok[:, 0]
    for mm in range(1, big_l):
        run[:, mm] = (run[:, mm - 1] + 1) * ok[:, mm]
    err[np.maximum.accumulate(run >= quiet, axis=1)] = 0
    w = np.exp(log_w - special.logsumexp(log_w))
    w = np.where(err[:, 0] != 0, w, 0.0)            # always true: the onset noise is past the threshold
    w /= w.sum()
    # While an episode runs (to its last error and the quiet run after it) no new one can start:
    # episodes start at hazard * idle time, a renewal process
    last = big_l - 1 - np.argmax(err[:, ::-1] != 0, axis=1)
    busy = float(w @ np.minimum(last + 1 + quiet, big_l))
    rate = onset / (1.0 + onset * (busy - 1.0))
    return Episodes(fmt.bits_per_symbol, rate, err, w)


def _toeplitz(c):
    idx = np.abs(np.arange(c.size)[:, None] - np.arange(c.size)[None, :])
    return c[idx]


# ---- from episodes to codeword failures ------------------------------------------------------
#
# A codeword is walked symbol by symbol (its own RS symbols, or the inner words that carry them).
# The state is the codeword's count of wrong symbols so far and a mask of which of the next
# MASK_SYMBOLS symbols are already hit by episodes that started earlier; each step, Poisson many
# episodes start and OR their hit pattern into the mask (hits farther ahead are counted at once),
# then the current symbol leaves the mask and is counted if hit. Segments' onsets compose the
# same way, so a symbol hit twice (by two episodes or two segments) counts once.

#: Symbols ahead tracked exactly in the mask (2^MASK_SYMBOLS states).
MASK_SYMBOLS = 6
#: Episodes starting within one step composed exactly (at least; more at high onset rates).
MAX_ONSETS_PER_STEP = 3


def _rs_patterns(ep: Episodes, symbol_bits: int, interleave: int, stream: int | None = None):
    """Hit patterns of one episode on one codeword: (mask, extra, prob) per sample x alignment.

    Bit b of ``mask`` is the codeword's symbol b steps after the onset's step; hits more than
    MASK_SYMBOLS steps ahead are only counted (``extra``). ``stream`` (bit-muxing): bit j of
    every line symbol belongs to stream j and the codeword sits on stream ``stream``, so an RS
    symbol spans ``symbol_bits`` line symbols and only that stream's bit errors hit it.
    """
    bps = ep.bits_per_symbol
    if symbol_bits % bps:
        raise ValueError(f"RS symbols of {symbol_bits} bits do not hold whole {bps}-bit line symbols")
    spr = symbol_bits if stream is not None else symbol_bits // bps
    masks, extras = [], []
    for _ in (0,):
        hit = ep.error_bits != 0 if stream is None else ((ep.error_bits >> stream) & 1) != 0
        for off in range(spr * interleave):
            lane_rs = (off + np.arange(hit.shape[1])) // spr            # lane RS symbol of each line symbol
            mine = lane_rs % interleave == 0
            step = lane_rs // interleave                                 # the codeword's symbol index
            n_steps = int(step[-1]) + 1
            per = np.zeros((hit.shape[0], n_steps), bool)
            for st in range(n_steps):
                sel = (step == st) & mine
                if sel.any():
                    per[:, st] = hit[:, sel].any(axis=1)
            low = per[:, :MASK_SYMBOLS]
            masks.append(low @ (1 << np.arange(low.shape[1])))
            extras.append(per[:, MASK_SYMBOLS:].sum(axis=1))
    n_off = spr * interleave
    return np.concatenate(masks), np.concatenate(extras), np.tile(ep.weights, n_off) / n_off


def _inner_kernels(pool, inner, t) -> list:
    """Step kernels (one step = one inner word) of the outer codeword of each data slot.

    ``pool`` is [(Episodes, onset rate)] of the lanes the inner code covers; their episodes start
    in a word as one Poisson process. The SEC-DED decoder is not linear in its input (two single
    errors that it would each correct make an uncorrectable pair), so each count j of episodes
    starting in one word is sampled as a whole: j episodes at random offsets, their bits added
    up, every word they touch decoded; what is left hits the slots' outer codewords.
    """
    bps = pool[0][0].bits_per_symbol
    if inner.n % bps:
        raise ValueError(f"{bps}-bit line symbols do not tile {inner.n}-bit inner words")
    per_word = inner.n // bps
    rate = sum(r for _, r in pool)
    mu = rate * per_word                                          # episodes starting per word
    bits = np.concatenate([ep.error_bits for ep, _ in pool])
    probs = np.concatenate([ep.weights * r / rate for ep, r in pool])
    flat = ((bits[:, :, None].astype(np.int64) >> np.arange(bps)[None, None, :]) & 1)
    flat = flat.reshape(bits.shape[0], -1).astype(np.uint8)       # line bits from the onset
    n_words = -(-(inner.n - bps + flat.shape[1]) // inner.n)
    slots = inner.symbols_per_codeword
    weights = 1 << np.arange(min(n_words, MASK_SYMBOLS))
    gen = np.random.Generator(_rng.BitGenerator(np.random.SeedSequence(_SEED + 1)))
    n_states = 1 << MASK_SYMBOLS
    kernels = [np.zeros((t + 2, n_states, n_states)) for _ in range(slots)]
    for k in kernels:
        k[0] += math.exp(-mu) * np.eye(n_states)
    top = max(MAX_ONSETS_PER_STEP, int(mu + 8 * math.sqrt(mu) + 4))
    m = INNER_SAMPLES
    rows = np.arange(m)[:, None]
    for j in range(1, top + 1):
        pj = _st.poisson.sf(j - 1, mu) if j == top else math.exp(j * math.log(mu) - mu - math.lgamma(j + 1))
        if pj < 1e-300:
            break
        pick = gen.choice(probs.size, size=(m, j), p=probs)
        start = gen.integers(0, per_word, size=(m, j)) * bps
        line = np.zeros((m, n_words * inner.n), np.uint8)
        for i in range(j):
            line[rows, start[:, i:i + 1] + np.arange(flat.shape[1])[None, :]] ^= flat[pick[:, i]]
        left = inner.decode_errors(line.reshape(-1, inner.n)).reshape(m, n_words, inner.n)
        hit = left[:, :, :slots * inner.symbol_bits].reshape(m, n_words, slots, -1).any(axis=3)
        masks = np.einsum("kws,w->ks", hit[:, :MASK_SYMBOLS].astype(np.int64), weights)
        extras = hit[:, MASK_SYMBOLS:].sum(axis=1)
        for sl in range(slots):
            kernels[sl] += pj * _pattern_kernel(masks[:, sl], extras[:, sl], np.full(m, 1.0 / m), t)
    return kernels


def _with_tail(masks, extras, probs, t):
    """Patterns whose hit count X the samples do not resolve replaced by a geometric tail of runs."""
    x = _popcount(masks) + extras
    pmf = np.bincount(x, weights=probs, minlength=t + 2)
    n_eff = 1.0 / np.sum(probs**2)
    surv = np.cumsum(pmf[::-1])[::-1]
    resolved = np.flatnonzero(surv * n_eff >= MIN_TAIL_SAMPLES)
    x0 = int(resolved[-1]) if resolved.size else 0
    fit = [v for v in range(max(1, x0 - 3), x0 + 1) if pmf[v] > 0]
    if x0 > t or len(fit) < 3:
        return masks, extras, probs
    ratio = math.exp(np.polyfit(fit, np.log(pmf[fit]), 1)[0])
    if not ratio < 1.0:
        return masks, extras, probs
    keep = x <= x0
    xs = np.arange(x0 + 1, t + 2)
    tail = pmf[x0] * ratio ** (xs - x0)
    tail[-1] /= 1.0 - ratio                                   # X >= t + 1: all of the rest
    runs = np.minimum(xs, MASK_SYMBOLS)
    new_masks = (1 << runs) - 1
    new_extra = xs - runs
    p = np.concatenate([probs[keep], tail])
    return (np.concatenate([masks[keep], new_masks]), np.concatenate([extras[keep], new_extra]),
            p / p.sum())


def _pattern_kernel(masks, extras, probs, t):
    """Kernel of one episode: K[e, F, F | mask] += prob, e = hits counted ahead (capped)."""
    n_states = 1 << MASK_SYMBOLS
    f = np.arange(n_states)
    one = np.zeros((t + 2, n_states, n_states))
    extras = np.minimum(extras, t + 1)
    key = masks * (t + 2) + extras
    uk, inv = np.unique(key, return_inverse=True)
    pk = np.bincount(inv, weights=probs)
    for k_, p_ in zip(uk, pk):
        m, e = divmod(int(k_), t + 2)
        one[e, f, f | m] += p_
    return one


def _onset_kernel(masks, extras, probs, mu, t):
    """Step kernel K[e, F, F']: P(mask F -> F', e hits counted ahead) over Poisson(mu) episodes
    whose hits simply add up (RS symbols: a symbol hit twice is one wrong symbol)."""
    n_states = 1 << MASK_SYMBOLS
    one = _pattern_kernel(masks, extras, probs, t)
    ident = np.zeros_like(one)
    ident[0] = np.eye(n_states)
    total = math.exp(-mu) * ident
    if mu <= 0:
        return total
    power = ident
    top = max(MAX_ONSETS_PER_STEP, int(mu + 8 * math.sqrt(mu) + 4))
    for j in range(1, top + 1):
        power = _compose(power, one, t)
        # P(j onsets); the last term takes all of P(>= top) (more onsets only hit more)
        pj = _st.poisson.sf(j - 1, mu) if j == top else math.exp(j * math.log(mu) - mu - math.lgamma(j + 1))
        total += pj * power
    return total


def _compose(a, b, t):
    """Kernel of a then b: counts add (capped at t + 1), masks move through both."""
    out = np.zeros_like(a)
    for e1 in range(t + 2):
        if not a[e1].any():
            continue
        for e2 in range(t + 2):
            if b[e2].any():
                out[min(e1 + e2, t + 1)] += a[e1] @ b[e2]
    return out


def _walk(kernel, n, t) -> float:
    """P[more than t of a codeword's n symbols are hit] (see the comment above)."""
    n_states = kernel.shape[1]
    f_idx = np.arange(n_states)
    shift = [np.zeros((n_states, n_states)) for _ in (0, 1)]   # the current symbol leaves the mask
    for bit in (0, 1):
        sel = (f_idx & 1) == bit
        shift[bit][f_idx[sel], f_idx[sel] >> 1] = 1.0
    # step kernel by count increment d (hits ahead + the current symbol), capped at t + 1
    step = np.zeros_like(kernel)
    for e in range(t + 2):
        step[e] += kernel[e] @ shift[0]
        step[min(e + 1, t + 1)] += kernel[e] @ shift[1]
    used = [d for d in range(t + 2) if step[d].any()]
    # stationary mask at the codeword's start: MASK_SYMBOLS steps of the process, counts ignored
    f = np.zeros(n_states)
    f[0] = 1.0
    flat = step.sum(axis=0)
    for _ in range(MASK_SYMBOLS):
        f = f @ flat
    v = np.zeros((t + 1, n_states))
    v[0] = f
    tail = 0.0
    for _ in range(n):
        new = np.zeros((t + 1, n_states))
        for d in used:
            moved = v @ step[d]
            if d <= t:
                new[d:] += moved[:t + 1 - d]
            tail += float(moved[max(t + 1 - d, 0):].sum())
        v = new
    return min(tail, 1.0)


def cwer_interval(lanes, code, *, interleave: int = 1, confidence: float = 0.95,
                  n_boot: int = 20, seed: int = 1, bit_mux: bool = False) -> tuple[float, float]:
    """Bootstrap interval of :func:`cwer` over the importance samples of the episodes.

    Each replicate redraws every lane's episode samples uniformly with replacement (keeping
    their importance weights, renormalised: the bootstrap of a self-normalised importance
    estimate) and recomputes the CWER; the interval is the replicates' percentile interval. The
    onset rates are held fixed (their sample is ~100x larger), so the interval covers how well the
    episodes' shapes (the burst lengths, whose tail sets the CWER) are sampled.
    """
    conf = float(confidence)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    parts = [(x, True) if isinstance(x, Episodes) else (x[0], bool(x[1])) for x in lanes]
    # lanes whose own CWER is a negligible share are held fixed (added to both ends)
    solo = [cwer([p], code, interleave=interleave, bit_mux=bit_mux) for p in parts]
    top = max(solo) if solo else 0.0
    major = [p for p, c in zip(parts, solo) if c >= 1e-3 * top and top > 0]
    minor = sum(c for c, p in zip(solo, parts) if p not in major)
    parts = major
    gen = np.random.Generator(_rng.BitGenerator(np.random.SeedSequence(seed)))
    reps = []
    for _ in range(int(n_boot) if parts else 0):
        boot = []
        for ep, covered in parts:
            n = ep.weights.size
            pick = gen.integers(0, n, size=n)
            w = ep.weights[pick]
            w = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
            boot.append((Episodes(ep.bits_per_symbol, ep.onset_rate, ep.error_bits[pick], w), covered))
        reps.append(cwer(boot, code, interleave=interleave, bit_mux=bit_mux))
    if not reps:
        return minor, minor
    lo, hi = np.quantile(reps, [(1 - conf) / 2, (1 + conf) / 2])
    return float(lo) + minor, float(hi) + minor


def _rs_kernel(ep, outer, interleave, stream):
    """Onset kernel of one segment's episodes on an RS codeword (on bit stream ``stream``)."""
    spr = outer.symbol_bits if stream is not None else outer.symbol_bits / ep.bits_per_symbol
    mu = ep.onset_rate * spr * interleave                          # onsets per RS symbol step
    masks, extras, probs = _rs_patterns(ep, outer.symbol_bits, interleave, stream)
    return _onset_kernel(*_with_tail(masks, extras, probs, outer.t), mu, outer.t)


def _rs_cwer(parts, outer, interleave, stream) -> float:
    kernel = None
    for ep, _ in parts:
        if ep.onset_rate > 0:
            k = _rs_kernel(ep, outer, interleave, stream)
            kernel = k if kernel is None else _compose(kernel, k, outer.t)
    return _walk(kernel, outer.n, outer.t) if kernel is not None else 0.0


def cwer(lanes, code, *, interleave: int = 1, bit_mux: bool = False) -> float:
    """Codeword error ratio of ``code`` under independent error-episode processes.

    Parameters
    ----------
    lanes : sequence of Episodes or (Episodes, bool)
        One per segment of a link whose errors all reach the decoder; with a concatenated code,
        the bool says whether the inner code covers the segment (default True).
    code : photolink.fec.RS or photolink.fec.ConcatenatedCode
    interleave : int
        RS symbol interleaving (1, 2, 4; RS codes only).
    bit_mux : bool
        PMA bit-muxing (RS codes; see :func:`photolink.fec.simulate`): a codeword sits on one bit
        stream, and the CWER is the mean over the streams; False is symbol-muxing.

    Examples
    --------
    >>> import photolink as pl
    >>> from photolink.fec import bursts; from photolink import fec
    >>> ep = bursts.episodes(pl.PAM4, 17.66)        # ISI-free: independent symbol errors
    >>> f"{bursts.cwer([ep], fec.KP4):.2e}"         # binomial tail of the BER: 7.35e-13
    '7.43e-13'
    """
    inner = getattr(code, "inner", None)
    outer = getattr(code, "outer", code)
    n, t = outer.n, outer.t
    parts = [(x, True) if isinstance(x, Episodes) else (x[0], bool(x[1])) for x in lanes]
    if inner is not None and interleave != 1:
        raise ValueError(f"interleave must be 1 with a concatenated code, got {interleave!r}")
    if inner is not None and bit_mux:
        raise ValueError("bit_mux applies to RS codes only (a concatenated code fixes its own bit mapping)")
    bps = {ep.bits_per_symbol for ep, _ in parts}
    if bit_mux and len(bps) == 1 and max(bps) > 1:
        # the codeword sits on one bit stream for all its symbols: average the CWER over streams
        return float(np.mean([_rs_cwer(parts, outer, interleave, j) for j in range(max(bps))]))
    rs_kernel, pool = None, []
    for ep, covered in parts:
        if ep.onset_rate <= 0:
            continue
        if inner is not None and covered:       # through the inner decoder: pooled below
            pool.append((ep, ep.onset_rate))
            continue
        k = _rs_kernel(ep, outer, interleave, None)
        rs_kernel = k if rs_kernel is None else _compose(rs_kernel, k, t)
    kernels = [rs_kernel]
    if pool:
        kernels = [k if rs_kernel is None else _compose(k, rs_kernel, t)
                   for k in _inner_kernels(pool, inner, t)]
    out = [_walk(k, n, t) for k in kernels if k is not None]
    return float(sum(out) / len(out)) if out else 0.0
