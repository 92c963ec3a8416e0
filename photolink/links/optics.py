"""Optical media and link budgets: IM-DD (PAM over fibre) and coherent (OSNR).

IM-DD, following the IEEE 802.3 budget methodology [ref:imdd-ieee-budget]: the received outer
OMA is the launch OMA less fibre attenuation, connector losses, the dispersion penalty and the
transmitter's eye-closure penalty (TDECQ). TDECQ is measured on the transmitter's own signal, so
it already holds the transmitter's noise (RIN included): RIN is not counted again unless the
transmitter says its TDECQ leaves it out (``rin_in_tdecq=False``). With the PAM levels equally
spaced in optical power, adjacent levels are ``R * OMA / (M - 1)`` apart in photocurrent, and the
decision-point SNR (mean symbol power over noise power, [ref:snr-convention]) is that signal
against the receiver's thermal noise (TIA input-referred density), shot noise (2 q I B), RIN where
counted (RIN_OMA: ``RIN * (R OMA)^2 * B``) and multi-path interference from pairs of connector
reflections (interferometric beat noise ``2 eps (R P_avg)^2``, eps the MPI crosstalk ratio
[ref:imdd-mpi]), all in the receiver's noise bandwidth B. A receiver can be given by its IEEE
sensitivity (:meth:`OpticalRx.from_sensitivity`).

The dispersion penalty is the spectral-width model ``-5 log10(1 - (4 eps)^2)`` with
``eps = R_s * |D| * L * sigma_lambda`` (Agrawal, Fiber-Optic Communication Systems, sec. 5.4):
infinite, i.e. the link is dispersion-limited, once ``4 eps >= 1``.

Coherent: OSNR after ``n`` equal amplified spans, ``58 + P_ch - span_loss - NF - 10 log10 n`` dB in
0.1 nm (the 58 dB is -10 log10(h nu * 12.5 GHz) in dBm at 1550 nm), combined with the transmitter
OSNR, turned into symbol SNR by :func:`photolink.symbols.coherent.snr_from_osnr` and combined with the
transceiver's own SNR ceiling. The transceiver's lasers (combined linewidth) and carrier-phase
recovery are what :meth:`photolink.links.Link.simulate` streams through (laser phase noise, cycle
slips); :meth:`~photolink.links.Link.evaluate` and the SNR ceiling assume an ideal carrier.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .._util import validate as v
from ..symbols.carrier import CarrierRecovery, linewidth_symbol_period
from ..symbols.coherent import snr_from_osnr

#: Electron charge, C.
Q_E = 1.602176634e-19
#: Speed of light in vacuum, m/ns.
C_M_PER_NS = 0.299792458


def _db(x: float) -> float:
    return 10.0 * math.log10(x) if x > 0 else -math.inf


def _inv_sum_db(*snr_db: float) -> float:
    """Combine independent noises given as SNRs in dB: 1/SNR = sum 1/SNR_i."""
    inv = sum(10.0 ** (-s / 10) for s in snr_db if math.isfinite(s))
    return -_db(inv) if inv > 0 else math.inf


@dataclass(frozen=True)
class Fiber:
    """An optical fibre for IM-DD links.

    Parameters
    ----------
    name : str
    attenuation_db_per_km : float
    dispersion_ps_per_nm_km : float
        Largest |D| over the lane wavelengths.
    group_index : float
        Sets the propagation delay (1.468 -> ~4.9 ns/m).
    max_length_m : float
        Longest length the model accepts (beyond it: ValueError).
    source : str
    """

    name: str
    attenuation_db_per_km: float
    dispersion_ps_per_nm_km: float
    group_index: float = 1.468
    max_length_m: float = 40_000.0
    source: str = ""

    def __post_init__(self):
        v.real("attenuation_db_per_km", self.attenuation_db_per_km, lo=0.0, hi=10.0)
        v.real("dispersion_ps_per_nm_km", self.dispersion_ps_per_nm_km, lo=0.0, hi=200.0)
        v.real("group_index", self.group_index, lo=1.0, hi=2.0)
        v.real("max_length_m", self.max_length_m, lo=0.0, hi=1e7)

    def propagation_ns(self, length_m: float) -> float:
        return length_m * self.group_index / C_M_PER_NS


@dataclass(frozen=True)
class Laser:
    """Laser and what it costs: electrical power = optical power needed / wall-plug efficiency.

    Parameters
    ----------
    name : str
    wall_plug_efficiency : float
        Optical output over electrical input (bias driver included).
    loss_to_fibre_db : float
        Loss between the laser and the launched signal (modulator, splitters, coupling).
    fixed_w : float
        Per-module cooling and control power (TEC, wavelength locker), W.
    source : str
    """

    name: str
    wall_plug_efficiency: float
    loss_to_fibre_db: float
    fixed_w: float = 0.0
    source: str = ""

    def __post_init__(self):
        v.real("wall_plug_efficiency", self.wall_plug_efficiency, lo=1e-3, hi=1.0)
        v.real("loss_to_fibre_db", self.loss_to_fibre_db, lo=0.0, hi=40.0)
        v.real("fixed_w", self.fixed_w, lo=0.0, hi=100.0)

    def power_w(self, launch_avg_dbm: float, lanes: int) -> float:
        """Electrical power of the lasers of ``lanes`` lanes launching ``launch_avg_dbm`` each."""
        per_lane_mw = 10.0 ** ((launch_avg_dbm + self.loss_to_fibre_db) / 10)
        return lanes * per_lane_mw / self.wall_plug_efficiency / 1000.0 + self.fixed_w


@dataclass(frozen=True)
class OpticalTx:
    """An IM-DD transmitter lane.

    Parameters
    ----------
    name : str
    launch_oma_dbm : float
        Outer optical modulation amplitude launched, dBm.
    extinction_ratio_db : float
    rin_db_per_hz : float
        Relative intensity noise referred to the OMA (RIN_OMA), dB/Hz.
    tdecq_db : float
        Transmitter eye-closure penalty (TDECQ), dB optical.
    spectral_width_nm : float
        RMS spectral width for the dispersion penalty (modulation-broadened).
    laser : Laser
    max_symbol_rate_gbd : float
        Fastest symbol rate of the driver/modulator class.
    rin_in_tdecq : bool
        True (IEEE methodology): the TDECQ holds the transmitter's noise, RIN is not added again.
    source : str
    """

    name: str
    launch_oma_dbm: float
    extinction_ratio_db: float
    rin_db_per_hz: float
    tdecq_db: float
    spectral_width_nm: float
    laser: Laser
    max_symbol_rate_gbd: float = 60.0
    source: str = ""
    rin_in_tdecq: bool = True

    def __post_init__(self):
        v.real("launch_oma_dbm", self.launch_oma_dbm, lo=-30.0, hi=20.0)
        v.real("extinction_ratio_db", self.extinction_ratio_db, lo=0.5, hi=30.0)
        v.real("rin_db_per_hz", self.rin_db_per_hz, lo=-200.0, hi=-80.0)
        v.real("tdecq_db", self.tdecq_db, lo=0.0, hi=10.0)
        v.real("spectral_width_nm", self.spectral_width_nm, lo=0.0, hi=10.0)
        v.real("max_symbol_rate_gbd", self.max_symbol_rate_gbd, lo=0.1, hi=1000.0)

    @property
    def launch_avg_dbm(self) -> float:
        """Average launch power: OMA / 2 * (ER + 1) / (ER - 1)."""
        er = 10.0 ** (self.extinction_ratio_db / 10)
        return self.launch_oma_dbm + _db(0.5 * (er + 1) / (er - 1))


@dataclass(frozen=True)
class OpticalRx:
    """A PIN photodiode and TIA.

    Parameters
    ----------
    name : str
    responsivity_a_per_w : float
    noise_pa_per_rthz : float
        TIA input-referred noise current density, pA/sqrt(Hz).
    bandwidth_ratio : float
        Noise bandwidth over the symbol rate.
    source : str
    """

    name: str
    responsivity_a_per_w: float
    noise_pa_per_rthz: float
    bandwidth_ratio: float = 0.75
    source: str = ""

    def __post_init__(self):
        v.real("responsivity_a_per_w", self.responsivity_a_per_w, lo=0.01, hi=2.0)
        v.real("noise_pa_per_rthz", self.noise_pa_per_rthz, lo=0.0, hi=1e3)
        v.real("bandwidth_ratio", self.bandwidth_ratio, lo=0.1, hi=4.0)

    @classmethod
    def from_sensitivity(cls, name: str, fmt, sensitivity_oma_dbm: float, symbol_rate_gbd: float,
                         ber: float, responsivity_a_per_w: float = 0.8, bandwidth_ratio: float = 0.75,
                         source: str = "") -> "OpticalRx":
        """The receiver whose thermal noise alone gives ``ber`` at an outer OMA of
        ``sensitivity_oma_dbm`` (an IEEE receiver sensitivity for an ideal transmitter, i.e. the
        OMA less the transmitter's TECQ)."""
        oma_w = 10.0 ** (v.real("sensitivity_oma_dbm", sensitivity_oma_dbm, lo=-40.0, hi=20.0) / 10) / 1000
        rs = v.real("symbol_rate_gbd", symbol_rate_gbd, lo=0.1, hi=1000.0)
        need = float(fmt.snr_db_for_ber(v.real("ber", ber, lo=1e-15, hi=0.1)))
        spacing = responsivity_a_per_w * oma_w / (fmt.M - 1)
        signal = fmt.mean_power * (spacing / 2) ** 2
        density = math.sqrt(signal / 10.0 ** (need / 10) / (bandwidth_ratio * rs * 1e9))
        return cls(name, responsivity_a_per_w, density * 1e12, bandwidth_ratio, source)


@dataclass(frozen=True)
class ImddBudget:
    """An IM-DD link budget.

    Attributes
    ----------
    received_oma_dbm : float
    losses_db : dict
        fibre, connectors, dispersion, tdecq (optical dB).
    noise_db : dict
        thermal, shot, rin as SNRs in dB.
    snr_db : float
        Decision-point SNR from these noises (before any electrical floor).
    dispersion_limited : bool
    """

    received_oma_dbm: float
    losses_db: dict
    noise_db: dict
    snr_db: float
    dispersion_limited: bool


def dispersion_penalty_db(symbol_rate_gbd: float, dispersion_ps_per_nm_km: float, length_m: float,
                          spectral_width_nm: float) -> float:
    """Spectral-width dispersion penalty in optical dB (inf when dispersion-limited)."""
    eps = symbol_rate_gbd * 1e9 * dispersion_ps_per_nm_km * 1e-12 * length_m / 1000 * spectral_width_nm
    x = (4 * eps) ** 2
    return -5.0 * math.log10(1.0 - x) if x < 1.0 else math.inf


def imdd_budget(fmt, tx: OpticalTx, rx: OpticalRx, fiber: Fiber, length_m: float,
                symbol_rate_gbd: float, connectors: int = 2, connector_loss_db: float = 0.5,
                extra_loss_db: float = 0.0, mpi_crosstalk_db: float = -math.inf) -> ImddBudget:
    """Received OMA and decision-point SNR of one IM-DD lane (see the module docstring).

    ``mpi_crosstalk_db`` is the multi-path interference crosstalk ratio (10 log10 of the sum of
    products of reflectance pairs; -inf for none).

    ``extra_loss_db`` is passive optical loss added to the channel (the optical power margin is
    the largest that still meets the FEC threshold).
    """
    losses = {
        "fibre": fiber.attenuation_db_per_km * length_m / 1000,
        "connectors": connectors * connector_loss_db + extra_loss_db,
        "dispersion": dispersion_penalty_db(symbol_rate_gbd, fiber.dispersion_ps_per_nm_km, length_m,
                                            tx.spectral_width_nm),
        "tdecq": tx.tdecq_db,
    }
    limited = not math.isfinite(losses["dispersion"])
    oma_dbm = tx.launch_oma_dbm - sum(losses.values())
    oma_w = 10.0 ** (oma_dbm / 10) / 1000
    # Average power at the receiver: the ER is kept, the passive losses (not the penalties) apply.
    avg_w = 10.0 ** ((tx.launch_avg_dbm - losses["fibre"] - losses["connectors"]) / 10) / 1000
    r = rx.responsivity_a_per_w
    b_hz = rx.bandwidth_ratio * symbol_rate_gbd * 1e9
    spacing = r * oma_w / (fmt.M - 1)                   # current between adjacent levels
    signal = fmt.mean_power * (spacing / 2) ** 2        # levels at +-1, +-3, ... x spacing/2
    var = {
        "thermal": (rx.noise_pa_per_rthz * 1e-12) ** 2 * b_hz,
        "shot": 2 * Q_E * r * avg_w * b_hz,
    }
    if not tx.rin_in_tdecq:
        var["rin"] = 10.0 ** (tx.rin_db_per_hz / 10) * (r * 10.0 ** ((tx.launch_oma_dbm - losses["fibre"]
                                                                      - losses["connectors"]) / 10) / 1000) ** 2 * b_hz
    if mpi_crosstalk_db > -math.inf:
        var["mpi"] = 2.0 * 10.0 ** (mpi_crosstalk_db / 10) * (r * avg_w) ** 2
    noise_db = {k: _db(signal / x) if x > 0 else math.inf for k, x in var.items()}
    snr = _db(signal / sum(var.values())) if not limited else -math.inf
    return ImddBudget(received_oma_dbm=oma_dbm, losses_db=losses, noise_db=noise_db, snr_db=snr,
                      dispersion_limited=limited)


@dataclass(frozen=True)
class CoherentLine:
    """An amplified single-mode line for coherent links (equal spans, one amplifier per span).

    Parameters
    ----------
    name : str
    attenuation_db_per_km : float
    span_km : float
        Longest span between amplifiers.
    launch_dbm : float
        Channel power launched into each span.
    noise_figure_db : float
        Amplifier noise figure.
    dispersion_ps_per_nm_km : float
    cd_tolerance_ps_per_nm : float
        Chromatic dispersion the receiver DSP compensates: sets the longest line.
    group_index : float
    source : str
    """

    name: str
    attenuation_db_per_km: float = 0.22
    span_km: float = 80.0
    launch_dbm: float = 0.0
    noise_figure_db: float = 5.5
    dispersion_ps_per_nm_km: float = 17.0
    cd_tolerance_ps_per_nm: float = 2400.0
    group_index: float = 1.468
    source: str = ""

    def __post_init__(self):
        v.real("attenuation_db_per_km", self.attenuation_db_per_km, lo=0.0, hi=10.0)
        v.real("span_km", self.span_km, lo=0.1, hi=500.0)
        v.real("launch_dbm", self.launch_dbm, lo=-30.0, hi=30.0)
        v.real("noise_figure_db", self.noise_figure_db, lo=0.0, hi=20.0)
        v.real("dispersion_ps_per_nm_km", self.dispersion_ps_per_nm_km, lo=0.01, hi=200.0)
        v.real("cd_tolerance_ps_per_nm", self.cd_tolerance_ps_per_nm, lo=1.0, hi=1e6)

    @property
    def max_length_m(self) -> float:
        """Longest line whose dispersion the DSP can compensate."""
        return self.cd_tolerance_ps_per_nm / self.dispersion_ps_per_nm_km * 1000.0

    def propagation_ns(self, length_m: float) -> float:
        return length_m * self.group_index / C_M_PER_NS

    def spans(self, length_m: float) -> int:
        return max(1, math.ceil(length_m / 1000.0 / self.span_km - 1e-9))

    def osnr_db(self, length_m: float, tx_osnr_db: float = math.inf) -> float:
        """OSNR in 0.1 nm at the receiver, with the transmitter's own OSNR."""
        n = self.spans(length_m)
        span_loss = self.attenuation_db_per_km * length_m / 1000.0 / n
        line = 58.0 + self.launch_dbm - span_loss - self.noise_figure_db - 10 * math.log10(n)
        return _inv_sum_db(line, tx_osnr_db)


@dataclass(frozen=True)
class CoherentTrx:
    """A coherent transceiver's optical and implementation figures.

    Parameters
    ----------
    name : str
    tx_osnr_db : float
        Transmitter OSNR in 0.1 nm.
    implementation_snr_db : float
        SNR ceiling of the transceiver itself (DAC/ADC, drivers, DSP) with an ideal carrier: a
        typical, beginning-of-life figure (the back-to-back BER follows from it). Laser phase
        noise is not in it: it is simulated from ``linewidth_khz`` and ``carrier_recovery``.
    max_symbol_rate_gbd : float
    implementation_allowance_db, ageing_allowance_db : float
        OSNR allowances (dB) added to the OSNR the typical transceiver needs at the FEC threshold:
        line impairments the model leaves out (CD/PMD/PDL/filtering penalties, temperature) and
        end-of-life ageing. The OSNR margin is taken against the required OSNR with both.
    source : str
    linewidth_khz : float
        Combined linewidth of the transmitter laser and the local oscillator (kHz), 0 to 1e5;
        0 is an ideal carrier.
    carrier_recovery : CarrierRecovery, optional
        The receiver's carrier-phase recovery; None picks
        :meth:`~photolink.symbols.carrier.CarrierRecovery.for_format` for the linewidth.
    """

    name: str
    tx_osnr_db: float
    implementation_snr_db: float
    max_symbol_rate_gbd: float = 70.0
    source: str = ""
    implementation_allowance_db: float = 0.0
    ageing_allowance_db: float = 0.0
    linewidth_khz: float = 0.0
    carrier_recovery: CarrierRecovery | None = None

    def __post_init__(self):
        v.real("tx_osnr_db", self.tx_osnr_db, lo=0.0, hi=80.0)
        v.real("implementation_snr_db", self.implementation_snr_db, lo=0.0, hi=80.0)
        v.real("max_symbol_rate_gbd", self.max_symbol_rate_gbd, lo=0.1, hi=1000.0)
        v.real("implementation_allowance_db", self.implementation_allowance_db, lo=0.0, hi=20.0)
        v.real("ageing_allowance_db", self.ageing_allowance_db, lo=0.0, hi=20.0)
        v.real("linewidth_khz", self.linewidth_khz, lo=0.0, hi=1e5)
        if self.carrier_recovery is not None and not isinstance(self.carrier_recovery, CarrierRecovery):
            raise TypeError(f"carrier_recovery must be a photolink CarrierRecovery or None, got "
                            f"{type(self.carrier_recovery).__name__} {self.carrier_recovery!r}")

    @property
    def allowances_db(self) -> float:
        """OSNR allowances on top of the typical transceiver's need (implementation + ageing)."""
        return self.implementation_allowance_db + self.ageing_allowance_db

    def linewidth_symbol_period(self, symbol_rate_gbd: float) -> float:
        """Combined linewidth x symbol period at ``symbol_rate_gbd``."""
        return linewidth_symbol_period(self.linewidth_khz, symbol_rate_gbd)

    def recovery(self, fmt, symbol_rate_gbd: float) -> CarrierRecovery:
        """The carrier recovery that runs at ``symbol_rate_gbd`` (the preset's or the default)."""
        if self.carrier_recovery is not None:
            return self.carrier_recovery
        return CarrierRecovery.for_format(fmt, self.linewidth_symbol_period(symbol_rate_gbd))

    def snr_db(self, osnr_db: float, symbol_rate_gbd: float) -> float:
        """Symbol SNR (per polarisation) at the decision point for a received OSNR."""
        return _inv_sum_db(snr_from_osnr(osnr_db, symbol_rate_gbd), self.implementation_snr_db)
