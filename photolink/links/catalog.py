"""Preset links, as data. Each figure cites its docs/references.md row and mark (S standard,
D datasheet, P press claim, E estimate); "E (photolink)" marks a modelling choice of this
package, calibrated where said so against a docs/references.md figure.

Energy and power are per port (one end of a link) and per net bit; use
:func:`photolink.links.preset` to get one and :func:`photolink.links.presets` for the names.
"""
from __future__ import annotations

import dataclasses
import math

from .. import fec
from ..symbols.carrier import ZR_PILOT_PERIOD, CarrierRecovery
from ..symbols.formats import DP_16QAM, PAM4
from .com import COM_802_3CK, COM_802_3DJ
from .energy import Part
from .link import Link
from .optics import CoherentLine, CoherentTrx, Fiber, Laser, OpticalRx, OpticalTx
from .serdes import Loss, SerDes, Twinax

# ---- electrical pieces -------------------------------------------------------------------------
#: 26 AWG twinax: 5.5 dB/m at 26.56 GHz, 8.8 dB/m at 53.1 GHz.
TWINAX_26AWG = Twinax(
    "26 AWG twinax", Loss("26 AWG twinax, per m", sqrt_db=0.7286, linear_db=0.0657),
    propagation_ns_per_m=4.5, max_length_m=7.0,
    source="[ref:twinax-propagation] twinax propagation <= 4.5 ns/m (D); loss per m [ref:photolink-twinax-loss] E (photolink), "
           "calibrated with the host channel and SerDes below to [ref:dac-100g-reach] 100G/lane DAC "
           "~1.5-2 m (D) and [ref:copper-200g-loss-budget] 200G/lane ~1 m with <= 40 dB die-to-die at 53.125 GHz (S draft); "
           "7 m longest cable [ref:photolink-twinax-max-length] E")
#: Host package + PCB trace from the switch die to the front-panel cage: 7.3 dB at 26.56 GHz,
#: 13.9 dB at 53.1 GHz (802.3dj: <= 40 dB die to die with ~1 m cable at 53.125 GHz).
HOST_TRACE = Loss("host package + PCB", sqrt_db=0.2, linear_db=0.235,
                  source="[ref:photolink-host-channel] E (photolink), sized to [ref:copper-200g-loss-budget] (S draft)")
#: Mated cable/module connector: 1.0 dB at 26.56 GHz.
CONNECTOR = Loss("mated connector", sqrt_db=0.19, source="[ref:photolink-host-channel] E (photolink)")
#: Module or paddle-card trace to the DSP/retimer: 1.6 dB at 26.56 GHz, 3.1 dB at 53.1 GHz.
MODULE_TRACE = Loss("module trace", sqrt_db=0.1, linear_db=0.04, source="[ref:photolink-host-channel] E (photolink)")
#: Co-packaged optical engine on the switch substrate: ~1.8 dB per side at 53.1 GHz.
CPO_TRACE = Loss("CPO substrate trace", sqrt_db=0.1, linear_db=0.02,
                 source="[ref:photolink-cpo-trace] E (photolink), sized to [ref:cpo-host-loss] ~22 dB -> ~4 dB at 200G (P)")
#: Electrical-equivalent response of linear optics (driver, modulator, photodiode, TIA).
LINEAR_OPTICS = Loss("linear driver + modulator + PD + TIA", linear_db=0.06, source="[ref:photolink-linear-optics] E (photolink)")

_SERDES_SRC = ("IEEE 802.3ck/dj COM reference receiver (transmitter FFE, CTLE, receiver FFE and DFE, "
               "noise figures A_v, SNR_TX, eta_0, f_r, sigma_RJ, A_DD, b_max(1)) from its parameter set "
               "(photolink.links.com.COM_802_3CK [ref:ck-com-table] E / COM_802_3DJ [ref:dj-com-table] S secondary); "
               "crosstalk and implementation floor [ref:photolink-serdes-floor-ctle] E (photolink)")
#: 802.3ck reference receiver [ref:ck-com-table]; crosstalk and implementation floor calibrated so
#: that dac-800g passes COM-like 3 dB to ~2.2 m [ref:photolink-serdes-floor-ctle] (E).
SERDES_112G = SerDes.from_com("112G SerDes (53 GBd)", COM_802_3CK, crosstalk_db=-44.0,
                              implementation_snr_db=28.0, max_symbol_rate_gbd=56.5, source=_SERDES_SRC)
