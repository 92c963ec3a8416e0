"""Plots (matplotlib).

Figures are built as ``matplotlib.figure.Figure`` objects rendered by Agg: no display and no
pyplot state are involved, so plotting works on servers and in loops. Each function draws on
``ax`` when given (a matplotlib Axes, e.g. one panel of the caller's figure), else on a new
figure; it returns the figure and, given ``path``, also writes it (PNG, SVG or PDF, from the
suffix). Colours come from the colour-blind-safe Okabe-Ito palette (:data:`PALETTE`); an energy
part has the same colour in every plot (:func:`part_color`); series that may overlap differ by
line style and marker as well as colour.

* :func:`waterfall`: BER against SNR, Monte-Carlo points with confidence bars (zero-error
  points as upper bounds) and the closed form.
* :func:`slicer_histogram`: the slicer-input distribution per sent level with the decision
  thresholds (the eye at the sampling instant).
* :func:`bathtub`: a *parametric* bathtub: BER against sampling offset from a dual-Dirac jitter
  model on top of the AWGN floor; it knows no channel and no equaliser (see :func:`eye_bathtub`).
* :func:`statistical_eye`: the 2-D statistical eye of a channel and equaliser
  (:func:`photolink.symbols.eye.statistical_eye`), BER contours over phase and voltage.
* :func:`eye_bathtub`: the bathtub of the same computation (channel, equaliser, ISI, jitter).
* :func:`pulse_response`: an oversampled channel's pulse response with its cursors marked.
* :func:`latency_ccdf`: P[latency > x] on a log scale, tail percentiles marked.
* :func:`completion_ccdf`: P[completion time >= x] of collectives over seeds, one panel per
  collective, one curve per technology (:func:`ccdf_points` computes the curve).
* :func:`energy_bars`: energy per bit of each link, stacked by component.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ._util import rng as _rng
from ._util import validate as v
from .symbols.channel import Channel, decision_point
from .symbols.eye import StatisticalEye
from .symbols.formats import PAM, q_function
from .symbols.stream import BerResult

#: Output formats by file suffix.
SUFFIXES = (".png", ".svg", ".pdf")

#: Okabe & Ito's colour-blind-safe palette (Color Universal Design), black left out.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
#: Line styles and markers that tell overlapping series apart without colour.
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: Colours for lines and markers: the palette without its yellow, too pale on white.
LINE_COLORS = tuple(c for c in PALETTE if c != "#F0E442") + ("#000000",)

#: Energy parts: human label and a fixed colour, so a part looks the same in every plot.
PARTS = {
    "host_serdes": ("host SerDes", "#0072B2"),
    "fec_logic": ("FEC logic", "#56B4E9"),
    "dsp": ("DSP", "#D55E00"),
    "retimer": ("retimer", "#CC79A7"),
    "driver": ("laser/modulator driver", "#E69F00"),
    "laser": ("laser", "#F0E442"),
    "tia": ("TIA (receiver amplifier)", "#009E73"),
    "misc": ("other module circuits", "#999999"),
    "power_conversion": ("power conversion", "#7F7F7F"),
    "cable": ("cable", "#B3B3B3"),
    "switch_asic": ("switch ASIC core", "#000000"),
    "total": ("total", "#0072B2"),
}


def part_label(part: str) -> str:
    """Human label of an energy part (``host_serdes`` -> ``host SerDes``)."""
    return PARTS[part][0] if part in PARTS else part.replace("_", " ")


def part_color(part: str) -> str:
    """The colour of an energy part, the same in every plot (unknown parts: a stable pick)."""
    if part in PARTS:
        return PARTS[part][1]
    return PALETTE[sum(part.encode()) % len(PALETTE)]


def _figure(ax=None, width=6.4, height=4.2):
    """``(figure, axes)``: the caller's ``ax`` and its figure, or a new figure."""
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        return ax.figure, ax
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def save(fig, path) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: .png, .svg or .pdf)."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"path must end in one of {list(SUFFIXES)}, got {str(path)!r}")
    if not path.parent.is_dir():
        raise ValueError(f"path: directory {str(path.parent)!r} does not exist (create it first)")
    fig.savefig(path, dpi=130)
    return path


