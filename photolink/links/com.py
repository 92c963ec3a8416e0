"""A COM-like figure of merit on a measured channel (IEEE 802.3 Annex 93A, 802.3ck/dj reference receiver).

The lane is a thru :class:`photolink.Channel` (oversampled, e.g. from
:meth:`photolink.Channel.from_touchstone`) and its crosstalk aggressors (far-end: driven with the
victim's transmitter equaliser; near-end: unequalised), a transmitter with a rise-time filter and
an FFE, a receiver with a 4th-order Butterworth front end, a CTLE of the 802.3ck/dj family (93A-22:
a zero/pole pair with DC gain ``g_DC`` and a low-frequency stage ``g_DC2``), an FFE and a DFE.

The optimiser does what COM does [ref:com-annex-93a]: for every CTLE setting and every transmitter
FFE in the grid it builds the pulse response, forces the receiver FFE onto it (pulse-response zero
forcing, the DFE taking the first post-cursors within their limits), places the cursor by the
Mueller-Muller rule (93A-25/26), and keeps the setting with the best figure of merit (93A-36,
cursor power over ISI, jitter, crosstalk, thermal and transmitter noise). COM is then
``20 log10(A_s / A_ni)`` with ``A_ni`` the detector-error-ratio quantile ``DER_0`` of the
convolved residual-ISI, crosstalk, dual-Dirac jitter and Gaussian noise distributions (93A-45).

With ``ComParams(rx_ffe_mode="mmse")`` the receiver FFE is the 802.3dj (Annex 178A) minimum
mean-square-error one instead [ref:com-178a-mmse].

The standards' parameter sets are :data:`COM_802_3CK` (100 Gb/s per lane) and :data:`COM_802_3DJ`
(200 Gb/s per lane), every value citing its docs/references.md row. ``search="grid"`` tries every
setting of the grid as COM does (802.3dj's takes minutes); ``search="local"`` finds the grid's
best setting by a coarse scan and hill climbing in ~0.1 s, within ~0.5 dB of the grid's figure of
merit (the built-in SerDes lane of :mod:`photolink.links.serdes` uses it).

Deviations from the standard (and from PyChOpMarg, the oracle of the tests): the package is
whatever the channel was built with (``tx_package`` / ``rx_package`` of
:meth:`photolink.Channel.from_network`): the Annex 93A / 178A die-and-package model
:class:`photolink.symbols.package.DevicePackage` (die terminations R_d = R_0) or any 2-port; the
receiver FFE's noise gain counts in the figure of merit as it does in COM's final noise budget, and
pulses span ``Channel.samples`` (256 UI by default) rather than ``1 / f_step``.

The result feeds the rest of photolink: :attr:`ComResult.snr_db` is the slicer SNR (cursor power
over every noise and residual ISI), :attr:`ComResult.channel` and :attr:`ComResult.equalizer` the
symbol-spaced lane for :func:`photolink.simulate_ber` at :attr:`ComResult.snr_in_db`, and
:meth:`ComResult.ber` the statistical-eye BER; a :class:`photolink.links.Link` takes it as its
``lane``.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import signal as _signal
from scipy.linalg import toeplitz

from .._util import validate as v
from ..symbols.channel import Channel, Equalizer
from ..symbols.formats import PAM, PAM4
from ..symbols.pulse import loss_at_db
from .slicer import Eye

#: Sources of the noise budget, in the order of :attr:`ComResult.noise_v`.
NOISE_SOURCES = ("isi", "jitter", "crosstalk", "thermal", "tx_noise")

#: Receiver FFE optimisations: pulse-response zero forcing (802.3ck COM) and minimum mean-square
#: error (802.3dj COM, Annex 178A).
RX_FFE_MODES = ("przf", "mmse")

#: Equaliser searches: every setting of the grid (as COM), or hill climbing from the untapped
#: transmitter (a fast stand-in for the grid, used by the built-in SerDes lane).
SEARCHES = ("grid", "local")


@dataclass(frozen=True)
class Ctle:
    """Continuous-time linear equaliser of IEEE 802.3 (93A-22), swept over its DC gains.

    ``H(f) = (g1 + j f/f_z)(g2 + j f/f_lf) / ((1 + j f/f_p1)(1 + j f/f_p2)(1 + j f/f_lf))`` with
    ``g1 = 10^(g_dc_db/20)``, ``g2 = 10^(g_dc2_db/20)``.

    Parameters
    ----------
    f_z_ghz, f_p1_ghz, f_p2_ghz, f_lf_ghz : float
    g_dc_db, g_dc2_db : tuple of float
        Gains the optimiser tries (<= 0 dB).
    """

    f_z_ghz: float
    f_p1_ghz: float
    f_p2_ghz: float
    f_lf_ghz: float
    g_dc_db: tuple = tuple(float(-g) for g in range(13))
    g_dc2_db: tuple = (0.0,)

    def __post_init__(self):
        for name in ("f_z_ghz", "f_p1_ghz", "f_p2_ghz", "f_lf_ghz"):
            v.real(name, getattr(self, name), lo=1e-3, hi=1e4)
        for name in ("g_dc_db", "g_dc2_db"):
            vals = v.real_array(name, getattr(self, name), lo=-40.0, hi=0.0)
            if vals.ndim != 1 or vals.size == 0:
                raise ValueError(f"{name} must be a non-empty sequence of gains in [-40, 0] dB")
            object.__setattr__(self, name, tuple(vals.tolist()))

    @classmethod
    def ieee_802_3ck(cls, symbol_rate_gbd: float = 53.125) -> Ctle:
        """802.3ck / dj shape scaled to ``symbol_rate_gbd``: f_z = f_p1 = f_b/2.5, f_p2 = f_b,
        f_lf = f_b/80, g_DC 0 to -20 dB (1 dB steps), g_DC2 0 to -6 dB (1 dB steps) [ref:com-ctle-ck]."""
        rs = v.real("symbol_rate_gbd", symbol_rate_gbd, lo=0.1, hi=1000.0)
        return cls(rs / 2.5, rs / 2.5, rs, rs / 80, tuple(float(-g) for g in range(21)),
                   tuple(float(-g) for g in range(7)))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def response(self, f_ghz, g_dc_db: float, g_dc2_db: float) -> np.ndarray:
        f = np.asarray(f_ghz, dtype=np.float64)
        g1, g2 = 10 ** (g_dc_db / 20), 10 ** (g_dc2_db / 20)
        num = (g1 + 1j * f / self.f_z_ghz) * (g2 + 1j * f / self.f_lf_ghz)
        den = (1 + 1j * f / self.f_p1_ghz) * (1 + 1j * f / self.f_p2_ghz) * (1 + 1j * f / self.f_lf_ghz)
        return num / den


@dataclass(frozen=True)
class TxFfe:
    """Transmitter FFE grid: pre-cursor taps (furthest first), then post-cursor taps.

    Each tap runs ``min`` to ``max`` in ``step`` (step 0: fixed at ``min``); the cursor is
    ``1 - sum |c|`` and must stay >= ``c0_min``.
    """

    taps_min: tuple = (-0.2, 0.0)
    taps_max: tuple = (0.0, 0.0)
    taps_step: tuple = (0.05, 0.0)
    n_post: int = 1
    c0_min: float = 0.6

    def __post_init__(self):
        lo = v.real_array("taps_min", self.taps_min, lo=-1, hi=1)
        hi = v.real_array("taps_max", self.taps_max, lo=-1, hi=1)
        st = v.real_array("taps_step", self.taps_step, lo=0, hi=1)
        if not (lo.ndim == hi.ndim == st.ndim == 1 and lo.size == hi.size == st.size):
            raise ValueError("taps_min, taps_max and taps_step must be sequences of one length")
        if np.any(hi < lo):
            raise ValueError("taps_max must be >= taps_min")
        v.integer("n_post", self.n_post, lo=0, hi=lo.size)
        v.real("c0_min", self.c0_min, lo=0.0, hi=1.0)
        for name, arr in (("taps_min", lo), ("taps_max", hi), ("taps_step", st)):
            object.__setattr__(self, name, tuple(arr.tolist()))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def n_pre(self) -> int:
        return len(self.taps_min) - self.n_post

    def axes(self) -> list:
        """The values each tap may take (pre-cursors furthest first, then post-cursors)."""
        axes = []
        for lo, hi, st in zip(self.taps_min, self.taps_max, self.taps_step):
            n = round((hi - lo) / st) + 1 if st > 0 else 1
            axes.append(lo + st * np.arange(n))
        return axes

    def combinations(self) -> np.ndarray:
        """Every allowed tap set, cursor included (shape: combinations x (taps + 1))."""
        axes = self.axes()
        grid = np.array(list(itertools.product(*axes)), dtype=np.float64).reshape(-1, len(axes))
        return self.with_cursor(grid)

    def with_cursor(self, grid: np.ndarray) -> np.ndarray:
        """Rows of ``grid`` (taps without the cursor) whose cursor ``1 - sum |c|`` is at least
        ``c0_min``, with the cursor inserted."""
        grid = np.asarray(grid, dtype=np.float64).reshape(-1, len(self.taps_min))
        c0 = 1.0 - np.abs(grid).sum(axis=1)
        keep = c0 >= self.c0_min - 1e-12
        return np.insert(grid[keep], self.n_pre, c0[keep], axis=1)


@dataclass(frozen=True)
class ComParams:
    """COM parameters (names after IEEE 802.3 Table 93A-1; units in the names).

    Defaults follow 802.3ck (``ieee_802_3ck``) except where noted; the CTLE and transmitter grid
    are given by :class:`Ctle` and :class:`TxFfe`.

    ``rx_ffe_mode`` chooses the receiver FFE: ``"przf"`` (pulse-response zero forcing, 802.3ck
    COM) or ``"mmse"`` (minimum mean-square error with the cursor held at unit gain, as the 802.3dj
    COM of Annex 178A: residual ISI outside the DFE's reach, jitter, crosstalk and thermal noise
    weighed together). In ``"mmse"`` mode the grid is searched with the fast zero-forcing figure of
    merit and the best ``mmse_candidates`` transmitter settings of every CTLE setting are
    re-equalised by MMSE; the best of those is kept (a shortcut against 178A, which runs MMSE on
    every setting).

    Floating taps (802.3dj, 178A.1.8.1): with ``float_groups > 0`` the receiver FFE spans
    ``rx_ffe_taps`` positions, of which the first ``rx_ffe_fixed`` are always used and
    ``float_groups`` groups of ``float_taps`` contiguous taps are placed, one group at a time, where
    they give the best figure of merit (MMSE only; the other positions are 0).

    ``mm_tolerance_v``: a sampling point whose Mueller-Muller residual (93A-26) is below it counts
    as exact, and the last exact point before the pulse peak is taken (else the smallest
    residual). 1 mV by default (the setting checked against PyChOpMarg); on weak pulses (tens of mV after 40 dB of
    loss) many points pass it and the choice jumps between neighbouring channels, so the built-in
    SerDes lane takes the smallest residual (1 uV).
    """

    ctle: Ctle
    tx_ffe: TxFfe = field(default_factory=TxFfe)
    der0: float = 1e-4
    t_r_ns: float = 0.004
    rlm: float = 0.95
    a_v: float = 0.413
    a_fe: float = 0.413
    a_ne: float = 0.45
    a_dd_ui: float = 0.02
    snr_tx_db: float = 33.0
    eta0_v2_per_ghz: float = 8.2e-9
    sigma_rj_ui: float = 0.01
    f_r: float = 0.75
    rx_ffe_taps: int = 12
    rx_ffe_pre: int = 3
    rx_ffe_min: tuple = ()
    rx_ffe_max: tuple = ()
    dfe_min: tuple = (0.0,)
    dfe_max: tuple = (0.85,)
    rx_ffe_mode: str = "przf"
    mmse_candidates: int = 3
    rx_ffe_fixed: int | None = None
    float_groups: int = 0
    float_taps: int = 0
    search: str = "grid"
    mm_tolerance_v: float = 1e-3

    def __post_init__(self):
        if not isinstance(self.ctle, Ctle):
            raise TypeError(f"ctle must be a photolink.links.com.Ctle, got {type(self.ctle).__name__}")
        if not isinstance(self.tx_ffe, TxFfe):
            raise TypeError(f"tx_ffe must be a photolink.links.com.TxFfe, got {type(self.tx_ffe).__name__}")
        v.real("der0", self.der0, lo=1e-15, hi=0.1)
        v.real("t_r_ns", self.t_r_ns, lo=0.0, hi=1.0)
        v.real("rlm", self.rlm, lo=0.5, hi=1.0)
        for name in ("a_v", "a_fe", "a_ne"):
            v.real(name, getattr(self, name), lo=0.0, hi=5.0)
        v.real("a_dd_ui", self.a_dd_ui, lo=0.0, hi=0.5)
        v.real("snr_tx_db", self.snr_tx_db, lo=0.0, hi=100.0)
        v.real("eta0_v2_per_ghz", self.eta0_v2_per_ghz, lo=0.0, hi=1e-3)
        v.real("sigma_rj_ui", self.sigma_rj_ui, lo=0.0, hi=0.5)
        v.real("f_r", self.f_r, lo=0.1, hi=4.0)
        n = v.integer("rx_ffe_taps", self.rx_ffe_taps, lo=1, hi=64)
        v.integer("rx_ffe_pre", self.rx_ffe_pre, lo=0, hi=n - 1)
        for name, default in (("rx_ffe_min", -0.7), ("rx_ffe_max", 0.7)):
            arr = v.real_array(name, getattr(self, name) or [default] * n, lo=-10, hi=10)
            if arr.shape != (n,):
                raise ValueError(f"{name} must hold rx_ffe_taps={n} limits, got {arr.size}")
            arr[self.rx_ffe_pre] = 1.0 if name == "rx_ffe_max" else arr[self.rx_ffe_pre]
            object.__setattr__(self, name, tuple(arr.tolist()))
        lo = v.real_array("dfe_min", self.dfe_min, lo=-2, hi=2)
        hi = v.real_array("dfe_max", self.dfe_max, lo=-2, hi=2)
        if lo.shape != hi.shape or lo.ndim != 1 or np.any(hi < lo) or lo.size > 64:
            raise ValueError("dfe_min and dfe_max must be sequences of one length (0 to 64), min <= max")
        if lo.size + self.rx_ffe_pre >= n:
            raise ValueError(f"rx_ffe_pre + DFE taps must be < rx_ffe_taps={n}")
        object.__setattr__(self, "dfe_min", tuple(lo.tolist()))
        object.__setattr__(self, "dfe_max", tuple(hi.tolist()))
        if self.rx_ffe_mode not in RX_FFE_MODES:
            raise ValueError(f"rx_ffe_mode must be one of {RX_FFE_MODES}, got {self.rx_ffe_mode!r}")
        v.integer("mmse_candidates", self.mmse_candidates, lo=1, hi=10_000)
        v.real("mm_tolerance_v", self.mm_tolerance_v, lo=0.0, hi=1.0)
        if self.search not in SEARCHES:
            raise ValueError(f"search must be one of {SEARCHES}, got {self.search!r}")
        g = v.integer("float_groups", self.float_groups, lo=0, hi=16)
        if g:
            fixed = v.integer("rx_ffe_fixed", self.rx_ffe_fixed, lo=self.rx_ffe_pre + 1, hi=n - 1)
            v.integer("float_taps", self.float_taps, lo=1, hi=n - fixed)
            if self.rx_ffe_mode != "mmse":
                raise ValueError(f"float_groups={g} needs rx_ffe_mode='mmse', got {self.rx_ffe_mode!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def ieee_802_3ck(cls, symbol_rate_gbd: float = 53.125, **changes) -> ComParams:
        """802.3ck (100 Gb/s per lane) reference receiver at ``symbol_rate_gbd``: the values of
        :data:`COM_802_3CK`, each cited there. ``changes`` replace any field."""
        tx = TxFfe((0.0, -0.3, -0.2), (0.1, 0.0, 0.0), (0.05, 0.05, 0.05), n_post=1, c0_min=0.5)
        base = dict(ctle=Ctle.ieee_802_3ck(symbol_rate_gbd), tx_ffe=tx, der0=1e-4, t_r_ns=0.004,
                    rlm=0.95, a_v=0.413, a_fe=0.413, a_ne=0.45, a_dd_ui=0.02, snr_tx_db=32.5,
                    eta0_v2_per_ghz=8.2e-9, sigma_rj_ui=0.01, f_r=0.75, rx_ffe_taps=12, rx_ffe_pre=3,
                    dfe_min=(0.0,), dfe_max=(0.85,), rx_ffe_mode="przf")
        return cls(**{**base, **changes})

    @classmethod
    def ieee_802_3dj(cls, **changes) -> ComParams:
        """802.3dj (200 Gb/s per lane, 106.25 GBd) reference receiver: the values of
        :data:`COM_802_3DJ`, each cited there. ``changes`` replace any field."""
        rs = 106.25
        ctle = Ctle(rs / 2.5, rs / 2.5, rs, rs / 80, tuple(float(-g) for g in range(16)),
                    tuple(-0.5 * g for g in range(11)))
        tx = TxFfe((-0.06, 0.0, -0.34, -0.2), (0.0, 0.12, 0.0, 0.0), (0.02, 0.02, 0.02, 0.02),
                   n_post=1, c0_min=0.5)
        base = dict(ctle=ctle, tx_ffe=tx, der0=2e-4, t_r_ns=0.004, rlm=0.95, a_v=0.413, a_fe=0.413,
                    a_ne=0.45, a_dd_ui=0.02, snr_tx_db=33.0, eta0_v2_per_ghz=6.0e-9, sigma_rj_ui=0.01,
                    f_r=0.58, rx_ffe_taps=16, rx_ffe_pre=5, dfe_min=(0.0,), dfe_max=(0.85,),
                    rx_ffe_mode="mmse")
        return cls(**{**base, **changes})


#: IEEE 802.3ck (100 Gb/s per lane, 53.125 GBd) COM reference receiver [ref:ck-com-table]:
#: CTLE f_z = f_p1 = f_b/2.5, f_p2 = f_b, f_LF = f_b/80, g_DC 0 to -20 dB, g_DC2 0 to -6 dB
#: [ref:com-ctle-ck]; transmitter FFE c(-2) 0..0.1, c(-1) -0.3..0, c(1) -0.2..0 in 0.05 steps,
#: c(0) >= 0.5; 12-tap receiver FFE (3 pre-cursors, taps within +-0.7), 1 DFE tap with
#: b_max(1) = 0.85 [ref:com-dfe-b1-limit]; A_v = A_fe 0.413 V, A_ne 0.45 V, R_LM 0.95, T_r 4 ps,
#: DER_0 1e-4, SNR_TX 32.5 dB, eta_0 8.2e-9 V^2/GHz, f_r 0.75 f_b, sigma_RJ 0.01 UI, A_DD 0.02 UI
#: [ref:ck-com-parameters]; PRZF receiver FFE.
COM_802_3CK = ComParams.ieee_802_3ck(53.125)

#: IEEE 802.3dj (200 Gb/s per lane, 106.25 GBd) COM reference receiver, Annex 178A
#: [ref:dj-com-table]: CTLE f_z = f_p1 = 42.5 GHz, f_p2 = 106.25 GHz, f_LF = 1.328 GHz,
#: g_DC 0 to -15 dB (1 dB), g_DC2 0 to -5 dB (0.5 dB); transmitter FFE c(-3) -0.06..0,
#: c(-2) 0..0.12, c(-1) -0.34..0, c(1) -0.2..0 (0.02 steps), c(0) >= 0.5; 16-tap MMSE receiver
#: FFE with 5 pre-cursors (taps within +-0.7) [ref:com-178a-mmse], 1 DFE tap, b_max(1) = 0.85
#: [ref:com-dfe-b1-limit]; A_v = A_fe 0.413 V, A_ne 0.45 V, R_LM 0.95, T_r 4 ps, DER_0 2e-4,
#: SNR_TX 33 dB, eta_0 6.0e-9 V^2/GHz, f_r 0.58 f_b, sigma_RJ 0.01 UI, A_DD 0.02 UI
#: [ref:dj-com-parameters].
COM_802_3DJ = ComParams.ieee_802_3dj()


@dataclass(frozen=True, eq=False)
class ComResult:
    """COM, its noise budget, the chosen equaliser and the lane it leaves at the slicer.

    Attributes
    ----------
    com_db : float
        ``20 log10(A_s / A_ni)`` at the detector error ratio ``der0``.
    fom_db : float
        Figure of merit of the chosen equaliser (93A-36).
    snr_db : float
        Slicer SNR: cursor power (mean over levels) over every noise and residual-ISI power.
    snr_in_db : float
        Gaussian noise (thermal, transmitter, jitter, crosstalk) as the white input SNR that gives
        the same slicer noise through :attr:`equalizer` (the ``snr_db`` of
        :func:`photolink.simulate_ber` with :attr:`channel` and :attr:`equalizer`).
    a_s_v, a_ni_v : float
        Signal amplitude (RLM x cursor / (L - 1)) and noise-plus-interference amplitude.
    noise_v : dict
        Standard deviation of each source at the slicer, volts: isi, jitter (random and
        dual-Dirac), crosstalk, thermal, tx_noise.
    noise_db : dict
        The same as SNRs: cursor power over each source's power.
    tx_taps, rx_ffe, dfe : tuple
        Transmitter FFE (cursor included), receiver FFE, DFE (relative to the cursor).
    g_dc_db, g_dc2_db : float
        CTLE setting.
    cursor_sample : int
        Sampling instant in the equalised pulse (its phase is the sampling phase).
    pulse : numpy.ndarray
        Equalised pulse (transmitter FFE, CTLE, receiver FFE; no DFE), volts, oversampled.
    channel : photolink.Channel
        Symbol-spaced pulse at the receiver FFE input (after the CTLE), main cursor 1.
    equalizer : photolink.Equalizer
    eye : photolink.links.slicer.Eye
    loss_at_nyquist_db : float
    """

    com_db: float
    fom_db: float
    snr_db: float
    snr_in_db: float
    a_s_v: float
    a_ni_v: float
    noise_v: dict
    noise_db: dict
    tx_taps: tuple
    rx_ffe: tuple
    dfe: tuple
    g_dc_db: float
    g_dc2_db: float
    cursor_sample: int
    pulse: np.ndarray = field(repr=False)
    channel: Channel = field(repr=False)
    equalizer: Equalizer = field(repr=False)
    eye: Eye = field(repr=False)
    loss_at_nyquist_db: float = math.nan
    symbol_rate_gbd: float = math.nan
    fmt: PAM | None = field(default=None, repr=False)

    def ber(self, extra_noise_db: float = 0.0) -> float:
        """Pre-FEC BER, statistical eye with error-free DFE feedback (Gaussian noise raised by ``extra_noise_db``)."""
        return self.eye.ber(extra_noise_db)

    def to_dict(self) -> dict:
        return {"com_db": self.com_db, "fom_db": self.fom_db, "snr_db": self.snr_db,
                "snr_in_db": self.snr_in_db, "a_s_v": self.a_s_v, "a_ni_v": self.a_ni_v,
                "noise_v": dict(self.noise_v), "noise_db": dict(self.noise_db),
                "tx_taps": list(self.tx_taps), "rx_ffe": list(self.rx_ffe), "dfe": list(self.dfe),
                "g_dc_db": self.g_dc_db, "g_dc2_db": self.g_dc2_db,
                "cursor_sample": self.cursor_sample, "loss_at_nyquist_db": self.loss_at_nyquist_db,
                "symbol_rate_gbd": self.symbol_rate_gbd}


# ---- building blocks -----------------------------------------------------------------------------

def _butterworth4(f_ghz, fc_ghz):
    x = f_ghz / fc_ghz
    return 1.0 / (1 - 3.414214 * x**2 + x**4 + 2.613126j * (x - x**3))


def _check_channel(name, ch, rs=None, n=None, spu=None):
    if not isinstance(ch, Channel) or not ch.oversampled or ch.symbol_rate_gbd is None:
        raise TypeError(f"{name} must be an oversampled photolink.Channel with symbol_rate_gbd "
                        f"(Channel.from_touchstone / from_network / from_pulse), got {ch!r}")
    if rs is not None and (abs(ch.symbol_rate_gbd - rs) > 1e-9 * rs or ch.samples.size != n
                           or ch.samples_per_ui != spu):
        raise ValueError(f"{name} must share the thru's symbol rate, samples_per_ui and length")


def _rolls(p: np.ndarray, shifts_samples) -> np.ndarray:
    return np.stack([np.roll(p, s) for s in shifts_samples])


def _mm_cursor(p: np.ndarray, spu: int, b_min: float, b_max: float, tol: float = 1e-3) -> int:
    """Mueller-Muller cursor within a UI of the peak, the DFE's first tap anticipated (93A-25/26)."""
    peak = int(np.argmax(p))
    idx = np.arange(max(spu, peak - spu), min(p.size - spu, peak + spu))
    cur = p[idx]
    ok = cur > 0
    b1 = np.clip(p[idx + spu] / np.where(ok, cur, 1.0), b_min, b_max)
    res = np.abs(p[idx - spu] - (p[idx + spu] - b1 * cur))
    res[~ok] = np.inf
    exact = np.flatnonzero(res < tol)
    if exact.size:
        before = idx[exact][idx[exact] <= peak]
        return int(before[-1]) if before.size else int(idx[exact][0])
    return int(idx[int(np.argmin(res))])


