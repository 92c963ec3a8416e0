"""``photolink demo``: the demo study's tables and plots (:mod:`photolink.studies.demo`)."""
from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np

from .. import plot
from .._util import progress as _progress
from .._util import tables as _table
from ..studies.demo import (
    HOPS,
    LOAD,
    N_PACKETS,
    OVERLOAD,
    PACKET_BYTES,
    SWITCH_LATENCY_NS,
    TECHNOLOGIES,
    compare,
)
from ..studies import cluster_demo
from ..studies.sweeps import sweep
from . import common

#: Width of the demo's prose (the tables fit it too).
WIDTH = 99

LINK_COLUMNS = [("technology", "technology"), ("preset", "preset"), ("m", "length_m"),
                ("reach m", "reach_m"), ("pre-FEC BER", "pre_fec_ber"), ("CWER", "cwer"),
                (f"FLR {PACKET_BYTES}B", "frame_loss"), ("margin", "margin"), ("pJ/bit", "link_pj_per_bit"),
                ("W", "link_w")]
#: How the link table names each technology's margin (``margin_kind``).
MARGIN_SHORT = {"com-like-db": "COM", "optical-power-db": "opt", "osnr-db": "OSNR", "none": ""}
PATH_COLUMNS = [("technology", "technology"), ("pJ/bit", "path_pj_per_bit"), ("loss", "loss_ratio"),
                ("95% CI", "loss_ci"), ("llr loss", "llr_loss_ratio"), ("resends", "resends_per_packet"),
                ("p50 ns", "p50_ns"), ("p99.9 ns", "p999_ns"), ("llr p99.9", "llr_p999_ns")]
CLUSTER_COLUMNS = [("technology", "technology"), ("mode", "mode"), ("AR p50 us [95% CI]", "ar50"),
                   ("AR p99 us [CI]", "ar99"), ("A2A p50 us [95% CI]", "a2a50"), ("A2A p99 us [CI]", "a2a99")]
COST_COLUMNS = [("technology", "technology"), ("AR us, straggler", "strag"), ("cost", "cost"),
                ("retries", "retries"), ("network W", "w"), ("J/step", "j"), ("pJ/useful bit", "pj")]
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
        if "margin_db" in r:
            c["margin"] = f"{r['margin_db']:.1f} {MARGIN_SHORT.get(r.get('margin_kind'), '')}".strip()
        for k in ("length_m", "reach_m", "link_pj_per_bit", "link_w", "path_pj_per_bit"):
            c[k] = f"{r[k]:.3g}" if r[k] < 1e4 else f"{r[k]:.2e}"
        for k in ("p50_ns", "p99_ns", "p999_ns", "llr_p999_ns"):
            c[k] = f"{r[k]:.0f}"
        out.append(c)
    return out


def _compare(n_packets: int, seed: int, progress) -> tuple[list, dict, dict, object]:
    """:func:`photolink.studies.demo.compare`, one technology at a time behind a progress bar."""
    rows: list = []
    latencies: dict = {}
    energy: dict = {}
    with _progress.bar(total=len(TECHNOLOGIES) + 1, desc="demo", unit="step", enabled=progress,
                       leave=False) as bar:
        for tech, preset in TECHNOLOGIES.items():
            r, lat, e = compare({tech: preset}, n_packets=n_packets, seed=seed)
            rows += r
            latencies.update(lat)
            energy.update(e)
            bar.update(1)
        wf = sweep("ber", {"snr_db": [14.0, 15.0, 16.0, 17.0, 18.0, 19.0]},
                   fixed={"format": "PAM4", "n_symbols": 2_000_000}, seed=seed, store=None, workers=1,
                   progress=False, name="pam4")
        bar.update(1)
    return rows, latencies, energy, wf