def _done(fig, path):
    if path is not None:
        save(fig, path)
    return fig


# -- BER waterfall ---------------------------------------------------------------------------
def _ber_points(results) -> list[dict]:
    pts = []
    for r in results:
        if isinstance(r, BerResult):
            pts.append({"format": r.format, "snr_db": r.snr_db, "ber": r.ber, "lo": r.ci[0],
                        "hi": r.ci[1], "errors": r.bit_errors, "plain": True})
        elif isinstance(r, Mapping) and "ber" in r:
            pts.append({"format": r["format"], "snr_db": r["snr_db"], "ber": r["ber"],
                        "lo": r["ber_ci_low"], "hi": r["ber_ci_high"],
                        "errors": r.get("bit_errors", 1), "plain": r.get("ber_awgn") is not None,
                        "label": r.get("label")})
        else:
            raise TypeError(f"results must hold BerResult objects or BER sweep rows, got {type(r).__name__}")
    return pts


def waterfall(results: Sequence, *, closed_form: bool = True, title: str | None = None,
              path=None, ax=None) -> Figure:
    """BER waterfall: Monte-Carlo points with their confidence bars, and the closed form.

    Parameters
    ----------
    results : sequence of BerResult or of BER sweep rows (dicts)
        Points; grouped into one series per format. A point with no error is drawn as its
        upper confidence bound (a downward triangle), never at 0.
    closed_form : bool
        Draw the exact AWGN BER of each format (for cases on an ideal channel).
    title : str, optional
    path : str or pathlib.Path, optional
        Also write the figure there.
    ax : matplotlib.axes.Axes, optional
        Draw on this axes instead of a new figure.
    """
    pts = _ber_points(results)
    if not pts:
        raise ValueError("results must hold at least one point")
    fig, ax = _figure(ax)
    colors = LINE_COLORS
    for n, name in enumerate(dict.fromkeys(p.get("label") or p["format"] for p in pts)):
        series = sorted((p for p in pts if (p.get("label") or p["format"]) == name),
                        key=lambda p: p["snr_db"])
        c = colors[n % len(colors)]
        hit = [p for p in series if p["errors"] > 0]
        zero = [p for p in series if p["errors"] == 0]
        if hit:
            x = np.array([p["snr_db"] for p in hit])
            y = np.array([p["ber"] for p in hit])
            err = np.array([[p["ber"] - p["lo"] for p in hit], [p["hi"] - p["ber"] for p in hit]])
            ax.errorbar(x, y, yerr=err, fmt=MARKERS[n % len(MARKERS)], color=c, ms=4, capsize=3,
                        label=f"{name} Monte Carlo (95% CI)")
        if zero:
            ax.plot([p["snr_db"] for p in zero], [p["hi"] for p in zero], "v", color=c, ms=6,
                    label=f"{name} no errors: upper bound")
        fmt_name = series[0]["format"]
        if closed_form and any(p["plain"] for p in series) and fmt_name.startswith(("PAM", "NRZ")):
            fmt = PAM(2 if fmt_name == "NRZ" else int(fmt_name[3:]))
            snr = np.linspace(min(p["snr_db"] for p in series) - 0.5,
                              max(p["snr_db"] for p in series) + 0.5, 200)
            ax.plot(snr, fmt.ber_awgn(snr), ls=LINESTYLES[1 + n % (len(LINESTYLES) - 1)], color=c,
                    lw=1.2, alpha=0.8,
                    label=f"{fmt_name} closed form (AWGN)")
    ax.set_yscale("log")
    ax.set_xlabel("SNR at the slicer (dB)")
    ax.set_ylabel("bit error ratio (BER)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")       # waterfalls fall to the right
    ax.set_title(title or "BER waterfall")
    return _done(fig, path)