def _przf(h: np.ndarray, dh: int, params: ComParams) -> np.ndarray:
    """Receiver FFE by pulse-response zero forcing on symbol-spaced samples ``h`` (cursor at ``dh``)."""
    n, pre = params.rx_ffe_taps, params.rx_ffe_pre
    ndfe = len(params.dfe_min)
    target = np.zeros(h.size)
    target[dh] = h[dh]
    post = slice(dh + 1, dh + 1 + ndfe)
    target[post] = np.clip(h[post], np.asarray(params.dfe_min[:target[post].size]) * h[dh],
                           np.asarray(params.dfe_max[:target[post].size]) * h[dh])
    target = np.concatenate([np.zeros(pre), target])[:h.size]
    w = np.linalg.lstsq(_conv_matrix(h, n), target, rcond=None)[0]
    c = w[pre]
    w = np.clip(w, np.asarray(params.rx_ffe_min) * c, np.asarray(params.rx_ffe_max) * c)
    w[pre] = c
    return w / c                                # main tap 1: amplitudes stay in volts at the receiver


def _conv_matrix(h: np.ndarray, n: int) -> np.ndarray:
    """(H w)[i] = sum_k w[k] h[i - k]: the symbol-spaced FIR ``w`` (n taps) on the sequence ``h``."""
    conv = np.zeros((h.size, n))
    for k in range(n):
        conv[k:, k] = h[:h.size - k]
    return conv


