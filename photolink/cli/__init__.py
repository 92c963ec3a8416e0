"""Command-line interface: ``photolink`` (or ``python -m photolink``), a thin shell over the API.

Each module adds its subcommands with a ``register(subparsers)`` function listed in
:data:`REGISTRARS`; a new group of subcommands is one import and one list entry.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from ..studies.config import ConfigError
from ..studies.store import StoreError
from ..studies.sweeps import SweepInterrupted
from ..symbols import formats, stream
from . import demo, links, ops, plot


def _cmd_ber(args) -> int:
    fmt = formats.PAM(args.levels)
    print(f"{fmt.name} over AWGN: Monte Carlo ({args.symbols:.0e} symbols, seed {args.seed}) "
          f"against the closed form")
    print(f"{'SNR dB':>7} {'BER (MC)':>11} {'95% CI':>25} {'BER (closed)':>13}")
    for snr in np.arange(args.snr_from, args.snr_to + 1e-9, args.snr_step):
        r = stream.simulate_ber(fmt, float(snr), args.symbols, seed=args.seed, n_threads=args.threads)
        lo, hi = r.ci
        print(f"{snr:7.2f} {r.ber:11.3e} [{lo:10.3e}, {hi:10.3e}] {fmt.ber_awgn(float(snr)):13.3e}")
    return 0


def _register_ber(sub) -> None:
    ber = sub.add_parser("ber", help="BER waterfall of a PAM format: Monte Carlo vs closed form")
    ber.add_argument("--levels", type=int, default=4, help="PAM levels M (default 4)")
    ber.add_argument("--snr-from", type=float, default=12.0)
    ber.add_argument("--snr-to", type=float, default=19.0)
    ber.add_argument("--snr-step", type=float, default=1.0)
    ber.add_argument("--symbols", type=int, default=10**7)
    ber.add_argument("--seed", type=int, default=1)
    ber.add_argument("--threads", type=int, default=1)
    ber.set_defaults(func=_cmd_ber)


#: Functions that add subcommands to the ``photolink`` parser.
REGISTRARS = [
    _register_ber,
    links.register,         # compare, link, fabric
    ops.register,           # run, sweep, regress, examples
    plot.register,          # plot
    demo.register,          # demo
]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="photolink", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for register in REGISTRARS:
        register(sub)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, StoreError) as exc:
        print(f"photolink: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, ImportError) as exc:
        print(f"photolink: error: {exc}", file=sys.stderr)
        return 2
    except SweepInterrupted as exc:
        print(f"photolink: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("photolink: interrupted; every finished chunk is saved in the store: run the same "
              "command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
