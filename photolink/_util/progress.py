"""Progress bars for long runs: ``tqdm.auto`` (a terminal bar, or a widget in a notebook).

A bar is shown only when someone can see it: stderr is a terminal, or the code runs in a
Jupyter kernel. ``enabled=False`` (the CLI's ``--quiet``) hides it; in a pipe, a log file or CI
it stays hidden, so captured output holds no carriage-return noise.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

try:                                    # a dependency of the main job; tolerate its absence
    from tqdm.auto import tqdm as _tqdm
except ImportError:                     # pragma: no cover - tqdm is in the dependencies
    _tqdm = None

T = TypeVar("T")


def interactive(stream: Any = None) -> bool:
    """True when ``stream`` (default stderr) is a terminal or the code runs in a Jupyter kernel."""
    stream = sys.stderr if stream is None else stream
    if "ipykernel" in sys.modules:
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def shown(enabled: bool | str = "auto") -> bool:
    """Whether a bar is drawn: ``"auto"`` -> :func:`interactive`; else ``bool(enabled)``."""
    if enabled == "auto":
        return interactive() and _tqdm is not None
    return bool(enabled) and _tqdm is not None


class _Silent:
    """The bar when nothing is shown: the same calls, no output."""

    def __init__(self, iterable: Iterable | None = None) -> None:
        self.iterable = iterable

    def __iter__(self) -> Iterator:
        return iter(self.iterable if self.iterable is not None else ())

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "_Silent":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bar(iterable: Iterable[T] | None = None, *, total: int | None = None, desc: str = "",
        unit: str = "it", enabled: bool | str = "auto", initial: int = 0, leave: bool = True) -> Any:
    """A ``tqdm.auto`` bar on stderr when :func:`shown`, else a silent stand-in.

    Parameters
    ----------
    iterable : iterable, optional
        Wrapped and iterated like tqdm does.
    total : int, optional
        Number of steps (defaults to ``len(iterable)`` when it has one).
    desc, unit : str
        Label before the bar, and the name of one step.
    enabled : "auto" or bool
        ``"auto"``: shown on a terminal or in a notebook; ``False``: never (``--quiet``).
    initial : int
        Steps already done (a resumed sweep).
    leave : bool
        Keep the finished bar on screen.
    """
    if not shown(enabled):
        return _Silent(iterable)
    return _tqdm(iterable, total=total, desc=desc, unit=unit, initial=initial, file=sys.stderr,
                 leave=leave, dynamic_ncols=True)
