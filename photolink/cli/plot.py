"""Subcommand ``plot`` (registered by :mod:`photolink.cli`): writes PNG/SVG/PDF files."""
from __future__ import annotations

from .. import plot
from ..studies import demo
from ..studies.config import load, run_cases
from ..studies.jobs import BerKind, PathKind, parse_format
from ..studies.sweeps import make_case, sweep
from . import common


def _ber_case_settings(args) -> dict:
    s = {"format": args.format, "snr_db": args.snr_db}
    if args.channel:
        s["channel"] = args.channel
    if args.equalizer != "none":
        s.update(equalizer=args.equalizer, n_ffe=args.n_ffe, n_dfe=args.n_dfe)
    return s


def _wrote(path) -> int:
    print(f"wrote {path}")
    return 0


def _cmd_waterfall(args) -> int:
    snr = common.check_range(args, "snr_from", "snr_to", "snr_step")
    res = sweep("ber", {"snr_db": snr}, fixed={"format": args.format, "n_symbols": args.symbols},
                seed=args.seed, store=None, workers=args.workers,
                progress=common.progress_enabled(args), name="waterfall")
    plot.waterfall(res.rows, path=args.out, title=f"{args.format} over AWGN, seed {args.seed}")
    return _wrote(args.out)


def _cmd_sweep(args) -> int:
    cfg = load(args.config)
    if cfg.sweep is None or cfg.sweep.kind != "ber":
        raise ValueError(f"{cfg.path}: `plot sweep` draws the waterfall of a [sweep] of kind 'ber'")
    p = cfg.sweep
    res = run_cases(cfg, "ber", p.cases, seed=p.seed,
                store=args.store or p.store, workers=args.workers, chunk_symbols=p.chunk_symbols,
                progress=common.progress_enabled(args), name=p.name)
    plot.waterfall(res.rows, path=args.out, title=cfg.title or p.name)
    return _wrote(args.out)


def _cmd_histogram(args) -> int:
    fmt, ch, eq = BerKind.objects(make_case("ber", _ber_case_settings(args)).settings)
    plot.slicer_histogram(fmt, args.snr_db, channel=ch, equalizer=eq, n_symbols=args.symbols,
                          seed=args.seed, path=args.out)
    return _wrote(args.out)


def _cmd_bathtub(args) -> int:
    plot.bathtub(parse_format(args.format), args.snr_db, rj_rms_ui=args.rj, dj_pp_ui=args.dj,
                 target_ber=args.target_ber, path=args.out)
    return _wrote(args.out)


def _cmd_energy(args) -> int:
    cfg = load(args.config)
    links = [c for c in cfg.entries if c.kind == "link"]
    if not links:
        raise ValueError(f"{cfg.path}: has no [links.*] to plot")
    res = run_cases(cfg, "link", links, seed=cfg.seed,
                store=None, workers=1, progress=common.progress_enabled(args))
    plot.energy_bars({r["name"]: plot.energy_components(r) for r in res.rows}, path=args.out)
    return _wrote(args.out)


def _cmd_ccdf(args) -> int:
    cfg = load(args.config)
    paths = [c for c in cfg.entries if c.kind == "path"]
    if not paths:
        raise ValueError(f"{cfg.path}: has no [paths.*] to plot")
    lat = {}
    for c in paths:
        path, traffic = PathKind.objects(c.settings)
        lat[c.name] = demo.run_path(path, traffic, c.settings["n_packets"], cfg.seed).latencies_ns
    plot.latency_ccdf(lat, path=args.out)
    return _wrote(args.out)