def _with_ci(value: float, ci: tuple, digits: int) -> str:
    """``value [lo, hi]``; an end n runs cannot bound shows as ``-``."""
    ends = ", ".join("-" if math.isnan(x) else f"{x:.{digits}f}" for x in ci)
    return f"{value:.{digits}f} [{ends}]"


def _cluster(seed: int, say) -> list[dict]:
    """The cluster section (:mod:`photolink.studies.cluster_demo`): two tables and their legend."""
    cd = cluster_demo
    rows = cd.cluster_rows(TECHNOLOGIES, seed=seed)
    L, H, S = cd.SHAPE
    print()
    say(f"Cluster: {L * H} GPUs on a non-blocking leaf-spine ({L} leaves of {H} GPUs, {S} spines, ECMP; "
        f"copper's spine cables pluggable), {cd.MODE} mode with link-level retry, {cd.N_RUNS} seeds "
        f"(ECMP hash and error streams) per collective. AR: two-level ring all-reduce of "
        f"{cd.ALL_REDUCE_BYTES / 1e6:g} MB per GPU (ring within each leaf, ring across leaves); A2A: "
        f"direct all-to-all of {cd.ALL_TO_ALL_BYTES / 1e6:g} MB per GPU. Percentiles with their "
        f"distribution-free 95% CI ('-': {cd.N_RUNS} runs cannot bound that end). Links whose expected "
        f"codeword failures over all runs are below {cd.NEGLIGIBLE_FAILURES:g} run error-free.")
    print()
    cells = [{"technology": r["technology"], "mode": r["mode"],
              "ar50": _with_ci(r["all_reduce_p50_us"], r["all_reduce_p50_ci_us"], 1),
              "ar99": _with_ci(r["all_reduce_p99_us"], r["all_reduce_p99_ci_us"], 1),
              "a2a50": _with_ci(r["all_to_all_p50_us"], r["all_to_all_p50_ci_us"], 2),
              "a2a99": _with_ci(r["all_to_all_p99_us"], r["all_to_all_p99_ci_us"], 2)} for r in rows]
    print(_table.table(cells, CLUSTER_COLUMNS))
    print()
    say(f"Straggler: the AR with GPU 0's cable (both directions) at the CWER of a DAC "
        f"{100 * (cd.STRAGGLER[1] - 1):.0f} % past its reach ({rows[0]['straggler_cwer']:.1e}), on the first "
        f"{cd.N_STRAGGLER_RUNS} seeds; cost: median of the same-seed ratios to the healthy AR (a resend "
        f"waits a replay round trip, longer on optics). Network W: every port (two per cable, one at "
        f"each end) and switch core; J and pJ "
        f"per useful bit of one AR step.")
    print()
    cells = [{"technology": r["technology"], "strag": f"{r['straggler_us']:.1f}",
              "cost": f"+{100 * r['straggler_cost']:.1f}%", "retries": str(r["straggler_retries"]),
              "w": f"{r['network_w']:.0f}", "j": f"{r['joules_per_step']:.2f}", "pj": f"{r['pj_per_useful_bit']:.0f}"}
             for r in rows]
    print(_table.table(cells, COST_COLUMNS))
    return rows


def _ccdf_panels(rows: list[dict]) -> dict:
    """The completion-time CCDF's panels: AR and A2A, one series (finite samples) per technology."""
    cd = cluster_demo
    out = {}
    for key, title in (("all_reduce_samples_us", f"two-level ring all-reduce, {cd.ALL_REDUCE_BYTES / 1e6:g} MB"),
                       ("all_to_all_samples_us", f"direct all-to-all, {cd.ALL_TO_ALL_BYTES / 1e6:g} MB per GPU")):
        out[title] = {r["technology"]: np.asarray(r[key])[np.isfinite(r[key])] for r in rows
                      if np.any(np.isfinite(r[key]))}
    return out


