"""Links: copper, pluggable optics with a DSP, linear-drive and co-packaged optics, coherent.

A :class:`Link` is an immutable description (lanes x lane rate, format, medium and length, the
electrical and optical parts, FEC, energy and latency parts). Its physics sets the SNR of each
*segment* between two decisions:

- ``passive-copper``: host SerDes -> host channel -> cable -> host channel -> host SerDes, one
  COM-style electrical lane (:mod:`photolink.links.serdes`);
- ``active-copper``: three electrical segments split by a retimer in each connector;
- ``dsp-optics``: host -> module DSP (AUI), the optical lane (IM-DD budget,
  :mod:`photolink.links.optics`, ended by the DSP's own SNR floor), module DSP -> host (AUI);
- ``linear-optics`` (LPO, CPO): one linear lane from host SerDes to host SerDes through the
  driver, fibre and TIA; the optical noise travels with the signal and the host receiver equalises
  everything, host channels included (CPO's are short, LPO's long);
- ``coherent``: OSNR of an amplified line -> symbol SNR (:class:`photolink.links.optics.CoherentLine`).

Errors of the segments add up before the FEC decoder (KP4 runs host to host; the inner code of
200G optics and coherent FEC are applied over the whole link here, a simplification).
:meth:`Link.evaluate` is statistical (closed forms for ISI-free segments, a statistical eye with
exact residual ISI for electrical ones); :meth:`Link.simulate` streams symbols through each
segment with :func:`photolink.simulate_ber`.

Each technology reports one margin, named in the report (:data:`MARGIN_KINDS`): copper a
COM-like figure (signal over noise + residual ISI at the FEC threshold, in dB of amplitude; a
channel passes at >= 3 dB, and the physics reach is where it falls to 3 dB), IM-DD optics the
optical power margin (dB of extra optical loss at the FEC threshold), coherent links the OSNR
margin (received OSNR less the OSNR the transceiver needs with its allowances).
``noise_margin_db`` is, for every technology, the dB by which all the Gaussian noise may rise
before the pre-FEC BER reaches the threshold. Electrical lanes honour the link's 1/(1+D)
precoding (``precode``) and RS codeword interleaving (``interleave``, ``fec_flows``), and
reports carry the pre-FEC BER with error-free DFE feedback (COM's view) and with error
propagation (the decoder's).
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType, SimpleNamespace

import numpy as np
from scipy import optimize

from .. import fec as _fec
from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import clopper_pearson
from ..fec import bursts as _bursts
from ..fec.simulation import INTERLEAVES as _INTERLEAVES
from ..symbols.formats import PAM, QAM, SNR_DB_RANGE
from ..symbols.stream import SymbolStream, simulate_ber
from .energy import power_breakdown_w
from .model import LinkModel
from .optics import CoherentLine, CoherentTrx, Fiber, OpticalRx, OpticalTx, imdd_budget
from .serdes import Loss, SerDes, Twinax, electrical_lane

TECHNOLOGIES = ("ideal", "passive-copper", "active-copper", "dsp-optics", "linear-optics", "coherent")
_MEDIUM = {"passive-copper": Twinax, "active-copper": Twinax, "dsp-optics": Fiber,
           "linear-optics": Fiber, "coherent": CoherentLine}
#: evaluate() warns when DFE bursts push the CWER of a link that meets its BER threshold above this
#: (the 1e-12 the FEC threshold is defined by, with independent errors).
BURST_WARNING_CWER = 1e-12
#: Margin search range, dB.
_MARGIN_RANGE = (-30.0, 60.0)
#: The margin each technology reports (LinkResult.margin_kind) and its pass mark in dB.
MARGIN_KINDS = {"passive-copper": ("com-like-db", 3.0), "active-copper": ("com-like-db", 3.0),
                "dsp-optics": ("optical-power-db", 0.0), "linear-optics": ("optical-power-db", 0.0),
                "coherent": ("osnr-db", 0.0), "ideal": ("none", 0.0)}
#: What sets a link's rated reach (Link.rated_reach_basis; LinkResult.rated_reach_limit).
RATED_REACH_BASES = ("spec", "datasheet", "estimate")
#: PMA multiplexing of FEC streams onto a lane (Link.pma_mux).
PMA_MUXES = ("symbol", "bit")
#: COM's pass mark [ref:com-pass-3db].
COM_PASS_DB = 3.0


@lru_cache(maxsize=64)
def _threshold(code) -> float:
    return float(code.threshold_ber)


def _required_snr_db(fmt, ber: float) -> float:
    with np.errstate(divide="ignore"):
        return float(fmt.snr_db_for_ber(ber))


@dataclass(frozen=True, eq=False)
class Segment:
    """One stretch of a link between two decisions, as the slicer at its end sees it."""

    name: str
    fmt: object
    symbol_rate_gbd: float
    snr_db: float
    snr_in_db: float
    channel: object = None
    equalizer: object = None
    eye: object = None
    detail: dict = field(default_factory=dict)

    def ber(self, extra_noise_db: float = 0.0) -> float:
        """BER with all Gaussian noise raised by ``extra_noise_db``."""
        if not math.isfinite(self.snr_db) and self.snr_db < 0:
            return 0.5
        if self.eye is not None:
            return self.eye.ber(extra_noise_db)
        s = min(max(self.snr_db - extra_noise_db, SNR_DB_RANGE[0]), SNR_DB_RANGE[1])
        return float(self.fmt.ber_awgn(s))


def _frame_loss(code, cwer: float, frame_bytes: int, interleave: int) -> float:
    """Frame loss ratio; with codeword interleaving a frame touches every codeword of the
    interleave groups it spans."""
    if interleave == 1:
        return float(code.frame_loss_ratio(cwer, frame_bytes))
    return float(code.frame_loss_ratio(cwer, frame_bytes, interleave))


def _frozen(x):
    """Read-only view of nested dicts/lists (reports are cached and shared)."""
    if isinstance(x, dict):
        return MappingProxyType({k: _frozen(y) for k, y in x.items()})
    if isinstance(x, (list, tuple)):
        return tuple(_frozen(y) for y in x)
    return x


def _plain(x):
    """Plain dicts and lists again, for to_dict()."""
    if isinstance(x, (dict, MappingProxyType)):
        return {k: _plain(y) for k, y in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(y) for y in x]
    return x


def _total_ber(segments, extra_db: float = 0.0) -> float:
    ok = 1.0
    for s in segments:
        ok *= 1.0 - s.ber(extra_db)
    return 1.0 - ok


def _margin_db(segments, threshold: float) -> float:
    f = lambda d: math.log(max(_total_ber(segments, d), 1e-320)) - math.log(threshold)  # noqa: E731
    lo, hi = _MARGIN_RANGE
    if f(hi) < 0:
        return math.inf
    if f(lo) > 0:
        return -math.inf
    return float(optimize.brentq(f, lo, hi, xtol=1e-3))


@dataclass(frozen=True)
class LinkResult:
    """What a link delivers: errors, energy, latency, reach and margin.

    Energy and power are per port (one end), per net bit, one direction
    (:data:`photolink.links.energy.ENERGY_CONVENTION`). Latency is one way,
    end to end, for a frame of ``frame_bytes``.

    Attributes
    ----------
    name, technology, method : str
        ``method`` is ``"evaluate"`` or ``"simulate"``.
    length_m, net_rate_gbps, line_rate_gbps, symbol_rate_gbd : float
    format, fec : str
    snr_db : float
        Effective decision-point SNR of the weakest segment (model).
    required_snr_db : float
        AWGN SNR at which the format's BER equals the FEC threshold.
    margin_db : float
        The margin of the link's technology, named by ``margin_kind`` (the same in evaluate and
        simulate; see :data:`MARGIN_KINDS`).
    margin_kind : str
        ``"com-like-db"`` (copper: signal over noise + ISI at the FEC threshold, in dB of
        amplitude, pass at >= 3 dB like IEEE 802.3 COM), ``"optical-power-db"`` (IM-DD: dB of
        extra optical loss the link tolerates at the FEC threshold), ``"osnr-db"`` (coherent:
        received OSNR less the OSNR the threshold needs), ``"none"`` (ideal).
    margin_pass_db : float
        ``ok`` is ``margin_db >= margin_pass_db`` (3 dB for COM-like, 0 otherwise).
    noise_margin_db : float
        dB by which all Gaussian noise may rise before the pre-FEC BER (error-free feedback)
        reaches the threshold, for every technology. simulate: AWGN-equivalent margin of the
        upper confidence bound of the measured BER.
    pre_fec_ber, threshold_ber : float
        evaluate: ``pre_fec_ber`` is ``ber_error_free_feedback``; simulate: the measured BER.
    ber_error_free_feedback : float
        Statistical pre-FEC BER with correct DFE feedback (COM's view; margins and reach use it).
    ber_with_propagation : float
        Pre-FEC BER the FEC decoder sees, DFE error propagation (and precoding) included: the
        burst model's in evaluate, the measured one in simulate (equal to the error-free one
        where the burst model does not apply).
    pre_fec_ber_ci : tuple or None
        Monte-Carlo interval (simulate only).
    symbols, bit_errors : int
        Per segment, summed over segments (simulate only; 0 for evaluate).
    cwer : float
        Codeword error ratio, obtained as ``cwer_method`` says.
    cwer_ci : tuple or None
        simulate: Monte-Carlo interval of the CWER. evaluate with ``cwer_interval=True`` and a
        burst-model CWER: its 95 % bootstrap interval over the episode samples
        (:func:`photolink.fec.bursts.cwer_interval`); else None.
    cwer_method : str
        How the CWER was obtained: ``"burst-model"`` (evaluate: DFE error bursts and
        FFE-coloured noise of every segment, :mod:`photolink.fec.bursts`), ``"independent-errors"``
        (the code's binomial map of the pre-FEC BER), ``"fec-model"`` (coherent FEC:
        threshold-and-waterfall model of the BER), ``"fec.simulate"`` (simulate: codeword failures
        counted on the simulated stream by :func:`photolink.fec.simulate`, bursts included),
        ``"none"`` (ideal link).
    frame_bytes : int
    frame_loss : float
        Frame loss ratio for ``frame_bytes`` frames.
    energy_pj_per_bit : float
    energy_breakdown_pj_per_bit, energy_breakdown_w : dict
    power_w : float
        Power of one port (module + host SerDes + FEC logic, + switch share when asked).
    module_power_w : float
        The module's (or engine's, or cable end's) own power.
    latency_ns : float
    latency_breakdown_ns : dict
        serialisation, propagation, pcs_fec (PCS + codeword accumulation + decode), dsp, retimer.
    reach_m : float
        Physics reach: the longest length at which the link's margin passes (copper: COM-like
        >= 3 dB; optics: the pre-FEC BER meets the FEC threshold).
    reach_limit : str
        What ends the physics reach: ``"com-3db"`` (copper), ``"fec-threshold"``,
        ``"dispersion"`` (IM-DD dispersion penalty unbounded), ``"medium"`` (the medium's
        longest length came first; for coherent: the DSP's dispersion tolerance).
    rated_reach_m : float or None
        Reach the product or standard is rated for (``rated_reach_limit`` says which).
    rated_reach_limit : str
        What sets ``rated_reach_m``: ``"spec"``, ``"datasheet"`` or ``"estimate"``
        (:data:`RATED_REACH_BASES`), ``"none"`` without a rating.
    segments : tuple of dict
    warnings : tuple of str
    """

    name: str
    technology: str
    method: str
    length_m: float
    net_rate_gbps: float
    line_rate_gbps: float
    symbol_rate_gbd: float
    format: str
    fec: str
    snr_db: float
    required_snr_db: float
    margin_db: float
    pre_fec_ber: float
    threshold_ber: float
    pre_fec_ber_ci: tuple | None
    symbols: int
    bit_errors: int
    cwer: float
    cwer_ci: tuple | None
    frame_bytes: int
    frame_loss: float
    energy_pj_per_bit: float
    energy_breakdown_pj_per_bit: dict
    energy_breakdown_w: dict
    power_w: float
    module_power_w: float
    latency_ns: float
    latency_breakdown_ns: dict
    reach_m: float
    reach_limit: str
    rated_reach_m: float | None
    segments: tuple
    warnings: tuple
    cwer_method: str = "independent-errors"
    margin_kind: str = "none"
    margin_pass_db: float = 0.0
    noise_margin_db: float = math.inf
    ber_error_free_feedback: float = 0.0
    ber_with_propagation: float = 0.0
    rated_reach_limit: str = "none"
    _code: object = field(default=None, repr=False, compare=False)
    _interleave: int = field(default=1, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the margin passes (``margin_db >= margin_pass_db``)."""
        return self.margin_db >= self.margin_pass_db

    def __repr__(self) -> str:
        return (f"LinkResult({self.name} at {self.length_m:g} m, {self.method}: pre-FEC BER "
                f"{self.pre_fec_ber:.3g}, CWER {self.cwer:.3g}, margin {self.margin_db:.2f} dB, "
                f"{self.energy_pj_per_bit:.3g} pJ/bit, {self.power_w:.3g} W, {self.latency_ns:.4g} ns, "
                f"reach {self.reach_m:.4g} m, {len(self.warnings)} warnings)")

    def frame_loss_ratio(self, frame_bytes: int | None = None) -> float:
        """Probability that a frame of ``frame_bytes`` touches an uncorrectable codeword."""
        if self._code is None:
            return 0.0
        return _frame_loss(self._code, self.cwer, self.frame_bytes if frame_bytes is None
                           else frame_bytes, self._interleave)

    def __post_init__(self):
        for name in ("energy_breakdown_pj_per_bit", "energy_breakdown_w", "latency_breakdown_ns",
                     "segments", "warnings"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def to_dict(self) -> dict:
        """Plain values (dicts, lists, numbers, strings)."""
        d = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)
             if not f.name.startswith("_")}
        d["ok"] = self.ok
        return d