def _mmse(h: np.ndarray, dh: int, params: ComParams, var_x: float, noise_cov: np.ndarray,
          cols=None) -> np.ndarray:
    """Receiver FFE of minimum mean-square error with unit gain on the cursor (Annex 178A style).

    ``h``: symbol-spaced pulse at the sampling phase (cursor at ``dh``); ``noise_cov``: covariance
    of the noise at the FFE's taps (thermal, jitter, crosstalk; volts^2). Minimises
    ``var_x |H_isi w|^2 + w' noise_cov w`` subject to ``(H w)[dh + pre] = h[dh]``, where ``H_isi``
    omits the cursor and the UIs the DFE cancels. Returns the taps with the main tap 1 (then the
    limits ``rx_ffe_min`` / ``rx_ffe_max`` applied as for zero forcing), or zero forcing's taps
    when the solution has no positive main tap. ``cols``: the tap positions in use (floating
    taps; default all), the others held at 0.
    """
    n, pre = params.rx_ffe_taps, params.rx_ffe_pre
    cols = np.arange(n) if cols is None else np.asarray(cols)
    conv = _conv_matrix(h, n)
    d = dh + pre
    if d >= h.size:
        return _przf(h, dh, params)
    keep = np.ones(h.size, dtype=bool)
    keep[d:d + 1 + len(params.dfe_min)] = False
    sub = conv[:, cols]
    a = var_x * sub[keep].T @ sub[keep] + noise_cov[np.ix_(cols, cols)]
    a += 1e-12 * np.trace(a) * np.eye(cols.size)
    c = sub[d]
    z = np.linalg.solve(a, c)
    w = np.zeros(n)
    w[cols] = h[dh] * z / float(c @ z)
    if w[pre] <= 0:
        return _przf(h, dh, params)
    w = w / w[pre]
    w = np.clip(w, np.asarray(params.rx_ffe_min), np.asarray(params.rx_ffe_max))
    w[pre] = 1.0
    return w