#: A retimer in the cable's connector sees the cable's own crosstalk only, not the host's.
SERDES_112G_RETIMER = SerDes.from_com("112G retimer SerDes (53 GBd)", COM_802_3CK, crosstalk_db=-52.0,
                                      implementation_snr_db=28.0, max_symbol_rate_gbd=56.5, source=_SERDES_SRC)
#: 802.3dj reference receiver [ref:dj-com-table]: eta_0 6.0e-9 V^2/GHz, SNR_TX 33 dB, f_r 0.58 f_b,
#: 16-tap MMSE receiver FFE, b_max(1) 0.85 [ref:dj-com-parameters] [ref:com-dfe-b1-limit].
SERDES_224G = SerDes.from_com("224G SerDes (113 GBd)", COM_802_3DJ, crosstalk_db=-60.0,
                              implementation_snr_db=32.0, max_symbol_rate_gbd=116.0, source=_SERDES_SRC)
#: The 224G retimer in a 1.6T AEC's connector (the cable's own crosstalk only, like the 112G one).
SERDES_224G_RETIMER = SerDes.from_com("224G retimer SerDes (113 GBd)", COM_802_3DJ, crosstalk_db=-63.0,
                                      implementation_snr_db=32.0, max_symbol_rate_gbd=116.0, source=_SERDES_SRC)

# ---- optics ------------------------------------------------------------------------------------
SMF_OBAND = Fiber("SMF, O-band (IM-DD)", attenuation_db_per_km=0.5, dispersion_ps_per_nm_km=2.0,
                  max_length_m=20_000.0,
                  source="[ref:fibre-propagation] fibre ~4.9 ns/m, group index ~1.468 (E); attenuation and "
                         "worst |D| near 1310 nm textbook, 20 km model limit [ref:photolink-oband-fibre] (E)")
EML_LASER = Laser("EML (DFB + EAM), cooled", wall_plug_efficiency=0.08, loss_to_fibre_db=6.0,
                  fixed_w=1.0, source="[ref:photolink-lasers] E (photolink)")
EML_LASER_200G = Laser("EML 200G, cooled", wall_plug_efficiency=0.08, loss_to_fibre_db=6.0,
                       fixed_w=1.2, source="[ref:photolink-lasers] E (photolink)")
SIPH_CW_LASER = Laser("CW DFB for silicon-photonic MZM", wall_plug_efficiency=0.15, loss_to_fibre_db=10.0,
                      fixed_w=0.3, source="[ref:photolink-lasers] E (photolink)")
#: External laser source of the 100G/lane CPO engine: 0.8 W fixed per 800G (TEC, control) besides the
#: optical power, sized with the engine parts of ``cpo-800g`` to Broadcom's 5.5 W per 800G
#: [ref:cpo-broadcom-bailly] (P) [ref:cpo-engine-power-check].
ELS_LASER = Laser("external laser source (CPO)", wall_plug_efficiency=0.2, loss_to_fibre_db=9.0,
                  fixed_w=0.8, source="[ref:photolink-lasers] E (photolink)")
ELS_LASER_16T = Laser("external laser source (CPO 1.6T)", wall_plug_efficiency=0.2, loss_to_fibre_db=9.0,
                      fixed_w=0.4, source="[ref:photolink-lasers] E (photolink)")
_TX_SRC = ("[ref:dr8-tx-spec] 800G DR8 transmitter RIN <= -136 dB/Hz, TDECQ <= 3.4 dB, ER >= 3.5 dB (D); "
           "typical values used here are [ref:photolink-imdd-tx] E (photolink)")
TX_EML_100G = OpticalTx("100G PAM4 EML", launch_oma_dbm=1.5, extinction_ratio_db=4.5, rin_db_per_hz=-143.0,
                        tdecq_db=2.0, spectral_width_nm=0.15, laser=EML_LASER, max_symbol_rate_gbd=56.5,
                        source=_TX_SRC)
TX_EML_200G = OpticalTx("200G PAM4 EML", launch_oma_dbm=3.0, extinction_ratio_db=4.5, rin_db_per_hz=-145.0,
                        tdecq_db=2.5, spectral_width_nm=0.3, laser=EML_LASER_200G, max_symbol_rate_gbd=116.0,
                        source=_TX_SRC)
TX_SIPH_100G = OpticalTx("100G PAM4 SiPh MZM, linear drive", launch_oma_dbm=1.0, extinction_ratio_db=4.0,
                         rin_db_per_hz=-143.0, tdecq_db=2.5, spectral_width_nm=0.15, laser=SIPH_CW_LASER,
                         max_symbol_rate_gbd=56.5, source=_TX_SRC)
