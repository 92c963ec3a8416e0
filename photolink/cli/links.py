"""CLI subcommands for links: ``compare``, ``link`` and ``fabric`` (registered by photolink.cli)."""
from __future__ import annotations

import argparse

from .. import links
from .._util import progress as _progress
from ..links.energy import ENERGY_CONVENTION, SWITCH_ASIC_PJ_PER_BIT, fabric_power
from . import common

#: (header, key of ``LinkResult.to_dict()``, format) of the printed comparison table. The CSV and
#: JSON carry every key of ``to_dict()`` under its own name (see photolink.cli.common.emit).
COLUMNS = (
    ("preset", "name", "{}"),
    ("Gb/s", "net_rate_gbps", "{:g}"),
    ("m", "length_m", "{:g}"),
    ("pJ/bit", "energy_pj_per_bit", "{:.2f}"),
    ("W/port", "power_w", "{:.2f}"),
    ("module W", "module_power_w", "{:.2f}"),
    ("latency ns", "latency_ns", "{:.1f}"),
    ("rated m", "rated_reach_m", "{:.4g}"),
    ("rated by", "rated_reach_limit", "{}"),
    ("reach m", "reach_m", "{:.4g}"),
    ("limited by", "reach_limit", "{}"),
    ("pre-FEC BER", "pre_fec_ber", "{:.2e}"),
    ("frame loss", "frame_loss", "{:.1e}"),
    ("margin dB", "margin_db", "{:.2f}"),
    ("margin of", "margin_kind", "{}"),
    ("status", "ok", "{}"),
)


#: Probabilities a model can give below the smallest double (printed as an upper bound, not 0).
PROBABILITY_KEYS = ("pre_fec_ber", "frame_loss")
#: What such a probability prints as.
BELOW_DOUBLE = "<1e-300"

#: Short names of what limits a reach (``reach_limit``: physics; ``rated_reach_limit``: the rating).
LIMIT_NAMES = {"com-3db": "COM 3 dB", "fec-threshold": "FEC threshold", "dispersion": "dispersion",
               "medium": "medium", "spec": "spec", "datasheet": "datasheet", "estimate": "estimate",
               "none": "-", "not computed": "-"}
#: Short names of the margin kinds (``margin_kind``).
MARGIN_NAMES = {"com-like-db": "COM-like", "optical-power-db": "optical loss", "osnr-db": "OSNR",
                "none": "-"}


def _value(report, key):
    v = getattr(report, key)
    if key == "ok":
        return "ok" if v else "FAIL"
    if key in ("reach_limit", "rated_reach_limit"):
        return LIMIT_NAMES.get(v, v)
    if key == "margin_kind":
        return MARGIN_NAMES.get(v, v)
    if key == "rated_reach_m" and v is None:
        return float("nan")
    return v


def _cell(value, key: str, fmt: str) -> str:
    if key in PROBABILITY_KEYS and value == 0:
        return BELOW_DOUBLE          # underflow of a closed form: smaller than any double, not zero
    return fmt.format(value)


def _link(args):
    link = links.preset(args.preset)
    return link if args.length_m is None else link.with_length(args.length_m)


def _reports(args):
    names = args.presets or list(links.presets())
    sw = SWITCH_ASIC_PJ_PER_BIT if args.switch else None
    out = []
    for name in _progress.bar(names, desc="compare", unit="link", enabled=common.progress_enabled(args)):
        link = links.preset(name)
        if args.length_m is not None:
            link = link.with_length(args.length_m)
        out.append(link.evaluate(frame_bytes=args.frame_bytes, switch_pj_per_bit=sw))
    return out


def format_table(reports) -> str:
    """The comparison table as fixed-width text (human headers; the CSV/JSON use the keys)."""
    rows = [[h for h, _, _ in COLUMNS]]
    rows += [[_cell(_value(r, key), key, fmt) for _, key, fmt in COLUMNS] for r in reports]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    return "\n".join(lines)


def _cmd_compare(args) -> int:
    reports = _reports(args)
    if common.emit(args, "compare", [r.to_dict() for r in reports]):
        return 0
    print(format_table(reports))
    print(f"pJ/bit, W/port and module W: {ENERGY_CONVENTION}")
    return 0


class _PercentBar:
    """A ``progress(done, total)`` hook drawing a percent bar (see photolink._util.progress)."""

    def __init__(self, desc: str, enabled) -> None:
        self.bar = _progress.bar(total=100, desc=desc, unit="%", enabled=enabled)
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        pct = 100 * done // max(total, 1)
        self.bar.update(pct - self.shown)
        self.shown = pct

    def close(self) -> None:
        self.bar.close()


