"""What every ``photolink`` subcommand shares: the parser, argument types that check a value
(and name the flag) before any work, exit codes, and the CSV/JSON writers of one schema."""
from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._util import tables as _tables
from .._util.version import __version__

# -- exit codes --------------------------------------------------------------------------------
EXIT_OK = 0
#: ``regress check``: a case is statistically worse than its baseline.
EXIT_WORSE = 1
#: Bad flag, value, config or file (a message, never a traceback).
EXIT_USAGE = 2
#: A sweep's executor broke; finished chunks are saved (rerun to resume).
EXIT_INTERRUPTED = 3
#: A bug in photolink (rerun with --debug for the traceback, and report it).
EXIT_INTERNAL = 4
#: Ctrl-C (128 + SIGINT).
EXIT_SIGINT = 130

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_OK}    success
  {EXIT_WORSE}    regress check: a case is statistically worse than its baseline
  {EXIT_USAGE}    usage or input error: a bad flag, value, config or file (no traceback)
  {EXIT_INTERRUPTED}    a sweep was interrupted (its finished chunks are saved: rerun to resume)
  {EXIT_INTERNAL}    internal error, a bug in photolink: rerun with --debug and report the traceback
  {EXIT_SIGINT}  interrupted by Ctrl-C"""

#: Largest config file read (a config is a few kB; /dev/zero must not be read forever).
MAX_CONFIG_BYTES = 1 << 20


class UsageError(Exception):
    """Bad input that a flag names; the CLI prints it and exits with :data:`EXIT_USAGE`."""


def suggest(word: str, choices) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def printable(text: str) -> str:
    """``text`` safe to print whatever the terminal's encoding (undecodable bytes escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# -- parser --------------------------------------------------------------------------------------
class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help with the default of every option that has one (flags and None defaults left out)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or "default" in text or not action.option_strings \
                or any(action.default is x for x in (None, False, True, argparse.SUPPRESS)):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors say "did you mean" for flags and choices."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(2))
            message += suggest(m.group(1), choices)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, printable(f"{self.prog}: error: {message}\n"))

    def unrecognized(self, extra: Sequence[str]):
        """Refuse unknown arguments of this (sub)command, suggesting its closest flag."""
        flags = [s for s in self._option_string_actions if s.startswith("--")]
        first = extra[0]
        hint = suggest(first.split("=", 1)[0], flags) if first.startswith("-") else ""
        self.error(f"unrecognized arguments: {' '.join(extra)}{hint}")

    def _print_message(self, message, file=None):
        if message:
            super()._print_message(printable(message), file)


# -- argument types (checked at parse time, so the flag is named and no work is wasted) --------
def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """An integer in ``[lo, hi]`` (``1e6`` and ``1_000_000`` accepted)."""
    def parse(text: str) -> int:
        plain = text.replace("_", "")
        try:
            x = int(plain)                     # exact: seeds up to 2**63 - 1 do not pass through a float
        except ValueError:
            try:
                f = float(plain)               # 1e6 and the like
            except ValueError:
                raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
            if not math.isfinite(f) or f != int(f):
                raise argparse.ArgumentTypeError(f"must be an integer in [{lo:g}, {hi:g}], got {text!r}") from None
            x = int(f)
        if not lo <= x <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in [{lo:g}, {hi:g}], got {text!r}")
        return x
    parse.__name__ = "integer"
    return parse


def power_of_two(lo: int, hi: int) -> Callable[[str], int]:
    """An integer power of two in ``[lo, hi]`` (PAM levels)."""
    as_int = int_in(lo, hi)

    def parse(text: str) -> int:
        x = as_int(text)
        if x & (x - 1):
            raise argparse.ArgumentTypeError(f"must be a power of two in [{lo}, {hi}], got {text!r}")
        return x
    parse.__name__ = "power of two"
    return parse