TX_SIPH_200G = OpticalTx("200G PAM4 SiPh MZM, linear drive", launch_oma_dbm=2.0, extinction_ratio_db=4.0,
                         rin_db_per_hz=-145.0, tdecq_db=2.5, spectral_width_nm=0.3, laser=SIPH_CW_LASER,
                         max_symbol_rate_gbd=116.0, source=_TX_SRC)
TX_CPO_100G = OpticalTx("100G PAM4 CPO modulator", launch_oma_dbm=0.0, extinction_ratio_db=4.0,
                        rin_db_per_hz=-143.0, tdecq_db=2.0, spectral_width_nm=0.15, laser=ELS_LASER,
                        max_symbol_rate_gbd=56.5, source=_TX_SRC)
TX_CPO_200G = OpticalTx("200G PAM4 CPO modulator", launch_oma_dbm=1.5, extinction_ratio_db=4.0,
                        rin_db_per_hz=-145.0, tdecq_db=2.0, spectral_width_nm=0.3, laser=ELS_LASER_16T,
                        max_symbol_rate_gbd=116.0, source=_TX_SRC)
_RX_SRC = "[ref:photolink-imdd-rx] E (photolink): PIN responsivity ~0.8 A/W at 1310 nm (textbook), TIA noise densities typical"
RX_PIN_TIA = OpticalRx("PIN + TIA", responsivity_a_per_w=0.8, noise_pa_per_rthz=18.0, source=_RX_SRC)
RX_LINEAR_TIA = OpticalRx("PIN + linear TIA", responsivity_a_per_w=0.8, noise_pa_per_rthz=20.0, source=_RX_SRC)
RX_CPO = OpticalRx("CPO PIN + TIA", responsivity_a_per_w=0.8, noise_pa_per_rthz=15.0, source=_RX_SRC)
#: Amplified C-band line for 400ZR: 80 km spans, 0 dBm per channel, NF 5.5 dB; the DSP's
#: chromatic-dispersion tolerance (2400 ps/nm at 17 ps/nm/km) bounds the line at ~141 km.
DCI_LINE = CoherentLine("amplified SMF, C-band (DCI)", attenuation_db_per_km=0.22, span_km=80.0,
                        launch_dbm=0.0, noise_figure_db=5.5, dispersion_ps_per_nm_km=17.0,
                        cd_tolerance_ps_per_nm=2400.0,
                        source="[ref:cband-fibre] E (textbook attenuation/NF); [ref:zr-cd-tolerance] 400ZR CD tolerance "
                               "2400 ps/nm, OIF (S secondary)")
#: Carrier recovery of the 400ZR/800ZR presets: blind phase search over 61 symbols (64 test phases)
#: with pilot-aided slip correction on the 400ZR DSP frame's pilots, one QPSK pilot every 32
#: symbols [ref:zr-dsp-frame-pilots] (S secondary), averaged over 2 pilots [ref:pilot-aided-cpr].
ZR_CARRIER_RECOVERY = CarrierRecovery("blind-phase-search", 61, 64, pilot_period=ZR_PILOT_PERIOD,
                                      pilot_average=2)
#: Combined (transmitter + local oscillator) linewidth of the 400ZR/800ZR presets: two ~100 kHz
#: tunable lasers [ref:photolink-zr-linewidth] (E).
ZR_LINEWIDTH_KHZ = 200.0
#: 400ZR transceiver: a typical (beginning-of-life) implementation SNR of 18 dB, so back to back
#: (TX OSNR 34 dB) the pre-FEC BER is ~3e-4, far below the cFEC threshold, and the typical module
#: needs ~22.3 dB OSNR; implementation (2.0 dB) and ageing (1.7 dB) allowances bring the required
#: OSNR to the 26 dB / 0.1 nm end-of-life figure of [ref:zr-osnr-threshold] (D).
ZR_TRX = CoherentTrx("400ZR coherent DSP + optics", tx_osnr_db=34.0, implementation_snr_db=18.0,
                     max_symbol_rate_gbd=64.0, implementation_allowance_db=2.0, ageing_allowance_db=1.7,
                     linewidth_khz=ZR_LINEWIDTH_KHZ, carrier_recovery=ZR_CARRIER_RECOVERY,
                     source="[ref:photolink-zr-typical-snr] typical implementation SNR 18 dB and allowances 2.0 + 1.7 dB "
                            "(E), sized so that the required OSNR with allowances is the 26 dB/0.1 nm of "
                            "[ref:zr-osnr-threshold] (D); TX OSNR 34 dB [ref:zr-tx-osnr] (E); combined linewidth "
                            "200 kHz [ref:photolink-zr-linewidth] (E); BPS 61 + pilots every 32 symbols "
                            "[ref:zr-dsp-frame-pilots] (S secondary), [ref:pilot-aided-cpr]")

