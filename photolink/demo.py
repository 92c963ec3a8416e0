"""``photolink demo``: copper, pluggable, LPO and CPO links on an 800G 3-hop path.

A thin composition of the public API: for each technology, its link preset is evaluated,
three such links are chained through two switches, the path carries Poisson traffic, and the
table and plots compare what a cluster sees (loss, tail latency, energy per bit).
"""
from __future__ import annotations

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
#: Switch port-to-port latency: Tomahawk Ultra ~250 ns (REFERENCE.md, Latency, P).
SWITCH_LATENCY_NS = 250.0
#: AI-training-like traffic: large packets at high load.
LOAD = 0.7
PACKET_BYTES = 4096
N_PACKETS = 200_000


def run_path(path, traffic, n_packets: int, seed):
    """One run of ``path`` that keeps every packet's latency (``result.latencies_ns``)."""
    return path.run(traffic, n_packets, seed=seed, return_latencies=True)


def compare(technologies=None, *, n_packets: int = N_PACKETS, seed: int = 1):
    """Evaluate each technology on the 3-hop path.

    Returns
    -------
    rows : list of dict
        One per technology: link figures, path loss with its CI, latency percentiles.
    latencies : dict of name to numpy.ndarray
    energy : dict of name to dict of component to pJ/bit
    """
    from . import links, path as path_mod, plot, traffic as traffic_mod
    technologies = TECHNOLOGIES if technologies is None else technologies
    rows, latencies, energy = [], {}, {}
    for tech, preset in technologies.items():
        link = links.preset(preset)
        report = link.evaluate()
        switch = path_mod.Switch(SWITCH_LATENCY_NS)
        path = path_mod.Path([link, switch, link, switch, link])
        traffic = traffic_mod.Poisson(load=LOAD, packet_bytes=PACKET_BYTES)
        result = run_path(path, traffic, n_packets, seed)
        lat = np.asarray(result.latencies_ns, dtype=float)
        p50, p99, p999 = np.quantile(lat, [0.5, 0.99, 0.999])
        rows.append({
            "technology": tech, "preset": preset, "pre_fec_ber": report.pre_fec_ber,
            "frame_loss": report.frame_loss_ratio(PACKET_BYTES), "reach_m": report.reach_m,
            "link_pj_per_bit": report.energy_pj_per_bit, "link_w": report.power_w,
            "path_pj_per_bit": 3 * report.energy_pj_per_bit, "loss_ratio": result.loss_ratio,
            "loss_ci": _table.fmt_ci(*result.ci), "mean_ns": result.mean_latency_ns,
            "p50_ns": p50, "p99_ns": p99, "p999_ns": p999,
        })
        latencies[tech] = lat
        energy[tech] = plot.energy_components(report.to_dict())
    return rows, latencies, energy


COLUMNS = [("technology", "technology"), ("preset", "preset"), ("pre-FEC BER", "pre_fec_ber"),
           (f"frame loss ({PACKET_BYTES} B)", "frame_loss"), ("reach m", "reach_m"),
           ("link pJ/bit", "link_pj_per_bit"), ("link W", "link_w"), ("path pJ/bit", "path_pj_per_bit"),
           ("path loss", "loss_ratio"), ("95% CI", "loss_ci"), ("mean ns", "mean_ns"),
           ("p50 ns", "p50_ns"), ("p99 ns", "p99_ns"), ("p99.9 ns", "p999_ns")]


def demo(out_dir="photolink-demo", *, n_packets: int = N_PACKETS, seed: int = 1,
         fmt: str = "png") -> list[dict]:
    """Print the comparison table and write the plots into ``out_dir``; return the rows."""
    from . import plot
    from .sweeps import sweep
    out = Path(out_dir)
    print(f"800G 3-hop path (link, switch {SWITCH_LATENCY_NS:g} ns, link, switch, link); "
          f"Poisson load {LOAD}, {PACKET_BYTES} B packets, {n_packets} packets, seed {seed}\n")
    rows, latencies, energy = compare(n_packets=n_packets, seed=seed)
    print(_table.table(rows, COLUMNS))
    files = [plot.save(plot.energy_bars(energy, title="energy per bit of each link"), out / f"energy.{fmt}"),
             plot.save(plot.latency_ccdf(latencies, title="3-hop path latency CCDF"),
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