# -- slicer input ----------------------------------------------------------------------------
def slicer_samples(fmt: PAM, snr_db: float, *, channel=None, equalizer=None,
                   n_symbols: int = 200_000, seed=1) -> tuple[np.ndarray, np.ndarray]:
    """Slicer inputs and sent level indices, with correct DFE feedback.

    The slicer sees ``cursor * a + sum(residual_isi * a_other) + noise`` (see
    :func:`photolink.symbols.channel.decision_point`), with the noise of :func:`photolink.simulate_ber`.
    """
    if not isinstance(fmt, PAM):
        raise TypeError(f"fmt must be a photolink PAM format, got {type(fmt).__name__}")
    n = v.integer("n_symbols", n_symbols, lo=100, hi=10**7)
    dp = decision_point(channel, equalizer)
    main = channel.main if channel is not None else 1.0
    sigma = fmt.noise_sigma(snr_db) * main * dp.noise_gain
    rng = np.random.Generator(_rng.chunk_bit_generator(_rng.seed_sequence(seed), 0))
    sent = rng.integers(0, fmt.M, n)
    x = dp.cursor * fmt.levels[sent]
    if dp.residual_isi.size:
        x = x + fmt.levels[rng.integers(0, fmt.M, (n, dp.residual_isi.size))] @ dp.residual_isi
    return x + sigma * rng.standard_normal(n), sent