def numbers(text: str) -> list[float]:
    """Comma-separated finite numbers, e.g. pulse-response taps ``0.1,1,0.45``."""
    try:
        out = [float(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be numbers separated by commas, got {text!r}") from None
    if not all(math.isfinite(x) for x in out):
        raise argparse.ArgumentTypeError(f"must be finite numbers, got {text!r}")
    return out


def float_in(lo: float, hi: float, *, lo_open: bool = False) -> Callable[[str], float]:
    """A finite real in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        ok = math.isfinite(x) and (lo < x if lo_open else lo <= x) and x <= hi
        if not ok:
            bracket = "(" if lo_open else "["
            raise argparse.ArgumentTypeError(f"must be a number in {bracket}{lo:g}, {hi:g}], got {text!r}")
        return x
    parse.__name__ = "number"
    return parse


def _utf8_name(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(
            f"file name is not valid UTF-8: {printable(text)!r}; rename the file") from None
    return text


def input_file(text: str) -> Path:
    """An existing, readable regular file of at most :data:`MAX_CONFIG_BYTES`."""
    p = Path(_utf8_name(text))
    try:
        st = p.stat()
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(f"no such file: {text}") from None
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise argparse.ArgumentTypeError(f"{text} is not a regular file")
    if st.st_size > MAX_CONFIG_BYTES:
        raise argparse.ArgumentTypeError(
            f"{text} is {st.st_size} bytes; a config is at most {MAX_CONFIG_BYTES} bytes")
    if not os.access(p, os.R_OK):
        raise argparse.ArgumentTypeError(f"cannot read {text}: permission denied")
    return p


def output_file(text: str, *, stdout_ok: bool = True) -> str:
    """A file that can be written: ``-`` (stdout), or a path in an existing, writable directory
    that is not itself a directory. Checked before any work, so nothing is computed in vain."""
    if text == "-" and stdout_ok:
        return text
    p = Path(_utf8_name(text))
    if p.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"directory {parent} does not exist (create it first)")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {text}: permission denied")
    return text


def figure_file(text: str) -> str:
    """An output file for a figure: writable (see :func:`output_file`), suffix .png/.svg/.pdf."""
    output_file(text, stdout_ok=False)
    if Path(text).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise argparse.ArgumentTypeError(f"must end in .png, .svg or .pdf, got {text!r}")
    return text


def choice_of(kind: str, names: Callable[[], Sequence[str]], plural: str | None = None
              ) -> Callable[[str], str]:
    """One of ``names()`` (e.g. link presets), with "did you mean" on a typo."""
    plural = plural or kind.split()[-1] + "s"
    def parse(text: str) -> str:
        known = list(names())
        if text not in known:
            raise argparse.ArgumentTypeError(
                f"unknown {kind} {text!r}{suggest(text, known)} (known {plural}: {', '.join(known)})")
        return text
    parse.__name__ = kind
    return parse


def check_range(args, lo: str, hi: str, step: str) -> list[float]:
    """The values ``lo, lo + step, ..., hi`` of three flags (dests ``lo``, ``hi``, ``step``);
    refuses a reversed range, a step <= 0 and more than 1000 points."""
    a, b, s = getattr(args, lo), getattr(args, hi), getattr(args, step)
    def flag(dest: str) -> str:
        return "--" + dest.replace("_", "-")
    if b < a:
        raise UsageError(f"{flag(hi)} {b:g} is below {flag(lo)} {a:g}: the range is empty "
                         f"(give {flag(lo)} <= {flag(hi)})")
    if not s > 0:
        raise UsageError(f"{flag(step)} must be > 0, got {s:g}")
    n = math.floor((b - a) / s + 1e-9) + 1
    if n > 1000:
        raise UsageError(f"{flag(lo)} {a:g} to {flag(hi)} {b:g} by {flag(step)} {s:g} is {n} points; "
                         f"at most 1000")
    return [round(a + i * s, 9) for i in range(n)]


def flag_for(parser: argparse.ArgumentParser, message: str, aliases: Mapping[str, str]) -> str:
    """Name the flag in an API error: ``n_gpus must be ...`` -> ``--gpus (n_gpus) must be ...``."""
    m = re.match(r"([a-z_][a-z0-9_]*)\b", message)
    if not m:
        return message
    param = m.group(1)
    flag = aliases.get(param)
    if flag is None:
        for action in parser._actions:
            if action.dest == param and action.option_strings:
                flag = action.option_strings[-1]
    if flag is None:
        return message
    return f"{flag} ({param}){message[len(param):]}" if flag.strip("-").replace("-", "_") != param \
        else f"{flag}{message[len(param):]}"


# -- outputs: one schema for CSV, JSON and the printed tables -----------------------------------
def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` (``-``: stdout), ending with a newline."""
    if not text.endswith("\n"):
        text += "\n"
    if path == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text)


def json_text(doc: Any) -> str:
    """JSON with inf/nan as strings (JSON has neither), ending with a newline."""
    return json.dumps(_tables.finite(doc), indent=1) + "\n"


def emit(args, command: str, records: Sequence[Mapping], *, warnings: Sequence[tuple[str, str]] = (),
         extra: Mapping | None = None) -> bool:
    """Write ``--csv``/``--json`` of ``records`` (one dict per row, e.g. ``to_dict()``); print
    warnings to stderr. Returns True when stdout was taken by ``-`` (print no table).

    The CSV is tidy: one row per record, nested mappings as ``parent.child`` columns, 2-element
    intervals as ``_low``/``_high``, lists of records (e.g. ``segments``) in their own table
    (``PATH`` -> ``PATH.segments.csv``); the JSON holds the same ``rows``, those tables, and
    ``warnings`` (the records' own ``warnings`` and ``warnings``, each also printed to stderr).
    """
    rows, tables = _tables.tidy_rows(records)
    warnings = [(w["row"], w["message"]) for w in tables.pop("warnings", [])] + list(warnings)
    for where, text in warnings:
        print(printable(f"warning: {where}: {text}" if where != "" else f"warning: {text}"),
              file=sys.stderr)
    csv_path, json_path = getattr(args, "csv", None), getattr(args, "json", None)
    if csv_path:
        write_text(csv_path, _tables.csv_text(rows))
        if csv_path != "-":
            for name, t in tables.items():
                write_text(_tables.side_table_path(csv_path, name), _tables.csv_text(t))
    if json_path:
        doc = {"command": command, "photolink_version": __version__, **dict(extra or {}),
               "rows": rows, **tables,
               "warnings": [{"row": where, "message": text} for where, text in warnings]}
        write_text(json_path, json_text(doc))
    return "-" in (csv_path, json_path)


def add_output_options(p: argparse.ArgumentParser, what: str = "the table") -> None:
    """``--csv PATH`` and ``--json PATH`` (``-``: stdout instead of the printed table)."""
    p.add_argument("--csv", metavar="PATH", type=output_file,
                   help=f"also write {what} as CSV to PATH ('-': to stdout instead of the table)")
    p.add_argument("--json", metavar="PATH", type=output_file,
                   help=f"also write {what} as JSON to PATH ('-': to stdout instead of the table)")


def add_quiet(p: argparse.ArgumentParser) -> None:
    if "--quiet" not in p._option_string_actions:
        p.add_argument("--quiet", "-q", action="store_true",
                       help="no progress bar (it is shown only on a terminal or in a notebook)")


def progress_enabled(args) -> bool | str:
    """``False`` with ``--quiet``; else ``"auto"`` (shown when interactive)."""
    return False if getattr(args, "quiet", False) else "auto"
