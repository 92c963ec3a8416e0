"""Error bursts of a PAM receiver and the FEC codeword failures they cause (statistical).

A decision-feedback equaliser feeds its own decisions back: one wrong decision shifts the
slicer input of the next symbols by ``-sum_j dfe[j] * (a_hat - a)[n-1-j]``. Behind a 30 dB
copper channel the first tap is ~0.8, the next symbol is then wrong about three times in four,
and errors come in bursts of ~5 symbols; the FFE also colours the noise (neighbouring slicer
samples correlate by -0.3), which lengthens them further. Independent-error formulas
(``code.cwer_from_ber``) then miss the codeword error ratio by orders of magnitude. This module is
the statistical characterisation of that error process (DESIGN.md: importance-sampled tail,
fitted error process), consistent with the symbol-stream kernel that is the ground truth:

- **Episodes** (:func:`episodes`): an error *onset* (a wrong decision after a quiet run of
  ``END_RUN + len(dfe)`` right ones, the run that also ends an episode) happens with probability
  ``onset_rate`` per symbol; what follows is sampled by importance
  sampling: the symbols around the onset are drawn at random, the slicer noise at the onset is
  drawn from its Gaussian tail beyond the decision threshold (each draw weighted by the onset
  probability of its symbols), the noise of the quiet run before and of the symbols after from
  the exact conditional Gaussian of the FFE-coloured noise, and the DFE then runs on its own
  decisions for ``EPISODE_SYMBOLS`` symbols. The onset rate is the error-free-feedback SER times
  the share of the draws whose quiet run before is right (with positively correlated noise an
  error often follows an error: those belong to the first one's episode and must not start
  episodes of their own); a control variate (with right feedback the errors per onset times the
  onsets are exactly that SER) removes its sampling error. The model is that of
  :class:`photolink.SymbolStream` (white noise at the receiver input, channel, FFE, DFE, optional
  1/(1+D) precoding), so no Monte-Carlo run is needed.
- **Codewords** (:func:`cwer`): onsets are a Poisson process (independent segments add up), each
  episode hits ``X`` RS symbols of a codeword (its error positions over the RS symbol grid, at a
  uniformly random alignment, with ``interleave``-way symbol interleaving), so the number of wrong
  RS symbols is compound Poisson and CWER = P[sum > t], summed from positive terms (accurate far
  below 1e-30). The far tail of ``X`` beyond what the samples resolve is extended geometrically.
  Codewords are walked symbol by symbol with a mask of symbols already hit ahead, so a symbol hit
  by two episodes (or two segments) counts once. With the concatenated inner code
  (``fec.KP4_INNER_HAMMING``) the step is a 128-bit inner word: the episodes starting in it
  (sampled together, since SEC-DED corrects one error but not two) are placed at random offsets
  as a renewal process (none inside another's span, see :func:`_inner_kernels`), every word they
  touch is decoded exactly, and what is left hits the outer codewords (one symbol of each of 12
  per word); segments outside the inner code (a DSP module's host AUIs) hit the outer RS
  symbols directly.

Assumptions (the figure is a model): episodes of a lane are a renewal process (a new one starts
only after the last has ended: the onset rate and, through the inner code, the placement; RS
codewords take the starts as Poisson, so 1-3 % of the episodes overlap a neighbour and share its
RS symbols at the highest rates checked, which makes the CWER a little low there), errors
past ``EPISODE_SYMBOLS`` are cut, an episode at a codeword (or inner word) boundary is counted
with the codeword (word) it starts in. Checked against the decoder simulation
([ref:photolink-burst-model-check]): within its Monte-Carlo interval at CWER 1e-4..0.05 for the
copper lane behind a DFE (bit- or symbol-muxed), 1/(1+D) precoding with 2-way interleaving, a
three-segment DR4 link and KP4 + Hamming(128,120) behind the 802.3dj receiver (ratios
0.93-1.2); at CWER 0.08-0.9 (many episodes per codeword) 0.5-4.5 % low. The CWER moves 10-16x
as fast as the error rate near a FEC's cliff, so the model's own sampling noise matters: 1-2 %
(RS) to 1-4 % (inner code, 6 % at CWER 1e-4) between internal seeds. Far below measurable
CWERs it is a model figure whose deep tail is the geometric extension.
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
from scipy.linalg import toeplitz

from .._util import rng as _rng
from ..symbols.channel import Channel, Equalizer
from ..symbols.formats import PAM, gray

#: Importance samples of episodes used through the inner code's decoder.
INNER_SAMPLES = 1 << 14
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
    quiet_symbols : int
        Right decisions in a row that end an episode (and must precede an onset).
    """

    bits_per_symbol: int
    onset_rate: float
    error_bits: np.ndarray
    weights: np.ndarray
    quiet_symbols: int = 1

    @property
    def busy_symbols(self) -> np.ndarray:
        """Per sample: symbols from the onset until the next onset can happen (its last error,
        then the quiet run): no episode of the lane starts while one runs."""
        last = self.error_bits.shape[1] - 1 - np.argmax(self.error_bits[:, ::-1] != 0, axis=1)
        return last + 1 + self.quiet_symbols

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
    sigma = math.sqrt(acf[0])
    ss = np.random.SeedSequence(_SEED)
    # Pulse taps that reach the decision of symbol m from symbol m + delay - i; the DFE cancels
    # taps delay+1 .. delay+len(dfe) while its feedback is right.
    post = q.size - 1 - delay
    past = max(post, dfe.size, 1)

    memoryless = dfe.size == 0 and ffe.size == 1 and not precode
    quiet = 1 if memoryless else END_RUN + dfe.size + int(precode)

    def onset_log_prob(gen, n, span, pre=0):
        """Random symbols (``pre`` + ``past`` before the onset, ``span`` from it) around an onset,
        and the log probability that the decision at the onset is wrong (up, down, either)."""
        o = pre + past                                                   # the onset's index
        p = gen.integers(0, m_levels, size=(n, o + span), dtype=np.int8).astype(np.int64)
        p[:, o] = np.arange(n) % m_levels                                # stratified onset level
        a = 2.0 * p - top
        y0 = a[:, o - post:o + delay + 1] @ q[::-1]
        for j, b in enumerate(dfe):
            y0 -= b * a[:, o - 1 - j]
        lvl = p[:, o]
        up = np.where(lvl < top, gain * (2.0 * lvl - top + 1.0) - y0, np.inf)
        down = np.where(lvl > 0, y0 - gain * (2.0 * lvl - top - 1.0), np.inf)
        log_up, log_down = special.log_ndtr(-up / sigma), special.log_ndtr(-down / sigma)
        return p, a, log_up, log_down, np.logaddexp(log_up, log_down)

    def slice_(y):
        return np.clip(np.floor((y / gain + m_levels) * 0.5), 0, top).astype(np.int64)

    # onset rate: the error-free-feedback SER, from a large stratified sample of symbol patterns
    gen = np.random.Generator(_rng.BitGenerator(_rng.child(ss, 0)))
    logs = [onset_log_prob(gen, ONSET_BLOCK, delay + 1)[4] for _ in range(ONSET_BLOCKS)]
    onset = float(np.exp(special.logsumexp(np.concatenate(logs)) - math.log(ONSET_BLOCK * ONSET_BLOCKS)))
    if not onset > MIN_ONSET_RATE:
        return Episodes(fmt.bits_per_symbol, 0.0, np.zeros((1, big_l), np.uint16), np.ones(1), quiet)

    if onset < RARE_ONSET_RATE:
        k = RARE_EPISODE_SAMPLES
    gen = np.random.Generator(_rng.BitGenerator(_rng.child(ss, 1)))
    p, a, log_up, log_down, log_w = onset_log_prob(gen, k, big_l + delay, pre=quiet)
    o = quiet + past
    win = np.lib.stride_tricks.sliding_window_view(a, q.size, axis=1)
    lin = win[:, o - post:o - post + big_l] @ q[::-1]                      # y_m with correct feedback ...
    go_up = gen.random(k) < np.exp(log_up - log_w)
    u = np.log(gen.random(k))
    mag = -special.ndtri_exp(u + np.where(go_up, log_up, log_down))         # noise beyond the threshold
    noise0 = np.where(go_up, 1.0, -1.0) * mag * sigma
    # the noise of the quiet run before the onset and of the symbols after it, given the onset's:
    # the exact conditional of the stationary Gaussian process
    n_all = quiet + big_l
    r_all = np.zeros(n_all)
    r_all[:min(acf.size, n_all)] = acf[:n_all]
    cov_all = toeplitz(r_all)
    others = np.delete(np.arange(n_all), quiet)
    c_o = cov_all[others, quiet]
    cov = cov_all[np.ix_(others, others)] - np.outer(c_o, c_o) / r_all[0]
    chol = np.linalg.cholesky(cov + 1e-12 * r_all[0] * np.eye(n_all - 1))
    noise_all = np.empty((k, n_all))
    noise_all[:, quiet] = noise0
    noise_all[:, others] = noise0[:, None] * (c_o / r_all[0])[None, :] + gen.standard_normal((k, n_all - 1)) @ chol.T
    noise = noise_all[:, quiet:]
    # An onset is a wrong decision after ``quiet`` right ones (the episodes' own definition of
    # their end): the marginal error rate counts also the errors that follow an error within
    # ``quiet`` symbols (FFE-coloured noise makes them likely), which the episodes hold already.
    # Keep the samples whose quiet run before the onset is right (with right feedback).
    clean = np.ones(k, bool)
    for mm in range(-quiet, 0):
        y = win[:, o + mm - post] @ q[::-1] + noise_all[:, quiet + mm]
        for j, b in enumerate(dfe):
            y -= b * a[:, o + mm - 1 - j]
        clean &= slice_(y) == p[:, o + mm]

    # run the DFE on its own decisions (lin holds the feedback-free sum; subtract the DFE's)
    fb = np.concatenate([a[:, :o], np.zeros((k, big_l))], axis=1)
    p_hat = np.empty((k, big_l), np.int64)
    for mm in range(big_l):
        y = lin[:, mm] + noise[:, mm]
        for j, b in enumerate(dfe):
            y -= b * fb[:, o + mm - 1 - j]
        dec = slice_(y)
        p_hat[:, mm] = dec
        fb[:, o + mm] = 2.0 * dec - top
    p_true = p[:, o:o + big_l]
    if precode:
        prev_t = np.concatenate([p[:, o - 1:o], p_true[:, :-1]], axis=1)
        prev_h = np.concatenate([p[:, o - 1:o], p_hat[:, :-1]], axis=1)
        d_true, d_hat = (p_true + prev_t) % m_levels, (p_hat + prev_h) % m_levels
    else:
        d_true, d_hat = p_true, p_hat
    err = (gray(d_hat) ^ gray(d_true)).astype(np.uint16)
    # the episode ends at the first run of END_RUN + len(dfe) correct decisions (at the first
    # correct one for a memoryless lane): later errors are new onsets of the background process
    # (counting them here would count them twice)
    ok = (p_hat == p_true).astype(np.int64)    # decisions, not data: with precoding a long run
    #                                            of wrong decisions shows data errors at its ends only
    err[_ended(ok, quiet)] = 0
    # the same episodes with right feedback (no error propagation), for the control variate below
    wrong_cf = np.empty((k, big_l), bool)
    for mm in range(big_l):
        y = lin[:, mm] + noise[:, mm]
        for j, b in enumerate(dfe):
            y -= b * a[:, o + mm - 1 - j]
        wrong_cf[:, mm] = slice_(y) != p_true[:, mm]
    wrong_cf[_ended((~wrong_cf).astype(np.int64), quiet)] = False
    w = np.exp(log_w - special.logsumexp(log_w))
    w = np.where(err[:, 0] != 0, w, 0.0)            # always true: the onset noise is past the threshold
    w /= w.sum()
    # onsets per symbol: P(wrong decision, the quiet run before it right) = the error-free-feedback
    # SER x the share of its errors that follow a quiet run. The CWER moves ~10-16x as fast as
    # this rate near a FEC's cliff, so its sampling error (~0.3 % at 16k samples) is removed with
    # a control variate: with right feedback every wrong decision belongs to one episode, so
    # E[clean x wrong decisions per episode] is exactly 1 (the lane's errors are the onsets' x the
    # errors per onset); the sample's value of it divides the rate (ratio estimator).
    control = float(w @ (clean * wrong_cf.sum(axis=1)))
    rate = onset * float(w @ clean) / control
    w = np.where(clean, w, 0.0)
    w /= w.sum()
    return Episodes(fmt.bits_per_symbol, rate, err, w, quiet)


