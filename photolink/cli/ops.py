"""Subcommands ``run``, ``sweep``, ``regress`` and ``examples`` (registered by :mod:`photolink.cli`)."""
from __future__ import annotations

import os
import re

from .._util import tables as _table
from ..studies import regress
from ..studies.config import example, examples, load, run_cases
from . import common

#: Seconds to wait for a Dask scheduler before giving up.
DASK_TIMEOUT_S = 10
#: Largest local Dask cluster of --dask local:N.
MAX_LOCAL_WORKERS = 256

BER_COLUMNS = [("case", "name"), ("format", "format"), ("SNR dB", "snr_db"), ("method", "method"),
               ("symbols", "symbols"), ("samples", "samples"), ("bit errors", "bit_errors"),
               ("BER", "ber"), ("95% CI", "ci"), ("closed form", "ber_awgn")]
LINK_COLUMNS = [("link", "name"), ("preset", "preset"), ("pre-FEC BER", "pre_fec_ber"),
                ("CWER", "cwer"), ("frame loss", "frame_loss_ratio"), ("pJ/bit", "energy_pj_per_bit"),
                ("power W", "power_w"), ("latency ns", "latency_ns"), ("reach m", "reach_m"),
                ("margin dB", "margin_db")]
PATH_COLUMNS = [("path", "name"), ("load", "load"), ("packets", "n_packets"), ("loss ratio", "loss_ratio"),
                ("95% CI", "ci"), ("mean latency ns", "mean_latency_ns")]
FABRIC_COLUMNS = [("fabric", "name"), ("topology", "topology"), ("routing", "routing"), ("load", "load"),
                  ("packets", "n_packets"), ("loss ratio", "loss_ratio"), ("95% CI", "ci"),
                  ("mean latency ns", "mean_latency_ns"), ("p99 ns", "latency_p99_ns"),
                  ("Gb/s", "throughput_gbps"), ("max util", "max_link_utilisation")]


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
    elif kind == "fabric":
        cols = FABRIC_COLUMNS
    else:
        keys = dict.fromkeys(k for r in rows for k in r)
        pct = [(m.group(1), k) for k in keys
               for m in [re.match(r"^latency_(p[0-9.]+|max)_ns$", k)] if m]
        cols = PATH_COLUMNS + [(f"{name} ns", k) for name, k in pct]
    return _table.table(shown, cols)


def dask_address(text: str) -> str:
    """``local``, ``local:N`` (1 <= N <= 256) or a scheduler address such as ``tcp://host:8786``."""
    if text == "local" or text.startswith("local:"):
        n = text.partition(":")[2] or "2"
        common.int_in(1, MAX_LOCAL_WORKERS)(n)        # local:0 would wait forever for a worker
        return text
    if "://" not in text and ":" not in text:
        raise common.argparse.ArgumentTypeError(
            f"must be local, local:N or a scheduler address such as tcp://host:8786, got {text!r}")
    return text


def _executor(args):
    """A Dask executor when --dask is given: 'local:N' (a LocalCluster) or a scheduler address."""
    if not getattr(args, "dask", None):
        return None, None
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("--dask needs the distributed package: pip install distributed "
                          "(or, in a clone of photolink, pip install -e \".[dask]\")") from None
    if args.dask.startswith("local"):
        n = int(args.dask.partition(":")[2] or 2)
        client = Client(LocalCluster(n_workers=n, threads_per_worker=1, processes=True))
    else:
        try:
            client = Client(args.dask, timeout=f"{DASK_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise common.UsageError(f"--dask {args.dask}: no Dask scheduler answered within "
                                    f"{DASK_TIMEOUT_S} s ({type(exc).__name__}: {exc})") from None
    return client.get_executor(), client


def _progress(args):
    return common.progress_enabled(args)


def _cmd_run(args) -> int:
    cfg = load(args.config)
    if cfg.title and "-" not in (args.csv, args.json):
        print(cfg.title)
    groups: dict = {}
    everything: list = []
    for c in cfg.entries:
        groups.setdefault(c.kind, []).append(c)
    if not groups and cfg.sweep is None:
        print(f"{cfg.path}: nothing to run (no [ber.*], [links.*], [paths.*] or [sweep])")
        return 0
    for kind, cs in groups.items():
        res = run_cases(cfg, kind, cs, seed=cfg.seed,
                    store=None, workers=args.workers, progress=_progress(args), name=cfg.path.stem)
        everything += [{"kind": kind, **r} for r in res.rows]
        if "-" not in (args.csv, args.json):
            print(f"\n{kind} cases (seed {cfg.seed}):")
            print(rows_table(kind, res.rows))
    if cfg.sweep is not None:
        if "-" not in (args.csv, args.json):
            print()
        return _run_sweep(cfg, args, everything)
    common.emit(args, "run", everything)
    return 0


