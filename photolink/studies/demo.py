"""The demo study: copper, pluggable, LPO and CPO links on an 800G 3-hop path.

A thin composition of the public API. Each technology's link preset is evaluated (statistical:
its physics, FEC and energy), three such links are chained through two switches, and the path
carries Poisson traffic twice: with ``drop`` (a frame hit by an uncorrectable codeword is lost)
and with ``llr`` (the link resends it). Copper is shown three times: at its preset length, at the
edge of its own physics reach (``reach_m``: where its COM-like margin falls to the 3 dB a channel
needs to pass; precoding and 2-way interleaving on, as in 802.3ck/dj) and 50 % past it, past the
length where the pre-FEC BER reaches the FEC threshold, because that is where physics hurts: DFE
error bursts make KP4 fail, frames are lost and link-level retry trades the loss for latency. The path energy counts three links and the
switching core of the two switches ([ref:tomahawk5-power] Tomahawk 5 ~8.8 pJ/bit, E, less its SerDes).
"""
from __future__ import annotations

import math

import numpy as np

from .. import links
from .._util import tables as _table
from ..links.energy import SWITCH_ASIC_PJ_PER_BIT
from ..net import path as path_mod
from ..net import traffic as traffic_mod

#: Technology -> link preset (a name of :func:`photolink.links.presets`).
TECHNOLOGIES = {
    "copper": "dac-800g",
    "pluggable": "dr4-800g",
    "LPO": "lpo-800g",
    "CPO": "cpo-800g",
}
#: Extra copper rows: (label, length as a multiple of the preset's own reach_m).
COPPER_EDGE = (("copper @ reach", 1.0), ("copper +50%", 1.5))
#: Rows whose llr latencies join the CCDF plot (retries show in the tail).
LLR_CCDF = ("copper @ reach",)
#: Switch port-to-port latency: Tomahawk Ultra ~250 ns ([ref:switch-latency-tomahawk-ultra], P).
SWITCH_LATENCY_NS = 250.0
#: AI-training-like traffic: large packets at high load.
LOAD = 0.7
PACKET_BYTES = 4096
N_PACKETS = 200_000
HOPS = 3
#: Link utilisation above which the demo says a link is overloaded.
OVERLOAD = 0.98


def run_path(path, traffic, n_packets: int, seed, recovery: str = "drop"):
    """One run of ``path`` that keeps every packet's latency (``result.latencies_ns``)."""
    return path.run(traffic, n_packets, seed=seed, recovery=recovery, return_latencies=True)


def cases(technologies=None) -> list[tuple[str, object]]:
    """(label, link) of every row: each technology's preset, and copper at and past its reach."""
    technologies = TECHNOLOGIES if technologies is None else technologies
    out = []
    for tech, preset in technologies.items():
        link = links.preset(preset)
        out.append((tech, link))
        if tech == "copper":
            reach, _ = link.reach_m()
            # lengths floored to the mm: "at reach" stays within it
            out += [(label, link.with_length(math.floor(reach * factor * 1000) / 1000)) for label, factor in COPPER_EDGE]
    return out


def compare(technologies=None, *, n_packets: int = N_PACKETS, seed: int = 1):
    """Evaluate each technology on the 3-hop path, with ``drop`` and with ``llr``.

    Returns
    -------
    rows : list of dict
        One per row of :func:`cases`: link figures, path energy, loss with its CI for both
        recoveries, resends, latency percentiles.
    latencies : dict of name to numpy.ndarray
        Latencies of the ``drop`` runs (and of the ``llr`` runs of :data:`LLR_CCDF`).
    energy : dict of name to dict of component to pJ/bit
        Path energy per bit by component (three links and two switches), per technology.
    """
    rows, latencies, energy = [], {}, {}
    traffic = traffic_mod.Poisson(load=LOAD, packet_bytes=PACKET_BYTES)
    for label, link in cases(technologies):
        report = link.evaluate(frame_bytes=PACKET_BYTES)
        with_switch = link.evaluate(frame_bytes=PACKET_BYTES, switch_pj_per_bit=SWITCH_ASIC_PJ_PER_BIT,
                                    reach=False)
        switch_pj = with_switch.energy_breakdown_pj_per_bit.get("switch_asic", 0.0)
        switch = path_mod.Switch(SWITCH_LATENCY_NS)
        path = path_mod.Path([link, switch, link, switch, link])
        drop = run_path(path, traffic, n_packets, seed)
        llr = path.run(traffic, n_packets, seed=seed, recovery="llr",
                       return_latencies=label in LLR_CCDF)
        lat = np.asarray(drop.latencies_ns, dtype=float)
        parts = {k: HOPS * x for k, x in report.energy_breakdown_pj_per_bit.items()}
        parts["switch_asic"] = (HOPS - 1) * switch_pj
        rows.append({
            "technology": label, "preset": link.name, "length_m": link.length_m,
            "reach_m": report.reach_m, "pre_fec_ber": report.pre_fec_ber, "cwer": report.cwer,
            "ber_with_propagation": report.ber_with_propagation, "margin_db": report.margin_db,
            "margin_kind": report.margin_kind,
            "cwer_method": report.cwer_method, "frame_loss": report.frame_loss_ratio(PACKET_BYTES),
            "link_pj_per_bit": report.energy_pj_per_bit, "link_w": report.power_w,
            "switch_pj_per_bit": switch_pj, "path_pj_per_bit": sum(parts.values()),
            "loss_ratio": drop.loss_ratio, "loss_ci": _table.fmt_ci(*drop.ci), "lost": drop.lost,
            "llr_loss_ratio": llr.loss_ratio, "llr_lost": llr.lost,
            "resends_per_packet": llr.llr_retries / n_packets, "mean_ns": drop.mean_latency_ns,
            "p50_ns": drop.percentile(50), "p99_ns": drop.percentile(99),
            "p999_ns": drop.percentile(99.9), "llr_p999_ns": llr.percentile(99.9),
            "llr_max_ns": llr.max_latency_ns,
            "llr_utilisation": max(h.utilisation for h in llr.hops if h.element == "link"),
            "replay_ns": 2 * (link.link_model().fixed_latency_ns + link.link_model().fec_hold_ns),
        })
        latencies[label] = lat
        if label in LLR_CCDF:
            latencies[f"{label}, llr"] = np.asarray(llr.latencies_ns, dtype=float)
        if link.length_m == links.preset(link.name).length_m:     # energy does not change with length
            energy[label] = parts
    return rows, latencies, energy