def _cmd_link(args) -> int:
    link = _link(args)
    sw = SWITCH_ASIC_PJ_PER_BIT if args.switch else None
    if args.simulate:
        hook = _PercentBar(f"simulate {link.name}", common.progress_enabled(args))
        try:
            r = link.simulate(args.symbols, seed=args.seed, frame_bytes=args.frame_bytes,
                              ideal_feedback=args.ideal_feedback, precode=args.precode,
                              switch_pj_per_bit=sw, progress=hook,
                              phase_noise=not args.ideal_carrier)
        finally:
            hook.close()
    else:
        r = link.evaluate(frame_bytes=args.frame_bytes, switch_pj_per_bit=sw)
    if common.emit(args, "link", [r.to_dict()]):
        return 0
    print(link_summary(r, link, warnings=False))
    return 0


def _margin_lines(r) -> list[str]:
    """The SNR and margin lines, saying which margin is reported."""
    rated = f", rated {r.rated_reach_m:g} m" if r.rated_reach_m is not None else ""
    reach = f"  reach {r.reach_m:.4g} m ({r.reach_limit}){rated}"
    if r.method == "simulate":
        effective = r.required_snr_db + r.margin_db
        measured = (f"  margin {r.margin_db:.2f} dB, measured: the upper 95% bound of the simulated BER "
                    f"is what AWGN gives at {effective:.2f} dB (effective SNR); the FEC threshold "
                    f"needs {r.required_snr_db:.2f} dB; margin = {effective:.2f} - "
                    f"{r.required_snr_db:.2f} dB")
        return [f"  SNR at the slicer {r.snr_db:.2f} dB (link budget, before equaliser penalties)",
                measured, reach]
    statistical = (f"  margin {r.margin_db:.2f} dB: the extra noise (dB) the link takes before its "
                   f"pre-FEC BER reaches the FEC threshold (equaliser and ISI penalties included, "
                   f"so not SNR - needed)")
    return [f"  SNR {r.snr_db:.2f} dB; the FEC threshold needs {r.required_snr_db:.2f} dB over AWGN",
            statistical, reach]


def link_summary(r, link=None, *, warnings: bool = True) -> str:
    """A readable multi-line account of one report (``warnings``: include them)."""
    out = [f"{r.name} ({r.technology}), {r.length_m:g} m, {r.net_rate_gbps:g} Gb/s: {r.format} at "
           f"{r.symbol_rate_gbd:.4g} GBd, FEC {r.fec}  [{r.method}]"]
    if link is not None and link.source:
        out.append(f"  source: {link.source}")
    ci = f"  (95% CI {r.pre_fec_ber_ci[0]:.3g} .. {r.pre_fec_ber_ci[1]:.3g}, {r.symbols} symbols)" \
        if r.pre_fec_ber_ci else ""
    out.append(f"  pre-FEC BER {r.pre_fec_ber:.3e}{ci}; threshold {r.threshold_ber:.3g}")
    out += _margin_lines(r)
    cw_ci = f", 95% CI {r.cwer_ci[0]:.3g} .. {r.cwer_ci[1]:.3g}" if r.cwer_ci else ""
    out.append(f"  CWER {r.cwer:.3e} ({r.cwer_method}{cw_ci}); frame loss ({r.frame_bytes} B) "
               f"{r.frame_loss:.3e}; 1500 B {r.frame_loss_ratio(1500):.3e}")
    for s in r.segments:
        extra = f", loss at Nyquist {s['loss_at_nyquist_db']:.1f} dB" if "loss_at_nyquist_db" in s else ""
        extra += f", OMA at receiver {s['received_oma_dbm']:.2f} dBm" if "received_oma_dbm" in s else ""
        extra += f", OSNR {s['osnr_db']:.2f} dB/0.1nm" if "osnr_db" in s else ""
        if "cycle_slips" in s:
            extra += (f", {s['cycle_slips']} cycle slips" if s["carrier_recovery"] else ", ideal carrier")
        if "bursts" in s and s["bursts"]["onset_rate"] > 0:
            extra += f", {s['bursts']['mean_errors_per_burst']:.1f} errors per error burst"
        out.append(f"    segment {s['name']}: SNR {s['snr_db']:.2f} dB, BER {s['ber']:.3e}{extra}")
    out.append(f"  energy {r.energy_pj_per_bit:.2f} pJ/bit, {r.power_w:.2f} W per port (one end; the "
               f"link draws two ports) (module {r.module_power_w:.2f} W):")
    out.append("    " + ", ".join(f"{k} {x:.2f}" for k, x in r.energy_breakdown_pj_per_bit.items()) + " pJ/bit")
    out.append(f"  latency {r.latency_ns:.1f} ns: "
               + ", ".join(f"{k} {x:.1f}" for k, x in r.latency_breakdown_ns.items() if x))
    if warnings:
        out += [f"  warning: {w}" for w in r.warnings]
    return "\n".join(out)