def _run_sweep(cfg, args, before=()) -> int:
    plan = cfg.sweep
    store = None if args.no_store else (args.store or plan.store)
    executor, client = _executor(args)
    try:
        res = run_cases(cfg, plan.kind, plan.cases, seed=plan.seed, store=store, executor=executor,
                    workers=args.workers or plan.workers, chunk_symbols=plan.chunk_symbols,
                    progress=_progress(args), name=plan.name)
    finally:
        if client is not None:
            client.close()
    rows = [*before, *({"kind": plan.kind, **r} for r in res.rows)] if before else list(res.rows)
    extra = {"sweep": plan.name, "kind": plan.kind, "seed": plan.seed, "store": res.store,
             "chunks_computed": res.computed, "chunks_reused": res.reused}
    if common.emit(args, "sweep", rows, extra=extra):
        return 0
    where = "no store (results in memory)" if store is None else f"store {os.path.abspath(res.store)}"
    print(f"sweep {plan.name!r}: {len(res.rows)} cases, {res.computed} chunks computed, "
          f"{res.reused} reused; {where} ({res.seconds:.1f} s)")
    print(rows_table(plan.kind, res.rows))
    for path in (args.csv, args.json):
        if path:
            print(f"wrote {path}")
    return 0


def _cmd_sweep(args) -> int:
    cfg = load(args.config)
    if cfg.sweep is None:
        raise ValueError(f"{cfg.path}: has no [sweep] table")
    return _run_sweep(cfg, args)


def _cmd_regress(args) -> int:
    if args.action == "record":
        doc = regress.record(args.config, args.baseline, seed=args.seed, workers=args.workers,
                             progress=_progress(args))
        rows = {}
        for name, c in doc["cases"].items():
            rows.setdefault(c["kind"], []).append(c["row"])
        if common.emit(args, "regress record", [{"kind": c["kind"], **c["row"]}
                                                for c in doc["cases"].values()]):
            return 0
        for kind, rs in rows.items():
            print(rows_table(kind, rs))
        print(f"recorded {len(doc['cases'])} cases (seed {next(iter(doc['cases'].values()))['seed']}) "
              f"in {args.baseline}")
        return 0
    report = regress.check(args.config, args.baseline, seed=args.seed, confidence=args.confidence,
                           workers=args.workers, progress=_progress(args))
    doc = report.to_dict()
    records = doc.get("cases") if isinstance(doc.get("cases"), list) else [doc]
    rest = {k: x for k, x in doc.items() if k != "cases"} if records is not doc else {}
    if not common.emit(args, "regress check", records, extra=rest):
        print(report.table())
    return common.EXIT_OK if report.ok else common.EXIT_WORSE


def _cmd_examples(args) -> int:
    if args.name:
        p = example(args.name)
        print(p.read_text() if args.show else p)
        return 0
    rows = []
    for name, p in examples().items():
        first = next((ln for ln in p.read_text().splitlines() if ln.startswith("#")), "#")
        rows.append({"name": name, "description": first[1:].strip(), "path": str(p)})
    if common.emit(args, "examples", rows):
        return 0
    for r in rows:
        print(f"{r['name']:16s} {r['description']}\n{'':16s} {r['path']}")
    return 0


WORKERS = common.int_in(1, 4096)


def _sweep_options(p) -> None:
    p.add_argument("--workers", type=WORKERS, default=None, metavar="N",
                   help="local worker processes, >= 1 (default: the config's, else the CPU count)")
    p.add_argument("--store", metavar="PATH", type=common.output_file,
                   help="SQLite result store (default: the config's, or CONFIG.sqlite)")
    p.add_argument("--no-store", action="store_true", help="keep results in memory (no resume)")
    p.add_argument("--dask", metavar="ADDRESS", type=dask_address,
                   help="run on Dask: a scheduler address (tcp://host:8786), or local:N for a local "
                        "cluster of N >= 1 processes (needs the distributed package)")
    common.add_output_options(p, "the rows")
    common.add_quiet(p)


def register(sub) -> None:
    """Add ``run``, ``sweep``, ``regress`` and ``examples`` to the ``photolink`` parser."""
    config = dict(metavar="CONFIG", type=common.input_file,
                  help="TOML config file (`photolink examples` lists the shipped ones)")
    p = sub.add_parser("run", help="run every case of a TOML config and print the tables")
    p.add_argument("config", **config)
    _sweep_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("sweep", help="run the [sweep] of a TOML config, resumably")
    p.add_argument("config", **config)
    _sweep_options(p)
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("regress", help="record a baseline, or check a config against it")
    p.add_argument("action", choices=["record", "check"],
                   help="record: write the baseline; check: exit 1 when a case is statistically worse")
    p.add_argument("config", **config)
    p.add_argument("--baseline", required=True, metavar="PATH",
                   help="baseline JSON file (required; written by record, read by check)")
    p.add_argument("--seed", type=common.int_in(0, 2**63 - 1), default=None,
                   help="rerun with this seed (default: the config's)")
    p.add_argument("--confidence", type=common.float_in(0.5, 1.0), default=None,
                   help="confidence of the one-sided test, in [0.5, 1) (default: the config's "
                        "[regress], else 0.99)")
    p.add_argument("--workers", type=WORKERS, default=1, metavar="N", help="worker processes, >= 1")
    common.add_output_options(p, "the recorded rows (record) or the report (check)")
    p.set_defaults(func=_cmd_regress)

    p = sub.add_parser("examples", help="list the example configs, or print one's path")
    p.add_argument("name", nargs="?", help="example name (default: list them all)")
    p.add_argument("--show", action="store_true", help="print the file instead of its path")
    common.add_output_options(p, "the list")
    p.set_defaults(func=_cmd_examples)