#: 800ZR transceiver: DP-16QAM at ~118 GBd with oFEC [ref:800zr-oif] (S secondary); a typical implementation
#: SNR of 17 dB (1 dB below 400ZR's at twice the symbol rate) and the same allowances
#: [ref:photolink-800zr-trx] (E).
ZR800_TRX = CoherentTrx("800ZR coherent DSP + optics", tx_osnr_db=34.0, implementation_snr_db=17.0,
                        max_symbol_rate_gbd=125.0, implementation_allowance_db=2.0, ageing_allowance_db=1.7,
                        linewidth_khz=ZR_LINEWIDTH_KHZ, carrier_recovery=ZR_CARRIER_RECOVERY,
                        source="[ref:photolink-800zr-trx] typical implementation SNR 17 dB, allowances 2.0 + 1.7 dB (E); "
                               "TX OSNR 34 dB as 400ZR [ref:zr-tx-osnr] (E); DP-16QAM 118.2 GBd, oFEC [ref:800zr-oif] (S secondary); "
                               "linewidth and carrier recovery as 400ZR (the 800ZR DSP frame not checked)")

# ---- energy parts ------------------------------------------------------------------------------
_FEC_E = "[ref:photolink-fec-logic-energy] E (photolink): RS decoder logic"


def _host(pj, why):
    return Part("host_serdes", pj_per_bit=pj, in_module=False, source=why)


_LR = "[ref:photolink-serdes-energy] E (photolink): long-reach SerDes; [ref:serdes-112g-blocks] 112G blocks (D) give XSR 1.1 pJ/b"
_MR = "[ref:photolink-serdes-energy] E (photolink): medium-reach (C2M) SerDes"
_XSR = "[ref:serdes-112g-blocks] 112G XSR SerDes 1.1 pJ/b (D)"
_TIA = "[ref:serdes-112g-blocks] 112G TIA 0.96 pJ/b (D)"
_DSP = "[ref:dsp-power-share] DSP share of module power ~50 % (E)"

#: 800GBASE-R runs two 400G FEC flows, each two RS(544,514) codewords interleaved symbol by
#: symbol ([ref:800g-two-flows] S secondary); 802.3ck/dj electrical lanes (copper and AUI) use
#: 1/(1+D) precoding when the receiver requests it in training [ref:ck-precoding] (S secondary).
_PRECODING = " Precoding, 2 FEC flows x 2-way interleave [ref:ck-precoding] [ref:800g-two-flows] (S secondary)."

PRESETS: dict[str, Link] = {}


def _add(link: Link) -> None:
    if link.interleave > 1:
        link = dataclasses.replace(link, source=link.source + _PRECODING)
    PRESETS[link.name] = link


_add(Link(
    name="dac-800g", technology="passive-copper", lanes=8, lane_rate_gbps=100.0, fmt=PAM4,
    medium=TWINAX_26AWG, length_m=1.5, fec=fec.KP4, host_serdes=SERDES_112G,
    host_channel=(HOST_TRACE, CONNECTOR), conversion_efficiency=1.0,
    parts=(_host(5.0, _LR), Part("fec_logic", 0.2, in_module=False, source=_FEC_E),
           Part("cable", w=0.05, source="[ref:dac-passive-power] passive DAC <= 0.1 W per cable (D), half per end")),
    precode=True, interleave=2, fec_flows=2,
    pcs_ns=40.0, rated_reach_m=2.0, rated_reach_basis="datasheet",
    source="[ref:dac-100g-reach] 100G/lane passive DAC ~1.5-2 m (D); [ref:dac-passive-power] <= 0.1 W (D); "
           "[ref:kp4-code] KP4 (S); [ref:twinax-propagation] <= 4.5 ns/m (D); PCS latency [ref:photolink-pcs-latency] E"))

_add(Link(
    name="dac-1.6t", technology="passive-copper", lanes=8, lane_rate_gbps=200.0, fmt=PAM4,
    medium=TWINAX_26AWG, length_m=1.0, fec=fec.KP4, host_serdes=SERDES_224G,
    host_channel=(HOST_TRACE, CONNECTOR), conversion_efficiency=1.0,
    parts=(_host(4.5, _LR), Part("fec_logic", 0.2, in_module=False, source=_FEC_E),
           Part("cable", w=0.05, source="[ref:dac-passive-power] passive DAC <= 0.1 W per cable (D), half per end")),
    precode=True, interleave=2, fec_flows=2,
    pcs_ns=40.0, rated_reach_m=1.0,
    source="[ref:copper-200g-loss-budget] 200G/lane copper <= 40 dB die-to-die at 53.125 GHz, ~1 m reference "
           "cable (S draft); [ref:dj-com-parameters] 802.3dj 106.25 GBd PAM4 (S secondary); [ref:kp4-code] KP4 (S)"))