def _ended(ok, quiet):
    """Per sample and symbol: True from the first run of ``quiet`` right decisions on (``ok`` 0/1)."""
    run = np.zeros_like(ok)
    run[:, 0] = ok[:, 0]
    for mm in range(1, ok.shape[1]):
        run[:, mm] = (run[:, mm - 1] + 1) * ok[:, mm]
    return np.maximum.accumulate(run >= quiet, axis=1)


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

    ``pool`` is [(Episodes, onset rate)] of the lanes the inner code covers. The SEC-DED decoder
    is not linear in its input (two single errors that it would each correct make an
    uncorrectable pair), so each count j of episodes starting in one word is sampled as a whole:
    j episodes at random offsets, their bits added up, every word they touch decoded; what is
    left hits the slots' outer codewords.

    Episodes of one lane are a renewal process, not a Poisson one: none starts while another
    runs (until its last error and the quiet run after it), so two of them never share a few
    symbols the way independent starts would (at a line BER of ~4e-3 independent starts put
    ~4 % of the episodes into a neighbour's span and made a CWER of ~0.015 1.2-1.3x too high;
    that pairing is exactly what SEC-DED cannot correct). The starts in a word are drawn as the lane's
    hazard ``h`` per idle symbol: j starts at uniform offsets are kept only if no start falls
    in an earlier episode's busy span of the same lane, each kept draw weighted by
    ``exp(h x busy symbols in the word)`` (its idle time is shorter), P(j) is Poisson(h W) x
    the mean weight, normalised, and ``h`` is scaled so that the mean count of starts per word
    is the lanes' onset rates x W (the error rate is kept).
    """
    bps = pool[0][0].bits_per_symbol
    if inner.n % bps:
        raise ValueError(f"{bps}-bit line symbols do not tile {inner.n}-bit inner words")
    per_word = inner.n // bps
    rate = sum(r for _, r in pool)
    mu = rate * per_word                                          # episodes starting per word
    # idle hazard of each lane: one cycle = busy span + a geometric idle wait (mean 1/h - 1)
    hazards = []
    for ep, r in pool:
        busy_mean = float(ep.weights @ ep.busy_symbols)
        hazards.append(1.0 / max(1.0 / r - busy_mean + 1.0, 1.0))
    h_tot = sum(hazards)
    bits = np.concatenate([ep.error_bits for ep, _ in pool])
    probs = np.concatenate([ep.weights * h / h_tot for (ep, _), h in zip(pool, hazards)])
    lane = np.concatenate([np.full(ep.weights.size, i) for i, (ep, _) in enumerate(pool)])
    busy = np.concatenate([ep.busy_symbols for ep, _ in pool])
    h_of = np.asarray(hazards)[lane]
    flat = ((bits[:, :, None].astype(np.int64) >> np.arange(bps)[None, None, :]) & 1)
    flat = flat.reshape(bits.shape[0], -1).astype(np.uint8)       # line bits from the onset
    n_words = -(-(inner.n - bps + flat.shape[1]) // inner.n)
    slots = inner.symbols_per_codeword
    weights = 1 << np.arange(min(n_words, MASK_SYMBOLS))
    gen = np.random.Generator(_rng.BitGenerator(np.random.SeedSequence(_SEED + 1)))
    n_states = 1 << MASK_SYMBOLS
    top = max(MAX_ONSETS_PER_STEP, int(mu + 8 * math.sqrt(mu) + 4))
    m = INNER_SAMPLES
    # One episode alone in a word leaves nothing unless it holds two bit errors or more (a single
    # one is corrected): with one start, those few are sampled apart (the rest leave no hits), or
    # the importance sample behind the CWER is ~10x thinner than it looks (4096 draws of which ~10 %
    # matter made the CWER wander by ~+-10 % between seeds).
    multi = _popcount(bits).sum(axis=1) >= 2
    p_multi = float(probs[multi].sum())
    draws = []              # per count j: (mass, allowed, h x busy in the word, masks, extras)
    for j in range(1, top + 1):
        if j == 1 and 0.0 < p_multi < 1.0:
            sub = [np.flatnonzero(multi), np.flatnonzero(~multi)]
            pick = np.concatenate([s_[gen.choice(s_.size, size=(m, 1), p=probs[s_] / probs[s_].sum())]
                                   for s_ in sub])
            mass = np.concatenate([np.full(m, p_multi / m), np.full(m, (1.0 - p_multi) / m)])
        else:
            pick = gen.choice(probs.size, size=(m, j), p=probs)
            mass = np.full(m, 1.0 / m)
        n_draw = pick.shape[0]
        start = np.sort(gen.integers(0, per_word, size=(n_draw, j)), axis=1)
        allowed = np.ones(n_draw, bool)
        for a_ in range(j):
            for b_ in range(a_ + 1, j):
                same = lane[pick[:, a_]] == lane[pick[:, b_]]
                allowed &= ~(same & (start[:, b_] < start[:, a_] + busy[pick[:, a_]]))
        if not allowed.any():
            break
        idle_loss = (h_of[pick] * np.minimum(busy[pick], per_word - start)).sum(axis=1)
        masks = np.zeros((n_draw, slots), np.int64)
        extras = np.zeros((n_draw, slots), np.int64)
        dec = np.flatnonzero(multi[pick].any(axis=1) | (j > 1))        # draws that can leave hits
        if dec.size:
            line = np.zeros((dec.size, n_words * inner.n), np.uint8)
            rows = np.arange(dec.size)[:, None]
            for i in range(j):
                line[rows, start[dec, i:i + 1] * bps + np.arange(flat.shape[1])[None, :]] ^= flat[pick[dec, i]]
            left = inner.decode_errors(line.reshape(-1, inner.n)).reshape(dec.size, n_words, inner.n)
            hit = left[:, :, :slots * inner.symbol_bits].reshape(dec.size, n_words, slots, -1).any(axis=3)
            masks[dec] = np.einsum("kws,w->ks", hit[:, :MASK_SYMBOLS].astype(np.int64), weights)
            extras[dec] = hit[:, MASK_SYMBOLS:].sum(axis=1)
        draws.append((mass, allowed, idle_loss, masks, extras))

    def count_probs(scale):
        """P(j starts in a word), j = 0.. len(draws), and each draw's weight, at hazards x scale."""
        x = h_tot * scale * per_word
        pj, ws = [math.exp(-x)], []
        for j, (mass, allowed, idle_loss, _, _) in enumerate(draws, start=1):
            w = np.where(allowed, mass * np.exp(scale * idle_loss), 0.0)
            poisson = _st.poisson.sf(j - 1, x) if j == top else math.exp(j * math.log(x) - x - math.lgamma(j + 1))
            pj.append(poisson * float(w.sum()))
            ws.append(w / w.sum())
        pj = np.asarray(pj) / sum(pj)
        return pj, ws

    scale = 1.0
    pj, ws = count_probs(scale)
    for _ in range(30):             # the mean count of starts per word is the onset rate's
        mean = float(pj @ np.arange(pj.size))
        if abs(mean / mu - 1.0) < 1e-9:
            break
        # (at error rates so high that the spans cannot hold mu starts a word, stop at 4x)
        trial = min(scale * mu / mean, 4.0)
        got = count_probs(trial)
        if trial == scale or not np.all(np.isfinite(got[0])):
            break
        scale, (pj, ws) = trial, got
    kernels = [np.zeros((t + 2, n_states, n_states)) for _ in range(slots)]
    for k in kernels:
        k[0] += pj[0] * np.eye(n_states)
    for j, (_, _, _, masks, extras) in enumerate(draws, start=1):
        if pj[j] < 1e-300:
            continue
        for sl in range(slots):
            kernels[sl] += pj[j] * _pattern_kernel(masks[:, sl], extras[:, sl], ws[j - 1], t)
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
            boot.append((Episodes(ep.bits_per_symbol, ep.onset_rate, ep.error_bits[pick], w,
                                  ep.quiet_symbols), covered))
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
    '7.37e-13'
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