def demo(out_dir="photolink-demo", *, n_packets: int = N_PACKETS, seed: int = 1,
         image_format: str = "png", progress: bool | str = "auto", cluster: bool = True) -> list[dict]:
    """Print the comparison tables and write the plots into ``out_dir``; return the rows.

    ``progress``: a bar while it works ("auto": on a terminal or in a notebook). ``cluster``:
    also run collectives on a 256-GPU cluster per technology (:mod:`photolink.studies.cluster_demo`).
    """
    out = Path(out_dir)
    fmt = image_format
    rows, latencies, energy, wf = _compare(n_packets, seed, progress)
    cells = _cells(rows)
    say = lambda text: print(textwrap.fill(text, WIDTH))  # noqa: E731
    say(f"Links: one 800G link each. CWER by the {rows[0]['cwer_method']} (DFE error bursts "
        f"included); FLR: frame loss ratio; margin in dB, each technology's own: COM = COM-like "
        f"(copper, passes at >= 3), opt = optical loss margin (IM-DD); pJ/bit and W per port (one end of "
        f"the link, per net bit; a link draws two ports' power).")
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
    cluster_rows = _cluster(seed, say) if cluster else None
    out.mkdir(parents=True, exist_ok=True)
    lengths = {r["technology"]: r["length_m"] for r in rows}
    bars = {f"{tech}\n{lengths[tech]:g} m": parts for tech, parts in energy.items()}
    files = [plot.save(plot.energy_bars(bars, title=f"energy per bit of the {HOPS}-hop path: "
                                                    f"{HOPS} links + {HOPS - 1} switch cores\n(each "
                                                    f"link at its preset length, shown under its bar)"),
                       out / f"energy.{fmt}"),
             plot.save(plot.latency_ccdf(latencies, title=f"{HOPS}-hop path latency CCDF, load "
                                                          f"{LOAD}, {PACKET_BYTES} B packets"),
                       out / f"latency_ccdf.{fmt}")]
    files.append(plot.save(plot.waterfall(wf.rows, title="PAM4 lane BER over AWGN"),
                           out / f"waterfall.{fmt}"))
    if cluster_rows:
        L, H, _ = cluster_demo.SHAPE
        files.append(plot.save(plot.completion_ccdf(
            _ccdf_panels(cluster_rows), title=f"collective completion time over {cluster_demo.N_RUNS} seeds, "
                                              f"{L * H} GPUs on a leaf-spine, {cluster_demo.MODE} mode"),
            out / f"completion_ccdf.{fmt}"))
    print("\nwrote " + ", ".join(str(f) for f in files))
    return rows


def _out_dir(text: str) -> str:
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise common.argparse.ArgumentTypeError(f"{text} exists and is not a directory")
    parent = p.parent if str(p.parent) else Path(".")
    if not p.exists() and not parent.is_dir():
        raise common.argparse.ArgumentTypeError(f"directory {parent} does not exist (create it first)")
    return text


def _cmd_demo(args) -> int:
    demo(args.out_dir, n_packets=args.packets, seed=args.seed, image_format=args.image_format,
         progress=common.progress_enabled(args), cluster=not args.no_cluster)
    return 0


def register(sub) -> None:
    """Add ``demo`` to the ``photolink`` parser."""
    p = sub.add_parser("demo", help="compare copper, pluggable, LPO and CPO on an 800G 3-hop path")
    p.add_argument("--out-dir", default="photolink-demo", type=_out_dir, metavar="DIR",
                   help="directory for the plots (created if its parent exists)")
    p.add_argument("--packets", type=common.int_in(1000, 10**8), default=N_PACKETS, metavar="N",
                   help="packets per path run")
    p.add_argument("--no-cluster", action="store_true",
                   help="skip the collectives on a 256-GPU cluster (saves ~20 s)")
    p.add_argument("--seed", type=common.int_in(0, 2**63 - 1), default=1, help="random seed (>= 0)")
    p.add_argument("--image-format", choices=["png", "svg", "pdf"], default="png",
                   help="file type of the plots")
    p.set_defaults(func=_cmd_demo)