_add(Link(
    name="aec-800g", technology="active-copper", lanes=8, lane_rate_gbps=100.0, fmt=PAM4,
    medium=TWINAX_26AWG, length_m=3.0, fec=fec.KP4, host_serdes=SERDES_112G,
    module_serdes=SERDES_112G_RETIMER, host_channel=(HOST_TRACE, CONNECTOR), module_channel=(MODULE_TRACE,),
    parts=(_host(3.5, _MR), Part("fec_logic", 0.2, in_module=False, source=_FEC_E),
           Part("retimer", 6.0, source="[ref:photolink-aec] E (photolink): PAM4 retimer DSP, ~4.8 W per 800G end"),
           Part("misc", w=0.2, source="[ref:photolink-aec] E (photolink): MCU")),
    precode=True, interleave=2, fec_flows=2,
    pcs_ns=40.0, retimer_ns=80.0, rated_reach_m=4.5, rated_reach_basis="estimate",
    source="Active electrical cable with a retimer per end [ref:photolink-aec]: no sourced AEC power or reach "
           "(E throughout); [ref:kp4-code] KP4 (S); [ref:twinax-propagation] twinax <= 4.5 ns/m (D)"))

_add(Link(
    name="dr4-800g", technology="dsp-optics", lanes=8, lane_rate_gbps=100.0, fmt=PAM4,
    medium=SMF_OBAND, length_m=100.0, fec=fec.KP4, host_serdes=SERDES_112G, module_serdes=SERDES_112G,
    host_channel=(HOST_TRACE, CONNECTOR), module_channel=(MODULE_TRACE,),
    tx=TX_EML_100G, rx=RX_PIN_TIA, connectors=2, connector_loss_db=0.5, dsp_snr_db=24.0,
    parts=(_host(3.5, _MR), Part("fec_logic", 0.2, in_module=False, source=_FEC_E),
           Part("dsp", 10.6, source=_DSP), Part("driver", 2.5, source="[ref:photolink-parts] E (photolink): EML drivers"),
           Part("tia", 0.96, source=_TIA), Part("misc", w=0.3, source="[ref:photolink-parts] E (photolink): MCU, monitoring")),
    precode=True, interleave=2, fec_flows=2,
    pcs_ns=40.0, dsp_ns=100.0, rated_reach_m=500.0,
    source="[ref:osfp-800g-2xdr4-power] 800G twin-port OSFP 2xDR4 17 W max -> ~21 pJ/bit (D), [ref:800g-pluggable-power] "
           "13-18 W typical (E); [ref:dr8-800g-reach] [ref:400g-pmd-reach] DR8 / 400G DR4 500 m (S / S secondary); [ref:lpo-latency-saving] LPO vs DSP "
           "pluggable ~100 ns less (E), [ref:photolink-dsp-latency] [ref:photolink-dsp-snr] (E); [ref:kp4-design-ber] KP4, 2.4e-4 (S)"))

_add(Link(
    name="lpo-800g", technology="linear-optics", lanes=8, lane_rate_gbps=100.0, fmt=PAM4,
    medium=SMF_OBAND, length_m=100.0, fec=fec.KP4, host_serdes=SERDES_112G,
    host_channel=(HOST_TRACE, CONNECTOR), optics_loss=(LINEAR_OPTICS,),
    tx=TX_SIPH_100G, rx=RX_LINEAR_TIA, connectors=2, connector_loss_db=0.5,
    parts=(_host(5.0, _LR), Part("fec_logic", 0.2, in_module=False, source=_FEC_E),
           Part("driver", 5.5, source="[ref:photolink-parts] E (photolink): linear MZM drivers"),
           Part("tia", 2.0, source="[ref:photolink-parts] E (photolink): linear TIA with CTLE"),
           Part("misc", w=0.3, source="[ref:photolink-parts] E (photolink): MCU, monitoring")),
    interleave=2, fec_flows=2,
    pcs_ns=40.0, rated_reach_m=500.0,
    source="[ref:lpo-vs-dsp-power] 800G LPO vs DSP module 8-9 W vs 14-16 W (E; other source 8-12 W); "
           "[ref:lpo-latency-saving] LPO ~100 ns less than DSP pluggable (E); [ref:kp4-code] KP4 host to host (S)"))

