"""2-D statistical eye (amplitude x sampling phase) and bathtub of an oversampled channel.

For every sampling phase within +-1/2 UI of the cursor, the oversampled pulse
(:meth:`photolink.Channel.from_touchstone` and friends) is sampled once per UI, passed through the
equaliser's FFE, the DFE taps (fixed, as designed for the nominal phase, with error-free feedback)
are subtracted, and the residual ISI and crosstalk distributions are convolved exactly on a grid
(as :func:`photolink.estimate_ber` ``method="statistical-eye"`` does). Gaussian noise is added in
closed form; random jitter enters through the slope of the equalised pulse (its variance
``sigma_rj^2 E[a^2] sum slope_k^2``), dual-Dirac jitter as the mean of the eyes at
``phase +- dd_ui``, both as in IEEE 802.3 COM.

From it: :meth:`StatisticalEye.ber_map` (the probability of a wrong decision with the threshold at
each voltage: the eye's contours), :meth:`StatisticalEye.eye_height` and
:meth:`StatisticalEye.eye_width` at a target BER, :meth:`StatisticalEye.vertical_eye_closure_db`,
and :meth:`StatisticalEye.bathtub` (BER at the slicer's thresholds against sampling phase, Gray
bit counts, every level).

Units: photolink level units (PAM levels +-1, +-3, ...) with the equalised cursor at the nominal
phase normalised to 1, so the noise is the ``snr_db`` of :func:`photolink.simulate_ber` with the
same channel and equaliser (referred to the main cursor at the receiver input).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .._util import validate as v
from .channel import Channel, Equalizer
from .estimate import _isi_pmf
from .formats import PAM, _hamming_matrix

#: Points the residual-ISI distribution is collapsed onto for the Gaussian integrals.
POINTS = 512


@dataclass(frozen=True, eq=False)
class StatisticalEye:
    """A statistical eye on a grid of sampling phases.

    Attributes
    ----------
    fmt : PAM
    phases_ui : numpy.ndarray
        Sampling phase relative to the nominal cursor, in UI.
    cursor : numpy.ndarray
        Equalised cursor at each phase (1 at phase 0).
    values, probs : list of numpy.ndarray
        Residual ISI + crosstalk distribution at each phase (collapsed to ``POINTS`` points).
    sigma : numpy.ndarray
        Gaussian noise at the slicer at each phase (noise, crosstalk kept Gaussian, random jitter).
    dd_ui : float
        Dual-Dirac jitter, applied when the eye is read.
    """

    fmt: PAM
    phases_ui: np.ndarray
    cursor: np.ndarray
    values: list = field(repr=False)
    probs: list = field(repr=False)
    sigma: np.ndarray = field(repr=False)
    dd_ui: float = 0.0

    def to_dict(self, target_ber: float = 1e-6) -> dict:
        """A summary at ``target_ber``: centre BER, eye height and width, vertical eye closure."""
        return {"format": self.fmt.name, "target_ber": target_ber, "ber": self.ber(),
                "eye_height": self.eye_height(target_ber), "eye_width_ui": self.eye_width(target_ber),
                "vertical_eye_closure_db": self.vertical_eye_closure_db(target_ber),
                "phases": int(self.phases_ui.size), "dd_ui": self.dd_ui}

    # ---- reading the eye at one phase ------------------------------------------------------------
    def _cdf(self, k: int, x: np.ndarray) -> np.ndarray:
        """P[ISI + noise <= x] at phase index k."""
        s = self.sigma[k]
        d = x[:, None] - self.values[k][None, :]
        if s == 0:
            return (d >= 0).astype(float) @ self.probs[k]
        return special.ndtr(d / s) @ self.probs[k]

    def _with_dd(self, fn, k_float: float):
        """Mean of ``fn`` at phase +- dd (linear interpolation between grid phases)."""
        if self.dd_ui == 0:
            return self._interp(fn, k_float)
        step = float(self.phases_ui[1] - self.phases_ui[0])
        off = self.dd_ui / step
        return 0.5 * (self._interp(fn, k_float - off) + self._interp(fn, k_float + off))

    def _interp(self, fn, k_float: float):
        n = self.phases_ui.size
        k_float = min(max(k_float, 0.0), n - 1.0)
        lo = math.floor(k_float)
        hi = min(lo + 1, n - 1)
        w = k_float - lo
        a = fn(lo)
        return a if w == 0 or hi == lo else (1 - w) * a + w * fn(hi)

    def _index(self, phase_ui: float) -> float:
        step = float(self.phases_ui[1] - self.phases_ui[0])
        return (phase_ui - float(self.phases_ui[0])) / step

    # ---- public reads --------------------------------------------------------------------------
    def ber_map(self, voltages=None):
        """Probability of a wrong decision with the threshold at each voltage, at each phase.

        Between two adjacent levels ``a < b`` the threshold ``t`` errs when a sent ``a`` lands above
        it or a sent ``b`` below it: ``(P[a c + n > t] + P[b c + n < t]) / M`` (its share of all
        symbols). Returns ``(voltages, map)`` with ``map.shape == (phases, voltages)``.
        """
        fmt = self.fmt
        top = (fmt.M - 1) * 1.25
        vol = np.linspace(-top, top, 301) if voltages is None else np.asarray(voltages, float)
        levels = fmt.levels
        out = np.empty((self.phases_ui.size, vol.size))
        for k in range(self.phases_ui.size):
            out[k] = self._with_dd(lambda j, vol=vol: self._map_at(j, vol, levels), float(k))
        return vol, out

    def _map_at(self, k, vol, levels):
        c = self.cursor[k]
        idx = np.clip(np.searchsorted(levels * c, vol) - 1, -1, levels.size - 1)
        out = np.zeros(vol.size)
        below = idx >= 0                          # a level under the threshold
        above = idx < levels.size - 1             # a level over it
        lo_lvl = levels[np.clip(idx, 0, None)] * c
        hi_lvl = levels[np.clip(idx + 1, None, levels.size - 1)] * c
        out[below] += 1 - self._cdf(k, vol[below] - lo_lvl[below])
        out[above] += self._cdf(k, vol[above] - hi_lvl[above])
        return out / self.fmt.M

    def _quantiles(self, k, target):
        """Inner edges of the ISI + noise distribution at probability ``target`` (low, high)."""
        span = float(np.max(np.abs(self.values[k]))) + 12 * float(self.sigma[k]) + 1e-12
        x = np.linspace(-span, span, 257)
        cdf = self._cdf(k, x)
        out = []
        for p in (target, 1 - target):          # bracket on a coarse grid, then refine inside
            i = int(np.clip(np.searchsorted(cdf, p), 1, x.size - 1))
            xf = np.linspace(x[i - 1], x[i], 257)
            out.append(float(np.interp(p, self._cdf(k, xf), xf)))
        return out[0], out[1]

    def eye_height(self, target_ber: float = 1e-6, phase_ui: float = 0.0) -> float:
        """Smallest vertical opening of the inner eyes at ``phase_ui`` where the BER of a level's
        tail reaches ``target_ber`` (level units; <= 0 when closed). Dual-Dirac jitter takes the
        worse of the two phases."""
        target = v.real("target_ber", target_ber, lo=1e-30, hi=0.4)
        kf = self._index(v.real("phase_ui", phase_ui, lo=-0.5, hi=0.5))

        def height(k):
            lo, hi = self._quantiles(k, target)
            return 2 * self.cursor[k] + lo - hi
        if self.dd_ui == 0:
            return float(self._interp(height, kf))
        step = float(self.phases_ui[1] - self.phases_ui[0])
        off = self.dd_ui / step
        return float(min(self._interp(height, kf - off), self._interp(height, kf + off)))

    def eye_width(self, target_ber: float = 1e-6) -> float:
        """Width in UI of the phases around the centre where :meth:`bathtub` stays below ``target_ber``
        (crossings interpolated in log BER between grid phases)."""
        target = v.real("target_ber", target_ber, lo=1e-30, hi=0.4)
        ph, ber = self.bathtub()
        lb = np.log10(np.clip(ber, 1e-300, 1.0))
        lt = math.log10(target)
        ok = lb <= lt
        c = int(np.argmin(np.abs(ph)))
        if not ok[c]:
            return 0.0
        left, right = c, c
        while left > 0 and ok[left - 1]:
            left -= 1
        while right < ph.size - 1 and ok[right + 1]:
            right += 1

        def cross(i_in, i_out):        # log-linear crossing between an open and a closed phase
            f = (lt - lb[i_in]) / (lb[i_out] - lb[i_in])
            return ph[i_in] + f * (ph[i_out] - ph[i_in])
        lo = cross(left, left - 1) if left > 0 else ph[0]
        hi = cross(right, right + 1) if right < ph.size - 1 else ph[-1]
        return float(hi - lo)

    def vertical_eye_closure_db(self, target_ber: float = 1e-6) -> float:
        """``20 log10(ideal opening / eye height)`` at the centre: the ideal opening is 2 x cursor."""
        h = self.eye_height(target_ber)
        return math.inf if h <= 0 else 20 * math.log10(2 * float(self.cursor[self._centre()]) / h)

    def _centre(self) -> int:
        return int(np.argmin(np.abs(self.phases_ui)))

    def ber(self, phase_ui: float = 0.0) -> float:
        """BER (Gray bit counts, thresholds midway between the equalised levels) at ``phase_ui``."""
        kf = self._index(v.real("phase_ui", phase_ui, lo=-0.5, hi=0.5))
        return float(self._with_dd(self._ber_at, kf))

    def bathtub(self):
        """(phases in UI, BER at each) at the slicer's thresholds: the bathtub curve."""
        return self.phases_ui.copy(), np.array([self._with_dd(self._ber_at, float(k))
                                                for k in range(self.phases_ui.size)])

    def _ber_at(self, k) -> float:
        fmt = self.fmt
        c = self.cursor[k]
        if c <= 0:
            return 0.5
        t = c * np.arange(-fmt.M + 2, fmt.M - 1, 2, dtype=np.float64)
        ham = _hamming_matrix(fmt.bits_per_symbol)
        total = 0.0
        for i, level in enumerate(fmt.levels):
            x = c * level
            # P[decide j] = cdf(hi_j - x) - cdf(lo_j - x)
            edges = np.concatenate([[-np.inf], t, [np.inf]]) - x
            cdf = np.empty(edges.size)
            cdf[0], cdf[-1] = 0.0, 1.0
            cdf[1:-1] = self._cdf(k, edges[1:-1])
            p = np.diff(cdf)
            w = ham[i].astype(float).copy()
            w[i] = 0.0
            total += float(p @ w)
        return total / (fmt.M * fmt.bits_per_symbol)