def _mmse_fom(taps, p, fx, nx, tx_shifts, params, spu, var_x, noise_r, levels, idx):
    """Figure of merit (:func:`_evaluate`) of one transmitter setting with the MMSE receiver FFE."""
    y = taps @ _rolls(p, tx_shifts)
    peak = int(np.argmax(y))
    ph, dh = peak % spu, peak // spu
    n = params.rx_ffe_taps
    cov = params.eta0_v2_per_ghz * toeplitz(noise_r)
    h_j = (np.roll(y, -1)[ph::spu] - np.roll(y, 1)[ph::spu]) * spu / 2
    jit = _conv_matrix(h_j, n)
    cov = cov + (params.a_dd_ui**2 + params.sigma_rj_ui**2) * var_x * (jit.T @ jit)
    xts = [taps @ _rolls(x, tx_shifts) for x in fx] + list(nx)
    for x in xts:
        m = int(np.argmax((x.reshape(-1, spu) ** 2).sum(axis=0)))
        xc = _conv_matrix(x[m::spu], n)
        cov = cov + var_x * (xc.T @ xc)
    if not params.float_groups:
        w = _mmse(y[ph::spu], dh, params, var_x, cov)
        fom, det = _evaluate(y, xts, w, params.rx_ffe_pre, params, spu, var_x, noise_r, levels, idx)
        return (fom, w) if det is not None else (-math.inf, w)
    return _floating(y, xts, ph, dh, params, spu, var_x, cov, noise_r, levels, idx)