_add(Link(
    name="cpo-800g", technology="linear-optics", lanes=8, lane_rate_gbps=100.0, fmt=PAM4,
    medium=SMF_OBAND, length_m=100.0, fec=fec.KP4, host_serdes=SERDES_112G,
    host_channel=(CPO_TRACE,), optics_loss=(LINEAR_OPTICS,),
    tx=TX_CPO_100G, rx=RX_CPO, connectors=3, connector_loss_db=0.5,
    parts=(_host(1.1, _XSR), Part("fec_logic", 0.2, in_module=False, source=_FEC_E),
           Part("driver", 3.0, source="[ref:photolink-parts] E (photolink): engine MZM drivers, sized with the "
                                      "laser and control to 5.5 W per 800G [ref:cpo-broadcom-bailly] (P)"),
           Part("tia", 0.96, source=_TIA),
           Part("misc", w=0.6, source="[ref:photolink-parts] E (photolink): engine control, modulator bias and "
                                      "thermal tuning")),
    interleave=2, fec_flows=2,
    pcs_ns=40.0, rated_reach_m=500.0,
    source="[ref:cpo-broadcom-bailly] Broadcom Bailly CPO 5.5 W per 800G, engine and laser (P), against 14-16 W "
           "per 800G pluggable module; engine split checked in [ref:cpo-engine-power-check] (E); "
           "[ref:serdes-112g-blocks] 112G XSR SerDes 1.1 pJ/b, TIA 0.96 pJ/b (D); [ref:kp4-code] KP4 host to host (S)"))

_add(Link(
    name="cpo-1.6t", technology="linear-optics", lanes=8, lane_rate_gbps=200.0, fmt=PAM4,
    medium=SMF_OBAND, length_m=100.0, fec=fec.KP4_INNER_CHASE, host_serdes=SERDES_224G,
    host_channel=(CPO_TRACE,), optics_loss=(LINEAR_OPTICS,),
    tx=TX_CPO_200G, rx=RX_CPO, connectors=3, connector_loss_db=0.5,
    parts=(_host(1.5, "[ref:photolink-serdes-energy] E (photolink): 200G short-reach SerDes (112G XSR is 1.1 pJ/b, D)"),
           Part("fec_logic", 0.3, in_module=False, source=_FEC_E + " + inner decoder"),
           Part("driver", 1.5, source="[ref:photolink-parts] E (photolink): engine drivers"), Part("tia", 0.96, source=_TIA),
           Part("misc", w=0.2, source="[ref:photolink-parts] E (photolink): engine control")),
    pcs_ns=40.0, rated_reach_m=500.0,
    source="[ref:cpo-nvidia-power] CPO vs pluggable (NVIDIA) ~30 W -> ~9 W per 1.6T port, [ref:cpo-host-loss] host "
           "electrical loss ~22 dB -> ~4 dB at 200G (P); [ref:dj-inner-code] 802.3dj inner Hamming(128,120) + KP4 (S draft), Chase-2 soft decoding, threshold 4.9e-3 [ref:dj-inner-code-soft] (E, measured)"))

_add(Link(
    name="dr4-1.6t", technology="dsp-optics", lanes=8, lane_rate_gbps=200.0, fmt=PAM4,
    medium=SMF_OBAND, length_m=100.0, fec=fec.KP4_INNER_CHASE, host_serdes=SERDES_224G,
    module_serdes=SERDES_224G, host_channel=(HOST_TRACE, CONNECTOR), module_channel=(MODULE_TRACE,),
    tx=TX_EML_200G, rx=RX_PIN_TIA, connectors=2, connector_loss_db=0.5, dsp_snr_db=22.0,
    parts=(_host(4.0, _LR), Part("fec_logic", 0.3, in_module=False, source=_FEC_E),
           Part("dsp", 8.0, source=_DSP + "; includes the inner decoder"),
           Part("driver", 2.0, source="[ref:photolink-parts] E (photolink): EML drivers"), Part("tia", 0.8, source="[ref:photolink-parts] E (photolink)"),
           Part("misc", w=0.4, source="[ref:photolink-parts] E (photolink): MCU, monitoring")),
    pcs_ns=40.0, dsp_ns=100.0, rated_reach_m=500.0,
    source="[ref:cpo-nvidia-power] CPO vs pluggable (NVIDIA) ~30 W per 1.6T pluggable port (P); "
           "[ref:dj-inner-code] 802.3dj inner Hamming(128,120) + KP4, ~12.9 % overhead (S draft), Chase-2 soft decoding, threshold 4.9e-3 [ref:dj-inner-code-soft] (E, measured); [ref:dr8-800g-reach] DR 500 m (S/E)"))