def slicer_histogram(fmt: PAM, snr_db: float, *, channel=None, equalizer=None,
                     n_symbols: int = 200_000, seed=1, bins: int = 300, path=None,
                     ax=None) -> Figure:
    """Histogram of the slicer input per sent level, with the decision thresholds.

    Parameters are those of :func:`slicer_samples`; ``bins`` histogram bins; ``ax`` an axes to
    draw on.
    """
    z, sent = slicer_samples(fmt, snr_db, channel=channel, equalizer=equalizer,
                             n_symbols=n_symbols, seed=seed)
    dp = decision_point(channel, equalizer)
    fig, ax = _figure(ax)
    edges = np.linspace(z.min(), z.max(), bins + 1)
    for i in range(fmt.M):
        ax.hist(z[sent == i], bins=edges, histtype="stepfilled", alpha=0.45,
                color=PALETTE[i % len(PALETTE)], label=f"sent level {fmt.levels[i]:+g}")
    for k, t in enumerate(dp.cursor * np.arange(-fmt.M + 2, fmt.M - 1, 2)):
        ax.axvline(t, color="k", ls="--", lw=0.8, label="decision threshold" if k == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("slicer input (level units: sent levels at -3, -1, +1, +3 x main cursor)"
                  if fmt.M == 4 else "slicer input (level units x main cursor)")
    ax.set_ylabel(f"symbols per bin (of {z.size})")
    eq = "" if equalizer is None else f", FFE {len(equalizer.ffe)} / DFE {len(equalizer.dfe)} taps"
    ax.set_title(f"{fmt.name} slicer input at SNR {snr_db:g} dB{eq}")
    ax.set_ylim(0.5, ax.get_ylim()[1] * 30)               # headroom for the legend
    ax.legend(fontsize=8, ncol=min(fmt.M + 1, 5), loc="upper center")
    return _done(fig, path)


# -- bathtub ---------------------------------------------------------------------------------
def bathtub_ber(fmt: PAM, snr_db: float, offset_ui, *, rj_rms_ui: float = 0.015,
                dj_pp_ui: float = 0.1, transition_density: float = 0.5):
    """BER at sampling offsets ``offset_ui`` (0 to 1 UI) of a dual-Dirac jitter model.

    ``BER(x) = BER_awgn(snr) + rho * [J(x) + J(1 - x)]`` with
    ``J(x) = (Q((x - DJ/2)/RJ) + Q((x + DJ/2)/RJ)) / 2``: the crossing jitter is two Diracs
    ``DJ`` apart convolved with Gaussian ``RJ`` (the dual-Dirac model of Fibre Channel MJSQ).
    """
    x = v.real_array("offset_ui", offset_ui, lo=0.0, hi=1.0)
    rj = v.real("rj_rms_ui", rj_rms_ui, lo=1e-6, hi=0.5)
    dj = v.real("dj_pp_ui", dj_pp_ui, lo=0.0, hi=0.9)
    rho = v.real("transition_density", transition_density, lo=0.0, hi=1.0)

    def tail(d):
        return 0.5 * (q_function((d - dj / 2) / rj) + q_function((d + dj / 2) / rj))

    return np.minimum(fmt.ber_awgn(snr_db) + rho * (tail(x) + tail(1 - x)), 0.5)


def bathtub(fmt: PAM, snr_db: float, *, rj_rms_ui: float = 0.015, dj_pp_ui: float = 0.1,
            transition_density: float = 0.5, target_ber: float = 1e-12, path=None,
            ax=None) -> Figure:
    """Parametric bathtub (see :func:`bathtub_ber`), with the eye opening at ``target_ber`` marked;
    ``ax``: an axes to draw on.

    A model of jitter over the AWGN floor: no channel, no equaliser, no ISI. For the bathtub of
    a real channel and equaliser use :func:`eye_bathtub`.
    """
    x = np.linspace(0, 1, 801)
    ber = bathtub_ber(fmt, snr_db, x, rj_rms_ui=rj_rms_ui, dj_pp_ui=dj_pp_ui,
                      transition_density=transition_density)
    fig, ax = _figure(ax)
    ax.plot(x, ber, color=PALETTE[0], ls="-", lw=1.5, label="BER (dual-Dirac jitter + noise)")
    ax.axhline(target_ber, color=PALETTE[5], ls=":", lw=1, label=f"target BER {target_ber:g}")
    open_ = x[ber <= target_ber]
    if open_.size:
        ax.annotate("", xy=(open_[0], target_ber), xytext=(open_[-1], target_ber),
                    arrowprops={"arrowstyle": "<->", "color": PALETTE[5]})
        ax.text(0.5, target_ber * 3, f"eye opening {open_[-1] - open_[0]:.2f} UI at BER {target_ber:g}",
                ha="center", color=PALETTE[5])
    ax.set_yscale("log")
    ax.set_ylim(max(min(ber.min(), target_ber) / 100, 1e-18), 1)
    ax.set_xlabel("sampling offset in the unit interval (UI)")
    ax.set_ylabel("bit error ratio (BER)")
    ax.set_title(f"{fmt.name} parametric bathtub (dual-Dirac, no channel) at SNR {snr_db:g} dB: "
                 f"RJ {rj_rms_ui:g} UI rms, DJ {dj_pp_ui:g} UI pp", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center")
    return _done(fig, path)


# -- channel eyes -----------------------------------------------------------------------------
def _check_eye(eye):
    if not isinstance(eye, StatisticalEye):
        raise TypeError(f"eye must be a photolink.symbols.eye.StatisticalEye, got {type(eye).__name__}")


def statistical_eye(eye, *, target_ber: float = 1e-6, floor: float = 1e-15, ax=None,
                    title: str | None = None, path=None):
    """2-D statistical eye: log10 of the error probability over sampling phase and slicer voltage.

    Colour map ``cividis`` (colour-blind safe); the contour at ``target_ber`` is drawn and the
    eye height there is given in the title. ``ax`` draws into the caller's axes.
    """
    _check_eye(eye)
    target = v.real("target_ber", target_ber, lo=1e-30, hi=0.4)
    fig, ax = _figure(ax)
    volts, m = eye.ber_map()
    logm = np.log10(np.clip(m, floor, 1.0))
    mesh = ax.pcolormesh(eye.phases_ui, volts, logm.T, cmap="cividis", shading="nearest")
    fig.colorbar(mesh, ax=ax, label="log10 error probability")
    ax.contour(eye.phases_ui, volts, logm.T, levels=[math.log10(target)], colors="w", linewidths=1)
    ax.set_xlabel("sampling phase (UI from the cursor)")
    ax.set_ylabel("slicer input (level units, cursor = 1)")
    h = eye.eye_height(target)
    ax.set_title(title or f"{eye.fmt.name} statistical eye: height {h:.3f} at BER {target:g}, "
                          f"width {eye.eye_width(target):.3f} UI", fontsize=9)
    return _done(fig, path)


def eye_bathtub(eye, *, target_ber: float = 1e-6, ax=None, title: str | None = None, path=None):
    """Bathtub of a channel and equaliser: BER at the slicer's thresholds against sampling phase."""
    _check_eye(eye)
    target = v.real("target_ber", target_ber, lo=1e-30, hi=0.4)
    fig, ax = _figure(ax)
    ph, ber = eye.bathtub()
    ax.semilogy(ph, np.clip(ber, 1e-300, 1), "C0-", lw=1.5)
    ax.axhline(target, color="C3", ls=":", lw=1)
    ax.set_xlabel("sampling phase (UI from the cursor)")
    ax.set_ylabel("bit error ratio")
    ax.set_title(title or f"{eye.fmt.name} bathtub of the channel: width {eye.eye_width(target):.3f} UI "
                          f"at BER {target:g}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    return _done(fig, path)


def pulse_response(channel, *, ax=None, title: str | None = None, path=None):
    """An oversampled channel's pulse response (time in UI from the cursor), cursors marked."""
    if not isinstance(channel, Channel) or not channel.oversampled:
        raise TypeError(f"channel must be an oversampled photolink.Channel, got {channel!r}")
    fig, ax = _figure(ax)
    spu = channel.samples_per_ui
    t = (np.arange(channel.samples.size) - channel.cursor_sample) / spu
    lo, hi = -(channel.cursor + 2), len(channel.taps) - channel.cursor + 2
    keep = (t >= lo) & (t <= hi)
    ax.plot(t[keep], channel.samples[keep], "C0-", lw=1.2)
    k = np.arange(len(channel.taps)) - channel.cursor
    ax.plot(k, channel.taps, "C1o", ms=3, label="symbol-spaced taps")
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_xlabel("time (UI from the cursor)")
    ax.set_ylabel("pulse response (V per V launched)")
    ax.legend()
    ax.set_title(title or "pulse response", fontsize=9)
    return _done(fig, path)


# -- latency CCDF ------------------------------------------------------------------------------
def latency_ccdf(latencies_ns, *, percentiles=(0.5, 0.99, 0.999), title: str | None = None,
                 path=None, ax=None) -> Figure:
    """Complementary CDF P[latency > x] on a log axis: the tail, percentiles marked.

    Parameters
    ----------
    latencies_ns : array or mapping of name to array
        Packet latencies in ns, one series per name. Each series has its own colour, line style
        and marker, so curves that coincide (e.g. LPO and CPO) stay visible: later series are
        drawn thinner, on top of the earlier ones.
    percentiles : sequence of float
        Marked on every curve with that series' marker and explained in the legend.
    ax : matplotlib.axes.Axes, optional
        Draw on this axes instead of a new figure.
    """
    series = latencies_ns if isinstance(latencies_ns, Mapping) else {"latency": latencies_ns}
    fig, ax = _figure(ax, width=7.8)
    k = len(series)
    seen: list[tuple[str, np.ndarray]] = []
    for n, (name, lat) in enumerate(series.items()):
        x = np.sort(v.real_array(f"latencies_ns[{name!r}]", lat, lo=0.0).ravel())
        if x.size == 0:
            raise ValueError(f"latencies_ns[{name!r}] is empty")
        ccdf = 1.0 - np.arange(x.size) / x.size          # P[L >= x_i], down to 1/n
        color, marker = LINE_COLORS[n % len(LINE_COLORS)], MARKERS[n % len(MARKERS)]
        ls, lw = LINESTYLES[n % len(LINESTYLES)], 2.8 - 1.6 * n / max(k - 1, 1)
        ax.step(x, ccdf, where="post", color=color, ls=ls, lw=lw, zorder=2 + n)
        q = np.quantile(x, list(percentiles))
        ax.plot(q, 1 - np.asarray(percentiles), marker, color=color, ms=7 - 2 * (n % 2), mfc="white",
                mew=1.5, ls="none", zorder=10 + n)
        shape = np.quantile(x, (0.5, 0.9, 0.99))
        twin = next((other for other, s_ in seen if np.allclose(shape, s_, rtol=2e-3)), None)
        seen.append((name, shape))
        label = f"{name} ({x.size} packets)" + (f": same curve as {twin}" if twin else "")
        ax.plot([], [], color=color, ls=ls, lw=lw, marker=marker, mfc="white", mew=1.5, label=label)
    marks = ", ".join(f"p{100 * p:g}" for p in percentiles)
    ax.plot([], [], ls="none", label=f"open markers: {marks} of each series\n(the latency that "
                                     f"{', '.join(f'{100 * (1 - p):g} %' for p in percentiles)} "
                                     f"of packets exceed)")
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.5 / max(len(np.ravel(s)) for s in series.values()))
    ax.set_xlabel("packet latency, first bit in to last bit out (ns)")
    ax.set_ylabel("P[latency > x] (fraction of packets)")
    ax.set_title(title or "latency CCDF")
    ax.grid(True, which="both", alpha=0.3)
    # outside the axes: a CCDF's tails fill the right and the bottom of the plot
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return _done(fig, path)


# -- completion-time CCDF ----------------------------------------------------------------------
def ccdf_points(samples) -> tuple[np.ndarray, np.ndarray]:
    """Empirical complementary CDF of ``samples``: each distinct value x and P[X >= x].

    P[X >= x] is the share of samples at or above x: 1 at the smallest value, the share of the
    largest value at the end (never 0, so a log axis shows every sample). Between two distinct
    values u_(k-1) < x <= u_k it is the value at u_k (a step drawn ``where="pre"``).

    Returns
    -------
    x : numpy.ndarray
        Distinct sample values, ascending.
    p : numpy.ndarray
        P[X >= x] at each.
    """
    a = np.sort(v.real_array("samples", samples).ravel())
    if a.size == 0:
        raise ValueError("samples is empty")
    x = np.unique(a)
    return x, (a.size - np.searchsorted(a, x, side="left")) / a.size


def completion_ccdf(panels: Mapping, *, unit: str = "us", title: str | None = None, path=None) -> Figure:
    """Completion-time CCDFs: one panel per collective, one curve per technology.

    Parameters
    ----------
    panels : mapping of panel title to (mapping of series name to samples)
        E.g. ``{"all-reduce": {"copper": [...], "CPO": [...]}, "all-to-all": {...}}``: the
        completion times of each series over seeds, in ``unit``. A series keeps its colour,
        line style and marker in every panel; series that coincide are drawn thinner on top of
        the earlier ones and the legend says which curve they repeat.
    unit : str
        Unit of the samples (the x labels say it).
    title : str, optional
    path : str or pathlib.Path, optional
        Also write the figure there.
    """
    if not isinstance(panels, Mapping) or not panels:
        raise ValueError("panels must map at least one panel title to its series")
    fig = Figure(figsize=(5.0 * len(panels) + 2.0, 4.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    names = list(dict.fromkeys(name for series in panels.values() for name in series))
    style = {name: (LINE_COLORS[n % len(LINE_COLORS)], LINESTYLES[n % len(LINESTYLES)], MARKERS[n % len(MARKERS)],
                    2.8 - 1.6 * n / max(len(names) - 1, 1)) for n, name in enumerate(names)}
    for ax, (panel, series) in zip(axes, panels.items()):
        if not isinstance(series, Mapping) or not series:
            raise ValueError(f"panels[{panel!r}] must map at least one series name to its samples")
        seen: list[tuple[str, np.ndarray]] = []
        smallest = 1.0
        for name, samples in series.items():
            try:
                x, p = ccdf_points(samples)
            except ValueError as exc:
                raise ValueError(f"panels[{panel!r}][{name!r}]: {exc}") from None
            color, ls, marker, lw = style[name]
            n = names.index(name)
            ax.step(x, p, where="pre", color=color, ls=ls, lw=lw, zorder=2 + n)
            ax.plot(x, p, marker, color=color, ms=7 - 2 * (n % 2), mfc="white", mew=1.5, ls="none", zorder=10 + n)
            twin = next((other for other, (x0, p0) in seen
                         if x0.shape == x.shape and np.allclose(x0, x, rtol=1e-9) and np.allclose(p0, p)), None)
            seen.append((name, (x, p)))
            smallest = min(smallest, p[-1])
            label = f"{name} ({np.size(samples)} runs)" + (f": same curve as {twin}" if twin else "")
            ax.plot([], [], color=color, ls=ls, lw=lw, marker=marker, mfc="white", mew=1.5, label=label)
        ax.set_yscale("log")
        ax.set_ylim(0.5 * smallest, 1.3)
        ax.set_xlabel(f"completion time ({unit})")
        ax.set_ylabel("P[completion time >= x] (fraction of runs)")
        ax.set_title(panel, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=11)
    return _done(fig, path)


# -- energy ------------------------------------------------------------------------------------
def energy_components(row: Mapping) -> dict:
    """Energy-per-bit components of a link report or row: the entries of the mapping whose key
    mentions energy in pJ (``energy_breakdown_pj_per_bit``; flattened ``"key.part"`` entries
    too); else the total."""
    def energy_key(key):
        return "energy" in key and "pj" in key and key != "energy_pj_per_bit"

    for key, value in row.items():
        if isinstance(value, Mapping) and energy_key(key):
            return {str(k): float(x) for k, x in value.items()}
    parts = {k.split(".", 1)[1]: float(x) for k, x in row.items()
             if "." in k and energy_key(k.split(".", 1)[0]) and isinstance(x, (int, float))}
    return parts or {"total": float(row["energy_pj_per_bit"])}


def energy_bars(breakdown: Mapping, *, unit: str = "pJ/bit", title: str | None = None, path=None,
                ax=None) -> Figure:
    """Stacked bars of energy per bit by component, one bar per link.

    Parameters
    ----------
    breakdown : mapping of link name to (mapping of component to value, or a total)
        Components are keys such as ``host_serdes``; they are labelled in words
        (:func:`part_label`) and keep one colour in every plot (:func:`part_color`).
    unit : str
        Unit of the values (the y label says it).
    title : str, optional
    path : str or pathlib.Path, optional
        Also write the figure there.
    ax : matplotlib.axes.Axes, optional
        Draw on this axes instead of a new figure.

    The stack is drawn in the order the components first appear (bottom to top), and the
    legend lists them top to bottom, as they are stacked; each bar's total is written on it.
    """
    if not breakdown:
        raise ValueError("breakdown must name at least one link")
    names = list(breakdown)
    rows = {n: (dict(b) if isinstance(b, Mapping) else {"total": float(b)}) for n, b in breakdown.items()}
    parts = list(dict.fromkeys(p for b in rows.values() for p in b))
    fig, ax = _figure(ax, width=7.8)
    bottom = np.zeros(len(names))
    handles = []
    for part in parts:
        h = np.array([rows[n].get(part, 0.0) for n in names], dtype=float)
        handles.append(ax.bar(names, h, bottom=bottom, color=part_color(part), edgecolor="white",
                              lw=0.5, label=part_label(part)))
        bottom += h
    for i, total in enumerate(bottom):
        ax.text(i, total, f"{total:.3g}", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel(f"energy per bit ({unit})")
    ax.set_ylim(0, bottom.max() * 1.15 if bottom.max() > 0 else 1)
    ax.set_title(title or "energy per bit by component")
    if len(parts) > 1 or parts != ["total"]:
        ax.legend(handles[::-1], [part_label(p) for p in parts][::-1], fontsize=8,
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
                  title="top of stack first", title_fontsize=8)
    return _done(fig, path)
