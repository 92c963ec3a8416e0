"""``photolink demo``: copper, pluggable, LPO and CPO links on an 800G 3-hop path.

A thin composition of the public API. Each technology's link preset is evaluated (statistical:
its physics, FEC and energy), three such links are chained through two switches, and the path
carries Poisson traffic twice: with ``drop`` (a frame hit by an uncorrectable codeword is lost)
and with ``llr`` (the link resends it). Copper is shown three times: at its preset length, at the
edge of its own reach (``reach_m``: where the pre-FEC BER meets the FEC threshold) and 10 %
past it, because that is where physics hurts: DFE error bursts make KP4 fail, frames are lost
and link-level retry trades the loss for latency. The path energy counts three links and the
switching core of the two switches ([ref:tomahawk5-power] Tomahawk 5 ~8.8 pJ/bit, E, less its SerDes).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from . import _table

#: Technology -> link preset (a name of :func:`photolink.links.presets`).
TECHNOLOGIES = {
    "copper": "dac-800g",
    "pluggable": "dr4-800g",
    "LPO": "lpo-800g",
    "CPO": "cpo-800g",
}
#: Extra copper rows: (label, length as a multiple of the preset's own reach_m).
COPPER_EDGE = (("copper @ reach", 1.0), ("copper +10%", 1.1))
#: Rows whose llr latencies join the CCDF plot (retries show in the tail).
LLR_CCDF = ("copper @ reach",)
#: Switch port-to-port latency: Tomahawk Ultra ~250 ns ([ref:switch-latency-tomahawk-ultra], P).
SWITCH_LATENCY_NS = 250.0
#: AI-training-like traffic: large packets at high load.
LOAD = 0.7
PACKET_BYTES = 4096
N_PACKETS = 200_000
HOPS = 3
#: Width of the demo's prose (the tables fit it too).
WIDTH = 99
#: Link utilisation above which the demo says a link is overloaded.
OVERLOAD = 0.98


def run_path(path, traffic, n_packets: int, seed, recovery: str = "drop"):
    """One run of ``path`` that keeps every packet's latency (``result.latencies_ns``)."""
    return path.run(traffic, n_packets, seed=seed, recovery=recovery, return_latencies=True)


def cases(technologies=None) -> list[tuple[str, object]]:
    """(label, link) of every row: each technology's preset, and copper at and past its reach."""
    from . import links
    technologies = TECHNOLOGIES if technologies is None else technologies
    out = []
    for tech, preset in technologies.items():
        link = links.preset(preset)
        out.append((tech, link))
        if tech == "copper":
            reach, _ = link.reach_m()
            out += [(label, link.with_length(round(reach * factor, 3))) for label, factor in COPPER_EDGE]
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
    from . import links, path as path_mod, plot, traffic as traffic_mod
    from .energy import SWITCH_ASIC_PJ_PER_BIT
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
        parts = {k: HOPS * x for k, x in plot.energy_components(report.to_dict()).items()}
        parts["switch_asic"] = (HOPS - 1) * switch_pj
        rows.append({
            "technology": label, "preset": link.name, "length_m": link.length_m,
            "reach_m": report.reach_m, "pre_fec_ber": report.pre_fec_ber, "cwer": report.cwer,
            "cwer_method": report.cwer_method, "frame_loss": report.frame_loss_ratio(PACKET_BYTES),
            "link_pj_per_bit": report.energy_pj_per_bit, "link_w": report.power_w,
            "switch_pj_per_bit": switch_pj, "path_pj_per_bit": sum(parts.values()),
            "loss_ratio": drop.loss_ratio, "loss_ci": _table.fmt_ci(*drop.ci), "lost": drop.lost,
            "llr_loss_ratio": llr.loss_ratio, "llr_lost": llr.lost,
            "resends_per_packet": llr.llr_retries / n_packets, "mean_ns": drop.mean_latency_ns,
            "p50_ns": drop.percentile(50), "p99_ns": drop.percentile(99),
            "p999_ns": drop.percentile(99.9), "llr_p999_ns": llr.percentile(99.9),
            "llr_max_ns": llr.max_latency_ns,
            "llr_utilisation": max(h.utilisation for h in llr.hops if h.kind == "link"),
            "replay_ns": 2 * (link.hop_model().fixed_latency_ns + link.hop_model().fec_hold_ns),
        })
        latencies[label] = lat
        if label in LLR_CCDF:
            latencies[f"{label}, llr"] = np.asarray(llr.latencies_ns, dtype=float)
        if link.length_m == links.preset(link.name).length_m:     # energy does not change with length
            energy[label] = parts
    return rows, latencies, energy


LINK_COLUMNS = [("technology", "technology"), ("preset", "preset"), ("m", "length_m"),
                ("reach m", "reach_m"), ("pre-FEC BER", "pre_fec_ber"), ("CWER", "cwer"),
                (f"FLR {PACKET_BYTES}B", "frame_loss"), ("pJ/bit", "link_pj_per_bit"), ("W", "link_w")]