_add(Link(
    name="zr-400g", technology="coherent", lanes=1, lane_rate_gbps=400.0, fmt=DP_16QAM,
    medium=DCI_LINE, length_m=80_000.0, fec=fec.CFEC_400ZR, coherent=ZR_TRX, pcs_overhead=0.0,
    parts=(_host(3.0, "[ref:photolink-serdes-energy] E (photolink): 400GAUI-8 C2M SerDes"),
           Part("dsp", w=10.0, source=_DSP + " of a < 20 W module [ref:zr-module-power] (D)"),
           Part("driver", w=1.5, source="[ref:photolink-parts] E (photolink)"), Part("tia", w=0.8, source="[ref:photolink-parts] E (photolink)"),
           Part("laser", w=3.0, source="[ref:photolink-parts] E (photolink): tunable ITLA with TEC"),
           Part("misc", w=0.7, source="[ref:photolink-parts] E (photolink): MCU, bias control")),
    pcs_ns=40.0, rated_reach_m=120_000.0, rated_reach_basis="estimate",
    source="[ref:zr-module-power] 400ZR module < 20 W (D); [ref:zr-cfec] 400ZR cFEC 1.25e-2 -> 1e-15, 478.75 Gb/s "
           "line (D); [ref:zr-osnr-threshold] 400ZR OSNR 26 dB at threshold (D), [ref:osnr-to-snr] OSNR -> SNR (S); [ref:zr-module-latency] 400ZR module "
           "DSP + FEC ~8 us (D, in the cFEC latency); rated reach 120 km [ref:photolink-rated-reach] E"))


_add(Link(
    name="zr-800g", technology="coherent", lanes=1, lane_rate_gbps=800.0, fmt=DP_16QAM,
    medium=DCI_LINE, length_m=80_000.0, fec=fec.OFEC_800ZR, coherent=ZR800_TRX, pcs_overhead=0.0,
    parts=(_host(3.0, "[ref:photolink-serdes-energy] E (photolink): 800GAUI-8 C2M SerDes"),
           Part("dsp", w=15.0, source=_DSP + " of a ~28 W module [ref:800zr-module-power] (E)"),
           Part("driver", w=2.5, source="[ref:photolink-parts] E (photolink), scaled from 400ZR"),
           Part("tia", w=1.2, source="[ref:photolink-parts] E (photolink), scaled from 400ZR"),
           Part("laser", w=3.0, source="[ref:photolink-parts] E (photolink): tunable ITLA with TEC"),
           Part("misc", w=1.0, source="[ref:photolink-parts] E (photolink): MCU, bias control")),
    pcs_ns=40.0, rated_reach_m=80_000.0, rated_reach_basis="estimate",
    source="[ref:800zr-oif] OIF-800ZR-01.0: DP-16QAM 118.2 GBd, oFEC, amplified single-span DCI links of 80-120 km "
           "(S secondary); [ref:openzr-ofec] oFEC 2.0e-2 -> 1e-15 (S secondary); [ref:800zr-module-power] "
           "module ~28 W (E); line and CD tolerance as 400ZR [ref:zr-cd-tolerance] (S secondary)"))

_add(Link(
    name="lpo-1.6t", technology="linear-optics", lanes=8, lane_rate_gbps=200.0, fmt=PAM4,
    medium=SMF_OBAND, length_m=100.0, fec=fec.KP4_INNER_CHASE, host_serdes=SERDES_224G,
    host_channel=(HOST_TRACE, CONNECTOR), optics_loss=(LINEAR_OPTICS,),
    tx=TX_SIPH_200G, rx=RX_LINEAR_TIA, connectors=2, connector_loss_db=0.5,
    parts=(_host(5.0, _LR), Part("fec_logic", 0.3, in_module=False, source=_FEC_E + " + inner decoder"),
           Part("driver", 4.0, source="[ref:photolink-lpo-16t] E (photolink): linear MZM drivers, 200G/lane"),
           Part("tia", 1.5, source="[ref:photolink-lpo-16t] E (photolink): linear TIA with CTLE, 200G/lane"),
           Part("misc", w=0.4, source="[ref:photolink-parts] E (photolink): MCU, monitoring")),
    pcs_ns=40.0, rated_reach_m=500.0, rated_reach_basis="estimate",
    source="[ref:photolink-lpo-16t] 1.6T LPO: 8 x 200G PAM4 linear drive, host-to-host equalisation and inner code "
           "(E throughout; no sourced 1.6T LPO figures); [ref:lpo-vs-dsp-power] 800G LPO vs DSP (E); "
           "[ref:dj-inner-code] inner Hamming(128,120) + KP4 (S draft), Chase-2 soft decoding [ref:dj-inner-code-soft] (E, measured)"))