def _cmd_fabric(args) -> int:
    link = _link(args)
    f = fabric_power(link, args.gpus, args.links_per_gpu, args.gpu_power_w,
                     switch_pj_per_bit=SWITCH_ASIC_PJ_PER_BIT if args.switch else None)
    if common.emit(args, "fabric", [f.to_dict()]):
        return 0
    print(f"{f.n_gpus} GPUs x {f.links_per_gpu:g} links of {f.link}: {f.links:.6g} links, "
          f"{f.ports:.6g} ports (two per link, one at each end) at {f.port_w:.2f} W per port")
    if args.switch:
        print(f"  switch ASIC share {f.switch_w / 1e3:.1f} kW")
    print(f"  network {f.network_w / 1e3:.1f} kW = {f.network_w_per_gpu:.1f} W per GPU = "
          f"{100 * f.share_of_gpu:.1f} % of {f.gpu_power_w:g} W per GPU "
          f"({100 * f.share_of_total:.1f} % of GPUs + network)")
    return 0


PRESET = common.choice_of("link preset", links.presets)


def _link_options(p, *, length_help: str) -> None:
    p.add_argument("--length-m", type=common.float_in(0, 1e7, lo_open=True), default=None,
                   metavar="M", help=length_help)
    p.add_argument("--switch", action="store_true",
                   help="count the switch ASIC's share of energy (pJ/bit, W)")


def register(subparsers) -> None:
    """Add ``compare``, ``link`` and ``fabric`` to the CLI's subparsers."""
    frame = dict(type=common.int_in(1, 10**6), default=64, metavar="BYTES",
                 help="frame size for frame loss and serialisation, bytes")
    cmp_ = subparsers.add_parser("compare", help="compare preset links (pJ/bit, W, latency, reach, "
                                                  "BER, frame loss, margin)")
    cmp_.add_argument("presets", nargs="*", metavar="PRESET", type=PRESET,
                      help=f"preset names (default: all of {', '.join(links.presets())})")
    _link_options(cmp_, length_help="evaluate every preset at this length, m (default: each "
                                    "preset's own)")
    cmp_.add_argument("--frame-bytes", **frame)
    common.add_output_options(cmp_, "every report (the table's figures and more)")
    cmp_.set_defaults(func=_cmd_compare)

    one = subparsers.add_parser("link", help="evaluate (or simulate) one preset link with overrides")
    one.add_argument("preset", metavar="PRESET", type=PRESET, help="link preset name")
    _link_options(one, length_help="length, m (default: the preset's)")
    one.add_argument("--frame-bytes", **frame)
    one.add_argument("--simulate", action="store_true",
                     help="Monte Carlo of --symbols symbols per segment instead of the statistical "
                          "evaluation")
    one.add_argument("--symbols", type=common.int_in(1000, 10**10), default=1_000_000, metavar="N",
                     help="symbols per segment with --simulate")
    one.add_argument("--seed", type=common.int_in(0, 2**63 - 1), default=1,
                     help="random seed of --simulate (>= 0)")
    one.add_argument("--ideal-feedback", action="store_true",
                     help="with --simulate: DFE fed with the sent symbols (no error propagation)")
    one.add_argument("--precode", action=argparse.BooleanOptionalAction, default=None,
                     help="with --simulate: force 1/(1+D) precoding of electrical lanes on or off "
                          "(default: the preset's own setting)")
    one.add_argument("--ideal-carrier", action="store_true",
                     help="with --simulate, coherent links: no laser phase noise (evaluate()'s "
                          "model) instead of the preset's linewidth and carrier recovery")
    common.add_output_options(one, "the report")
    one.set_defaults(func=_cmd_link)

    fab = subparsers.add_parser("fabric", help="network power of a GPU fabric built from one preset")
    fab.add_argument("preset", metavar="PRESET", type=PRESET, help="link preset name")
    fab.add_argument("--gpus", type=common.int_in(1, 10**8), required=True, metavar="N",
                     help="number of GPUs (required)")
    fab.add_argument("--links-per-gpu", type=common.float_in(0, 1e3, lo_open=True), required=True,
                     metavar="N",
                     help="links per GPU (required; fractional for shared tiers)")
    fab.add_argument("--gpu-power-w", type=common.float_in(0, 1e6, lo_open=True), required=True,
                     metavar="W", help="power of one GPU, W (required)")
    _link_options(fab, length_help="link length, m (default: the preset's)")
    common.add_output_options(fab, "the fabric figures")
    fab.set_defaults(func=_cmd_fabric, _aliases={"n_gpus": "--gpus"})