def _floating(y, xts, ph, dh, params, spu, var_x, cov, noise_r, levels, idx):
    """MMSE with floating tap groups placed greedily by figure of merit (178A.1.8.1)."""
    n, nf, size = params.rx_ffe_taps, params.rx_ffe_fixed, params.float_taps
    chosen: list[int] = []
    best = (-math.inf, None)
    for _ in range(params.float_groups):
        best = (-math.inf, None)
        for start in range(nf, n - size + 1):
            group = list(range(start, start + size))
            if any(c in chosen for c in group):
                continue
            cols = list(range(nf)) + sorted(chosen + group)
            w = _mmse(y[ph::spu], dh, params, var_x, cov, cols)
            fom, det = _evaluate(y, xts, w, params.rx_ffe_pre, params, spu, var_x, noise_r, levels, idx)
            if det is not None and fom > best[0]:
                best = (fom, w, group)
        if best[1] is None:
            break
        chosen += best[2]
    return (best[0], best[1]) if best[1] is not None else (-math.inf, _przf(y[ph::spu], dh, params))


def _filt(h: np.ndarray, a_s: float) -> np.ndarray:
    return h[np.abs(h) > 1e-3 * a_s]


def _pmf_add_taps(pmf: np.ndarray, taps: np.ndarray, levels: np.ndarray, step: float) -> np.ndarray:
    """Convolve ``pmf`` with the distribution of sum(tap_j * a_j), a_j uniform on ``levels``."""
    for tap in taps:
        new = np.zeros_like(pmf)
        for s in np.rint(tap * levels / step).astype(int):
            if s >= 0:
                new[s:] += pmf[:pmf.size - s]
            else:
                new[:s] += pmf[-s:]
        pmf = new / levels.size
    return pmf


# ---- the search ----------------------------------------------------------------------------------

class _Lane:
    """Pulses of the thru and aggressors through Ht and Hr, ready for CTLE and FFE settings."""

    def __init__(self, thru: Channel, fext, next_, params: ComParams):
        _check_channel("thru", thru)
        self.rs, self.spu, self.n = float(thru.symbol_rate_gbd), thru.samples_per_ui, thru.samples.size
        for i, ch in enumerate(fext):
            _check_channel(f"fext[{i}]", ch, self.rs, self.n, self.spu)
        for i, ch in enumerate(next_):
            _check_channel(f"next[{i}]", ch, self.rs, self.n, self.spu)
        self.f = np.fft.rfftfreq(self.n, d=1.0 / (self.spu * self.rs))          # GHz
        self.df = self.f[1]
        ht = np.exp(-2 * (np.pi * self.f * params.t_r_ns / 1.6832) ** 2)      # 93A-46
        self.hr = _butterworth4(self.f, params.f_r * self.rs)                 # 93A-20
        base = ht * self.hr
        self.thru = np.fft.rfft(thru.samples) * base * params.a_v
        self.fext = [np.fft.rfft(c.samples) * base * params.a_fe for c in fext]
        self.next = [np.fft.rfft(c.samples) * base * params.a_ne for c in next_]
        self._cos = None

    def noise_autocorrelation(self, power: np.ndarray, n: int) -> np.ndarray:
        """R[m] = sum |H|^2 cos(2 pi f m T) df over :attr:`f` (``power`` is |H|^2), m < ``n``:
        thermal noise through an FFE w is w' R w. The cosine table is computed once per lane."""
        if self._cos is None or self._cos.shape[0] != n:
            self._cos = np.cos(2 * np.pi * np.outer(np.arange(n), self.f) / self.rs) * self.df
        return self._cos @ power


def _fir_index(n_ui: int, n_taps: int, pre: int) -> np.ndarray:
    """idx[i, k] = (i - k + pre) mod n_ui: the UI that FFE tap k takes to output UI i."""
    return (np.arange(n_ui)[:, None] - np.arange(n_taps)[None, :] + pre) % n_ui


def _fir(y: np.ndarray, w: np.ndarray, idx: np.ndarray, spu: int) -> np.ndarray:
    """A symbol-spaced FIR on an oversampled pulse (circular), every phase at once."""
    mat = y.reshape(-1, spu)
    return np.einsum("k,ikj->ij", w, mat[idx]).ravel()


def _evaluate(y, xts, w, pre, params, spu, var_x, noise_r, levels, idx, cursor=None):
    """Figure of merit of one equaliser; returns (fom_db, details)."""
    y_eq = _fir(y, w, idx, spu)
    b_min, b_max = params.dfe_min[0] if params.dfe_min else 0.0, params.dfe_max[0] if params.dfe_max else 0.0
    c = _mm_cursor(y_eq, spu, b_min, b_max, params.mm_tolerance_v) if cursor is None else cursor
    h0 = y_eq[c]
    if h0 <= 0:
        return -math.inf, None
    a_s = params.rlm * h0 / (levels - 1)
    isi = y_eq[c % spu::spu].copy()
    k0 = c // spu
    isi[k0] = 0.0
    ndfe = len(params.dfe_min)
    post = slice(k0 + 1, k0 + 1 + ndfe)
    b = np.clip(isi[post] / h0, np.asarray(params.dfe_min[:isi[post].size]),
                np.asarray(params.dfe_max[:isi[post].size]))
    isi[post] -= b * h0
    nxt = np.roll(y_eq, -1)[c % spu::spu]
    prv = np.roll(y_eq, 1)[c % spu::spu]
    h_j = (nxt - prv) * spu / 2                                                # slope per UI
    var_tx = h0**2 * 10 ** (-params.snr_tx_db / 10)
    var_isi = var_x * float(isi @ isi)
    var_j = (params.a_dd_ui**2 + params.sigma_rj_ui**2) * var_x * float(h_j @ h_j)
    var_n = params.eta0_v2_per_ghz * float(w @ toeplitz(noise_r) @ w)
    xt_eq = [_fir(x, w, idx, spu) for x in xts]
    var_xt = var_x * sum(float((x.reshape(-1, spu) ** 2).sum(axis=0).max()) for x in xt_eq)
    total = var_tx + var_isi + var_j + var_n + var_xt
    fom = 10 * math.log10(a_s**2 / total) if total > 0 else math.inf
    return fom, {"y_eq": y_eq, "c": c, "h0": h0, "isi": isi, "b": b, "h_j": h_j, "xt_eq": xt_eq, "var_tx": var_tx,
                     "var_isi": var_isi, "var_j": var_j, "var_n": var_n, "var_xt": var_xt}


def _batch_przf(h: np.ndarray, dh: np.ndarray, params: ComParams) -> np.ndarray:
    """:func:`_przf` for many symbol-spaced pulses at once (rows of ``h``), by normal equations."""
    nb, nui = h.shape
    n, pre = params.rx_ffe_taps, params.rx_ffe_pre
    ndfe = len(params.dfe_min)
    rows = np.arange(nb)
    target = np.zeros((nb, nui))
    h0 = h[rows, dh]
    target[rows, dh] = h0
    for j in range(ndfe):
        k = np.minimum(dh + 1 + j, nui - 1)
        target[rows, k] = np.clip(h[rows, k], params.dfe_min[j] * h0, params.dfe_max[j] * h0)
    target = np.concatenate([np.zeros((nb, pre)), target], axis=1)[:, :nui]
    ata, atb = _normal_equations(h, target, n)
    w = np.linalg.solve(ata + 1e-12 * np.trace(ata, axis1=1, axis2=2)[:, None, None] * np.eye(n),
                        atb[..., None])[..., 0]
    c = w[:, pre:pre + 1]
    w = np.clip(w, np.asarray(params.rx_ffe_min)[None, :] * c, np.asarray(params.rx_ffe_max)[None, :] * c)
    w = np.where(c > 0, np.minimum(w, np.asarray(params.rx_ffe_max)[None, :] * c),
                 np.minimum(w, np.asarray(params.rx_ffe_min)[None, :] * c))
    w[:, pre] = c[:, 0]
    return w / c


