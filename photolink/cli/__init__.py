"""Command-line interface: ``photolink`` (or ``python -m photolink``), a thin shell over the API.

Each module adds its subcommands with a ``register(subparsers)`` function listed in
:data:`REGISTRARS`; a new group of subcommands is one import and one list entry. Shared
conventions (flag types, exit codes, CSV/JSON of one schema) live in :mod:`photolink.cli.common`.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from .._util import progress as _progress
from .._util import tables as _table
from .._util.version import __version__
from ..studies.config import ConfigError
from ..studies.store import StoreError
from ..studies.sweeps import SweepInterrupted
from ..symbols import formats, stream
from . import common, demo, links, ops, plot

BER_COLUMNS = [("SNR dB", "snr_db"), ("symbols", "symbols"), ("bit errors", "bit_errors"),
               ("BER (Monte Carlo)", "ber"), ("95% CI", "ci"), ("BER (closed form)", "ber_awgn")]


def _cmd_ber(args) -> int:
    snrs = common.check_range(args, "snr_from", "snr_to", "snr_step")
    fmt = formats.PAM(args.levels)
    rows = []
    for snr in _progress.bar(snrs, desc="ber", unit="SNR", enabled=common.progress_enabled(args)):
        r = stream.simulate_ber(fmt, snr, args.symbols, seed=args.seed, n_threads=args.workers)
        rows.append({"format": fmt.name, "snr_db": snr, "symbols": r.symbols, "bits": r.bits,
                     "bit_errors": r.bit_errors, "ber": r.ber, "ber_ci_low": r.ci[0],
                     "ber_ci_high": r.ci[1], "ber_awgn": float(fmt.ber_awgn(snr)), "seed": args.seed})
    if common.emit(args, "ber", rows):
        return 0
    print(f"{fmt.name} over AWGN: Monte Carlo ({args.symbols:.0e} symbols a point, seed {args.seed}, "
          f"95% Clopper-Pearson CI) against the closed form")
    shown = [{**r, "ci": _table.fmt_ci(r["ber_ci_low"], r["ber_ci_high"])} for r in rows]
    print(_table.table(shown, BER_COLUMNS))
    return 0


def _register_ber(sub) -> None:
    ber = sub.add_parser("ber", help="BER waterfall of a PAM format: Monte Carlo vs closed form",
                         description="BER of PAM-M over AWGN at SNR points from --snr-from to "
                                     "--snr-to: Monte Carlo with its 95%% CI and the exact closed form.")
    ber.add_argument("--levels", type=common.power_of_two(2, 64), default=4,
                     help="PAM levels M, a power of two (2 = NRZ, 4 = PAM4)")
    ber.add_argument("--snr-from", type=common.float_in(-20, 60), default=12.0, metavar="DB",
                     help="first SNR point, dB")
    ber.add_argument("--snr-to", type=common.float_in(-20, 60), default=19.0, metavar="DB",
                     help="last SNR point, dB (>= --snr-from)")
    ber.add_argument("--snr-step", type=common.float_in(0, 80, lo_open=True), default=1.0,
                     metavar="DB", help="SNR step, dB (> 0)")
    ber.add_argument("--symbols", type=common.int_in(100, 10**12), default=10**7, metavar="N",
                     help="symbols per SNR point")
    ber.add_argument("--seed", type=common.int_in(0, 2**63 - 1), default=1, help="random seed (>= 0)")
    ber.add_argument("--workers", type=common.int_in(1, 256), default=1, metavar="N",
                     help="worker threads of the C stream (same numbers for any N)")
    ber.add_argument("--threads", type=common.int_in(1, 256), dest="workers", help=argparse.SUPPRESS)
    common.add_output_options(ber)
    ber.set_defaults(func=_cmd_ber)


#: Functions that add subcommands to the ``photolink`` parser.
REGISTRARS = [
    _register_ber,
    links.register,         # compare, link, fabric
    ops.register,           # run, sweep, regress, examples
    plot.register,          # plot
    demo.register,          # demo
]


def _leaves(parser: argparse.ArgumentParser):
    """Every (sub)parser that runs a command (has no subcommands of its own)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
    for a in subs:
        for p in dict.fromkeys(a.choices.values()):
            yield from _leaves(p)


def build_parser() -> argparse.ArgumentParser:
    p = common.Parser(prog="photolink", description=__doc__.splitlines()[0],
                      epilog=common.EXIT_CODES_HELP + "\n\nRun `photolink COMMAND --help` for a "
                                                      "command's options.")
    p.add_argument("--version", action="version", version=f"photolink {__version__}")
    p.add_argument("--debug", action="store_true",
                   help="show the Python traceback of an error (for bug reports)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in REGISTRARS:
        register(sub)
    for leaf in _leaves(p):
        leaf.epilog = leaf.epilog or common.EXIT_CODES_HELP
        leaf.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                          help="show the Python traceback of an error (for bug reports)")
        common.add_quiet(leaf)
        leaf.set_defaults(_parser=leaf)
    return p


def main(argv=None) -> int:
    """Run ``photolink`` with ``argv`` (default ``sys.argv[1:]``); return the exit code
    (see :data:`photolink.cli.common.EXIT_CODES_HELP`)."""
    parser = build_parser()
    if argv is not None:                  # main(["ber", "--symbols", 10**5]) from Python
        argv = [os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in argv]
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            getattr(args, "_parser", parser).unrecognized(extra)
    except SystemExit as exc:            # --help, --version, or a usage error already printed
        return int(exc.code or 0) if not isinstance(exc.code, str) else common.EXIT_USAGE
    leaf = getattr(args, "_parser", parser)
    aliases = getattr(args, "_aliases", {})

    def fail(code: int, message: str) -> int:
        if args.debug:
            traceback.print_exc()
        print(common.printable(message), file=sys.stderr)
        return code

    try:
        return args.func(args)
    except common.UsageError as exc:
        return fail(common.EXIT_USAGE, f"photolink {args.command}: error: {exc}")
    except (ConfigError, StoreError) as exc:
        return fail(common.EXIT_USAGE, f"photolink: error: {exc}")
    except (ValueError, TypeError) as exc:
        return fail(common.EXIT_USAGE,
                    f"photolink {args.command}: error: {common.flag_for(leaf, str(exc), aliases)}")
    except ImportError as exc:
        return fail(common.EXIT_USAGE, f"photolink: error: {exc}")
    except SweepInterrupted as exc:
        return fail(common.EXIT_INTERRUPTED, f"photolink: {exc}")
    except KeyboardInterrupt:
        return fail(common.EXIT_SIGINT,
                    "photolink: interrupted; every finished chunk is saved in the store: run the "
                    "same command again to resume")
    except BrokenPipeError:              # `photolink ... | head`: stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):
            pass
        return common.EXIT_OK
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        return fail(common.EXIT_USAGE, f"photolink: error: {exc.strerror}: {exc.filename}")
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback by default
        return fail(common.EXIT_INTERNAL,
                    f"photolink: internal error: {type(exc).__name__}: {exc}\nThis is a bug in "
                    f"photolink: rerun with --debug for the traceback and report it.")


if __name__ == "__main__":
    sys.exit(main())