def statistical_eye(channel: Channel, fmt: PAM, snr_db: float, *, equalizer: Equalizer | None = None,
                    rj_ui: float = 0.0, dd_ui: float = 0.0, crosstalk=(), span: str = "all",
                    phases: int | None = None) -> StatisticalEye:
    """The 2-D statistical eye of an oversampled channel (see the module docstring).

    Parameters
    ----------
    channel : photolink.Channel
        Oversampled (``Channel.from_pulse`` / ``from_network`` / ``from_touchstone``).
    fmt : PAM
    snr_db : float
        White Gaussian noise at the receiver input, referred to the main cursor (as for
        :func:`photolink.simulate_ber` with this channel and equaliser).
    equalizer : photolink.Equalizer, optional
        FFE and DFE (default none); the DFE taps stay fixed across phases.
    rj_ui, dd_ui : float
        Random jitter (rms) and dual-Dirac jitter (peak), in UI.
    crosstalk : sequence of photolink.Channel
        Aggressor pulses (oversampled like ``channel``, in the same volts): each at its worst phase,
        through the FFE, convolved exactly.
    span : {"all", "taps"}
        Residual ISI from every symbol-spaced sample of the pulse, or only those under
        ``channel.taps`` (what :func:`photolink.simulate_ber` streams).
    phases : int, optional
        Sampling phases across one UI (default: ``samples_per_ui``).

    Returns
    -------
    StatisticalEye
    """
    if not isinstance(channel, Channel) or not channel.oversampled:
        raise TypeError(f"channel must be an oversampled photolink.Channel, got {channel!r}")
    if not isinstance(fmt, PAM):
        raise TypeError(f"fmt must be a photolink PAM format, got {fmt!r}")
    eq = Equalizer() if equalizer is None else equalizer
    if not isinstance(eq, Equalizer):
        raise TypeError(f"equalizer must be a photolink.Equalizer or None, got {type(eq).__name__}")
    snr_db = v.real("snr_db", snr_db, lo=-30, hi=200)
    rj = v.real("rj_ui", rj_ui, lo=0.0, hi=0.5)
    dd = v.real("dd_ui", dd_ui, lo=0.0, hi=0.5)
    v.choice("span", span, ("all", "taps"))
    spu = channel.samples_per_ui
    n_ph = spu if phases is None else v.integer("phases", phases, lo=2, hi=spu)
    for i, x in enumerate(crosstalk):
        if not isinstance(x, Channel) or not x.oversampled or x.samples_per_ui != spu:
            raise TypeError(f"crosstalk[{i}] must be an oversampled photolink.Channel with {spu} samples per UI")
    offsets = np.unique(np.rint(np.linspace(-spu / 2, spu / 2, n_ph + 1)[:-1]).astype(int))
    samples = np.asarray(channel.samples)
    grad = np.gradient(samples) * spu
    ffe = np.asarray(eq.ffe)
    dfe = np.asarray(eq.dfe)
    main = channel.main
    sigma_in = fmt.noise_sigma(min(snr_db, 80.0)) * main if snr_db < 200 else 0.0
    noise = sigma_in * math.sqrt(float(ffe @ ffe))
    xt_isi = []
    for x in crosstalk:
        arr = np.asarray(x.samples)
        best = max(range(spu), key=lambda m, arr=arr: float(np.sum(np.convolve(arr[m::spu], ffe) ** 2)))
        xt_isi.append(np.convolve(arr[best::spu], ffe))
    # Normalise to the equalised cursor at the nominal phase.
    base = channel.cursor_sample
    first_ui = base // spu - channel.cursor
    cursors, values, probs, sigmas = [], [], [], []
    for off in offsets:
        idx = base + off
        sym = samples[idx % spu::spu]
        slope = grad[idx % spu::spu]
        k0 = idx // spu                                  # UI of the cursor at this phase
        if span == "taps":
            keep = np.zeros(sym.size, bool)
            keep[max(first_ui, 0):first_ui + len(channel.taps)] = True
            sym = np.where(keep, sym, 0.0)
            slope = np.where(keep, slope, 0.0)
        q = np.convolve(sym, ffe)
        qs = np.convolve(slope, ffe)
        d = k0 + eq.ffe_cursor
        post = q[d + 1:d + 1 + dfe.size]
        q[d + 1:d + 1 + post.size] = post - dfe[:post.size]      # DFE taps: FFE-output units
        cur = float(q[d])
        isi = np.delete(q, d)
        cursors.append(cur)
        jitter_var = rj**2 * fmt.mean_power * float(np.sum(np.delete(qs, d) ** 2) + qs[d] ** 2)
        sigmas.append(math.sqrt(noise**2 + jitter_var))
        allisi = np.concatenate([isi] + xt_isi)
        allisi = allisi[np.abs(allisi) > 1e-12 * max(abs(cur), 1e-300)]
        vals, pr = _isi_pmf(fmt, allisi)
        vals, pr = _collapse(vals, pr)
        values.append(vals)
        probs.append(pr)
    nominal = cursors[int(np.argmin(np.abs(offsets)))]
    if nominal <= 0:
        raise ValueError("the equalised cursor at the nominal phase must be > 0: check the equaliser")
    s = 1.0 / nominal
    return StatisticalEye(fmt=fmt, phases_ui=offsets / spu, cursor=np.asarray(cursors) * s,
                          values=[x * s for x in values], probs=probs,
                          sigma=np.asarray(sigmas) * s, dd_ui=dd)


def _collapse(values: np.ndarray, probs: np.ndarray):
    """Collapse a distribution onto at most POINTS points, each at its probability-weighted mean."""
    if values.size <= POINTS:
        return values, probs
    edges = np.linspace(values[0], values[-1], POINTS + 1)
    group = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, POINTS - 1)
    p = np.bincount(group, weights=probs, minlength=POINTS)
    m = np.bincount(group, weights=probs * values, minlength=POINTS)
    keep = p > 0
    return m[keep] / p[keep], p[keep]
