"""CLI subcommands for links: ``compare``, ``link`` and ``fabric`` (registered by photolink.cli)."""
from __future__ import annotations

import contextlib
import csv
import json
import math
import sys

from .. import links
from ..links.energy import SWITCH_ASIC_PJ_PER_BIT, fabric_power

#: (header, report attribute or callable, format) of the comparison table.
COLUMNS = (
    ("preset", "name", "{}"),
    ("Gb/s", "net_rate_gbps", "{:g}"),
    ("length_m", "length_m", "{:g}"),
    ("pJ/bit", "energy_pj_per_bit", "{:.2f}"),
    ("W/port", "power_w", "{:.2f}"),
    ("module_W", "module_power_w", "{:.2f}"),
    ("latency_ns", "latency_ns", "{:.1f}"),
    ("reach_m", "reach_m", "{:.4g}"),
    ("pre-FEC_BER", "pre_fec_ber", "{:.2e}"),
    ("frame_loss", "frame_loss", "{:.1e}"),
    ("margin_dB", "margin_db", "{:.2f}"),
    ("status", lambda r: "ok" if r.ok else "FAIL", "{}"),
)


def _value(report, key):
    return key(report) if callable(key) else getattr(report, key)


def _finite(obj):
    """JSON has no inf/nan: write them as strings."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _finite(x) for k, x in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(x) for x in obj]
    return obj


def _open(path):
    return contextlib.nullcontext(sys.stdout) if path == "-" else open(path, "w", newline="")


def _reports(args):
    names = args.presets or list(links.presets())
    out = []
    for name in names:
        link = links.preset(name)
        if args.length_m is not None:
            link = link.with_length(args.length_m)
        sw = SWITCH_ASIC_PJ_PER_BIT if args.switch else None
        out.append(link.evaluate(frame_bytes=args.frame_bytes, switch_pj_per_bit=sw))
    return out


def format_table(reports) -> str:
    """The comparison table as fixed-width text."""
    rows = [[h for h, _, _ in COLUMNS]]
    rows += [[fmt.format(_value(r, key)) for _, key, fmt in COLUMNS] for r in reports]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    return "\n".join(lines)


def _cmd_compare(args) -> int:
    reports = _reports(args)
    if args.csv:
        with _open(args.csv) as fh:
            w = csv.writer(fh)
            w.writerow([h for h, _, _ in COLUMNS])
            for r in reports:
                w.writerow([_value(r, key) for _, key, _ in COLUMNS])
    if args.json:
        with _open(args.json) as fh:
            json.dump([_finite(r.to_dict()) for r in reports], fh, indent=2)
    if "-" not in (args.csv, args.json):
        print(format_table(reports))
        notes = [(r.name, w) for r in reports for w in r.warnings]
        if notes:
            print()
            for name, w in notes:
                print(f"warning: {name}: {w}")
    return 0


def _cmd_link(args) -> int:
    link = links.preset(args.preset)
    if args.length_m is not None:
        link = link.with_length(args.length_m)
    sw = SWITCH_ASIC_PJ_PER_BIT if args.switch else None
    if args.simulate:
        r = link.simulate(args.simulate, seed=args.seed, frame_bytes=args.frame_bytes,
                          ideal_feedback=args.ideal_feedback, precode=args.precode, switch_pj_per_bit=sw)
    else:
        r = link.evaluate(frame_bytes=args.frame_bytes, switch_pj_per_bit=sw)
    if args.json:
        with _open(args.json) as fh:
            json.dump(_finite(r.to_dict()), fh, indent=2)
        if args.json == "-":
            return 0
    print(link_summary(r, link))
    return 0


def link_summary(r, link=None) -> str:
    """A readable multi-line account of one report."""
    out = [f"{r.name} ({r.technology}), {r.length_m:g} m, {r.net_rate_gbps:g} Gb/s: {r.format} at "
           f"{r.symbol_rate_gbd:.4g} GBd, FEC {r.fec}  [{r.method}]"]
    if link is not None and link.source:
        out.append(f"  source: {link.source}")
    ci = f"  (95% CI {r.pre_fec_ber_ci[0]:.3g} .. {r.pre_fec_ber_ci[1]:.3g}, {r.symbols} symbols)" \
        if r.pre_fec_ber_ci else ""
    out.append(f"  pre-FEC BER {r.pre_fec_ber:.3e}{ci}; threshold {r.threshold_ber:.3g}")
    out.append(f"  SNR {r.snr_db:.2f} dB, needed {r.required_snr_db:.2f} dB, margin {r.margin_db:.2f} dB; "
               f"reach {r.reach_m:.4g} m ({r.reach_limit})"
               + (f", rated {r.rated_reach_m:g} m" if r.rated_reach_m is not None else ""))
    cw_ci = f", 95% CI {r.cwer_ci[0]:.3g} .. {r.cwer_ci[1]:.3g}" if r.cwer_ci else ""
    out.append(f"  CWER {r.cwer:.3e} ({r.cwer_method}{cw_ci}); frame loss ({r.frame_bytes} B) "
               f"{r.frame_loss:.3e}; 1500 B {r.frame_loss_ratio(1500):.3e}")
    for s in r.segments:
        extra = f", loss at Nyquist {s['loss_at_nyquist_db']:.1f} dB" if "loss_at_nyquist_db" in s else ""
        extra += f", OMA at receiver {s['received_oma_dbm']:.2f} dBm" if "received_oma_dbm" in s else ""
        extra += f", OSNR {s['osnr_db']:.2f} dB/0.1nm" if "osnr_db" in s else ""
        if "bursts" in s and s["bursts"]["onset_rate"] > 0:
            extra += f", {s['bursts']['mean_errors_per_burst']:.1f} errors per error burst"
        out.append(f"    segment {s['name']}: SNR {s['snr_db']:.2f} dB, BER {s['ber']:.3e}{extra}")
    out.append(f"  energy {r.energy_pj_per_bit:.2f} pJ/bit, {r.power_w:.2f} W per port "
               f"(module {r.module_power_w:.2f} W):")
    out.append("    " + ", ".join(f"{k} {x:.2f}" for k, x in r.energy_breakdown_pj_per_bit.items()) + " pJ/bit")
    out.append(f"  latency {r.latency_ns:.1f} ns: "
               + ", ".join(f"{k} {x:.1f}" for k, x in r.latency_breakdown_ns.items() if x))
    for w in r.warnings:
        out.append(f"  warning: {w}")
    return "\n".join(out)


def _cmd_fabric(args) -> int:
    link = links.preset(args.preset)
    if args.length_m is not None:
        link = link.with_length(args.length_m)
    f = fabric_power(link, args.gpus, args.links_per_gpu, args.gpu_power_w,
                     switch_pj_per_bit=SWITCH_ASIC_PJ_PER_BIT if args.switch else None)
    if args.json:
        with _open(args.json) as fh:
            json.dump(_finite(f.to_dict()), fh, indent=2)
        if args.json == "-":
            return 0
    print(f"{f.n_gpus} GPUs x {f.links_per_gpu:g} links of {f.link}: {f.links:.6g} links, "
          f"{f.ports:.6g} ports at {f.port_w:.2f} W")
    if args.switch:
        print(f"  switch ASIC share {f.switch_w / 1e3:.1f} kW")
    print(f"  network {f.network_w / 1e3:.1f} kW = {f.network_w_per_gpu:.1f} W per GPU = "
          f"{100 * f.share_of_gpu:.1f} % of {f.gpu_power_w:g} W per GPU "
          f"({100 * f.share_of_total:.1f} % of GPUs + network)")
    return 0


def register(subparsers) -> None:
    """Add ``compare``, ``link`` and ``fabric`` to the CLI's subparsers."""
    cmp_ = subparsers.add_parser("compare", help="compare preset links (pJ/bit, W, latency, reach, "
                                                  "BER, frame loss, margin)")
    cmp_.add_argument("presets", nargs="*", metavar="PRESET",
                      help=f"preset names (default: all of {', '.join(links.presets())})")
    cmp_.add_argument("--length-m", type=float, default=None, help="evaluate every preset at this length")
    cmp_.add_argument("--frame-bytes", type=int, default=64, help="frame size for frame loss and "
                                                                   "serialisation (default 64)")
    cmp_.add_argument("--switch", action="store_true", help="count the switch ASIC's share of energy")
    cmp_.add_argument("--csv", metavar="PATH", help="also write CSV to PATH ('-' for stdout only)")
    cmp_.add_argument("--json", metavar="PATH", help="also write JSON to PATH ('-' for stdout only)")
    cmp_.set_defaults(func=_cmd_compare)

    one = subparsers.add_parser("link", help="evaluate (or simulate) one preset link with overrides")
    one.add_argument("preset", metavar="PRESET")
    one.add_argument("--length-m", type=float, default=None)
    one.add_argument("--frame-bytes", type=int, default=64)
    one.add_argument("--switch", action="store_true")
    one.add_argument("--simulate", type=int, default=0, metavar="N",
                     help="Monte Carlo with N symbols per segment instead of the statistical evaluation")
    one.add_argument("--seed", type=int, default=1)
    one.add_argument("--ideal-feedback", action="store_true", help="DFE fed with the sent symbols")
    one.add_argument("--precode", action="store_true", help="1/(1+D) precoding of electrical lanes")
    one.add_argument("--json", metavar="PATH", help="also write JSON to PATH ('-' for stdout only)")
    one.set_defaults(func=_cmd_link)

    fab = subparsers.add_parser("fabric", help="network power of a GPU fabric built from one preset")
    fab.add_argument("preset", metavar="PRESET")
    fab.add_argument("--gpus", type=int, required=True)
    fab.add_argument("--links-per-gpu", type=float, required=True)
    fab.add_argument("--gpu-power-w", type=float, required=True)
    fab.add_argument("--length-m", type=float, default=None)
    fab.add_argument("--switch", action="store_true", help="count the switch ASIC's share")
    fab.add_argument("--json", metavar="PATH", help="also write JSON to PATH ('-' for stdout only)")
    fab.set_defaults(func=_cmd_fabric)