def _normal_equations(h: np.ndarray, target: np.ndarray, n: int):
    """(A'A, A't) for the n-tap FIR on each row of ``h`` (A[i, k] = h[i - k], i >= k), without
    forming A: A'A from the autocorrelation of h (lags < n) less the part beyond the window's
    end, A't from the few UIs where ``target`` is not zero."""
    nb, nui = h.shape
    spec = np.fft.rfft(h, 2 * nui, axis=1)
    r = np.fft.irfft(np.abs(spec) ** 2, 2 * nui, axis=1)[:, :n]               # (b, lags)
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    ata = r[:, lag]
    top = np.maximum.outer(np.arange(n), np.arange(n))
    beyond = np.zeros((nb, n, n))             # [b, d, m]: sum of h[j] h[j + d] over j >= nui - m
    for d in range(n):                        # A'A[k, l] sums h[j] h[j + d] for j <= nui - 1 - max(k, l)
        prod = h[:, nui - n:nui - d] * h[:, nui - n + d:]                      # j = nui - n .. nui - 1 - d
        tail = np.cumsum(prod[:, ::-1], axis=1)[:, ::-1]                      # sum from j to the end
        m = np.arange(d + 1, n)
        beyond[:, d, m] = tail[:, n - m]
    ata = ata - beyond[:, lag, top]
    atb = np.zeros((nb, n))
    for q in np.flatnonzero(np.any(target != 0, axis=0)):
        k = np.arange(min(n, q + 1))
        atb[:, k] += h[:, q - k] * target[:, q, None]
    return ata, atb


def _seq(mat: np.ndarray, phase: np.ndarray, u: np.ndarray, off: int) -> np.ndarray:
    """Symbol-spaced samples at ``phase[b]`` of the FIR ``u[b]`` (tap ``off`` at delay 0) applied to
    the pulse ``mat`` (UI x phase): out[b, i] = sum_k u[b, k] mat[i - k + off, phase[b]] (circular)."""
    col = mat[:, phase].T                                       # (b, UI)
    n = col.shape[1]
    fir = np.zeros_like(col)
    fir[:, (np.arange(u.shape[1]) - off) % n] = u               # tap k at delay k - off (circular)
    return np.fft.irfft(np.fft.rfft(col, axis=1) * np.fft.rfft(fir, axis=1), n, axis=1)


def _window(y: np.ndarray, centre: int, half: int, u: np.ndarray, off: int, spu: int):
    """Oversampled samples ``centre - half .. centre + half - 1`` of the FIR ``u[b]`` applied to ``y``."""
    s = np.arange(centre - half, centre + half)
    k = np.arange(u.shape[1])
    gather = y[(s[None, :] - (k[:, None] - off) * spu) % y.size]  # (K, W)
    return s, u @ gather


