"""Subcommands ``run``, ``sweep``, ``regress`` and ``examples`` (registered by :mod:`photolink.cli`)."""
from __future__ import annotations

import re
from pathlib import Path

from .._util import tables as _table
from ..studies import regress
from ..studies.config import example, examples, load
from ..studies.sweeps import sweep

BER_COLUMNS = [("case", "name"), ("format", "format"), ("SNR dB", "snr_db"), ("method", "method"),
               ("symbols", "symbols"), ("samples", "samples"), ("bit errors", "bit_errors"),
               ("BER", "ber"), ("95% CI", "ci"), ("closed form", "ber_awgn")]
LINK_COLUMNS = [("link", "name"), ("preset", "preset"), ("pre-FEC BER", "pre_fec_ber"),
                ("CWER", "cwer"), ("frame loss", "frame_loss_ratio"), ("pJ/bit", "energy_pj_per_bit"),
                ("power W", "power_w"), ("latency ns", "latency_ns"), ("reach m", "reach_m"),
                ("margin dB", "margin_db")]
PATH_COLUMNS = [("path", "name"), ("load", "load"), ("packets", "n_packets"), ("loss ratio", "loss_ratio"),
                ("95% CI", "ci"), ("mean latency ns", "mean_latency_ns")]


def rows_table(kind: str, rows) -> str:
    """The table of rows of one case kind, with the columns that matter for it."""
    shown = []
    for r in rows:
        r = dict(r)
        if "ber_ci_low" in r:
            r["ci"] = _table.fmt_ci(r["ber_ci_low"], r["ber_ci_high"])
        elif "loss_ci_low" in r:
            r["ci"] = _table.fmt_ci(r["loss_ci_low"], r["loss_ci_high"])
        elif isinstance(r.get("ci"), list) and len(r["ci"]) == 2:
            r["ci"] = _table.fmt_ci(*r["ci"])
        shown.append(r)
    if kind == "ber":
        cols = BER_COLUMNS
    elif kind == "link":
        cols = LINK_COLUMNS
    else:
        keys = dict.fromkeys(k for r in rows for k in r)
        pct = [(m.group(1), k) for k in keys
               for m in [re.match(r"^latency_(p[0-9.]+|max)_ns$", k)] if m]
        cols = PATH_COLUMNS + [(f"{name} ns", k) for name, k in pct]
    return _table.table(shown, cols)


def _executor(args):
    """A Dask executor when --dask is given: 'local:N' (a LocalCluster) or a scheduler address."""
    if not getattr(args, "dask", None):
        return None, None
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("--dask needs the optional extra: pip install 'photolink[dask]'") from None
    if args.dask.startswith("local"):
        n = int(args.dask.partition(":")[2] or 2)
        client = Client(LocalCluster(n_workers=n, threads_per_worker=1, processes=True))
    else:
        client = Client(args.dask)
    return client.get_executor(), client


def _cmd_run(args) -> int:
    cfg = load(args.config)
    if cfg.title:
        print(cfg.title)
    groups: dict = {}
    for c in cfg.entries:
        groups.setdefault(c.kind, []).append(c)
    if not groups and cfg.sweep is None:
        print(f"{cfg.path}: nothing to run (no [ber.*], [links.*], [paths.*] or [sweep])")
        return 0
    for kind, cs in groups.items():
        res = sweep(kind, cases=[{**c.settings, "name": c.name} for c in cs], seed=cfg.seed,
                    store=None, workers=args.workers, progress="auto" if not args.quiet else False,
                    name=cfg.path.stem)
        print(f"\n{kind} cases (seed {cfg.seed}):")
        print(rows_table(kind, res.rows))
    if cfg.sweep is not None:
        print()
        return _run_sweep(cfg, args)
    return 0


def _run_sweep(cfg, args) -> int:
    plan = cfg.sweep
    store = None if args.no_store else (args.store or plan.store)
    executor, client = _executor(args)
    try:
        res = sweep(plan.kind, cases=[{**c.settings, "name": c.name} for c in plan.cases],
                    seed=plan.seed, store=store, executor=executor,
                    workers=args.workers or plan.workers, chunk_symbols=plan.chunk_symbols,
                    progress="auto" if not args.quiet else False, name=plan.name)
    finally:
        if client is not None:
            client.close()
    print(f"sweep {plan.name!r}: {len(res.rows)} cases, {res.computed} chunks computed, "
          f"{res.reused} reused from {res.store} ({res.seconds:.1f} s)")
    print(rows_table(plan.kind, res.rows))
    if args.csv:
        res.to_csv(args.csv)
        print(f"wrote {args.csv}")
    if args.json:
        res.to_json(args.json)
        print(f"wrote {args.json}")
    return 0


def _cmd_sweep(args) -> int:
    cfg = load(args.config)
    if cfg.sweep is None:
        raise ValueError(f"{cfg.path}: has no [sweep] table")
    return _run_sweep(cfg, args)


def _cmd_regress(args) -> int:
    if args.action == "record":
        doc = regress.record(args.config, args.baseline, seed=args.seed, workers=args.workers)
        rows = {}
        for name, c in doc["cases"].items():
            rows.setdefault(c["kind"], []).append(c["row"])
        for kind, rs in rows.items():
            print(rows_table(kind, rs))
        print(f"recorded {len(doc['cases'])} cases (seed {next(iter(doc['cases'].values()))['seed']}) "
              f"in {args.baseline}")
        return 0
    report = regress.check(args.config, args.baseline, seed=args.seed, confidence=args.confidence,
                           workers=args.workers)
    print(report.table())
    if args.json:
        import json
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=1) + "\n")
    return 0 if report.ok else 1


def _cmd_examples(args) -> int:
    if args.name:
        p = example(args.name)
        print(p.read_text() if args.show else p)
        return 0
    for name, p in examples().items():
        first = next((ln for ln in p.read_text().splitlines() if ln.startswith("#")), "#")
        print(f"{name:16s} {first[1:].strip()}\n{'':16s} {p}")
    return 0


def _sweep_options(p) -> None:
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: CPUs)")
    p.add_argument("--store", help="SQLite result store (default: the config's, or CONFIG.sqlite)")
    p.add_argument("--no-store", action="store_true", help="keep results in memory (no resume)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on Dask: a scheduler address, or local:N "
                                                     "for a local cluster of N processes")
    p.add_argument("--csv", help="write the rows as CSV")
    p.add_argument("--json", help="write the rows as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(sub) -> None:
    """Add ``run``, ``sweep``, ``regress`` and ``examples`` to the ``photolink`` parser."""
    p = sub.add_parser("run", help="run every case of a TOML config and print the tables")
    p.add_argument("config", help="TOML config file (see `photolink examples`)")
    _sweep_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("sweep", help="run the [sweep] of a TOML config, resumably")
    p.add_argument("config")
    _sweep_options(p)
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("regress", help="record a baseline, or check a config against it")
    p.add_argument("action", choices=["record", "check"])
    p.add_argument("config")
    p.add_argument("--baseline", required=True, help="baseline JSON file")
    p.add_argument("--seed", type=int, default=None, help="rerun with this seed (default: the config's)")
    p.add_argument("--confidence", type=float, default=None,
                   help="of the one-sided test (default: the config's [regress], else 0.99)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--json", help="(check) also write the report as JSON")
    p.set_defaults(func=_cmd_regress)

    p = sub.add_parser("examples", help="list the example configs, or print one's path")
    p.add_argument("name", nargs="?")
    p.add_argument("--show", action="store_true", help="print the file instead of its path")
    p.set_defaults(func=_cmd_examples)