_add(Link(
    name="aec-1.6t", technology="active-copper", lanes=8, lane_rate_gbps=200.0, fmt=PAM4,
    medium=TWINAX_26AWG, length_m=2.0, fec=fec.KP4, host_serdes=SERDES_224G,
    module_serdes=SERDES_224G_RETIMER, host_channel=(HOST_TRACE, CONNECTOR), module_channel=(MODULE_TRACE,),
    parts=(_host(4.0, _MR), Part("fec_logic", 0.3, in_module=False, source=_FEC_E),
           Part("retimer", 5.0, source="[ref:photolink-aec] E (photolink): 200G/lane PAM4 retimer DSP, ~8 W per 1.6T end"),
           Part("misc", w=0.3, source="[ref:photolink-aec] E (photolink): MCU")),
    precode=True, interleave=2, fec_flows=2,
    pcs_ns=40.0, retimer_ns=80.0, rated_reach_m=2.5, rated_reach_basis="estimate",
    source="Active electrical cable, 8 x 200G, a retimer per end [ref:photolink-aec] (E throughout); "
           "[ref:dj-com-parameters] 802.3dj COM values (S secondary); [ref:kp4-code] KP4 (S); "
           "[ref:twinax-propagation] twinax <= 4.5 ns/m (D)"))


# ---- spec corner: the IM-DD presets with parts at their IEEE limits ------------------------------
_DR4_SPEC = ("[ref:dr4-pmd-spec] 400GBASE-DR4 limits: OMA - TDECQ >= -2.2 dBm at TDECQ 3.4 dB, ER 3.5 dB, "
             "RIN -136 dB/Hz (in the TDECQ), receiver sensitivity TECQ - 5.8 dBm, 3 dB channel loss (S secondary)")
#: Receiver at the 400GBASE-DR4 sensitivity for an ideal transmitter, -5.8 dBm OMA at the KP4
#: threshold (53.125 GBd); the sensitivity is the whole receiver's, so no separate DSP floor.
RX_SPEC_100G = OpticalRx.from_sensitivity("receiver at 400GBASE-DR4 sensitivity", PAM4, -5.8, 53.125,
                                          fec.KP4.threshold_ber, source=_DR4_SPEC)
#: 3 dB of channel insertion loss at 500 m over two connections: 0.25 dB of fibre + 2 x 1.375 dB.
SPEC_CONNECTOR_LOSS_DB = 1.375


def _spec_corner(link: Link) -> Link:
    tx = dataclasses.replace(link.tx, name=link.tx.name + " at 400GBASE-DR4 limits", launch_oma_dbm=1.2,
                             extinction_ratio_db=3.5, rin_db_per_hz=-136.0, tdecq_db=3.4, source=_DR4_SPEC)
    return dataclasses.replace(link, tx=tx, rx=RX_SPEC_100G, dsp_snr_db=math.inf, connectors=2,
                               connector_loss_db=SPEC_CONNECTOR_LOSS_DB, connector_reflectance_db=-35.0,
                               length_m=500.0, source=link.source + "; spec corner: " + _DR4_SPEC)


#: corner="spec" presets (100G/lane IM-DD: the 400GBASE-DR4 / 800G DR8 PMD limits).
SPEC_PRESETS: dict[str, Link] = {n: _spec_corner(PRESETS[n]) for n in ("dr4-800g", "lpo-800g", "cpo-800g")}
CORNERS = ("typical", "spec")


def presets() -> tuple[str, ...]:
    """Names of the preset links."""
    return tuple(PRESETS)


def preset(name: str, corner: str = "typical") -> Link:
    """The preset link called ``name`` (see :func:`presets`).

    ``corner="typical"`` gives typical parts (datasheet-typical figures); ``corner="spec"`` the
    same link with its optical parts at the IEEE limits, at 500 m with 3 dB of channel loss
    (the 100G/lane IM-DD presets: ``dr4-800g``, ``lpo-800g``, ``cpo-800g``).
    """
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"unknown link preset {name!r}; known presets: {', '.join(PRESETS)}")
    if corner not in CORNERS:
        raise ValueError(f"corner must be one of {CORNERS}, got {corner!r}")
    if corner == "spec":
        if name not in SPEC_PRESETS:
            raise ValueError(f"preset {name!r} has no spec corner; presets with one: {', '.join(SPEC_PRESETS)}")
        return SPEC_PRESETS[name]
    return PRESETS[name]