def register(sub) -> None:
    """Add ``plot`` and its figures to the ``photolink`` parser."""
    p = sub.add_parser("plot", help="write a figure (PNG/SVG/PDF): waterfall, sweep, histogram, "
                                    "bathtub, energy, ccdf")
    what = p.add_subparsers(dest="figure", required=True, metavar="FIGURE")
    workers = common.int_in(1, 4096)
    config = dict(metavar="CONFIG", type=common.input_file, help="TOML config file")

    def common_opts(q, default_out):
        q.add_argument("--out", default=default_out, type=common.figure_file, metavar="FILE",
                       help="output file; its suffix (.png, .svg, .pdf) sets the image format, "
                            "its directory must exist")
        return q

    def ber_opts(q):
        q.add_argument("--format", default="PAM4", help="modulation: NRZ, PAM4, PAM8, ...")
        q.add_argument("--seed", type=common.int_in(0, 2**63 - 1), default=1, help="random seed (>= 0)")

    q = common_opts(what.add_parser("waterfall", help="BER waterfall: Monte Carlo + CI + closed form"),
                    "waterfall.png")
    ber_opts(q)
    q.add_argument("--snr-from", type=common.float_in(-20, 60), default=12.0, metavar="DB",
                   help="first SNR point, dB")
    q.add_argument("--snr-to", type=common.float_in(-20, 60), default=19.0, metavar="DB",
                   help="last SNR point, dB (>= --snr-from)")
    q.add_argument("--snr-step", type=common.float_in(0, 80, lo_open=True), default=1.0, metavar="DB",
                   help="SNR step, dB (> 0)")
    q.add_argument("--symbols", type=common.int_in(100, 10**12), default=2_000_000, metavar="N",
                   help="symbols per SNR point")
    q.add_argument("--workers", type=workers, default=1, metavar="N", help="worker processes, >= 1")
    q.set_defaults(func=_cmd_waterfall)

    q = common_opts(what.add_parser("sweep", help="waterfall of the BER [sweep] of a config (uses its "
                                                  "store)"), "sweep.png")
    q.add_argument("config", **config)
    q.add_argument("--store", metavar="PATH", type=common.output_file,
                   help="SQLite result store (default: the config's, or CONFIG.sqlite)")
    q.add_argument("--workers", type=workers, default=None, metavar="N",
                   help="worker processes, >= 1 (default: the CPU count)")
    q.set_defaults(func=_cmd_sweep)

    q = common_opts(what.add_parser("histogram", help="slicer-input histogram per level (the eye's cut)"),
                    "histogram.png")
    ber_opts(q)
    q.add_argument("--snr-db", type=common.float_in(-20, 60), default=18.0, metavar="DB",
                   help="SNR, dB")
    q.add_argument("--channel", metavar="TAPS", type=common.numbers,
                   help="pulse response taps, comma separated (e.g. 0.1,1,0.45; default: none)")
    q.add_argument("--equalizer", choices=["none", "zf", "mmse"], default="none",
                   help="equaliser design")
    q.add_argument("--n-ffe", type=common.int_in(1, 64), default=5, metavar="N",
                   help="feed-forward taps of the equaliser")
    q.add_argument("--n-dfe", type=common.int_in(0, 64), default=1, metavar="N",
                   help="decision-feedback taps of the equaliser")
    q.add_argument("--symbols", type=common.int_in(100, 10**7), default=200_000, metavar="N",
                   help="symbols drawn")
    q.set_defaults(func=_cmd_histogram)

    q = common_opts(what.add_parser("bathtub", help="bathtub curve (dual-Dirac jitter + noise floor)"),
                    "bathtub.png")
    q.add_argument("--format", default="PAM4", help="modulation: NRZ, PAM4, PAM8, ...")
    q.add_argument("--snr-db", type=common.float_in(-20, 60), default=24.0, metavar="DB", help="SNR, dB")
    q.add_argument("--rj", type=common.float_in(1e-6, 0.5), default=0.015, metavar="UI",
                   help="random jitter, UI rms")
    q.add_argument("--dj", type=common.float_in(0, 0.9), default=0.1, metavar="UI",
                   help="deterministic jitter, UI peak-to-peak")
    q.add_argument("--target-ber", type=common.float_in(0, 0.5, lo_open=True), default=1e-12,
                   metavar="BER", help="BER at which the eye opening is marked")
    q.set_defaults(func=_cmd_bathtub)

    q = common_opts(what.add_parser("energy", help="energy per bit of the [links.*] of a config"),
                    "energy.png")
    q.add_argument("config", **config)
    q.set_defaults(func=_cmd_energy)

    q = common_opts(what.add_parser("ccdf", help="latency CCDF of the [paths.*] of a config"), "ccdf.png")
    q.add_argument("config", **config)
    q.set_defaults(func=_cmd_ccdf)