def _combine(c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row-wise convolution of two FIRs (transmitter then receiver: one symbol-spaced FIR)."""
    out = np.zeros((c.shape[0], c.shape[1] + w.shape[1] - 1))
    for k in range(w.shape[1]):
        out[:, k:k + c.shape[1]] += w[:, k, None] * c
    return out


def _lag_energy(x: np.ndarray, spu: int, n_lags: int) -> np.ndarray:
    """R[k, l, m] = circular autocorrelation at lag |k - l| of the phase-m symbol-spaced samples of x."""
    mat = x.reshape(-1, spu)
    spec = np.fft.rfft(mat, axis=0)
    r = np.fft.irfft(np.abs(spec) ** 2, mat.shape[0], axis=0)[:n_lags]   # (lags, spu)
    lag = np.abs(np.subtract.outer(np.arange(n_lags), np.arange(n_lags)))
    return r[lag]


def _quad(u: np.ndarray, r: np.ndarray) -> np.ndarray:
    """q[b, m] = u[b]' r[:, :, m] u[b]."""
    k = u.shape[1]
    ur = u @ r.reshape(k, -1)                                   # (b, k*m)
    return np.einsum("bkm,bk->bm", ur.reshape(u.shape[0], k, -1), u)


def _fast_foms(p, fx, nx, combos, params, spu, var_x, noise_r, levels) -> np.ndarray:
    """Figure of merit (as :func:`_evaluate`) of every transmitter setting at one CTLE setting.

    The transmitter and receiver FFEs are symbol-spaced FIRs, so only the samples they touch are
    computed: a window of +-6 UI around the pulse peak, one symbol-spaced phase, and crosstalk
    energy per phase from autocorrelations (u' R_m u).
    """
    nb = combos.shape[0]
    rows = np.arange(nb)
    mat = p.reshape(-1, spu)
    n = p.size
    pk0 = int(np.argmax(p))
    half = 6 * spu
    tx_off = params.tx_ffe.n_pre
    pre = params.rx_ffe_pre
    # pre-receiver-FFE pulse: peak, and its symbol-spaced samples at the peak phase (PRZF input)
    s, yc = _window(p, pk0, half, combos, tx_off, spu)
    central = slice(half - 3 * spu, half + 3 * spu)
    peak = s[central][np.argmax(yc[:, central], axis=1)] % n
    h = _seq(mat, peak % spu, combos, tx_off)
    w = _batch_przf(h, peak // spu, params)
    u = _combine(combos, w)
    u_off = tx_off + pre
    s, ye = _window(p, pk0, half, u, u_off, spu)
    # Mueller-Muller cursor within a UI of the equalised peak (93A-25/26)
    b_min = params.dfe_min[0] if params.dfe_min else 0.0
    b_max = params.dfe_max[0] if params.dfe_max else 0.0
    pk = (half - 3 * spu) + np.argmax(ye[:, central], axis=1)          # window index
    cand = pk[:, None] + np.arange(-spu, spu)[None, :]
    cur = np.take_along_axis(ye, cand, axis=1)
    nxt = np.take_along_axis(ye, cand + spu, axis=1)
    prv = np.take_along_axis(ye, cand - spu, axis=1)
    ok = cur > 0
    b1 = np.clip(nxt / np.where(ok, cur, 1.0), b_min, b_max)
    res = np.abs(prv - (nxt - b1 * cur))
    res[~ok] = np.inf
    exact = res < params.mm_tolerance_v
    before = exact & (cand <= pk[:, None])
    last_before = np.where(before.any(axis=1), 2 * spu - 1 - np.argmax(before[:, ::-1], axis=1), -1)
    first_exact = np.where(exact.any(axis=1), np.argmax(exact, axis=1), -1)
    j = np.where(last_before >= 0, last_before, np.where(first_exact >= 0, first_exact, np.argmin(res, axis=1)))
    c = s[cand[rows, j]] % n
    h0 = cur[rows, j]
    sym = _seq(mat, c % spu, u, u_off)
    k0 = c // spu
    isi = sym
    isi[rows, k0] = 0.0
    for jj in range(len(params.dfe_min)):
        k = np.minimum(k0 + 1 + jj, isi.shape[1] - 1)
        b = np.clip(isi[rows, k] / np.where(h0 > 0, h0, 1.0), params.dfe_min[jj], params.dfe_max[jj])
        isi[rows, k] -= b * h0
    nxt_s = _seq(np.roll(p, -1).reshape(-1, spu), c % spu, u, u_off)
    prv_s = _seq(np.roll(p, 1).reshape(-1, spu), c % spu, u, u_off)
    h_j = (nxt_s - prv_s) * spu / 2
    var_tx = h0**2 * 10 ** (-params.snr_tx_db / 10)
    var_isi = var_x * np.sum(isi**2, axis=1)
    var_j = (params.a_dd_ui**2 + params.sigma_rj_ui**2) * var_x * np.sum(h_j**2, axis=1)
    var_n = params.eta0_v2_per_ghz * np.sum((w @ toeplitz(noise_r)) * w, axis=1)
    var_xt = np.zeros(nb)
    for x in fx:                                      # far end: the victim's transmitter FFE too
        r = _lag_energy(x, spu, u.shape[1])
        var_xt += var_x * np.max(_quad(u, r), axis=1)
    for x in nx:                                      # near end: the receiver FFE only
        r = _lag_energy(x, spu, w.shape[1])
        var_xt += var_x * np.max(_quad(w, r), axis=1)
    total = var_tx + var_isi + var_j + var_n + var_xt
    a_s = params.rlm * h0 / (levels - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((h0 > 0) & (total > 0), 10 * np.log10(a_s**2 / total), -np.inf)


def com(thru: Channel, params: ComParams | None = None, *, fext=(), next=(), fmt: PAM | None = None,
        ) -> ComResult:
    """COM of a measured lane, with the equaliser chosen the way COM chooses it.

    Parameters
    ----------
    thru : photolink.Channel
        Oversampled thru channel with its symbol rate (:meth:`photolink.Channel.from_touchstone`).
    params : ComParams, optional
        Default :meth:`ComParams.ieee_802_3ck` at the thru's symbol rate.
    fext, next : sequence of photolink.Channel
        Far-end (victim's transmitter equaliser) and near-end (unequalised) aggressors, built
        like ``thru`` (same symbol rate, oversampling and span).
    fmt : PAM, optional
        Modulation (default PAM4).

    Returns
    -------
    ComResult
    """
    fmt = PAM4 if fmt is None else fmt
    if not isinstance(fmt, PAM):
        raise TypeError(f"fmt must be a photolink PAM format, got {fmt!r}")
    fext, next_ = tuple(fext), tuple(next)
    _check_channel("thru", thru)
    params = ComParams.ieee_802_3ck(thru.symbol_rate_gbd) if params is None else params
    if not isinstance(params, ComParams):
        raise TypeError(f"params must be a photolink.links.com.ComParams, got {type(params).__name__}")
    lane = _Lane(thru, fext, next_, params)
    spu, L = lane.spu, fmt.M
    var_x = (L**2 - 1) / (3 * (L - 1) ** 2)                                    # 93A-29
    tx_shifts = (np.arange(len(params.tx_ffe.taps_min) + 1) - params.tx_ffe.n_pre) * spu
    idx = _fir_index(lane.n // spu, params.rx_ffe_taps, params.rx_ffe_pre)
    states = _CtleStates(lane, params)
    ctx = (params, spu, var_x, L, idx, tx_shifts)
    best = (_grid_search if params.search == "grid" else _local_search)(states, ctx)
    if best[1] is None:
        raise ValueError("no equaliser setting gives a positive cursor: the channel is too lossy")
    g1, g2, taps, w = best[1]
    p, fx, nx, noise_r = states.get(g1, g2)
    y = taps @ _rolls(p, tx_shifts)
    if w is None:
        peak = int(np.argmax(y))
        w = _przf(y[peak % spu::spu], peak // spu, params)
    xts = [taps @ _rolls(x, tx_shifts) for x in fx] + nx
    fom, det = _evaluate(y, xts, w, params.rx_ffe_pre, params, spu, var_x, noise_r, L, idx)
    if det is None:
        raise ValueError("no equaliser setting gives a positive cursor: the channel is too lossy")
    return _finish(fmt, params, lane, fom, g1, g2, taps, w, det, y, var_x, thru)


class _CtleStates:
    """The pulses and receiver-noise autocorrelation at each CTLE setting, computed once."""

    def __init__(self, lane: _Lane, params: ComParams):
        self.lane, self.params, self._cache = lane, params, {}

    def get(self, g1: float, g2: float):
        key = (float(g1), float(g2))
        if key not in self._cache:
            lane, params = self.lane, self.params
            hc = params.ctle.response(lane.f, g1, g2)
            p = np.fft.irfft(lane.thru * hc, lane.n)
            fx = [np.fft.irfft(x * hc, lane.n) for x in lane.fext]
            nx = [np.fft.irfft(x * hc, lane.n) for x in lane.next]
            noise_r = lane.noise_autocorrelation(np.abs(lane.hr * hc) ** 2, params.rx_ffe_taps)
            self._cache[key] = (p, fx, nx, noise_r)
        return self._cache[key]

    def foms(self, g1: float, g2: float, combos: np.ndarray, ctx) -> np.ndarray:
        """Zero-forcing figure of merit of each transmitter setting (rows of ``combos``)."""
        params, spu, var_x, L, _, _ = ctx
        p, fx, nx, noise_r = self.get(g1, g2)
        return _fast_foms(p, fx, nx, combos, params, spu, var_x, noise_r, L)

    def mmse(self, g1: float, g2: float, taps: np.ndarray, ctx):
        """(figure of merit, receiver FFE) of one transmitter setting with the MMSE receiver FFE."""
        params, spu, var_x, L, idx, tx_shifts = ctx
        p, fx, nx, noise_r = self.get(g1, g2)
        return _mmse_fom(taps, p, fx, nx, tx_shifts, params, spu, var_x, noise_r, L, idx)


def _grid_search(states: _CtleStates, ctx):
    """Every CTLE setting and transmitter setting of the grid (93A.1.6)."""
    params = ctx[0]
    combos = params.tx_ffe.combinations()
    best = (-math.inf, None)
    for g1 in params.ctle.g_dc_db:
        for g2 in params.ctle.g_dc2_db:
            foms = states.foms(g1, g2, combos, ctx)
            if params.rx_ffe_mode == "mmse":
                for i in np.argsort(foms)[::-1][:params.mmse_candidates]:
                    if not np.isfinite(foms[i]):
                        break
                    fom, w = states.mmse(g1, g2, combos[i], ctx)
                    if fom > best[0]:
                        best = (fom, (g1, g2, combos[i], w))
                continue
            i = int(np.argmax(foms))
            if foms[i] > best[0]:
                best = (float(foms[i]), (g1, g2, combos[i], None))
    return best


def _local_search(states: _CtleStates, ctx, max_rounds: int = 40, starts_kept: int = 3):
    """The grid's best setting found by a coarse scan and hill climbing on the figure of merit (a
    fast stand-in for :func:`_grid_search`): six values of g_DC, three of g_DC2 and three of each
    transmitter tap (ends included), then, from each of the best three of those, moves to the
    best neighbour (every transmitter tap +-1 step together, then the CTLE's DC gains +-1 step)
    until none improves; the best end point is kept.
    With the MMSE receiver FFE, the setting found is then equalised by MMSE, or kept with zero
    forcing where that gives the better figure of merit (on high-loss channels the tap limits can
    clip the MMSE solution). 178A runs MMSE on every setting; ranking the settings by the
    zero-forcing figure keeps the result a smooth function of the channel, where a choice among a
    few MMSE candidates jumps by tenths of a dB."""
    params = ctx[0]
    tx = params.tx_ffe
    axes = tx.axes()
    g1s, g2s = params.ctle.g_dc_db, params.ctle.g_dc2_db

    def fom_at(i1, i2, k) -> float:
        row = tx.with_cursor([a[j] for a, j in zip(axes, k)])
        return float(states.foms(g1s[i1], g2s[i2], row, ctx)[0]) if row.size else -math.inf

    def coarse(n: int, parts: int) -> list:
        return sorted({round(i * (n - 1) / parts) for i in range(parts + 1)})

    ks = np.array(list(itertools.product(*[coarse(len(a), 2) for a in axes])), dtype=int)
    grid = np.array([[a[j] for a, j in zip(axes, row)] for row in ks])
    ok = 1.0 - np.abs(grid).sum(axis=1) >= tx.c0_min - 1e-12
    ks, rows = ks[ok], tx.with_cursor(grid[ok])
    starts = []
    for j1 in coarse(len(g1s), 5):
        for j2 in coarse(len(g2s), 2):
            foms = states.foms(g1s[j1], g2s[j2], rows, ctx)
            j = int(np.argmax(foms))
            starts.append((float(foms[j]), j1, j2, tuple(ks[j])))
    moves = [d for d in itertools.product((-1, 0, 1), repeat=len(axes)) if any(d)]

    def climb(best, i1, i2, k):
        for _ in range(max_rounds):
            moved = False
            cand = [tuple(min(max(j + s, 0), len(a) - 1) for j, s, a in zip(k, d, axes)) for d in moves]
            cand = list(dict.fromkeys(c for c in cand if c != k))
            if cand:
                grid = np.array([[a[j] for a, j in zip(axes, c)] for c in cand])
                ok = 1.0 - np.abs(grid).sum(axis=1) >= tx.c0_min - 1e-12
                if ok.any():
                    foms = states.foms(g1s[i1], g2s[i2], tx.with_cursor(grid[ok]), ctx)
                    j = int(np.argmax(foms))
                    if foms[j] > best + 1e-9:
                        best, k, moved = float(foms[j]), [c for c, o in zip(cand, ok) if o][j], True
            ctle_moves = [(j1, j2) for j1 in (i1 - 1, i1, i1 + 1) for j2 in (i2 - 1, i2, i2 + 1)
                          if 0 <= j1 < len(g1s) and 0 <= j2 < len(g2s) and (j1, j2) != (i1, i2)]
            if ctle_moves:
                f, j1, j2 = max((fom_at(j1, j2, k), j1, j2) for j1, j2 in ctle_moves)
                if f > best + 1e-9:
                    best, i1, i2, moved = f, j1, j2, True
            if not moved:
                break
        return best, i1, i2, tuple(k)

    best, i1, i2, k = max(climb(*s) for s in sorted(starts, reverse=True)[:starts_kept])
    taps = tx.with_cursor([a[j] for a, j in zip(axes, k)])
    if not np.isfinite(best) or not taps.size:
        return (-math.inf, None)
    taps = taps[0]
    if params.rx_ffe_mode != "mmse":
        return (best, (g1s[i1], g2s[i2], taps, None))
    fom, w = states.mmse(g1s[i1], g2s[i2], taps, ctx)
    return (fom, (g1s[i1], g2s[i2], taps, w)) if fom >= best else (best, (g1s[i1], g2s[i2], taps, None))


def _finish(fmt, params, lane, fom, g1, g2, taps, w, det, y, var_x, thru) -> ComResult:
    spu, L = lane.spu, fmt.M
    h0, c = det["h0"], det["c"]
    a_s = params.rlm * h0 / (L - 1)
    levels = np.linspace(-1.0, 1.0, L)
    h_dd = _filt(params.a_dd_ui * det["h_j"], a_s)
    var_g = det["var_tx"] + det["var_n"] + params.sigma_rj_ui**2 * var_x * float(det["h_j"] @ det["h_j"])
    isi = _filt(det["isi"], a_s)
    xts = []
    for x in det["xt_eq"]:
        m = int(np.argmax([np.sum(x[k::spu] ** 2) for k in range(spu)]))
        xts.append(_filt(x[m::spu], a_s))
    step = min(a_s / 1000, 1e-5)
    support = np.abs(isi).sum() + sum(np.abs(x).sum() for x in xts) + np.abs(h_dd).sum()
    ymax = max(1.1 * a_s, support + 10 * math.sqrt(var_g) + 2 * step)
    npts = 2 * math.ceil(ymax / step) + 1
    y_grid = (np.arange(npts) - npts // 2) * step
    delta = np.zeros(npts)
    delta[npts // 2] = 1.0
    pmf = _pmf_add_taps(delta, isi, levels, step)
    pmf = _pmf_add_taps(pmf, h_dd, levels, step)
    for x in xts:
        pmf = _pmf_add_taps(pmf, x, levels, step)
    if var_g > 0:
        half = math.ceil(8 * math.sqrt(var_g) / step)
        g = np.exp(-((np.arange(-half, half + 1) * step) ** 2) / (2 * var_g))
        pmf = _signal.fftconvolve(pmf, g / g.sum(), mode="same")
    cdf = np.cumsum(np.clip(pmf, 0, None))
    cdf /= cdf[-1]
    a_ni = -float(y_grid[int(np.searchsorted(cdf, params.der0))])
    com_db = 20 * math.log10(a_s / a_ni) if a_ni > 0 else math.inf
    var_xt = var_x * sum(float(x @ x) for x in xts)
    noise_var = {"isi": var_x * float(isi @ isi),
                 "jitter": (params.a_dd_ui**2 + params.sigma_rj_ui**2) * var_x * float(det["h_j"] @ det["h_j"]),
                 "crosstalk": var_xt, "thermal": det["var_n"], "tx_noise": det["var_tx"]}
    sig = var_x * h0**2
    noise_db = {k: (10 * math.log10(sig / x) if x > 0 else math.inf) for k, x in noise_var.items()}
    snr_db = 10 * math.log10(sig / sum(noise_var.values()))
    # The lane for the stream and the statistical eye, in photolink level units (outer level L-1).
    pre_ffe = y[c % spu::spu]
    k0 = c // spu
    first = max(k0 - 8, 0)
    kept = pre_ffe[first:first + 64]
    main = float(kept[k0 - first])
    if main <= 0:
        raise ValueError("the cursor of the pulse before the receiver FFE is not positive")
    channel = Channel(tuple((kept / abs(main)).tolist()), cursor=k0 - first)
    b = det["b"]
    eq = Equalizer(ffe=tuple((w * abs(main) / h0).tolist()), ffe_cursor=params.rx_ffe_pre,
                   dfe=tuple((b).tolist()))
    gauss = noise_var["jitter"] + noise_var["crosstalk"] + noise_var["thermal"] + noise_var["tx_noise"]
    unit = h0 / (L - 1)                                                        # volts per level unit
    sigma_lvl = math.sqrt(gauss) / unit
    eye = Eye(fmt, 1.0, _filt(det["isi"], a_s) / h0, sigma_lvl)
    gain2 = float(np.sum(np.square(eq.ffe)))
    snr_in_db = 10 * math.log10(fmt.mean_power * gain2 / sigma_lvl**2) if gauss > 0 else math.inf
    return ComResult(
        com_db=com_db, fom_db=fom, snr_db=snr_db, snr_in_db=snr_in_db, a_s_v=a_s, a_ni_v=a_ni,
        noise_v={k: math.sqrt(x) for k, x in noise_var.items()}, noise_db=noise_db,
        tx_taps=tuple(taps.tolist()), rx_ffe=tuple(w.tolist()), dfe=tuple(b.tolist()),
        g_dc_db=g1, g_dc2_db=g2, cursor_sample=int(c), pulse=det["y_eq"], channel=channel,
        equalizer=eq, eye=eye, loss_at_nyquist_db=_loss_nyq(thru), symbol_rate_gbd=lane.rs, fmt=fmt)


def _loss_nyq(thru: Channel) -> float:
    return loss_at_db(np.asarray(thru.samples), thru.samples_per_ui)
