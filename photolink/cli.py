"""Command-line interface: ``photolink`` (or ``python -m photolink``), a thin shell over the API."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from . import formats, stream


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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="photolink", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    ber = sub.add_parser("ber", help="BER waterfall of a PAM format: Monte Carlo vs closed form")
    ber.add_argument("--levels", type=int, default=4, help="PAM levels M (default 4)")
    ber.add_argument("--snr-from", type=float, default=12.0)
    ber.add_argument("--snr-to", type=float, default=19.0)
    ber.add_argument("--snr-step", type=float, default=1.0)
    ber.add_argument("--symbols", type=int, default=10**7)
    ber.add_argument("--seed", type=int, default=1)
    ber.add_argument("--threads", type=int, default=1)
    ber.set_defaults(func=_cmd_ber)
    from . import cli_links
    cli_links.register(sub)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as exc:
        print(f"photolink: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