PATH_COLUMNS = [("technology", "technology"), ("pJ/bit", "path_pj_per_bit"), ("loss", "loss_ratio"),
                ("95% CI", "loss_ci"), ("llr loss", "llr_loss_ratio"), ("resends", "resends_per_packet"),
                ("p50 ns", "p50_ns"), ("p99.9 ns", "p999_ns"), ("llr p99.9", "llr_p999_ns")]
#: Kept for callers of the previous single table.
COLUMNS = PATH_COLUMNS


def _cells(rows):
    """Rows with compact numbers (2-3 significant digits) so each table fits 100 columns."""
    out = []
    for r in rows:
        c = dict(r)
        for k in ("pre_fec_ber", "cwer", "frame_loss", "loss_ratio", "llr_loss_ratio", "resends_per_packet"):
            c[k] = "0" if r[k] == 0 else f"{r[k]:.1e}"
        c["loss_ci"] = "[" + ", ".join("0" if x == 0 else f"{x:.1e}"
                                       for x in map(float, r["loss_ci"].strip("[]").split(", "))) + "]"
        for k in ("length_m", "reach_m", "link_pj_per_bit", "link_w", "path_pj_per_bit"):
            c[k] = f"{r[k]:.3g}" if r[k] < 1e4 else f"{r[k]:.2e}"
        for k in ("p50_ns", "p99_ns", "p999_ns", "llr_p999_ns"):
            c[k] = f"{r[k]:.0f}"
        out.append(c)
    return out


def demo(out_dir="photolink-demo", *, n_packets: int = N_PACKETS, seed: int = 1,
         fmt: str = "png") -> list[dict]:
    """Print the comparison tables and write the plots into ``out_dir``; return the rows."""
    from . import plot
    from .sweeps import sweep
    out = Path(out_dir)
    rows, latencies, energy = compare(n_packets=n_packets, seed=seed)
    cells = _cells(rows)
    say = lambda text: print(textwrap.fill(text, WIDTH))  # noqa: E731
    say(f"Links: one 800G link each. CWER by the {rows[0]['cwer_method']} (DFE error bursts "
        f"included); FLR: frame loss ratio; pJ/bit and W per port.")
    print()
    print(_table.table(cells, LINK_COLUMNS))
    print()
    say(f"{HOPS}-hop path: link, switch ({SWITCH_LATENCY_NS:g} ns, cut-through), link, switch, link; "
        f"Poisson load {LOAD}, {PACKET_BYTES} B packets, {n_packets} packets, seed {seed}. "
        f"pJ/bit: {HOPS} links + {HOPS - 1} switch cores. loss: recovery 'drop', with its 95% CI; "
        f"llr: link-level retry (resends per packet). Latencies of the drop run, unless llr.")
    print()
    print(_table.table(cells, PATH_COLUMNS))
    for r in rows:
        if r["llr_utilisation"] > OVERLOAD:
            print()
            say(f"{r['technology']}: with llr, {r['resends_per_packet']:.2g} resends per packet, each "
                f"after a {r['replay_ns']:.0f} ns replay round trip, keep a link busy "
                f"{100 * r['llr_utilisation']:.0f} % of the time: its queue grows for the whole run "
                f"(llr max latency {r['llr_max_ns'] / 1e3:.0f} us), so retry cannot carry this load.")
    files = [plot.save(plot.energy_bars(energy, title=f"energy per bit of the {HOPS}-hop path"),
                       out / f"energy.{fmt}"),
             plot.save(plot.latency_ccdf(latencies, title=f"{HOPS}-hop path latency CCDF"),
                       out / f"latency_ccdf.{fmt}")]
    wf = sweep("ber", {"snr_db": [14.0, 15.0, 16.0, 17.0, 18.0, 19.0]},
               fixed={"format": "PAM4", "n_symbols": 2_000_000}, seed=seed, store=None, workers=1,
               progress=False, name="pam4")
    files.append(plot.save(plot.waterfall(wf.rows, title="PAM4 lane BER over AWGN"),
                           out / f"waterfall.{fmt}"))
    print("\nwrote " + ", ".join(str(f) for f in files))
    return rows


def _cmd_demo(args) -> int:
    demo(args.out_dir, n_packets=args.packets, seed=args.seed, fmt=args.format)
    return 0


def register(sub) -> None:
    """Add ``demo`` to the ``photolink`` parser."""
    p = sub.add_parser("demo", help="compare copper, pluggable, LPO and CPO on an 800G 3-hop path")
    p.add_argument("--out-dir", default="photolink-demo", help="where the plots go")
    p.add_argument("--packets", type=int, default=N_PACKETS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--format", choices=["png", "svg", "pdf"], default="png")
    p.set_defaults(func=_cmd_demo)