@dataclass(frozen=True)
class Link:
    """A data-centre link: its parts, medium and length (an immutable value).

    Parameters
    ----------
    name : str
    technology : str
        One of :data:`TECHNOLOGIES` (see the module docstring).
    lanes : int
    lane_rate_gbps : float
        Net data rate of one lane (MAC rate, before PCS and FEC overhead).
    fmt : PAM or QAM
        Modulation of the medium's lanes (PAM for copper and IM-DD, QAM for coherent).
    medium : Twinax, Fiber or CoherentLine
    length_m : float
        0 to ``medium.max_length_m``.
    fec : FEC code
        Anything with the :class:`photolink.fec.RS` interface (``threshold_ber``,
        ``cwer_from_ber``, ``frame_loss_ratio``, ``latency_ns``, ``overhead``, ...).
    host_serdes : SerDes
        The host (switch/NIC) SerDes.
    host_channel : tuple of Loss
        Package, PCB and connector between the host SerDes and the cable/module, each side.
    module_serdes : SerDes
        The electrical side of a module DSP or retimer.
    module_channel : tuple of Loss
        Module/paddle-card trace between the connector and the DSP/retimer, each side.
    tx, rx : OpticalTx, OpticalRx
        IM-DD optics.
    connectors : int
    connector_loss_db : float
        Optical connections and their loss each.
    connector_reflectance_db : float
        Discrete reflectance of each optical connection (-inf: none). Every pair of reflections
        sends a delayed copy of the signal to the receiver: multi-path interference with crosstalk
        ratio ``C(connectors, 2) x reflectance^2`` (see :func:`photolink.links.optics.imdd_budget`).
    optics_loss : tuple of Loss
        Electrical-equivalent response of linear optics (driver, modulator, photodiode, TIA).
    dsp_snr_db : float
        SNR floor of a module DSP's optical receiver (ADC, equaliser noise enhancement).
    coherent : CoherentTrx
    parts : tuple of photolink.links.energy.Part
    conversion_efficiency : float
        Module DC-DC efficiency.
    pcs_ns, dsp_ns, retimer_ns : float
        One-way latency of PCS (both ends), module DSPs (both ends) and retimers.
    pcs_overhead : float
        PCS transcoding overhead (256b/257b: 1/256).
    rated_reach_m : float, optional
        Reach the product or standard is rated for (lengths past it are flagged); presets keep it
        within the physics reach (:meth:`reach_m`).
    rated_reach_basis : str
        What sets ``rated_reach_m`` (one of :data:`RATED_REACH_BASES`): ``"spec"`` (an IEEE or MSA
        specification), ``"datasheet"`` (a product rating) or ``"estimate"`` (photolink's own).
    precode : bool
        IEEE 802.3 1/(1+D) mod M precoding on the electrical lanes (802.3ck/dj receivers request
        it in link training [ref:ck-precoding]): a DFE error burst then shows as two data errors
        at its ends.
    interleave : int
        RS-FEC codeword interleave depth of one FEC flow (1, 2 or 4): ``interleave`` codewords
        are interleaved RS symbol by RS symbol on the line (802.3 clauses 91/119/172; 2 for
        800GBASE-R [ref:800g-two-flows]). RS codes only.
    fec_flows : int
        Independent FEC flows the lanes carry (800GbE: two 400G flows [ref:800g-two-flows]); the
        FEC hold is ``interleave x codeword bits / (line rate / fec_flows)``.
    pma_mux : {"symbol", "bit"}
        How the PMA puts the FEC streams onto a lane (one of :data:`PMA_MUXES`): ``"symbol"``
        (default) keeps whole RS symbols on consecutive line bits; ``"bit"`` bit-multiplexes
        (bit j of every PAM symbol from FEC stream j, as the 802.3 clause 120 PMA does with two
        PCS lanes per PAM4 lane), so a DFE burst of k symbols spreads over the streams' codewords
        and an RS symbol spans 10 line symbols. The burst model, :meth:`simulate`'s codeword
        mapping and a path's exact codeword failures honour it. RS codes and PAM formats only.
        802.3ck/dj PMAs symbol-mux, so the presets keep the default [ref:pma-symbol-mux].
    propagation_ns : float, optional
        Fixed propagation delay overriding the medium's (ideal links).
    source : str
        Citations of the docs/references.md rows behind the figures.
    lane : photolink.links.com.ComResult, optional
        A measured electrical lane (passive copper only): its slicer SNR, equaliser and eye replace
        the host-to-host loss formula. Its loss, reflections and crosstalk are those of the channel
        it was computed on (a Touchstone file describes one channel of one length, connectors and
        vias included), so ``length_m`` then sets the propagation delay only: :meth:`with_length`
        refuses another length, :meth:`reach_m` is NaN ("measured lane"), and the evaluation
        says so in its warnings. For another length, compute a lane on that channel.
    """

    name: str
    technology: str
    lanes: int
    lane_rate_gbps: float
    fmt: object = None
    medium: object = None
    length_m: float = 0.0
    fec: object = None
    host_serdes: SerDes | None = None
    host_channel: tuple = ()
    module_serdes: SerDes | None = None
    module_channel: tuple = ()
    tx: OpticalTx | None = None
    rx: OpticalRx | None = None
    connectors: int = 2
    connector_loss_db: float = 0.5
    optics_loss: tuple = ()
    dsp_snr_db: float = math.inf
    coherent: CoherentTrx | None = None
    parts: tuple = ()
    conversion_efficiency: float = 0.9
    pcs_ns: float = 0.0
    dsp_ns: float = 0.0
    retimer_ns: float = 0.0
    pcs_overhead: float = 1 / 256
    rated_reach_m: float | None = None
    rated_reach_basis: str = "spec"
    propagation_ns: float | None = None
    source: str = ""
    precode: bool = False
    interleave: int = 1
    fec_flows: int = 1
    connector_reflectance_db: float = -math.inf
    lane: object = None
    pma_mux: str = "symbol"

    # ---- construction and validation ---------------------------------------------------------

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}")
        v.choice("technology", self.technology, TECHNOLOGIES)
        if not isinstance(self.source, str):
            raise TypeError(f"source must be a string, got {type(self.source).__name__} {self.source!r}")
        v.integer("lanes", self.lanes, lo=1, hi=64)
        if not isinstance(self.precode, (bool, np.bool_)):
            raise TypeError(f"precode must be a bool, got {type(self.precode).__name__} {self.precode!r}")
        object.__setattr__(self, "precode", bool(self.precode))
        if v.integer("interleave", self.interleave, lo=1, hi=4) not in _INTERLEAVES:
            raise ValueError(f"interleave must be one of {_INTERLEAVES}, got {self.interleave!r}")
        v.integer("fec_flows", self.fec_flows, lo=1, hi=64)
        if self.lanes % self.fec_flows:
            raise ValueError(f"fec_flows must divide lanes={self.lanes}, got {self.fec_flows!r}")
        if self.propagation_ns is not None:
            v.real("propagation_ns", self.propagation_ns, lo=0.0, hi=1e9)
        if self.rated_reach_m is not None:
            v.real("rated_reach_m", self.rated_reach_m, lo=0.0, hi=1e8)
        v.choice("rated_reach_basis", self.rated_reach_basis, RATED_REACH_BASES)
        if not (isinstance(self.dsp_snr_db, numbers.Real) and self.dsp_snr_db == math.inf):
            v.real("dsp_snr_db", self.dsp_snr_db, lo=0.0, hi=80.0)
        v.real("lane_rate_gbps", self.lane_rate_gbps, lo=0.0, hi=2000.0, lo_open=True)
        for name in ("pcs_ns", "dsp_ns", "retimer_ns"):
            v.real(name, getattr(self, name), lo=0.0, hi=1e7)
        v.real("pcs_overhead", self.pcs_overhead, lo=0.0, hi=1.0)
        v.real("conversion_efficiency", self.conversion_efficiency, lo=0.1, hi=1.0)
        object.__setattr__(self, "host_channel", tuple(self.host_channel))
        object.__setattr__(self, "module_channel", tuple(self.module_channel))
        object.__setattr__(self, "optics_loss", tuple(self.optics_loss))
        object.__setattr__(self, "parts", tuple(self.parts))
        for name in ("host_channel", "module_channel", "optics_loss"):
            for piece in getattr(self, name):
                if not isinstance(piece, Loss):
                    raise TypeError(f"{name} must hold photolink.links.serdes.Loss pieces, got {piece!r}")
        if self.technology == "ideal":
            return
        length = v.real("length_m", self.length_m, lo=0.0)
        medium_type = _MEDIUM[self.technology]
        if not isinstance(self.medium, medium_type):
            raise TypeError(f"medium of a {self.technology} link must be a {medium_type.__name__}, "
                            f"got {type(self.medium).__name__}")
        limit = self.medium.max_length_m
        if length > limit:
            raise ValueError(f"length_m must be in [0, {limit:g}] m for {self.medium.name} "
                             f"(the medium's physical limit), got {self.length_m!r}")
        want = QAM if self.technology == "coherent" else PAM
        if not isinstance(self.fmt, want):
            raise TypeError(f"fmt of a {self.technology} link must be a photolink {want.__name__} format, "
                            f"got {self.fmt!r}")
        for attr in ("threshold_ber", "cwer_from_ber", "frame_loss_ratio", "latency_ns", "overhead",
                     "codeword_bits", "message_bits"):
            if not hasattr(self.fec, attr):
                raise TypeError(f"fec must offer the photolink.fec.RS interface (missing {attr!r}), "
                                f"got {self.fec!r}")
        if self.interleave != 1 and not isinstance(self.fec, _fec.RS):
            raise ValueError(f"interleave must be 1 unless fec is a Reed-Solomon code (a concatenated "
                             f"code's inner code already groups its symbols), got {self.interleave!r}")
        v.choice("pma_mux", self.pma_mux, PMA_MUXES)
        if self.pma_mux == "bit" and not (isinstance(self.fec, _fec.RS) and isinstance(self.fmt, PAM)):
            raise ValueError(f"pma_mux='bit' needs a Reed-Solomon code and a PAM format (a concatenated "
                             f"code fixes its own bit mapping), got fec {self.fec!r}, fmt {self.fmt!r}")
        needs = {"passive-copper": ("host_serdes",), "active-copper": ("host_serdes", "module_serdes"),
                 "dsp-optics": ("host_serdes", "module_serdes", "tx", "rx"),
                 "linear-optics": ("host_serdes", "tx", "rx"), "coherent": ("coherent",)}[self.technology]
        for attr in needs:
            if getattr(self, attr) is None:
                raise ValueError(f"a {self.technology} link needs {attr}")
        v.integer("connectors", self.connectors, lo=0, hi=100)
        v.real("connector_loss_db", self.connector_loss_db, lo=0.0, hi=10.0)
        if self.connector_reflectance_db != -math.inf:
            v.real("connector_reflectance_db", self.connector_reflectance_db, lo=-100.0, hi=-10.0)
        if self.lane is not None:
            _check_lane(self)
        for device, rate in self._symbol_rates():
            if rate > device.max_symbol_rate_gbd:
                raise ValueError(
                    f"lane_rate_gbps={self.lane_rate_gbps!r} cannot be carried: {self.fmt.name} needs "
                    f"{rate:.2f} GBd and {device.name} runs at most {device.max_symbol_rate_gbd:g} GBd")

    def _mpi_crosstalk_db(self) -> float:
        pairs = self.connectors * (self.connectors - 1) // 2
        if pairs == 0 or self.connector_reflectance_db == -math.inf:
            return -math.inf
        return 10.0 * math.log10(pairs) + 2.0 * self.connector_reflectance_db

    @classmethod
    def ideal(cls, rate_gbps: float, propagation_ns: float = 0.0, name: str = "ideal") -> "Link":
        """An error-free link with only a rate and a propagation delay (no FEC, no energy)."""
        return cls(name=name, technology="ideal", lanes=1, lane_rate_gbps=rate_gbps,
                   propagation_ns=propagation_ns, pcs_overhead=0.0)

    def with_length(self, metres: float) -> "Link":
        """A copy at another length (validated like the original).

        Refused (ValueError) for a link on a measured ``lane`` at any other length: scaling a
        measured channel's transfer function per metre would stretch its connectors, vias and
        package with the cable, which no signal-integrity engineer would accept.
        """
        if self.lane is not None and metres != self.length_m:
            raise ValueError(f"metres={metres!r}: this link runs on a measured lane (a fixed channel, "
                             f"length_m={self.length_m!r} sets its delay only); compute a lane on the "
                             f"channel of that length (Channel.from_touchstone, links.com.com) instead")
        return dataclasses.replace(self, length_m=metres)

    # ---- rates --------------------------------------------------------------------------------

    @property
    def net_rate_gbps(self) -> float:
        """Net data rate of all lanes."""
        return self.lanes * self.lane_rate_gbps

    def line_rate_gbps(self, code: object = None) -> float:
        """Serial line rate of one lane with ``code``'s overhead (default: the link's FEC)."""
        code = self.fec if code is None else code
        oh = code.overhead if code is not None else 0.0
        return self.lane_rate_gbps * (1 + self.pcs_overhead) * (1 + oh)

    def _outer(self):
        return getattr(self.fec, "outer", self.fec)

    def _symbol_rates(self):
        """(device, symbol rate) pairs that must be within the device's reach."""
        bps = self.fmt.bits_per_symbol
        full = self.line_rate_gbps() / bps
        aui = self.line_rate_gbps(self._outer()) / bps
        if self.technology == "passive-copper":
            return [(self.host_serdes, full)]
        if self.technology == "active-copper":
            return [(self.host_serdes, full), (self.module_serdes, full)]
        if self.technology == "dsp-optics":
            return [(self.host_serdes, aui), (self.module_serdes, aui), (self.tx, full)]
        if self.technology == "linear-optics":
            return [(self.host_serdes, full), (self.tx, full)]
        return [(self.coherent, full)]

    @property
    def symbol_rate_gbd(self) -> float:
        """Symbol rate of the medium's lanes."""
        if self.technology == "ideal":
            return float("nan")
        return self.line_rate_gbps() / self.fmt.bits_per_symbol

    # ---- physics ------------------------------------------------------------------------------

    def segments(self) -> tuple:
        """The link's segments (cached per link value)."""
        return _segments(self)

    def _propagation_ns(self) -> float:
        if self.propagation_ns is not None:
            return float(self.propagation_ns)
        return float(self.medium.propagation_ns(self.length_m)) if self.medium is not None else 0.0

    def _fec_latency(self) -> tuple[float, float]:
        """(codeword accumulation, decode) in ns."""
        if self.fec is None:
            return 0.0, 0.0
        rate = self.line_rate_gbps()
        total = float(self.fec.latency_ns(rate, self.lanes))
        one = float(self.fec.codeword_bits) / (rate * self.lanes)     # what fec.latency_ns holds
        flow_rate = rate * self.lanes / self.fec_flows
        hold = self.interleave * float(self.fec.codeword_bits) / flow_rate
        return hold, max(total - one, 0.0)

    def reach_m(self) -> tuple[float, str]:
        """(longest length meeting the FEC threshold, what limits it: fec-threshold or medium)."""
        if self.technology == "ideal":
            return math.inf, "medium"
        if self.lane is not None:
            return math.nan, MEASURED_LANE
        return _reach(dataclasses.replace(self, length_m=0.0))

    # ---- results ------------------------------------------------------------------------------

    def evaluate(self, frame_bytes: int = 64, switch_pj_per_bit: float | None = None, *,
                 reach: bool = True, cwer_interval: bool = False) -> LinkResult:
        """Statistical evaluation (closed forms and statistical eyes; milliseconds, cached).

        Electrical lanes are evaluated with error-free DFE feedback (the bound COM uses);
        :meth:`simulate` shows DFE error propagation on top.

        Parameters
        ----------
        frame_bytes : int
            Frame size for the frame loss ratio and the serialisation delay.
        switch_pj_per_bit : float, optional
            Add the switch ASIC's share at this whole-ASIC energy per bit (e.g.
            ``photolink.links.energy.SWITCH_ASIC_PJ_PER_BIT``): its switching core, less the SerDes the
            figure includes (the port's SerDes is the link's ``host_serdes``; see
            :func:`photolink.links.energy.power_breakdown_w`).
        reach : bool
            Also find the reach (a root search over length, tens of ms the first time for a
            link design; cached across lengths). Without it ``reach_m`` is NaN.
        cwer_interval : bool
            Also give the burst-model CWER its bootstrap interval (``cwer_ci``; 20 recomputations
            of the CWER, a few seconds).
        """
        frame_bytes = v.integer("frame_bytes", frame_bytes, lo=1, hi=10**7)
        if switch_pj_per_bit is not None:
            switch_pj_per_bit = v.real("switch_pj_per_bit", switch_pj_per_bit, lo=0.0, hi=1e3)
        if not isinstance(reach, (bool, np.bool_)):
            raise TypeError(f"reach must be a bool, got {type(reach).__name__} {reach!r}")
        if not isinstance(cwer_interval, (bool, np.bool_)):
            raise TypeError(f"cwer_interval must be a bool, got {type(cwer_interval).__name__} {cwer_interval!r}")
        rep = _evaluate(self, frame_bytes, switch_pj_per_bit, bool(reach))
        if cwer_interval and rep.cwer_method == "burst-model":
            segs = self.segments()
            ci = _bursts.cwer_interval(_burst_lanes(self, segs), self.fec, interleave=self.interleave,
                                       bit_mux=self.pma_mux == "bit")
            rep = dataclasses.replace(rep, cwer_ci=(min(ci[0], rep.cwer), max(ci[1], rep.cwer)))
        return rep

    def simulate(self, n_symbols: int, *, seed: _rng.SeedLike, frame_bytes: int = 64,
                 ideal_feedback: bool = False,
                 precode: bool | None = None, n_threads: int = 1, switch_pj_per_bit: float | None = None,
                 reach: bool = True, progress: Callable[[int, int], None] | None = None,
                 phase_noise: bool = True) -> LinkResult:
        """Monte Carlo: about ``n_symbols`` symbols through every segment of the link.

        Each segment streams its own child stream of ``seed``, with real DFE decisions (so DFE
        error propagation shows; :meth:`evaluate`'s pre-FEC BER is the error-free-feedback bound),
        unless ``ideal_feedback``; ``precode`` (default: the link's own ``precode``) turns IEEE
        802.3 1/(1+D) precoding of the electrical lanes on or off (error bursts become pairs).
        The link's ``interleave`` is applied to the RS codewords.

        The CWER is *measured* wherever the decoder can be simulated (``cwer_method ==
        "fec.simulate"``): for PAM links with an RS code, or with the concatenated inner code on a
        single segment, the segments' error patterns are combined symbol by symbol (bits XOR) and
        mapped onto the code's codewords by :func:`photolink.fec.simulate` (``n_symbols`` rounded
        up to whole codewords), so bursts and their spread over RS symbols count as they happen;
        ``cwer_ci`` is its Clopper-Pearson interval. Elsewhere the measured BER (with its interval)
        is mapped through the code: a multi-segment link with the inner code (the module's inner
        code covers the optical lane only, which :func:`photolink.fec.simulate` cannot express:
        ``"independent-errors"``) and coherent links (cFEC/oFEC are threshold models, not decoders:
        ``"fec-model"``).

        Coherent links stream their symbols through the transceiver's laser phase noise (a Wiener
        process from ``coherent.linewidth_khz``, combined Tx + LO) and its carrier recovery
        (``coherent.carrier_recovery``: blind phase search, pilot-aided where the preset has
        pilots, whose symbols are not counted as data); the line segment's record carries the
        cycle slips counted, ``linewidth_symbol_period`` and ``carrier_recovery``.
        ``phase_noise=False`` streams an ideal carrier instead, which is what :meth:`evaluate`
        models: the two then agree within the Monte-Carlo interval, and the difference with
        ``phase_noise=True`` is the phase-recovery penalty.

        ``progress``, when given, is called as ``progress(done, total)`` as the run advances
        (pieces of the codeword stream, or segments): a progress bar's hook.
        """
        if progress is not None and not callable(progress):
            raise TypeError(f"progress must be a callable progress(done, total) or None, got {progress!r}")
        base = self.evaluate(frame_bytes, switch_pj_per_bit, reach=reach)
        if precode is None:
            precode = self.precode
        if not isinstance(precode, (bool, np.bool_)):
            raise TypeError(f"precode must be a bool or None, got {type(precode).__name__} {precode!r}")
        if not isinstance(phase_noise, (bool, np.bool_)):
            raise TypeError(f"phase_noise must be a bool, got {type(phase_noise).__name__} {phase_noise!r}")
        if self.technology == "ideal":
            return dataclasses.replace(base, method="simulate")
        n = v.integer("n_symbols", n_symbols, lo=1, hi=10**13)
        ss = _rng.seed_sequence(seed)
        segs = self.segments()
        for seg in segs:
            if seg.ber() >= 0.5:
                raise ValueError(f"segment {seg.name!r} of {self.name} has no open eye "
                                 f"({seg.detail.get('failure', 'SNR -inf')}): nothing to simulate")
        if self._decoder_simulable(segs):
            return self._simulate_codewords(base, segs, n, ss, frame_bytes, ideal_feedback, precode,
                                            n_threads, progress)
        errors, bits, seg_out = 0, 0, []
        for i, seg in enumerate(segs):
            kw = dict(seed=_rng.child(ss, i), n_threads=n_threads)
            if seg.channel is not None:
                r = simulate_ber(seg.fmt, seg.snr_in_db, n, channel=seg.channel, equalizer=seg.equalizer,
                                 ideal_feedback=ideal_feedback, precode=precode, **kw)
            else:
                carrier = self._carrier(seg) if phase_noise else {}
                r = simulate_ber(seg.fmt, seg.snr_db, n, **carrier, **kw)
            errors += r.bit_errors
            bits = r.bits
            extra = {}
            if self.technology == "coherent":
                cr = carrier.get("carrier_recovery")
                extra = {"linewidth_symbol_period": carrier.get("linewidth_symbol_period", 0.0),
                         "carrier_recovery": cr.to_dict() if cr is not None else None,
                         "cycle_slips": int(r.cycle_slips), "data_symbols": int(r.symbols)}
            seg_out.append({**_segment_dict(seg), "ber": r.ber, "ber_ci": list(r.ci),
                            "bit_errors": r.bit_errors, "bits": r.bits, **extra})
            if progress is not None:
                progress(i + 1, len(segs))
        ber = errors / bits
        ci = clopper_pearson(errors, bits)
        code = self.fec
        cwer = float(code.cwer_from_ber(ber))
        cwer_ci = (float(code.cwer_from_ber(ci[0])), float(code.cwer_from_ber(ci[1])))
        method = "fec-model" if isinstance(code, _fec.CoherentFEC) else "independent-errors"
        slips = sum(s.get("cycle_slips", 0) for s in seg_out)
        extra_warnings = [f"{slips} cycle slips of the carrier recovery in {n} symbols "
                          f"({seg_out[0]['carrier_recovery']})"] if slips else []
        return self._simulated_report(base, ber, ci, n, errors, bits, cwer, cwer_ci, method,
                                      frame_bytes, seg_out, extra_warnings)

    def _carrier(self, seg) -> dict:
        """simulate_ber's laser phase noise and carrier recovery for a coherent segment ({} for
        other technologies and for an ideal carrier, zero linewidth)."""
        if self.technology != "coherent" or self.coherent.linewidth_khz == 0:
            return {}
        return {"linewidth_symbol_period": self.coherent.linewidth_symbol_period(seg.symbol_rate_gbd),
                "carrier_recovery": self.coherent.recovery(seg.fmt, seg.symbol_rate_gbd)}

    def _simulated_report(self, base, ber, ci, symbols, errors, bits, cwer, cwer_ci, method,
                          frame_bytes, seg_out, extra_warnings) -> LinkResult:
        th = base.threshold_ber
        try:
            margin = _required_snr_db(self.fmt, min(ci[1], 0.19)) - base.required_snr_db
        except ValueError:
            margin = -math.inf
        warnings = [w for w in base.warnings
                    if "above the FEC threshold" not in w and "DFE error bursts" not in w
                    and "DFE error propagation" not in w]
        if ci[1] > th:
            warnings.append(f"measured pre-FEC BER {ber:.3g} (95% CI up to {ci[1]:.3g}) does not show "
                            f"the FEC threshold {th:.3g} is met")
        if errors < 10:
            warnings.append(f"only {errors} bit errors in {bits} bits: the BER is an upper bound, "
                            f"not a measurement")
        return dataclasses.replace(
            base, method="simulate", pre_fec_ber=ber, pre_fec_ber_ci=ci, symbols=symbols,
            bit_errors=errors, cwer=cwer, cwer_ci=cwer_ci, cwer_method=method,
            frame_loss=_frame_loss(self.fec, cwer, frame_bytes, self.interleave), noise_margin_db=margin,
            ber_with_propagation=ber,
            segments=tuple(seg_out), warnings=tuple(warnings + extra_warnings))

    def _decoder_simulable(self, segs) -> bool:
        """Can photolink.fec.simulate count this link's codeword failures? (see simulate)"""
        code = self.fec
        if not isinstance(self.fmt, PAM) or not isinstance(code, (_fec.RS, _fec.ConcatenatedCode)):
            return False
        if self._outer().symbol_bits != 10 or getattr(code, "soft", False):
            return False
        return len(segs) == 1 or isinstance(code, _fec.RS)

    def _simulate_codewords(self, base, segs, n, ss, frame_bytes, ideal_feedback, precode,
                            n_threads, progress=None) -> LinkResult:
        code = self.fec
        bps = self.fmt.bits_per_symbol
        n_cw = max(1, -(-n * bps // int(math.ceil(code.codeword_bits))))
        fmt, snr, kw = self._codeword_stream(segs, precode, ideal_feedback)
        n_cw = -(-n_cw // self.interleave) * self.interleave
        r = _fec.simulate(code, fmt, snr, n_cw, seed=ss, n_threads=n_threads, progress=progress, **kw)
        symbols = r.line_bits // bps
        if isinstance(fmt, _SegmentStreams):
            tallies = fmt.tallies
        else:
            tallies = [(r.line_bit_errors, r.line_bits)]
        seg_out = []
        for seg, (e, b) in zip(segs, tallies):
            seg_out.append({**_segment_dict(seg), "ber": e / b, "ber_ci": list(clopper_pearson(e, b)),
                            "bit_errors": int(e), "bits": int(b)})
        extra = []
        if r.failed == 0:
            extra.append(f"no codeword failed in {r.codewords}: the CWER is an upper bound "
                         f"({r.ci[1]:.3g}), not a measurement")
        return self._simulated_report(base, r.pre_fec_ber, r.pre_fec_ber_ci, int(symbols),
                                      int(r.line_bit_errors), int(r.line_bits), float(r.cwer),
                                      tuple(r.ci), "fec.simulate", frame_bytes, seg_out, extra)

    def _codeword_stream(self, segs, precode=None, ideal_feedback=False):
        """(fmt, snr_db, options) for photolink.fec.simulate / codeword_failures of the link."""
        precode = self.precode if precode is None else bool(precode)
        il = {"interleave": self.interleave} if self.interleave != 1 else {}
        if self.pma_mux == "bit":
            il["bit_mux"] = True
        if len(segs) == 1:
            seg = segs[0]
            if seg.channel is not None:
                kw = {"channel": seg.channel, "equalizer": seg.equalizer, "precode": precode,
                      "ideal_feedback": bool(ideal_feedback), **il}
                return self.fmt, seg.snr_in_db, kw
            return self.fmt, seg.snr_db, il
        return _SegmentStreams(self.fmt, segs, precode, bool(ideal_feedback)), 0.0, il

    def link_model(self) -> LinkModel:
        """What a packet-level path needs (see :class:`photolink.links.model.LinkModel`).

        ``latency_ns`` holds propagation, pcs_fec (PCS + FEC decode), dsp and retimer; the codeword
        accumulation is ``fec_hold_ns`` (not in ``latency_ns``) and serialisation is the path's.
        With ``interleave`` > 1 the path's codewords are interleave groups (``interleave`` x the
        message bits; the group fails when any of its codewords does).
        """
        if self.technology == "ideal":
            return LinkModel.ideal(self.net_rate_gbps, self._propagation_ns(), name=self.name)
        rep = self.evaluate(reach=False)
        hold, decode = self._fec_latency()
        # with interleaving the path's unit is an interleave group: a frame that touches one of
        # its codewords touches all (their symbols alternate); the group fails if any does
        il = self.interleave
        cwer = min(max(rep.cwer, 0.0), 1.0)
        group_cwer = cwer if il == 1 else float(-math.expm1(il * math.log1p(-min(cwer, 1 - 1e-16))))
        latency = {"propagation": self._propagation_ns(), "pcs_fec": self.pcs_ns + decode}
        if self.dsp_ns:
            latency["dsp"] = self.dsp_ns
        if self.retimer_ns:
            latency["retimer"] = self.retimer_ns
        return LinkModel(name=self.name, rate_gbps=self.net_rate_gbps, latency_ns=latency,
                        codeword_bits=int(self.fec.message_bits) * il, cwer=group_cwer,
                        fec_hold_ns=hold, codeword_failures=self._codeword_failures())

    def _codeword_failures(self):
        """Exact codeword outcomes (:func:`photolink.fec.codeword_failures`) of the link's stream.

        For PAM links with an RS code (any number of segments: their errors combine symbol by
        symbol) or with the concatenated code on one segment. Links the decoder simulation cannot
        express (the inner code on a multi-segment link, coherent FEC models) return None and a
        path's exact mode draws their codewords from the statistical ``cwer``.
        """
        segs = self.segments()
        if not self._decoder_simulable(segs) or any(s.ber() >= 0.5 for s in segs):
            return None
        code, il = self.fec, self.interleave
        fmt, snr, kw = self._codeword_stream(segs)

        def groups(n_groups, seed):
            flags = _fec.codeword_failures(code, fmt, snr, n_groups * il, seed=seed, **kw)
            return flags.reshape(n_groups, il).any(axis=1) if il > 1 else flags

        return groups


class _SegmentStreams:
    """A link's segments as one stream for :mod:`photolink.fec.simulation` (its format-with-``stream``
    extension point): every segment streams the same symbols' worth from its own child seed and
    their error patterns combine symbol by symbol (bits XOR: a module or retimer decides the
    bits and sends them on, so errors of the segments add up on the same line bits). The
    per-segment error tallies of the last stream are kept in ``tallies``."""

    def __init__(self, fmt, segs, precode: bool, ideal_feedback: bool):
        self.fmt, self.segs = fmt, tuple(segs)
        self.precode, self.ideal_feedback = precode, ideal_feedback
        self.bits_per_symbol = fmt.bits_per_symbol
        self.name = f"{fmt.name} x {len(self.segs)} segments"
        self.tallies = [(0, 0)] * len(self.segs)

    def stream(self, snr_db, *, seed, channel=None, equalizer=None, precode=False, **options):
        return _CombinedStream(self, _rng.seed_sequence(seed))


class _CombinedStream:
    def __init__(self, owner: _SegmentStreams, ss):
        self.owner, self.position = owner, 0
        self.streams = []
        for i, seg in enumerate(owner.segs):
            kw = {}
            snr = seg.snr_db
            if seg.channel is not None:
                kw = {"channel": seg.channel, "equalizer": seg.equalizer, "precode": owner.precode,
                      "ideal_feedback": owner.ideal_feedback}
                snr = seg.snr_in_db
            self.streams.append(SymbolStream(seg.fmt, snr, seed=_rng.child(ss, i), **kw))
        owner.tallies = [(0, 0)] * len(owner.segs)

    def run(self, n, *, n_threads=1, return_errors=True):
        parts = [s.run(n, n_threads=n_threads, return_errors=True) for s in self.streams]
        self.owner.tallies = [(e + p.bit_errors, b + p.bits)
                              for (e, b), p in zip(self.owner.tallies, parts)]
        idx = np.concatenate([p.error_index for p in parts])
        bits = np.concatenate([p.error_bits for p in parts])
        if idx.size:
            order = np.argsort(idx, kind="stable")
            idx, bits = idx[order], bits[order]
            uniq, start = np.unique(idx, return_index=True)
            bits = np.bitwise_xor.reduceat(bits, start)
            keep = bits != 0
            idx, bits = uniq[keep], bits[keep]
        runs = int(np.count_nonzero(np.diff(idx) != 1)) + 1 if idx.size else 0
        self.position += n
        return SimpleNamespace(symbol_errors=int(idx.size), bit_errors=int(_bursts._popcount(bits).sum()),
                               bursts=runs, error_index=idx, error_bits=bits)


# ---- cached computations (links are hashable values) ------------------------------------------

def _segment_dict(seg: Segment) -> dict:
    return {"name": seg.name, "snr_db": seg.snr_db, "symbol_rate_gbd": seg.symbol_rate_gbd,
            "ber": seg.ber(), **seg.detail}


def _electrical(name, link, serdes, losses, rate, extra_snr_db=math.inf) -> Segment:
    r = electrical_lane(link.fmt, serdes, losses, rate, extra_snr_db)
    detail = {"loss_at_nyquist_db": r.loss_at_nyquist_db,
              "noise_db": {k: round(x, 2) for k, x in r.noise_db.items()}}
    if r.equaliser:                    # the reference receiver's choice (transmitter FFE, CTLE)
        detail["equaliser"] = {"tx_taps": [round(float(x), 4) for x in r.equaliser["tx_taps"]],
                               "g_dc_db": float(r.equaliser["g_dc_db"]), "g_dc2_db": float(r.equaliser["g_dc2_db"]),
                               "com_db": round(float(r.equaliser["com_db"]), 3)}
    return Segment(name, link.fmt, rate, r.snr_db, r.snr_in_db, r.channel, r.equalizer, r.eye, detail)


#: What limits the reach of a link on a measured lane: its channel's length is fixed.
MEASURED_LANE = "measured lane (fixed channel)"


def _check_lane(link) -> None:
    if link.technology != "passive-copper":
        raise ValueError(f"lane applies to passive-copper links only, got technology={link.technology!r}")
    for attr in ("snr_db", "snr_in_db", "channel", "equalizer", "eye", "symbol_rate_gbd"):
        if not hasattr(link.lane, attr):
            raise TypeError(f"lane must be a photolink.links.com.ComResult (missing {attr!r}), got {link.lane!r}")
    rate = link.symbol_rate_gbd
    if abs(link.lane.symbol_rate_gbd - rate) > 1e-3 * rate:
        raise ValueError(f"lane was computed at {link.lane.symbol_rate_gbd:g} GBd, the link runs "
                         f"{rate:.4f} GBd")


def _measured(name, link, rate) -> Segment:
    lane = link.lane
    detail = {"loss_at_nyquist_db": lane.loss_at_nyquist_db, "com_db": lane.com_db,
              "noise_db": {k: round(x, 2) for k, x in lane.noise_db.items()}}
    return Segment(name, link.fmt, rate, lane.snr_db, lane.snr_in_db, lane.channel, lane.equalizer,
                   lane.eye, detail)


def _side(pieces) -> list:
    return [(p, 1.0) for p in pieces]


@lru_cache(maxsize=1024)
def _segments(link: Link, extra_loss_db: float = 0.0) -> tuple:
    """The link's segments; ``extra_loss_db`` of passive optical loss added (IM-DD only)."""
    if link.technology == "ideal":
        return ()
    bps = link.fmt.bits_per_symbol
    rs = link.line_rate_gbps() / bps
    host, mod = _side(link.host_channel), _side(link.module_channel)
    if link.technology == "passive-copper":
        if link.lane is not None:
            return (_measured("host-to-host (measured)", link, rs),)
        cable = [(link.medium.loss, link.length_m)]
        return (_electrical("host-to-host", link, link.host_serdes, host + cable + host, rs),)
    if link.technology == "active-copper":
        cable = [(link.medium.loss, link.length_m)]
        return (_electrical("host-to-retimer", link, link.module_serdes, host + mod, rs),
                _electrical("cable", link, link.module_serdes, mod + cable + mod, rs),
                _electrical("retimer-to-host", link, link.host_serdes, mod + host, rs))
    if link.technology == "coherent":
        osnr = link.medium.osnr_db(link.length_m, link.coherent.tx_osnr_db)
        snr = link.coherent.snr_db(osnr, rs)
        detail = {"osnr_db": osnr, "spans": link.medium.spans(link.length_m),
                  "required_osnr_db": required_osnr_db(link),
                  "required_osnr_typical_db": required_osnr_db(link, allowances=False),
                  "allowances_db": {"implementation": link.coherent.implementation_allowance_db,
                                    "ageing": link.coherent.ageing_allowance_db}}
        return (Segment("line", link.fmt, rs, snr, snr, detail=detail),)
    budget = imdd_budget(link.fmt, link.tx, link.rx, link.medium, link.length_m, rs,
                         link.connectors, link.connector_loss_db, extra_loss_db, link._mpi_crosstalk_db())
    detail = {"received_oma_dbm": budget.received_oma_dbm,
              "losses_db": {k: round(x, 3) for k, x in budget.losses_db.items()},
              "noise_db": {k: round(x, 2) for k, x in budget.noise_db.items()}}
    if budget.dispersion_limited:
        detail["failure"] = "dispersion-limited: the dispersion penalty is unbounded"
        dead = Segment("optical", link.fmt, rs, -math.inf, -math.inf, detail=detail)
        return (dead,)
    if link.technology == "linear-optics":
        seg = _electrical("host-to-host (linear)", link, link.host_serdes,
                          host + _side(link.optics_loss) + host, rs, budget.snr_db)
        seg.detail.update(optical=detail)
        return (seg,)
    # dsp-optics: AUI, optical lane ended by the DSP, AUI.
    aui = link.line_rate_gbps(link._outer()) / bps
    snr = -10 * math.log10(10 ** (-budget.snr_db / 10) + 10 ** (-link.dsp_snr_db / 10))
    detail["noise_db"]["dsp_floor"] = link.dsp_snr_db
    return (_electrical("host-to-module", link, link.module_serdes, host + mod, aui),
            Segment("optical", link.fmt, rs, snr, snr, detail=detail),
            _electrical("module-to-host", link, link.host_serdes, mod + host, aui))


def _burst_lanes(link: Link, segs) -> list | None:
    """Error-episode process of each segment (:mod:`photolink.fec.bursts`), with whether the inner
    code covers it; None where the burst model does not apply (QAM, coherent FEC models, line
    symbols that do not tile the RS symbols)."""
    code = link.fec
    if not isinstance(link.fmt, PAM) or not isinstance(code, (_fec.RS, _fec.ConcatenatedCode)):
        return None
    if getattr(code, "soft", False):       # soft inner decoding: mapped by its measured threshold
        return None
    bps = link.fmt.bits_per_symbol
    inner = getattr(code, "inner", None)
    if link._outer().symbol_bits % bps or (inner is not None and inner.n % bps):
        return None
    lanes = []
    for seg in segs:
        if seg.channel is not None:
            ep = _bursts.episodes(seg.fmt, seg.snr_in_db, seg.channel, seg.equalizer, precode=link.precode)
        else:
            ep = _bursts.episodes(seg.fmt, min(max(seg.snr_db, SNR_DB_RANGE[0]), SNR_DB_RANGE[1]))
        # a module DSP's inner code covers its optical lane only, not the host AUIs around it
        covered = not (link.technology == "dsp-optics" and seg.name != "optical")
        lanes.append((ep, covered))
    return lanes


def _statistical_cwer(link: Link, segs, ber: float):
    """(CWER, how it was obtained, per-segment Episodes or None) without Monte Carlo."""
    none = [None] * len(segs)
    if ber >= 0.5 or any(s.ber() >= 0.5 for s in segs):
        return 1.0, "independent-errors", none
    lanes = _burst_lanes(link, segs)
    if lanes is not None:
        return (_bursts.cwer(lanes, link.fec, interleave=link.interleave, bit_mux=link.pma_mux == "bit"),
                "burst-model",
                [ep for ep, _ in lanes])
    method = "fec-model" if isinstance(link.fec, _fec.CoherentFEC) else "independent-errors"
    return float(link.fec.cwer_from_ber(min(ber, 0.5))), method, none


def _com_like_db(segs, threshold: float) -> float:
    """Smallest COM-like figure over the electrical segments, each held to an equal share of the
    FEC threshold (their errors add up before the decoder)."""
    share = threshold / len(segs)
    return min(s.eye.com_like_db(share) if s.eye is not None else -math.inf for s in segs)


def _optical_margin_db(link: Link) -> float:
    """dB of extra optical loss at which the pre-FEC BER (error-free feedback) is the threshold."""
    th = _threshold(link.fec)

    def f(x):
        segs = _segments(link, float(x))
        return math.log(max(_total_ber(segs), 1e-320)) - math.log(th)

    if f(0.0) > 0:
        lo = -30.0
        if f(lo) > 0:
            return -math.inf
        return float(optimize.brentq(f, lo, 0.0, xtol=1e-3))
    hi = 1.0
    while f(hi) < 0:
        hi *= 2
        if hi > 64:
            return math.inf
    return float(optimize.brentq(f, hi / 2 if hi > 1 else 0.0, hi, xtol=1e-3))


def required_osnr_db(link: Link, allowances: bool = True) -> float:
    """OSNR (dB in 0.1 nm) a coherent link's transceiver needs at the FEC threshold (inf if its
    own SNR ceiling is below what the threshold needs), with its implementation and ageing
    allowances unless ``allowances=False`` (the typical, beginning-of-life need)."""
    return _required_osnr_db(link.fmt, link.fec, link.coherent, link.symbol_rate_gbd,
                             bool(allowances))


@lru_cache(maxsize=64)
def _required_osnr_db(fmt, code, trx, rs, allowances) -> float:
    need = _required_snr_db(fmt, _threshold(code))
    f = lambda o: trx.snr_db(o, rs) - need  # noqa: E731
    if f(80.0) < 0:
        return math.inf
    extra = trx.allowances_db if allowances else 0.0
    return float(optimize.brentq(f, -20.0, 80.0, xtol=1e-4)) + extra


def _link_margin(link: Link, segs) -> float:
    """The technology's margin (see LinkResult.margin_kind)."""
    kind, _ = MARGIN_KINDS[link.technology]
    if any(s.snr_db == -math.inf for s in segs):
        return -math.inf
    if kind == "com-like-db":
        return _com_like_db(segs, _threshold(link.fec))
    if kind == "optical-power-db":
        return _optical_margin_db(link)
    return segs[0].detail["osnr_db"] - required_osnr_db(link)


def _margin_at(link: Link, length: float) -> float:
    """What the reach search drives to zero: COM-like less 3 dB for copper, else the noise
    margin to the FEC threshold (zero where the BER is the threshold)."""
    stretched = dataclasses.replace(link, length_m=length)
    segs = _segments(stretched)
    kind = MARGIN_KINDS[link.technology][0]
    if kind == "com-like-db":
        return _link_margin(stretched, segs) - COM_PASS_DB
    if kind == "osnr-db":                          # the OSNR margin, allowances included
        return _link_margin(stretched, segs)
    return _margin_db(segs, _threshold(link.fec))


@lru_cache(maxsize=256)
def _reach(link0: Link) -> tuple[float, str]:
    limit = link0.medium.max_length_m
    f = lambda x: max(min(_margin_at(link0, float(x)), 30.0), -30.0)
    tol = max(1e-3, 1e-5 * limit)
    if link0.technology == "coherent":
        # The margin jumps up where another amplifier is added: search a grid for the last pass.
        grid = np.linspace(0.0, limit, 65)
        margins = [f(x) for x in grid]
        if margins[-1] >= 0:
            return float(limit), "medium"
        if margins[0] < 0:
            return 0.0, "fec-threshold"
        i = max(k for k, m in enumerate(margins) if m >= 0)
        return float(optimize.brentq(f, grid[i], grid[i + 1], xtol=tol)), "fec-threshold"
    why = "com-3db" if MARGIN_KINDS[link0.technology][0] == "com-like-db" else "fec-threshold"
    hi = f(limit)
    if hi >= 0:
        return float(limit), "medium"
    if f(0.0) < 0:
        return 0.0, why
    x = float(optimize.brentq(f, 0.0, limit, xtol=tol))
    past = _segments(dataclasses.replace(link0, length_m=min(x * 1.001 + tol, limit)))
    if any("dispersion-limited" in s.detail.get("failure", "") for s in past):
        why = "dispersion"
    return x, why


@lru_cache(maxsize=1024)
def _evaluate(link: Link, frame_bytes: int, switch_pj_per_bit, with_reach: bool) -> LinkResult:
    rate = link.net_rate_gbps
    hold, decode = link._fec_latency()
    latency = {"serialisation": frame_bytes * 8 / rate, "propagation": link._propagation_ns(),
               "pcs_fec": link.pcs_ns + hold + decode if link.fec is not None else link.pcs_ns,
               "dsp": link.dsp_ns, "retimer": link.retimer_ns}
    laser_w = link.tx.laser.power_w(link.tx.launch_avg_dbm, link.lanes) if link.tx is not None else 0.0
    watts, module_w = power_breakdown_w(link.parts, rate, laser_w, link.conversion_efficiency,
                                        switch_pj_per_bit)
    power = sum(watts.values())
    common = dict(
        name=link.name, technology=link.technology, length_m=link.length_m, net_rate_gbps=rate,
        energy_pj_per_bit=power / rate * 1000, power_w=power, module_power_w=module_w,
        energy_breakdown_w=watts, energy_breakdown_pj_per_bit={k: x / rate * 1000 for k, x in watts.items()},
        latency_ns=sum(latency.values()), latency_breakdown_ns=latency, frame_bytes=frame_bytes,
        rated_reach_m=link.rated_reach_m, method="evaluate",
        rated_reach_limit="none" if link.rated_reach_m is None else link.rated_reach_basis, symbols=0, bit_errors=0,
        pre_fec_ber_ci=None, cwer_ci=None)
    if link.technology == "ideal":
        return LinkResult(
            **common, line_rate_gbps=rate, symbol_rate_gbd=float("nan"), format="ideal", fec="none",
            snr_db=math.inf, required_snr_db=-math.inf, margin_db=math.inf, pre_fec_ber=0.0,
            threshold_ber=0.0, cwer=0.0, frame_loss=0.0, reach_m=math.inf, reach_limit="medium",
            segments=(), warnings=(), cwer_method="none")
    kind, pass_db = MARGIN_KINDS[link.technology]
    segs = link.segments()
    th = _threshold(link.fec)
    ber = _total_ber(segs)
    cwer, method, seg_bursts = _statistical_cwer(link, segs, ber)
    noise_margin = _margin_db(segs, th)
    margin = _link_margin(link, segs)
    ber_prop = ber
    if all(b is not None for b in seg_bursts) and ber < 0.5:
        ber_prop = 1.0 - math.prod(1.0 - min(b.ber, 0.5) for b in seg_bursts)
    reach, limit = link.reach_m() if with_reach else (float("nan"), "not computed")
    required = _required_snr_db(link.fmt, th)
    warnings = []
    for s in segs:
        if "failure" in s.detail:
            warnings.append(f"{s.name}: {s.detail['failure']}")
    if noise_margin < 0:
        warnings.append(f"pre-FEC BER {ber:.3g} is above the FEC threshold {th:.3g} "
                        f"({kind} margin {margin:.2f} dB): the link fails at {link.length_m:g} m"
                        + (f"; its reach is {reach:.4g} m" if with_reach else ""))
    elif margin < pass_db:
        warnings.append(f"{kind} margin {margin:.2f} dB is below the {pass_db:g} dB a channel needs "
                        f"to pass (IEEE 802.3 COM) at {link.length_m:g} m"
                        + (f"; its reach is {reach:.4g} m" if with_reach else ""))
    if ber_prop > th >= ber:
        warnings.append(f"with DFE error propagation the pre-FEC BER is {ber_prop:.3g}, above the FEC "
                        f"threshold {th:.3g} that the error-free-feedback BER {ber:.3g} meets")
    if method == "burst-model" and margin >= 0 and cwer > BURST_WARNING_CWER:
        warnings.append(f"DFE error bursts: CWER {cwer:.2g} although the pre-FEC BER {ber:.3g} meets "
                        f"the FEC threshold (an error-free-feedback, independent-error criterion); "
                        f"errors per burst up to "
                        f"{max(b.mean_burst_symbols for b in seg_bursts if b is not None):.1f}")
    if link.lane is not None:
        warnings.append(f"measured lane: loss, reflections and crosstalk are those of the measured "
                        f"channel (COM {link.lane.com_db:.2f} dB); length_m={link.length_m:g} m sets "
                        f"the propagation delay only")
    if link.rated_reach_m is not None and link.length_m > link.rated_reach_m:
        warnings.append(f"length {link.length_m:g} m is past the rated reach of {link.rated_reach_m:g} m")
    if with_reach and link.rated_reach_m is not None and link.rated_reach_m > reach * (1 + 1e-6):
        warnings.append(f"rated reach {link.rated_reach_m:g} m exceeds the physics reach {reach:.4g} m "
                        f"({limit})")
    return LinkResult(
        **common, line_rate_gbps=link.line_rate_gbps(), symbol_rate_gbd=link.symbol_rate_gbd,
        format=link.fmt.name, fec=str(getattr(link.fec, "name", link.fec)),
        snr_db=min(s.snr_db for s in segs), required_snr_db=required, margin_db=margin,
        margin_kind=kind, margin_pass_db=pass_db, noise_margin_db=noise_margin,
        ber_error_free_feedback=ber, ber_with_propagation=ber_prop,
        pre_fec_ber=ber, threshold_ber=th, cwer=cwer,
        frame_loss=_frame_loss(link.fec, cwer, frame_bytes, link.interleave), reach_m=reach,
        _interleave=link.interleave,
        reach_limit=limit, warnings=tuple(warnings), cwer_method=method, _code=link.fec,
        segments=tuple({**_segment_dict(s), **({"bursts": b.to_dict()} if b is not None else {})}
                       for s, b in zip(segs, seg_bursts)))
